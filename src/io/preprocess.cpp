#include "io/preprocess.h"

#include <nlohmann/json.hpp>

#include "io/json_number.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cryptounet::io {

Normalization Normalization::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::runtime_error("normalization: expected a JSON object");
  const std::string gray = j.value("grayscale", std::string("mean_rgb"));
  const std::string method = j.value("method", std::string("zscore_per_image"));
  if (gray != "mean_rgb") throw std::runtime_error("normalization: unsupported grayscale '" + gray + "'");
  if (method != "zscore_per_image") throw std::runtime_error("normalization: unsupported method '" + method + "'");
  Normalization n;
  n.invert_if_mean_above = json_finite_or(j, "invert_if_mean_above", n.invert_if_mean_above);
  n.min_std = json_finite_or(j, "min_std", n.min_std);
  n.clip = json_finite_or(j, "clip", n.clip);
  if (!(n.min_std > 0) || !(n.clip > 0)) throw std::runtime_error("normalization: min_std and clip must be > 0");
  return n;
}

Plane to_gray(const Image& image) {
  if (image.channels < 1 || image.samples.size() != image.pixel_count() * image.channels)
    throw std::invalid_argument("to_gray: inconsistent image");
  Plane gray(image.width, image.height);
  const int colors = image.channels >= 3 ? 3 : 1;  // gray(+alpha) as is, RGB(A) averaged
  const double scale = 1.0 / (colors * image.max_value());
  for (std::size_t p = 0; p < gray.pixels.size(); ++p) {
    double sum = 0;
    for (int c = 0; c < colors; ++c) sum += image.samples[p * image.channels + c];
    gray.pixels[p] = sum * scale;
  }
  return gray;
}

Plane normalize_gray(Plane gray, const Normalization& norm) {
  const double count = static_cast<double>(gray.pixels.size());
  if (count == 0) throw std::invalid_argument("normalize_gray: empty image");
  double mean = 0;
  for (double v : gray.pixels) mean += v;
  mean /= count;
  if (mean > norm.invert_if_mean_above) {  // brightfield: dark nuclei on a bright background
    for (double& v : gray.pixels) v = 1.0 - v;
    mean = 1.0 - mean;
  }
  double var = 0;
  for (double v : gray.pixels) var += (v - mean) * (v - mean);
  const double sd = std::max(std::sqrt(var / count), norm.min_std);  // population std
  for (double& v : gray.pixels) v = std::clamp((v - mean) / sd, -norm.clip, norm.clip);
  return gray;
}

Plane preprocess(const Image& image, const Normalization& norm) { return normalize_gray(to_gray(image), norm); }

}  // namespace cryptounet::io
