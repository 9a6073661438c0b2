// Nuclei as objects: a binary mask split into instances on the client, after decryption (plaintext, no HE cost).
// From the mask alone: connected components, or a seeded watershed on the distance transform that separates touching
// nuclei. A model with an instance channel (channel 1, a probability) seeds the watershed itself: from its boundary
// channel (contour-aware, DCAN) or from its core channel (marker-controlled, each nucleus shrunk by a few pixels).
#pragma once

#include "io/image.h"

#include <string>
#include <vector>

namespace cryptounet::nn {

enum class Connectivity { Four = 4, Eight = 8 };

enum class InstanceMethod {
  Components,  // connected components of the mask
  Watershed,   // distance-transform watershed of the mask (h-maxima markers)
  Contour,     // seeds where the boundary probability is below the seed threshold
  Core,        // seeds where the core probability is above the seed threshold
};
const char* instance_method_name(InstanceMethod method);
// "components", "watershed", "contour", "core"; throws std::invalid_argument otherwise.
InstanceMethod parse_instance_method(const std::string& name);
// Contour and Core split along a model's channel 1; the others use the mask alone.
bool uses_instance_channel(InstanceMethod method);

struct InstanceOptions {
  InstanceMethod method = InstanceMethod::Watershed;
  // Pixels of one object touch by an edge (Four) or also by a corner (Eight).
  Connectivity connectivity = Connectivity::Eight;
  // Watershed: markers are the h-maxima of the Euclidean distance to the background (regional maxima that stand at
  // least `h` pixels above every path to a higher one), flooded within the mask. h = 5 scored best on the DSB2018
  // validation split (h 2-6 tried) with the bundled models.
  double h = 5.0;
  // Objects smaller than this many pixels are dropped (noise, not nuclei).
  int min_area = 10;
  // Contour: a mask pixel seeds where the boundary probability is below this; Core: where the core probability is
  // above it. The model's sidecar gives the value chosen on the validation split.
  double seed_threshold = 0.5;
};

// Instances of `mask` by Components or Watershed, labelled 1..K in raster order of their first pixel. Throws
// std::invalid_argument for a method that needs the instance channel, std::length_error above 65535 objects (the
// 16-bit label range).
io::LabelImage label_instances(const io::Mask& mask, const InstanceOptions& options = {});

// Instances of `mask` by any method; Contour and Core split along `channel_probability` (channel 1's sigmoid, in
// [0, 1], same size; NaN counts as boundary, i.e. no core). Seeded split: the connected parts of the mask where the
// pixel is interior by the seed threshold are the seeds; they flood the mask from the most interior pixels down
// (lowest boundary, highest core probability), so neighbours meet on the boundary ridge or midway between cores. A
// part of the mask that holds no seed is one object. Labels and limits as above.
io::LabelImage label_instances(const io::Mask& mask, const io::Plane& channel_probability,
                               const InstanceOptions& options);

// Exact Euclidean distance of every foreground pixel to the nearest background pixel; outside the image counts as
// background, so an object cut by the border peaks inside the field of view. Background pixels are 0.
io::Plane distance_to_background(const io::Mask& mask);

struct Instance {
  int label = 0;
  long area = 0;  // pixels
  double centroid_x = 0, centroid_y = 0;  // pixel centres, x to the right and y down from the top-left pixel
};

// One entry per label present, in label order.
std::vector<Instance> measure_instances(const io::LabelImage& labels);

// "label,area,centroid_x,centroid_y" and one row per instance.
std::string instances_csv(const std::vector<Instance>& instances);

}  // namespace cryptounet::nn
