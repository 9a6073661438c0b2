#include "io/preprocess.h"

#include <nlohmann/json.hpp>

#include "io/json_number.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace cryptounet::io {

namespace {

std::vector<double> finite_array(const nlohmann::json& j, const std::string& key, std::size_t count) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array() || it->size() != count)
    throw std::runtime_error("normalization: 'fixed' needs '" + key + "' with " + std::to_string(count) + " numbers");
  std::vector<double> out;
  for (const auto& v : *it) out.push_back(json_finite(v, "normalization." + key));
  return out;
}

double mean_of(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

// (v - mean) / sd clipped to [-clip, clip], in place.
void standardize(std::vector<double>& v, double mean, double sd, double clip) {
  for (double& x : v) x = std::clamp((x - mean) / sd, -clip, clip);
}

double population_std(const std::vector<double>& v, double mean) {
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  return std::sqrt(var / static_cast<double>(v.size()));
}

void check_fixed_statistics(const Normalization& norm) {
  const auto channels = static_cast<std::size_t>(norm.channels());
  if (norm.method == Normalization::Method::Fixed && (norm.mean.size() != channels || norm.stddev.size() != channels))
    throw std::invalid_argument("normalization: 'fixed' needs a mean and a std per channel");
}

}  // namespace

Normalization Normalization::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::runtime_error("normalization: expected a JSON object");
  const std::string color = j.value("color", std::string("gray"));
  const std::string gray = j.value("grayscale", std::string("mean_rgb"));
  const std::string method = j.value("method", std::string("zscore_per_image"));
  Normalization n;
  if (color == "rgb") n.color = Color::Rgb;
  else if (color != "gray") throw std::runtime_error("normalization: unsupported color '" + color + "'");
  if (gray != "mean_rgb") throw std::runtime_error("normalization: unsupported grayscale '" + gray + "'");
  if (method == "fixed") n.method = Method::Fixed;
  else if (method != "zscore_per_image") throw std::runtime_error("normalization: unsupported method '" + method + "'");
  n.invert_if_mean_above = json_finite_or(j, "invert_if_mean_above", n.invert_if_mean_above);
  n.min_std = json_finite_or(j, "min_std", n.min_std);
  n.clip = json_finite_or(j, "clip", n.clip);
  if (!(n.min_std > 0) || !(n.clip > 0)) throw std::runtime_error("normalization: min_std and clip must be > 0");
  if (n.method == Method::Fixed) {
    n.mean = finite_array(j, "mean", static_cast<std::size_t>(n.channels()));
    n.stddev = finite_array(j, "std", static_cast<std::size_t>(n.channels()));
    for (double s : n.stddev)
      if (!(s > 0)) throw std::runtime_error("normalization: every std must be > 0");
  }
  return n;
}

nlohmann::json Normalization::to_json() const {
  nlohmann::json j = {{"color", color == Color::Rgb ? "rgb" : "gray"},
                      {"grayscale", "mean_rgb"},
                      {"invert_if_mean_above", invert_if_mean_above},
                      {"method", method == Method::Fixed ? "fixed" : "zscore_per_image"},
                      {"min_std", min_std},
                      {"clip", clip}};
  if (method == Method::Fixed) {
    j["mean"] = mean;
    j["std"] = stddev;
  }
  return j;
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

std::vector<Plane> to_rgb(const Image& image) {
  if (image.channels < 1 || image.samples.size() != image.pixel_count() * image.channels)
    throw std::invalid_argument("to_rgb: inconsistent image");
  std::vector<Plane> rgb(3, Plane(image.width, image.height));
  const double scale = 1.0 / image.max_value();
  for (int c = 0; c < 3; ++c) {
    const int source = image.channels >= 3 ? c : 0;  // gray(+alpha): the gray sample in every channel
    for (std::size_t p = 0; p < rgb[c].pixels.size(); ++p)
      rgb[c].pixels[p] = image.samples[p * image.channels + source] * scale;
  }
  return rgb;
}

Plane normalize_gray(Plane gray, const Normalization& norm) {
  if (gray.pixels.empty()) throw std::invalid_argument("normalize_gray: empty image");
  check_fixed_statistics(norm);
  double mean = mean_of(gray.pixels);
  if (mean > norm.invert_if_mean_above) {  // brightfield: dark nuclei on a bright background
    for (double& v : gray.pixels) v = 1.0 - v;
    mean = 1.0 - mean;
  }
  if (norm.method == Normalization::Method::Fixed)
    standardize(gray.pixels, norm.mean[0], norm.stddev[0], norm.clip);
  else
    standardize(gray.pixels, mean, std::max(population_std(gray.pixels, mean), norm.min_std), norm.clip);
  return gray;
}

Plane preprocess(const Image& image, const Normalization& norm) { return normalize_gray(to_gray(image), norm); }

std::vector<Plane> preprocess_channels(const Image& image, const Normalization& norm) {
  if (norm.color == Normalization::Color::Gray) return {preprocess(image, norm)};
  check_fixed_statistics(norm);
  std::vector<Plane> rgb = to_rgb(image);
  if (rgb[0].pixels.empty()) throw std::invalid_argument("preprocess_channels: empty image");
  double overall = 0;
  for (const Plane& p : rgb) overall += mean_of(p.pixels) / 3.0;
  const bool invert = overall > norm.invert_if_mean_above;  // one decision for the whole image
  for (std::size_t c = 0; c < rgb.size(); ++c) {
    std::vector<double>& v = rgb[c].pixels;
    if (invert)
      for (double& x : v) x = 1.0 - x;
    if (norm.method == Normalization::Method::Fixed) {
      standardize(v, norm.mean[c], norm.stddev[c], norm.clip);
    } else {
      const double mean = mean_of(v);
      standardize(v, mean, std::max(population_std(v, mean), norm.min_std), norm.clip);
    }
  }
  return rgb;
}

}  // namespace cryptounet::io
