// Preprocessing shared with train/ (the model hand-off contract). Gray models (the default): gray = mean(R,G,B) / max
// value, invert when the mean is above a threshold (brightfield -> dark background), per-image z-score with a floor
// on std, clip. Colour models keep R, G and B as three planes: the inversion is decided on the mean of all three,
// then each channel is normalized on its own (its own z-score, or the sidecar's fixed per-channel mean and std) and
// clipped.
#pragma once

#include "io/image.h"

#include <nlohmann/json_fwd.hpp>

#include <vector>

namespace cryptounet::io {

// The "normalization" object of a model's JSON sidecar.
struct Normalization {
  enum class Color { Gray, Rgb };
  enum class Method { ZscorePerImage, Fixed };

  Color color = Color::Gray;
  Method method = Method::ZscorePerImage;
  double invert_if_mean_above = 0.5;
  double min_std = 1e-3;
  double clip = 4.0;
  std::vector<double> mean;    // Method::Fixed: one per channel, on intensities in [0, 1]
  std::vector<double> stddev;  // Method::Fixed: one per channel, > 0

  // Planes per image: 1 (gray) or 3 (RGB).
  int channels() const { return color == Color::Rgb ? 3 : 1; }

  // Parses {"color": "gray" | "rgb", "grayscale": "mean_rgb", "invert_if_mean_above",
  // "method": "zscore_per_image" | "fixed", "mean": [...], "std": [...], "min_std", "clip"}; any other value throws.
  static Normalization from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
};

// Gray level in [0, 1]: single-channel images as is, otherwise the mean of the first three channels (alpha ignored).
Plane to_gray(const Image& image);

// R, G, B in [0, 1] (alpha ignored); a gray image gives its gray plane three times.
std::vector<Plane> to_rgb(const Image& image);

// The full gray preprocessing: to_gray, optional inversion, z-score with the population std, clip to [-clip, clip].
Plane preprocess(const Image& image, const Normalization& norm);
Plane normalize_gray(Plane gray, const Normalization& norm);

// norm.channels() normalized planes: {preprocess(image, norm)} for gray models, R, G, B for colour models.
std::vector<Plane> preprocess_channels(const Image& image, const Normalization& norm);

}  // namespace cryptounet::io
