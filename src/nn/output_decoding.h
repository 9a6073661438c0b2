// What a model's logit channels (K x H x W, nn::predict_logits or a decrypted result) become for the user, per the
// sidecar's output kind (ModelInfo::output): a foreground mask, a class label image, per-channel probabilities.
#pragma once

#include "io/image.h"
#include "nn/instances.h"
#include "nn/model_info.h"
#include "nn/tensor.h"

namespace cryptounet::nn {

// The foreground: channel 0 > info.threshold_logit for "mask", "mask+contour" and "mask+core" (channel 0 is the
// nucleus logit),
// class id != 0 for "classes" (class 0 is the background). Throws when K does not match the output kind.
io::Mask foreground_mask(const Tensor& logits, const ModelInfo& info);

// The argmax over the channels at each pixel (the lower id on ties): class ids 0..K-1.
io::LabelImage class_labels(const Tensor& logits);

// sigmoid(logit) of one channel: e.g. the nucleus-boundary probability, channel 1 of "mask+contour".
io::Plane channel_probability(const Tensor& logits, int channel);

// The nuclei as objects: the foreground split by `options.method` (usually info.instances), the contour and core
// splits along channel 1's probability. Throws std::invalid_argument when the method needs a channel 1 that the
// output kind does not have ("contour" needs "mask+contour", "core" needs "mask+core").
io::LabelImage nuclei_labels(const Tensor& logits, const ModelInfo& info, const InstanceOptions& options);

}  // namespace cryptounet::nn
