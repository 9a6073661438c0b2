#include "io/overlay.h"

#include "io/preprocess.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

namespace cryptounet::io {

namespace {

// Maps gray levels to [0, 255] with the 1st and 99th percentiles at the ends (robust to a few hot pixels).
class ContrastStretch {
 public:
  explicit ContrastStretch(const Plane& gray) {
    std::vector<double> sorted = gray.pixels;
    std::sort(sorted.begin(), sorted.end());
    lo_ = sorted[sorted.size() / 100];
    const double hi = sorted[sorted.size() - 1 - sorted.size() / 100];
    range_ = hi > lo_ ? hi - lo_ : 1.0;
  }
  double operator()(double v) const { return std::clamp((v - lo_) / range_, 0.0, 1.0) * 255.0; }

 private:
  double lo_ = 0, range_ = 1;
};

Image rgb_image(int width, int height) {
  Image out;
  out.width = width;
  out.height = height;
  out.channels = 3;
  out.samples.resize(out.pixel_count() * 3);
  return out;
}

// Twelve saturated, mutually distinct hues that stay visible on dark fluorescence and on pale H&E backgrounds.
constexpr std::array<std::array<int, 3>, 12> kInstanceColours = {{{255, 64, 64},  {64, 220, 64},  {64, 128, 255},
                                                                  {255, 200, 0},  {0, 220, 220},  {255, 64, 255},
                                                                  {255, 128, 0},  {160, 255, 64}, {160, 96, 255},
                                                                  {0, 255, 160},  {255, 96, 160}, {96, 192, 255}}};

}  // namespace

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
  const ContrastStretch stretch(gray);
  const Mask edge = mask_contour(predicted);
  const Mask truth_edge = truth ? mask_contour(*truth) : Mask(gray.width, gray.height);

  Image out = rgb_image(gray.width, gray.height);
  for (std::size_t j = 0; j < gray.pixels.size(); ++j) {
    const double g = stretch(gray.pixels[j]);
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

Image make_instance_overlay(const Plane& gray, const LabelImage& instances) {
  if (gray.width != instances.width || gray.height != instances.height)
    throw std::invalid_argument("make_instance_overlay: image and label sizes differ");
  const ContrastStretch stretch(gray);
  Image out = rgb_image(gray.width, gray.height);
  for (int y = 0; y < gray.height; ++y)
    for (int x = 0; x < gray.width; ++x) {
      const std::size_t j = static_cast<std::size_t>(y) * gray.width + x;
      const double g = stretch(gray.pixels[j]);
      const int label = instances.pixels[j];
      double rgb[3] = {g, g, g};
      if (label != 0) {
        const auto& colour = kInstanceColours[(label - 1) % kInstanceColours.size()];
        const bool edge = x == 0 || y == 0 || x == gray.width - 1 || y == gray.height - 1 ||
                          instances.at(y, x - 1) != label || instances.at(y, x + 1) != label ||
                          instances.at(y - 1, x) != label || instances.at(y + 1, x) != label;
        const double weight = edge ? 1.0 : 0.3;
        for (int c = 0; c < 3; ++c) rgb[c] = (1.0 - weight) * rgb[c] + weight * colour[c];
      }
      for (int c = 0; c < 3; ++c) out.samples[j * 3 + c] = static_cast<std::uint16_t>(std::lround(rgb[c]));
    }
  return out;
}

Image display_image(const Image& image) {
  if (image.bit_depth == 8 && image.channels >= 3) {
    Image out = rgb_image(image.width, image.height);
    for (std::size_t j = 0; j < image.pixel_count(); ++j)
      for (int c = 0; c < 3; ++c) out.samples[j * 3 + c] = image.samples[j * image.channels + c];
    return out;
  }
  const Plane gray = to_gray(image);
  const ContrastStretch stretch(gray);
  Image out = rgb_image(image.width, image.height);
  for (std::size_t j = 0; j < gray.pixels.size(); ++j)
    for (int c = 0; c < 3; ++c) out.samples[j * 3 + c] = static_cast<std::uint16_t>(std::lround(stretch(gray.pixels[j])));
  return out;
}

}  // namespace cryptounet::io
