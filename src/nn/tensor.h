// One image's activation: channels x height x width doubles, CHW row-major.
#pragma once

#include "io/image.h"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

namespace cryptounet::nn {

struct Tensor {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<double> data;

  Tensor() = default;
  Tensor(int c, int h, int w, double value = 0.0)
      : channels(c), height(h), width(w), data(static_cast<std::size_t>(c) * h * w, value) {}

  std::size_t size() const { return data.size(); }
  std::size_t plane_size() const { return static_cast<std::size_t>(height) * width; }
  double& at(int c, int y, int x) { return data[(static_cast<std::size_t>(c) * height + y) * width + x]; }
  double at(int c, int y, int x) const { return data[(static_cast<std::size_t>(c) * height + y) * width + x]; }
  double* channel(int c) { return data.data() + c * plane_size(); }
  const double* channel(int c) const { return data.data() + c * plane_size(); }

  // A 1-channel tensor holding a plane (e.g. a preprocessed image), and back.
  static Tensor from_plane(const io::Plane& plane) {
    Tensor t(1, plane.height, plane.width);
    t.data = plane.pixels;
    return t;
  }
  // One channel per plane (e.g. the R, G, B planes of a preprocessed colour image); all the same size.
  static Tensor from_planes(const std::vector<io::Plane>& planes) {
    if (planes.empty()) throw std::invalid_argument("Tensor::from_planes: no planes");
    Tensor t(static_cast<int>(planes.size()), planes.front().height, planes.front().width);
    for (std::size_t c = 0; c < planes.size(); ++c) {
      if (planes[c].width != t.width || planes[c].height != t.height)
        throw std::invalid_argument("Tensor::from_planes: planes differ in size");
      std::copy(planes[c].pixels.begin(), planes[c].pixels.end(), t.channel(static_cast<int>(c)));
    }
    return t;
  }
  io::Plane to_plane(int c = 0) const {
    if (c < 0 || c >= channels) throw std::out_of_range("Tensor::to_plane: channel out of range");
    io::Plane p(width, height);
    p.pixels.assign(channel(c), channel(c) + plane_size());
    return p;
  }
};

}  // namespace cryptounet::nn
