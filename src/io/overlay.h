// Visual output: a segmentation drawn over the image (tint + contour), for humans to check a prediction.
#pragma once

#include "io/image.h"

namespace cryptounet::io {

// 8-bit RGB: the gray image contrast-stretched (1st..99th percentile), the predicted mask tinted green with a
// bright green contour; when `truth` is given, its contour in magenta.
Image make_overlay(const Plane& gray, const Mask& predicted, const Mask* truth = nullptr);

// Pixels of a mask whose 4-neighbourhood leaves the mask (or the image).
Mask mask_contour(const Mask& mask);

// 8-bit RGB: the gray image contrast-stretched as in make_overlay, every instance tinted and outlined in its own
// colour (a fixed palette indexed by label), so touching nuclei that were split show as separate objects.
Image make_instance_overlay(const Plane& gray, const LabelImage& instances);

// 8-bit RGB for viewing an input image: 8-bit RGB(A) as it is (alpha dropped), anything else its gray level
// contrast-stretched.
Image display_image(const Image& image);

}  // namespace cryptounet::io
