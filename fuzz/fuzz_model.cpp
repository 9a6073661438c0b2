// libFuzzer target: the model hand-off: ONNX bytes (nn::load_onnx_bytes, then Model::validate inside the loader)
// and the JSON sidecar (nn::ModelInfo::parse). Byte 0 picks which.
#include <cstdint>
#include <string>

#include "refusal.h"
#include "nn/model_info.h"
#include "nn/onnx_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  cryptounet::fuzz::expect_parse_or_refusal([&] {
    if (data[0] % 2 == 0) (void)cryptounet::nn::load_onnx_bytes(bytes);
    else (void)cryptounet::nn::ModelInfo::parse(bytes);
  });
  return 0;
}
