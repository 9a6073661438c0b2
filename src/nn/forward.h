// Float64 plaintext reference inference.
#pragma once

#include "nn/model.h"
#include "nn/tensor.h"

#include <vector>

namespace cryptounet::nn {

// Every node's activation, indexed like model.nodes (result.back() is the logit map). The input must have
// model.input().channels channels and sides divisible by 2^pooling_depth.
std::vector<Tensor> forward(const Model& model, const Tensor& input);

// Only the output (the logit map), freeing intermediate activations as soon as they are no longer needed.
Tensor forward_output(const Model& model, const Tensor& input);

// One node's computation from its input activations (shared by forward and per-layer checks elsewhere).
Tensor apply_node(const Node& node, const std::vector<const Tensor*>& inputs);

}  // namespace cryptounet::nn
