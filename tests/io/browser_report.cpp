// The HTML report in a real browser: headless Chromium loads a report of the bundled demo images, with the
// side-by-side viewer opened by its #compare-K link, and must log no console message (a script error, a blocked
// resource or a Content-Security-Policy violation all log one) and render a picture that is not blank.
#include "io/dataset.h"
#include "io/image_file.h"
#include "io/overlay.h"
#include "io/png.h"
#include "io/preprocess.h"
#include "io/report.h"
#include "temp_dir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>

namespace cryptounet::io {
namespace {

bool have_chromium() { return std::system("command -v chromium > /dev/null 2>&1") == 0; }

// A report shaped like demo's: input, two segmentations and the truth per image (the truth mask stands in for the
// results: the browser test is about the page, not the model), a hostile image name and a per-layer chart.
Report demo_like_report() {
  Report report;
  report.title = "browser test";
  report.facts = {{"model", "none"}};
  auto samples = list_dataset(std::string(CRYPTOUNET_SOURCE_DIR) + "/data/demo");
  samples.resize(3);
  for (const Sample& s : samples) {
    const Image image = read_image(s.image_path);
    const LabelImage truth = read_labels(s.label_path);
    const Plane gray = to_gray(image);
    ReportScores scores;
    scores.dice_encrypted = 0.9, scores.dice_plain = 0.9, scores.nuclei_true = 5;
    report.images.push_back({s.id, {{"input", display_image(image)},
                                    {"encrypted", make_instance_overlay(gray, truth)},
                                    {"plaintext", make_instance_overlay(gray, truth)},
                                    {"ground truth", make_instance_overlay(gray, truth)}},
                             scores});
  }
  report.images.front().name = "<script>alert('name')</script>";
  report.chart_title = "time per layer";
  for (int node = 1; node <= 12; ++node) report.chart.push_back({"node " + std::to_string(node), 0.5 * node});
  report.peak_rss_mb = 100;
  return report;
}

struct Screenshot {
  Image image;
  std::string log;
};

Screenshot render(const test::TempDir& dir, const std::string& url) {
  const std::string shot = dir.file("shot.png"), log = dir.file("chromium.log");
  // --virtual-time-budget lets the page's script run to completion before the picture is taken;
  // --run-all-compositor-stages-before-draw makes the picture wait for every raster tile (without it, about one
  // screenshot in ten caught the page half painted).
  const std::string command = "chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
                              "--hide-scrollbars --enable-logging=stderr --virtual-time-budget=3000 "
                              "--run-all-compositor-stages-before-draw "
                              "--user-data-dir='" + dir.file("profile") + "' --window-size=1200,900 --screenshot='" +
                              shot + "' '" + url + "' > '" + log + "' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(log);
  Screenshot result{Image{}, std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
  EXPECT_EQ(status, 0) << result.log;
  result.image = read_png(shot);
  return result;
}

std::size_t distinct_colours(const Image& image) {
  std::set<std::uint32_t> colours;
  for (std::size_t j = 0; j < image.pixel_count(); ++j) {
    std::uint32_t c = 0;
    for (int k = 0; k < std::min(image.channels, 3); ++k) c = c << 8 | image.samples[j * image.channels + k];
    colours.insert(c);
  }
  return colours.size();
}

// Lines of the browser's log that come from the page: "...:INFO:CONSOLE(12)] "Uncaught ...", source: ...".
std::string console_lines(const std::string& log) {
  std::istringstream lines(log);
  std::string line, found;
  while (std::getline(lines, line))
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos) found += line + "\n";
  return found;
}

class BrowserReport : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
    write_report(dir_.file("report.html"), demo_like_report());
  }
  std::string url(const std::string& fragment = "") const { return "file://" + dir_.file("report.html") + fragment; }
  test::TempDir dir_;
};

TEST_F(BrowserReport, PageRendersWithoutConsoleMessages) {
  const Screenshot s = render(dir_, url());
  EXPECT_EQ(console_lines(s.log), "");
  EXPECT_EQ(s.image.width, 1200);
  EXPECT_GT(distinct_colours(s.image), 1000u);  // text, table, chart and microscopy images, not a blank page
}

TEST_F(BrowserReport, SideBySideViewerOpensFromItsLink) {
  const Screenshot page = render(dir_, url());
  const Screenshot viewer = render(dir_, url("#compare-2"));
  EXPECT_EQ(console_lines(viewer.log), "");
  EXPECT_GT(distinct_colours(viewer.image), 500u);
  // The viewer covers the page with a dark backdrop: the picture changes and is mostly dark.
  EXPECT_NE(viewer.image.samples, page.image.samples);
  std::size_t dark = 0;
  for (std::size_t j = 0; j < viewer.image.pixel_count(); ++j)
    dark += viewer.image.samples[j * viewer.image.channels] < 64;
  EXPECT_GT(dark, viewer.image.pixel_count() / 2);
}

}  // namespace
}  // namespace cryptounet::io
