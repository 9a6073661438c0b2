// Visual output: a segmentation drawn over the image (tint + contour), for humans to check a prediction.
#pragma once

#include "io/image.h"

namespace cryptounet::io {

// 8-bit RGB: the gray image contrast-stretched (1st..99th percentile), the predicted mask tinted green with a
// bright green contour; when `truth` is given, its contour in magenta.
Image make_overlay(const Plane& gray, const Mask& predicted, const Mask* truth = nullptr);

// Pixels of a mask whose 4-neighbourhood leaves the mask (or the image).
Mask mask_contour(const Mask& mask);

}  // namespace cryptounet::io
