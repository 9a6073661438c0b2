// The CKKS backend of the encrypted layers: the operations of PlainBackend on real ciphertexts with the server's
// public evaluation keys (no secret key), and counts of the expensive operations for the bench.
#pragma once

#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/encoder.h"
#include "ckks/evaluator.h"
#include "ckks/keys.h"
#include "ckks/linear_accumulator.h"
#include "ckks/plaintext.h"
#include "henn/backend.h"

#include <cstdint>
#include <span>
#include <vector>

namespace cryptounet::henn {

// A key switch is a ModUp (decompose and extend one polynomial to Q * P) and a ModDown (bring two back, about twice
// the work). A single rotation or relinearization has one of each, a hoisted group one ModUp for all its rotations, a
// rotation sum (double hoisting) one ModDown for all its rotations.
struct OpCounts {
  std::uint64_t key_switches = 0;      // ModDowns: single and hoisted rotations, rotation sums, relinearizations
  std::uint64_t mod_ups = 0;           // single rotations, hoisted groups, summed rotations, relinearizations
  std::uint64_t rotations = 0;         // all of them
  std::uint64_t hoisted_groups = 0;
  std::uint64_t hoisted_rotations = 0;
  std::uint64_t rotation_sums = 0;
  std::uint64_t summed_rotations = 0;
  std::uint64_t relinearizations = 0;
  std::uint64_t mask_products = 0;   // ciphertext x plaintext
  std::uint64_t integer_macs = 0;    // lazy integer multiply-accumulates
  std::uint64_t rescales = 0;
};

class CkksBackend {
 public:
  using Value = ckks::Ciphertext;
  using Mask = ckks::Plaintext;
  class Accumulator {
   public:
    Accumulator(ckks::ContextPtr ctx, int level, double integer_scale) : acc_(std::move(ctx), level, integer_scale) {}
   private:
    friend class CkksBackend;
    ckks::LinearAccumulator acc_;
  };

  CkksBackend(ckks::ContextPtr ctx, const ckks::RelinKey& relin_key, const ckks::GaloisKeys& galois_keys);

  int slot_count() const { return static_cast<int>(ctx_->slot_count()); }
  int max_level() const { return ctx_->max_level(); }
  double prime(int level) const { return static_cast<double>(ctx_->prime(level)); }
  static int level(const Value& v) { return v.level(); }
  static double scale(const Value& v) { return v.scale(); }
  const OpCounts& counts() const { return counts_; }

  Mask encode(std::span<const double> values, int level, double scale) const;
  std::vector<Value> rotate_hoisted(const Value& v, std::span<const int> steps) const;
  Value rotate(const Value& v, int step) const;
  Value rotate_and_sum(std::span<const Value> terms, std::span<const int> steps) const;
  void add_inplace(Value& a, const Value& b) const { evaluator_.add_inplace(a, b); }
  void add_const_inplace(Value& a, double c) const { evaluator_.add_const_inplace(a, c); }
  void add_plain_inplace(Value& a, const Mask& m) const { evaluator_.add_plain_inplace(a, m); }
  Value mul_plain(const Value& v, const Mask& m) const;
  Value multiply_relin(const Value& a, const Value& b) const;
  Value square_relin(const Value& a) const;
  Value rescale(const Value& v) const;
  Value drop_to_level(const Value& v, int level) const { return evaluator_.drop_to_level(v, level); }
  Accumulator accumulator(int level, double integer_scale) const;
  void accumulate(std::span<Accumulator* const> accumulators, std::span<const Value* const> terms,
                  std::span<const std::int64_t> coefficients) const;
  Value finish(Accumulator&& acc) const { return acc.acc_.finish(); }

 private:
  ckks::ContextPtr ctx_;
  ckks::Encoder encoder_;
  ckks::Evaluator evaluator_;
  const ckks::RelinKey& relin_key_;
  const ckks::GaloisKeys& galois_keys_;
  mutable OpCounts counts_;
};
static_assert(LayerBackend<CkksBackend>);

}  // namespace cryptounet::henn
