// The small CKKS context the deserializer fuzzers load against (N = 2^13, 3 + 1 primes), created once.
#pragma once
#include "ckks/context.h"
#include "ckks/params.h"

namespace cryptounet::fuzz {

inline const ckks::ContextPtr& small_context() {
  static const ckks::ContextPtr context =
      ckks::Context::create(ckks::Parameters::create(ckks::ParameterSpec{13, {40, 30, 30}, {40}}));
  return context;
}

}  // namespace cryptounet::fuzz
