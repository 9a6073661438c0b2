// Loads an ONNX U-Net (the hand-off contract's op patterns) into a Model. Unsupported ops, attributes or shapes
// throw std::runtime_error naming the ONNX node.
#pragma once

#include "nn/model.h"

#include <string>

namespace cryptounet::nn {

Model load_onnx(const std::string& path);
// The serialized ModelProto bytes (for tests and in-memory models).
Model load_onnx_bytes(const std::string& bytes, const std::string& model_name = "model");

}  // namespace cryptounet::nn
