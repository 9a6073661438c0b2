// libFuzzer target: ckks::load_parameters on arbitrary bytes (it re-creates and re-validates the parameter set).
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

#include "ckks/serialization.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    (void)cryptounet::ckks::load_parameters(in);
  } catch (const std::exception&) {
    // Refusing malformed input with an exception is the contract; crashes, leaks and UB are the bugs.
  }
  return 0;
}
