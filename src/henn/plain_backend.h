// Exact plaintext model of the CKKS operations the encrypted layers use: a "ciphertext" is its slot vector (the real
// values), its level and its scale. Levels, scales and the checks on them follow the CKKS evaluator exactly (the same
// scale tolerance, the same level rules), so the layer code (linear_layers.h, layers.h, network.h) is validated here
// in milliseconds, then runs unchanged on ciphertexts.
#pragma once

#include "henn/backend.h"

#include <cstdint>
#include <span>
#include <vector>

namespace cryptounet::henn {

class PlainBackend {
 public:
  struct Value {
    std::vector<double> slots;
    int level = 0;
    double scale = 1.0;
  };
  struct Mask {  // an encoded plaintext
    std::vector<double> slots;
    int level = 0;
    double scale = 1.0;
  };
  class Accumulator {
   private:
    friend class PlainBackend;
    void add(const Value& term, std::int64_t c);
    std::vector<double> sum_;
    int level_ = -1;
    double scale_ = 0.0;  // of the result: term scale * integer scale (0 before the first term)
    double integer_scale_ = 1.0;
  };

  // primes[l] = the prime a rescale at level l divides by (q_l); max level = primes.size() - 1.
  PlainBackend(int slots, std::vector<double> primes) : slots_(slots), primes_(std::move(primes)) {}

  int slot_count() const { return slots_; }
  int max_level() const { return static_cast<int>(primes_.size()) - 1; }
  double prime(int level) const { return primes_.at(level); }
  static int level(const Value& v) { return v.level; }
  static double scale(const Value& v) { return v.scale; }

  Value encrypt(std::span<const double> values, int level, double scale) const;
  std::vector<double> decrypt(const Value& v) const { return v.slots; }
  Mask encode(std::span<const double> values, int level, double scale) const;

  std::vector<Value> rotate_hoisted(const Value& v, std::span<const int> steps) const;
  Value rotate(const Value& v, int step) const;
  Value rotate_and_sum(std::span<const Value> terms, std::span<const int> steps) const;
  void add_inplace(Value& a, const Value& b) const;
  void add_const_inplace(Value& a, double c) const;
  void add_plain_inplace(Value& a, const Mask& m) const;
  Value mul_plain(const Value& v, const Mask& m) const;
  Value multiply_relin(const Value& a, const Value& b) const;
  Value square_relin(const Value& a) const { return multiply_relin(a, a); }
  Value rescale(const Value& v) const;
  Value drop_to_level(const Value& v, int level) const;
  // Sum of c_i * term_i, read as sum of (c_i / integer_scale) * value_i: scale = term scale * integer_scale.
  Accumulator accumulator(int level, double integer_scale) const;
  void accumulate(std::span<Accumulator* const> accumulators, std::span<const Value* const> terms,
                  std::span<const std::int64_t> coefficients) const;
  Value finish(Accumulator&& acc) const;

 private:
  int slots_;
  std::vector<double> primes_;
};
static_assert(LayerBackend<PlainBackend>);

}  // namespace cryptounet::henn
