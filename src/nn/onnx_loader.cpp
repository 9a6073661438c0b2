#include "nn/onnx_loader.h"

#include <stdexcept>

namespace cryptounet::nn {

Model load_onnx_bytes(const std::string&, const std::string& model_name) {
  throw std::runtime_error("load_onnx: '" + model_name + "': loader not implemented yet");
}

Model load_onnx(const std::string& path) { return load_onnx_bytes(std::string(), path); }

}  // namespace cryptounet::nn
