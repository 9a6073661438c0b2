// Loads an ONNX network built from HE-friendly operations, as torch.onnx.export writes it (opsets <= 17), into a
// Model: the patterns are listed in docs/CONTRACTS.md ("src/nn"). Unsupported ops, attributes or shapes throw
// std::runtime_error naming the ONNX node; ops that are not HE-friendly also say what replaces them.
#pragma once

#include "nn/model.h"

#include <string>

namespace cryptounet::nn {

Model load_onnx(const std::string& path);
// The serialized ModelProto bytes (for tests and in-memory models).
Model load_onnx_bytes(const std::string& bytes, const std::string& model_name = "model");

}  // namespace cryptounet::nn
