// Image containers shared by io and nn: a decoded image, a one-channel plane of doubles, a binary mask, instance
// labels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cryptounet::io {

// A decoded image (one PNG, or one page of a TIFF): interleaved samples, row-major. channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA;
// bit_depth 8 or 16 (samples hold the raw integer values, at most 2^bit_depth - 1).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  int bit_depth = 8;
  std::vector<std::uint16_t> samples;

  std::size_t pixel_count() const { return static_cast<std::size_t>(width) * height; }
  double max_value() const { return bit_depth == 16 ? 65535.0 : 255.0; }
  std::uint16_t at(int y, int x, int c) const {
    return samples[(static_cast<std::size_t>(y) * width + x) * channels + c];
  }
};

// One channel of doubles, row-major: a grayscale image in [0, 1], a normalized image, or a logit map.
struct Plane {
  int width = 0;
  int height = 0;
  std::vector<double> pixels;

  Plane() = default;
  Plane(int w, int h, double value = 0.0)
      : width(w), height(h), pixels(static_cast<std::size_t>(w) * h, value) {}
  double& at(int y, int x) { return pixels[static_cast<std::size_t>(y) * width + x]; }
  double at(int y, int x) const { return pixels[static_cast<std::size_t>(y) * width + x]; }
};

// A binary mask, one byte per pixel holding 0 or 1, row-major.
struct Mask {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;

  Mask() = default;
  Mask(int w, int h) : width(w), height(h), pixels(static_cast<std::size_t>(w) * h, 0) {}
  std::uint8_t& at(int y, int x) { return pixels[static_cast<std::size_t>(y) * width + x]; }
  std::uint8_t at(int y, int x) const { return pixels[static_cast<std::size_t>(y) * width + x]; }
};

// Instance labels, row-major: 0 background, 1..K one object each (16-bit, the label format of Fiji and napari).
struct LabelImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint16_t> pixels;

  LabelImage() = default;
  LabelImage(int w, int h) : width(w), height(h), pixels(static_cast<std::size_t>(w) * h, 0) {}
  std::uint16_t& at(int y, int x) { return pixels[static_cast<std::size_t>(y) * width + x]; }
  std::uint16_t at(int y, int x) const { return pixels[static_cast<std::size_t>(y) * width + x]; }
};

}  // namespace cryptounet::io
