#include "io/png.h"
#include "io/report.h"
#include "temp_dir.h"
#include "test_images.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <regex>
#include <stdexcept>

namespace cryptounet::io {
namespace {

using test::make_image;

constexpr const char* kHostileName = "<img src=x onerror=alert(1)>\"&'";

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

Report sample_report() {
  Report r;
  r.title = "title <b>";
  r.facts = {{"model", "unet & co"}};
  ReportScores a;
  a.dice_encrypted = 0.5, a.dice_plain = 0.75, a.nuclei_encrypted = 3, a.max_logit_error = 1e-4;
  ReportScores b;
  b.dice_encrypted = 1.0, b.dice_plain = 0.25, b.nuclei_encrypted = 4, b.max_logit_error = 3e-4;
  r.images.push_back({kHostileName, {{"input", make_image(9, 5, 3, 8)}, {"result", make_image(9, 5, 1, 8)}}, a});
  r.images.push_back({"second", {{"input", make_image(4, 4, 4, 8)}}, b});
  r.chart_title = "time per layer";
  r.chart = {{"node 1 Conv<2d>", 2.0}, {"node 2 Quadratic", 0.5}};
  r.peak_rss_mb = 512;
  return r;
}

TEST(Report, EscapesHtmlSpecialCharacters) {
  EXPECT_EQ(html_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(html_escape("plain id_01.png"), "plain id_01.png");
}

TEST(Report, EveryStringFromOutsideIsEscaped) {
  const std::string html = render_report(sample_report());
  EXPECT_EQ(html.find(kHostileName), std::string::npos);
  EXPECT_EQ(html.find("<img src=x"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt;&quot;&amp;&#39;"), std::string::npos);
  EXPECT_NE(html.find("title &lt;b&gt;"), std::string::npos);
  EXPECT_NE(html.find("unet &amp; co"), std::string::npos);
  EXPECT_NE(html.find("node 1 Conv&lt;2d&gt;"), std::string::npos);
}

TEST(Report, EveryPanelIsEmbeddedAndNothingIsFetched) {
  const Report report = sample_report();
  const std::string html = render_report(report);
  EXPECT_EQ(count(html, "src=\"data:image/png;base64,"), 3u);
  EXPECT_EQ(count(html, "src=\""), 3u);  // no other source of any kind
  EXPECT_EQ(count(html, "http://"), 0u);
  EXPECT_EQ(count(html, "https://"), 0u);
  EXPECT_EQ(count(html, "url("), 0u);
  EXPECT_EQ(count(html, "<link"), 0u);
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none'; img-src data:;"), std::string::npos);
}

TEST(Report, DataUriDecodesToThePngOfTheImage) {
  const Image image = make_image(9, 5, 3, 8);
  const std::string uri = png_data_uri(image);
  const std::string prefix = "data:image/png;base64,";
  ASSERT_EQ(uri.rfind(prefix, 0), 0u);
  const std::string base64 = uri.substr(prefix.size());
  std::vector<unsigned char> decoded(base64.size());
  std::size_t length = 0;
  ASSERT_EQ(sodium_base642bin(decoded.data(), decoded.size(), base64.data(), base64.size(), nullptr, &length, nullptr,
                              sodium_base64_VARIANT_ORIGINAL),
            0);
  decoded.resize(length);
  EXPECT_EQ(decoded, encode_png(image));

  test::TempDir dir;
  std::ofstream(dir.file("back.png"), std::ios::binary).write(reinterpret_cast<const char*>(decoded.data()),
                                                              static_cast<std::streamsize>(decoded.size()));
  EXPECT_EQ(read_png(dir.file("back.png")).samples, image.samples);
  EXPECT_THROW(png_data_uri(make_image(2, 2, 1, 16)), std::invalid_argument);
}

TEST(Report, TableShowsOnlyColumnsWithValuesAndSummarises) {
  const std::string html = render_report(sample_report());
  EXPECT_NE(html.find("<th>Dice encrypted</th>"), std::string::npos);
  EXPECT_NE(html.find("<th>max logit error</th>"), std::string::npos);
  EXPECT_EQ(html.find("<th>AP encrypted</th>"), std::string::npos);  // no image has one
  EXPECT_EQ(html.find("<th>nuclei true</th>"), std::string::npos);
  // Summary: Dice means 0.7500 and 0.5000, nuclei total 7, largest logit error 3.00e-04.
  const std::smatch summary = [&] {
    std::smatch m;
    std::regex_search(html, m, std::regex("<tr class=\"summary\">(.*)</tr>"));
    return m;
  }();
  ASSERT_FALSE(summary.empty());
  const std::string row = summary[1];
  EXPECT_NE(row.find(">0.7500<"), std::string::npos);
  EXPECT_NE(row.find(">0.5000<"), std::string::npos);
  EXPECT_NE(row.find(">7<"), std::string::npos);
  EXPECT_NE(row.find(">3.00e-04<"), std::string::npos);
}

TEST(Report, ChartHasOneBarPerEntryScaledToTheLongest) {
  const std::string html = render_report(sample_report());
  EXPECT_EQ(count(html, "<rect "), 2u);
  EXPECT_NE(html.find("width=\"460.0\""), std::string::npos);  // the longest bar fills the bar area
  EXPECT_NE(html.find("width=\"115.0\""), std::string::npos);  // a quarter of it
  EXPECT_NE(html.find("(2.5 s in all)"), std::string::npos);
  EXPECT_NE(html.find("512 MiB"), std::string::npos);

  Report bad = sample_report();
  bad.chart[1].seconds = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(render_report(bad), std::invalid_argument);
}

TEST(Report, EmptyReportIsAValidPageWithoutTablesOrChart) {
  Report r;
  r.title = "nothing";
  const std::string html = render_report(r);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("<table"), std::string::npos);
  EXPECT_EQ(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(Report, WriteReportWritesThePage) {
  test::TempDir dir;
  const Report report = sample_report();
  write_report(dir.file("r.html"), report);
  std::ifstream in(dir.file("r.html"), std::ios::binary);
  const std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(written, render_report(report));
  EXPECT_THROW(write_report(dir.file("missing/r.html"), report), std::runtime_error);
}

}  // namespace
}  // namespace cryptounet::io
