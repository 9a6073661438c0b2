// libFuzzer target: ckks::load_parameters on arbitrary bytes (it re-creates and re-validates the parameter set).
#include <cstdint>
#include <sstream>
#include <string>

#include "refusal.h"
#include "ckks/serialization.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  cryptounet::fuzz::expect_parse_or_refusal([&] {
    (void)cryptounet::ckks::load_parameters(in);
  });
  return 0;
}
