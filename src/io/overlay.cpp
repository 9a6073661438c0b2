#include "io/overlay.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cryptounet::io {

Mask mask_contour(const Mask& mask) {
  Mask contour(mask.width, mask.height);
  for (int y = 0; y < mask.height; ++y)
    for (int x = 0; x < mask.width; ++x) {
      if (!mask.at(y, x)) continue;
      const bool edge = x == 0 || y == 0 || x == mask.width - 1 || y == mask.height - 1 || !mask.at(y, x - 1) ||
                        !mask.at(y, x + 1) || !mask.at(y - 1, x) || !mask.at(y + 1, x);
      contour.at(y, x) = edge ? 1 : 0;
    }
  return contour;
}

Image make_overlay(const Plane& gray, const Mask& predicted, const Mask* truth) {
  if (gray.width != predicted.width || gray.height != predicted.height ||
      (truth && (truth->width != gray.width || truth->height != gray.height)))
    throw std::invalid_argument("make_overlay: image and mask sizes differ");
  std::vector<double> sorted = gray.pixels;
  std::sort(sorted.begin(), sorted.end());
  const double lo = sorted[sorted.size() / 100], hi = sorted[sorted.size() - 1 - sorted.size() / 100];
  const double range = hi > lo ? hi - lo : 1.0;
  const Mask edge = mask_contour(predicted);
  const Mask truth_edge = truth ? mask_contour(*truth) : Mask(gray.width, gray.height);

  Image out;
  out.width = gray.width;
  out.height = gray.height;
  out.channels = 3;
  out.samples.resize(gray.pixels.size() * 3);
  for (std::size_t j = 0; j < gray.pixels.size(); ++j) {
    const double g = std::clamp((gray.pixels[j] - lo) / range, 0.0, 1.0) * 255.0;
    double rgb[3] = {g, g, g};
    if (predicted.pixels[j]) {  // 35% green tint
      rgb[0] *= 0.65;
      rgb[1] = 0.65 * rgb[1] + 0.35 * 255.0;
      rgb[2] *= 0.65;
    }
    if (edge.pixels[j]) rgb[0] = 0, rgb[1] = 255, rgb[2] = 0;
    if (truth_edge.pixels[j]) rgb[0] = 255, rgb[1] = 0, rgb[2] = 255;
    for (int c = 0; c < 3; ++c) out.samples[j * 3 + c] = static_cast<std::uint16_t>(std::lround(rgb[c]));
  }
  return out;
}

}  // namespace cryptounet::io
