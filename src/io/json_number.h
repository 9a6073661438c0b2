// Range-checked numbers from JSON that came from outside (model sidecars, server answers, stored job state).
// nlohmann's get<int>() on 7.8e103 is a float-to-int conversion out of range, which is undefined behaviour; these
// accessors check the type, integrality and range first and throw std::runtime_error naming the field.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <concepts>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace cryptounet::io {

// The integer in `value`, which must lie in [lo, hi]. A float is accepted only when it is integral (JSON writers
// may print 128 as 128.0).
template <std::integral Int>
Int json_integer(const nlohmann::json& value, const std::string& field, Int lo = std::numeric_limits<Int>::min(),
                 Int hi = std::numeric_limits<Int>::max()) {
  const auto checked = [&](auto v) {
    if (std::cmp_less(v, lo) || std::cmp_greater(v, hi))
      throw std::runtime_error("'" + field + "' must be an integer in [" + std::to_string(lo) + ", " +
                               std::to_string(hi) + "]");
    return static_cast<Int>(v);
  };
  if (value.is_number_unsigned()) return checked(value.get<std::uint64_t>());
  if (value.is_number_integer()) return checked(value.get<std::int64_t>());
  if (value.is_number_float()) {
    // Below 2^53 in magnitude every integral double converts to int64 exactly; beyond, it is out of any range we use.
    const double v = value.get<double>();
    constexpr double kExact = 9007199254740992.0;
    if (std::isfinite(v) && v == std::floor(v) && std::abs(v) < kExact) return checked(static_cast<std::int64_t>(v));
  }
  throw std::runtime_error("'" + field + "' must be an integer");
}

// json_integer of object[key], or `fallback` when the key is absent.
template <std::integral Int>
Int json_integer_or(const nlohmann::json& object, const std::string& key, Int fallback,
                    Int lo = std::numeric_limits<Int>::min(), Int hi = std::numeric_limits<Int>::max()) {
  const auto it = object.find(key);
  return it == object.end() ? fallback : json_integer<Int>(*it, key, lo, hi);
}

// A finite number (JSON integers are converted exactly enough for the values we store).
inline double json_finite(const nlohmann::json& value, const std::string& field) {
  if (!value.is_number()) throw std::runtime_error("'" + field + "' must be a number");
  const double v = value.get<double>();
  if (!std::isfinite(v)) throw std::runtime_error("'" + field + "' must be finite");
  return v;
}

inline double json_finite_or(const nlohmann::json& object, const std::string& key, double fallback) {
  const auto it = object.find(key);
  return it == object.end() ? fallback : json_finite(*it, key);
}

}  // namespace cryptounet::io
