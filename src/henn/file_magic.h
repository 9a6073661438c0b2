// The magic numbers and format versions that open henn's files, in one place for their writers, their readers and
// identify_file (upload_check.h).
#pragma once

#include <cstdint>

namespace cryptounet::henn::magic {

inline constexpr char kPlan[5] = "CUHP";
inline constexpr char kPublicKey[5] = "CUPK";
inline constexpr char kEvaluationKeys[5] = "CUEV";
inline constexpr std::uint16_t kKeyFileVersion = 2;  // plan, public-key and evaluation-key files; 2: key levels
inline constexpr char kBatch[5] = "CUNB";
inline constexpr std::uint16_t kBatchVersion = 2;  // 2: the batch id follows the version

}  // namespace cryptounet::henn::magic
