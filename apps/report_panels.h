// The pictures of one image in an HTML report (io/report.h), shared by demo, predict and decrypt: the input as
// acquired, then every segmentation (encrypted, plaintext, ground truth) as outlined nuclei on the same image.
#pragma once

#include "io/image.h"
#include "io/overlay.h"
#include "io/preprocess.h"
#include "io/report.h"

#include <string>
#include <vector>

namespace cryptounet::app {

struct Segmentation {
  std::string caption;
  io::LabelImage nuclei;
};

inline io::ReportImage report_image(const std::string& name, const io::Image& input,
                                    const std::vector<Segmentation>& segmentations, const io::ReportScores& scores) {
  io::ReportImage entry{name, {{"input", io::display_image(input)}}, scores};
  const io::Plane gray = io::to_gray(input);
  for (const Segmentation& s : segmentations)
    entry.panels.push_back({s.caption, io::make_instance_overlay(gray, s.nuclei)});
  return entry;
}

// A ground-truth mask without instance labels, as one object (its outline still shows the true foreground).
inline io::LabelImage mask_as_labels(const io::Mask& mask) {
  io::LabelImage labels(mask.width, mask.height);
  for (std::size_t i = 0; i < mask.pixels.size(); ++i) labels.pixels[i] = mask.pixels[i] ? 1 : 0;
  return labels;
}

}  // namespace cryptounet::app
