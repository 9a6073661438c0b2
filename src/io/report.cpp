#include "io/report.h"

#include "io/png.h"

#include <fmt/core.h>
#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>

namespace cryptounet::io {

namespace {

// Nothing but this page's own inline code and data: URIs may load, so a report never reaches the network.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

constexpr const char* kStyle = R"css(
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d2430; background: #fafbfc; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 17px; margin: 28px 0 10px; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #d5dae1; padding: 4px 10px; }
th { background: #eef1f5; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.summary td { font-weight: 600; background: #f4f6f9; }
.facts th { width: 190px; }
.wide { overflow-x: auto; }
.legend { color: #4a5566; margin: 6px 0 14px; }
section.image { margin: 18px 0; padding: 10px 14px; background: #fff; border: 1px solid #d5dae1; border-radius: 6px; }
section.image h3 { margin: 0 0 8px; font-size: 15px; word-break: break-all; }
.panels { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; }
figure img { width: 256px; height: auto; image-rendering: pixelated; cursor: zoom-in; border: 1px solid #c3cad4; }
figcaption { font-size: 13px; color: #4a5566; text-align: center; }
#viewer { position: fixed; inset: 0; background: #0c1016; display: flex; flex-direction: column; z-index: 10; }
#viewer[hidden] { display: none; }
#viewer-bar { color: #e8ecf1; padding: 8px 14px; display: flex; gap: 18px; align-items: center; }
#viewer-bar .hint { color: #9aa5b4; flex: 1; }
#viewer-bar button { font: inherit; padding: 2px 12px; }
#viewer-panes { flex: 1; display: flex; gap: 8px; padding: 0 8px 8px; min-height: 0; }
.pane { position: relative; flex: 1; overflow: hidden; background: #000; cursor: grab; touch-action: none; }
.pane img { position: absolute; left: 0; top: 0; transform-origin: 0 0; image-rendering: pixelated; user-select: none; }
.pane .pane-caption { position: absolute; left: 6px; top: 4px; color: #fff; background: rgba(0, 0, 0, 0.55); padding: 0 6px; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2430; }
)css";

// Click a picture (or open the page at #compare-K for the K-th image): every panel of that image opens side by
// side, sharing one zoom and pan.
constexpr const char* kScript = R"js(
(function () {
  'use strict';
  const viewer = document.getElementById('viewer');
  const panes = document.getElementById('viewer-panes');
  const title = document.getElementById('viewer-title');
  let scale = 1, tx = 0, ty = 0, drag = null;

  function apply() {
    for (const img of panes.querySelectorAll('img'))
      img.style.transform = 'translate(' + tx + 'px,' + ty + 'px) scale(' + scale + ')';
  }
  function reset() {
    const pane = panes.firstElementChild;
    if (!pane) return;
    const img = pane.querySelector('img');
    const w = Number(img.dataset.width), h = Number(img.dataset.height);
    scale = Math.min(pane.clientWidth / w, pane.clientHeight / h);
    tx = (pane.clientWidth - w * scale) / 2;
    ty = (pane.clientHeight - h * scale) / 2;
    apply();
  }
  function zoom(factor, x, y) {
    const next = Math.min(64, Math.max(0.05, scale * factor));
    tx = x - (x - tx) * next / scale;
    ty = y - (y - ty) * next / scale;
    scale = next;
    apply();
  }
  function open(section) {
    panes.replaceChildren();
    title.textContent = section.dataset.name;
    for (const figure of section.querySelectorAll('figure')) {
      const source = figure.querySelector('img');
      const pane = document.createElement('div');
      pane.className = 'pane';
      const img = document.createElement('img');
      img.src = source.src;
      img.alt = source.alt;
      img.draggable = false;
      img.dataset.width = source.dataset.width;
      img.dataset.height = source.dataset.height;
      img.style.width = source.dataset.width + 'px';
      img.style.height = source.dataset.height + 'px';
      const caption = document.createElement('div');
      caption.className = 'pane-caption';
      caption.textContent = figure.querySelector('figcaption').textContent;
      pane.append(img, caption);
      panes.append(pane);
    }
    viewer.hidden = false;
    reset();
  }
  function close() {
    viewer.hidden = true;
    panes.replaceChildren();
  }

  for (const img of document.querySelectorAll('section.image figure img'))
    img.addEventListener('click', () => open(img.closest('section')));
  document.getElementById('viewer-close').addEventListener('click', close);
  panes.addEventListener('wheel', (e) => {
    const pane = e.target.closest('.pane');
    if (!pane) return;
    e.preventDefault();
    const r = pane.getBoundingClientRect();
    zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  panes.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, y: e.clientY, tx: tx, ty: ty };
    panes.setPointerCapture(e.pointerId);
  });
  panes.addEventListener('pointermove', (e) => {
    if (!drag) return;
    tx = drag.tx + e.clientX - drag.x;
    ty = drag.ty + e.clientY - drag.y;
    apply();
  });
  panes.addEventListener('pointerup', () => { drag = null; });
  panes.addEventListener('dblclick', reset);
  window.addEventListener('resize', () => { if (!viewer.hidden) reset(); });
  const link = /^#compare-([0-9]+)$/.exec(location.hash);
  const linked = link && document.getElementById('image-' + link[1]);
  if (linked) open(linked);
  document.addEventListener('keydown', (e) => {
    if (viewer.hidden) return;
    const pane = panes.firstElementChild;
    if (e.key === 'Escape') close();
    else if ((e.key === '+' || e.key === '=') && pane) zoom(1.25, pane.clientWidth / 2, pane.clientHeight / 2);
    else if (e.key === '-' && pane) zoom(0.8, pane.clientWidth / 2, pane.clientHeight / 2);
    else if (e.key === '0') reset();
  });
})();
)js";

enum class Summary { kMean, kSum, kMax };

struct Column {
  const char* header;
  std::function<std::optional<double>(const ReportScores&)> value;
  Summary summary;
  const char* format;  // fmt format of one value
};

std::optional<double> as_double(const std::optional<long>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

const std::vector<Column>& columns() {
  static const std::vector<Column> all = {
      {"Dice encrypted", [](const ReportScores& s) { return s.dice_encrypted; }, Summary::kMean, "{:.4f}"},
      {"Dice plaintext", [](const ReportScores& s) { return s.dice_plain; }, Summary::kMean, "{:.4f}"},
      {"IoU encrypted", [](const ReportScores& s) { return s.iou_encrypted; }, Summary::kMean, "{:.4f}"},
      {"IoU plaintext", [](const ReportScores& s) { return s.iou_plain; }, Summary::kMean, "{:.4f}"},
      {"AP encrypted", [](const ReportScores& s) { return s.ap_encrypted; }, Summary::kMean, "{:.4f}"},
      {"AP plaintext", [](const ReportScores& s) { return s.ap_plain; }, Summary::kMean, "{:.4f}"},
      {"nuclei encrypted", [](const ReportScores& s) { return as_double(s.nuclei_encrypted); }, Summary::kSum, "{:.0f}"},
      {"nuclei plaintext", [](const ReportScores& s) { return as_double(s.nuclei_plain); }, Summary::kSum, "{:.0f}"},
      {"nuclei true", [](const ReportScores& s) { return as_double(s.nuclei_true); }, Summary::kSum, "{:.0f}"},
      {"pixel agreement enc/plain", [](const ReportScores& s) { return s.pixel_agreement; }, Summary::kMean,
       "{:.5f}"},
      {"max logit error", [](const ReportScores& s) { return s.max_logit_error; }, Summary::kMax, "{:.2e}"},
  };
  return all;
}

std::string format_value(const Column& c, double v) { return fmt::format(fmt::runtime(c.format), v); }

void append_scores_table(std::string& html, const std::vector<ReportImage>& images) {
  std::vector<const Column*> shown;
  for (const Column& c : columns())
    if (std::any_of(images.begin(), images.end(), [&](const ReportImage& im) { return c.value(im.scores).has_value(); }))
      shown.push_back(&c);
  html += "<div class=\"wide\"><table class=\"scores\"><thead><tr><th>image</th>";
  for (const Column* c : shown) html += "<th>" + html_escape(c->header) + "</th>";
  html += "</tr></thead><tbody>\n";
  for (const ReportImage& im : images) {
    html += "<tr><td>" + html_escape(im.name) + "</td>";
    for (const Column* c : shown) {
      const auto v = c->value(im.scores);
      html += "<td class=\"num\">" + (v ? format_value(*c, *v) : std::string("&ndash;")) + "</td>";
    }
    html += "</tr>\n";
  }
  if (images.size() > 1 && !shown.empty()) {
    html += "<tr class=\"summary\"><td>all</td>";
    for (const Column* c : shown) {
      double acc = 0;
      int n = 0;
      for (const ReportImage& im : images)
        if (const auto v = c->value(im.scores)) {
          acc = c->summary == Summary::kMax ? (n ? std::max(acc, *v) : *v) : acc + *v;
          ++n;
        }
      if (c->summary == Summary::kMean) acc /= n;
      html += "<td class=\"num\">" + format_value(*c, acc) + "</td>";
    }
    html += "</tr>\n";
  }
  html += "</tbody></table></div>\n";
  if (images.size() > 1 && !shown.empty())
    html += "<p class=\"legend\">all: scores averaged over the images, nuclei summed, the largest logit error.</p>\n";
}

// Horizontal bars, one per entry, scaled to the longest.
void append_chart(std::string& html, const std::string& title, const std::vector<ReportBar>& bars) {
  constexpr int kLabelWidth = 200, kBarWidth = 460, kValueWidth = 90, kRow = 20, kTop = 6;
  double longest = 0, total = 0;
  for (const ReportBar& b : bars) {
    if (!std::isfinite(b.seconds) || b.seconds < 0) throw std::invalid_argument("report: invalid time in the chart");
    longest = std::max(longest, b.seconds);
    total += b.seconds;
  }
  const int height = kTop * 2 + kRow * static_cast<int>(bars.size());
  const int width = kLabelWidth + kBarWidth + kValueWidth;
  html += "<h2>" + html_escape(title) + fmt::format(" ({:.1f} s in all)</h2>\n", total);
  html += fmt::format("<svg class=\"chart\" width=\"{}\" height=\"{}\" "
                      "viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">\n",
                      width, height, width, height, html_escape(title));
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const int y = kTop + kRow * static_cast<int>(i);
    const double w = longest > 0 ? bars[i].seconds / longest * kBarWidth : 0;
    html += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", kLabelWidth - 8, y + 14,
                        html_escape(bars[i].label));
    html += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"#3f7fd0\"><title>{}: {:.3f} s"
                        "</title></rect>",
                        kLabelWidth, y + 3, w, kRow - 6, html_escape(bars[i].label), bars[i].seconds);
    html += fmt::format("<text x=\"{:.1f}\" y=\"{}\">{:.2f} s</text>\n", kLabelWidth + w + 6, y + 14, bars[i].seconds);
  }
  html += "</svg>\n";
}

void append_image(std::string& html, const ReportImage& im, std::size_t number) {
  html += fmt::format("<section class=\"image\" id=\"image-{}\" data-name=\"{}\"><h3>{}</h3><div class=\"panels\">\n",
                      number, html_escape(im.name), html_escape(im.name));
  for (const ReportPanel& p : im.panels)
    html += fmt::format("<figure><img src=\"{}\" alt=\"{}\" data-width=\"{}\" data-height=\"{}\" "
                        "title=\"Click to compare side by side and zoom\"><figcaption>{}</figcaption></figure>\n",
                        png_data_uri(p.image), html_escape(im.name + ": " + p.caption), p.image.width, p.image.height,
                        html_escape(p.caption));
  html += "</div></section>\n";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string png_data_uri(const Image& image) {
  if (image.bit_depth != 8) throw std::invalid_argument("report: panels must be 8-bit images");
  const std::vector<std::uint8_t> png = encode_png(image);
  static constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string base64(sodium_base64_ENCODED_LEN(png.size(), kVariant), '\0');
  sodium_bin2base64(base64.data(), base64.size(), png.data(), png.size(), kVariant);
  base64.resize(base64.size() - 1);  // the encoder's terminating NUL
  return "data:image/png;base64," + base64;
}

std::string render_report(const Report& report) {
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta http-equiv=\"Content-Security-Policy\" content=\"" + std::string(kContentSecurityPolicy) + "\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<title>" + html_escape(report.title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  html += "<h1>" + html_escape(report.title) + "</h1>\n";
  if (!report.facts.empty() || report.peak_rss_mb) {
    html += "<table class=\"facts\">\n";
    for (const auto& [name, value] : report.facts)
      html += "<tr><th>" + html_escape(name) + "</th><td>" + html_escape(value) + "</td></tr>\n";
    if (report.peak_rss_mb)
      html += fmt::format("<tr><th>peak memory (RSS)</th><td>{:.0f} MiB</td></tr>\n", *report.peak_rss_mb);
    html += "</table>\n";
  }
  if (!report.images.empty()) {
    html += "<h2>Scores</h2>\n";
    append_scores_table(html, report.images);
  }
  if (!report.chart.empty()) append_chart(html, report.chart_title, report.chart);
  if (!report.images.empty()) {
    html += "<h2>Images</h2>\n<p class=\"legend\">Each nucleus found is tinted and outlined in its own colour "
            "(ground truth alike). Click a picture to see all of that image's panels side by side: mouse wheel "
            "or +/- zooms, drag pans, double-click or 0 fits, Esc closes (#compare-K at the end of this page's "
            "address opens the K-th image that way).</p>\n";
    for (std::size_t i = 0; i < report.images.size(); ++i) append_image(html, report.images[i], i + 1);
  }
  html += "<div id=\"viewer\" hidden><div id=\"viewer-bar\"><strong id=\"viewer-title\"></strong>"
          "<span class=\"hint\">wheel or +/-: zoom &middot; drag: pan &middot; double-click or 0: fit &middot; "
          "Esc: close</span><button id=\"viewer-close\" type=\"button\">Close</button></div>"
          "<div id=\"viewer-panes\"></div></div>\n";
  html += "<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return html;
}

void write_report(const std::string& path, const Report& report) {
  const std::string html = render_report(report);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno));
  out.write(html.data(), static_cast<std::streamsize>(html.size()));
  if (!out.flush()) throw std::runtime_error("writing '" + path + "' failed");
}

}  // namespace cryptounet::io
