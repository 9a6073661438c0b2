// Preprocessing shared with train/ (the model hand-off contract): gray = mean(R,G,B) / max value, invert when the
// mean is above a threshold (brightfield -> dark background), per-image z-score with a floor on std, clip.
#pragma once

#include "io/image.h"

#include <nlohmann/json_fwd.hpp>

namespace cryptounet::io {

// The "normalization" object of a model's JSON sidecar.
struct Normalization {
  double invert_if_mean_above = 0.5;
  double min_std = 1e-3;
  double clip = 4.0;

  // Parses {"grayscale": "mean_rgb", "invert_if_mean_above", "method": "zscore_per_image", "min_std", "clip"};
  // any other grayscale/method value throws.
  static Normalization from_json(const nlohmann::json& j);
};

// Gray level in [0, 1]: single-channel images as is, otherwise the mean of the first three channels (alpha ignored).
Plane to_gray(const Image& image);

// The full preprocessing: to_gray, optional inversion, z-score with the population std, clip to [-clip, clip].
Plane preprocess(const Image& image, const Normalization& norm);
Plane normalize_gray(Plane gray, const Normalization& norm);

}  // namespace cryptounet::io
