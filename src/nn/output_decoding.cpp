#include "nn/output_decoding.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace cryptounet::nn {

io::Mask foreground_mask(const Tensor& logits, const ModelInfo& info) {
  if (logits.channels != info.output_channels)
    throw std::invalid_argument(std::string("foreground_mask: output '") + output_kind_name(info.output) + "' has " +
                                std::to_string(info.output_channels) + " channels, the logits " +
                                std::to_string(logits.channels));
  io::Mask mask(logits.width, logits.height);
  if (info.output == OutputKind::Classes) {
    const io::LabelImage labels = class_labels(logits);
    for (std::size_t p = 0; p < mask.pixels.size(); ++p) mask.pixels[p] = labels.pixels[p] != 0 ? 1 : 0;
    return mask;
  }
  const double* nucleus = logits.channel(0);
  for (std::size_t p = 0; p < mask.pixels.size(); ++p) mask.pixels[p] = nucleus[p] > info.threshold_logit ? 1 : 0;
  return mask;
}

io::LabelImage class_labels(const Tensor& logits) {
  if (logits.channels < 1 || logits.channels > 65536) throw std::invalid_argument("class_labels: bad channel count");
  io::LabelImage labels(logits.width, logits.height);
  for (std::size_t p = 0; p < labels.pixels.size(); ++p) {
    int best = 0;
    for (int c = 1; c < logits.channels; ++c)
      if (logits.channel(c)[p] > logits.channel(best)[p]) best = c;
    labels.pixels[p] = static_cast<std::uint16_t>(best);
  }
  return labels;
}

io::Plane channel_probability(const Tensor& logits, int channel) {
  io::Plane p = logits.to_plane(channel);
  for (double& v : p.pixels) v = 1.0 / (1.0 + std::exp(-v));
  return p;
}

io::LabelImage nuclei_labels(const Tensor& logits, const ModelInfo& info, const InstanceOptions& options) {
  const io::Mask mask = foreground_mask(logits, info);
  if (!uses_instance_channel(options.method)) return label_instances(mask, options);
  const OutputKind needed =
      options.method == InstanceMethod::Contour ? OutputKind::MaskContour : OutputKind::MaskCore;
  if (info.output != needed)
    throw std::invalid_argument(std::string("instances '") + instance_method_name(options.method) + "' need output '" +
                                output_kind_name(needed) + "'; model '" + info.name + "' has output '" +
                                output_kind_name(info.output) + "'");
  return label_instances(mask, channel_probability(logits, 1), options);
}

}  // namespace cryptounet::nn
