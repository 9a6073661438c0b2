// A segmentation report as one self-contained HTML page: every image embedded as a base64 PNG data URI, styles and
// script inline, and a Content-Security-Policy that forbids loading anything else, so the page can be mailed or
// archived with a study and opened offline. It takes plain data; the tools fill it from their own results.
#pragma once

#include "io/image.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cryptounet::io {

// One picture of an image: the input, a result or the ground truth (8-bit, 1 to 4 channels).
struct ReportPanel {
  std::string caption;
  Image image;
};

// Scores of one image; absent values leave their column out of the table (or show "–" when another image has one).
// "encrypted" is the decrypted result of encrypted inference, "plain" the float64 plaintext reference.
struct ReportScores {
  std::optional<double> dice_encrypted, dice_plain;
  std::optional<double> iou_encrypted, iou_plain;
  std::optional<double> ap_encrypted, ap_plain;  // DSB average precision over IoU 0.50..0.95
  std::optional<long> nuclei_encrypted, nuclei_plain, nuclei_true;
  std::optional<double> pixel_agreement;  // encrypted against plaintext mask
  std::optional<double> max_logit_error;  // encrypted against plaintext logits
};

struct ReportImage {
  std::string name;
  std::vector<ReportPanel> panels;  // shown side by side, zoomed and panned together
  ReportScores scores;
};

// One bar of the time chart.
struct ReportBar {
  std::string label;
  double seconds = 0;
};

struct Report {
  std::string title;
  std::vector<std::pair<std::string, std::string>> facts;  // name, value: model, parameters, phase times...
  std::vector<ReportImage> images;
  std::string chart_title;  // e.g. "Encrypted inference time per layer"
  std::vector<ReportBar> chart;  // empty: no chart
  std::optional<double> peak_rss_mb;
};

// The page. Opened at #compare-K it shows the K-th image (from 1) side by side at once. The summary row of the table averages the scores, sums the nucleus counts and takes the largest
// logit error, each over the images that have them.
std::string render_report(const Report& report);

// render_report written to `path` (replaced if it exists).
void write_report(const std::string& path, const Report& report);

// Text made safe inside HTML elements and quoted attribute values (& < > " ').
std::string html_escape(std::string_view text);

// "data:image/png;base64,..." of the image's PNG encoding.
std::string png_data_uri(const Image& image);

}  // namespace cryptounet::io
