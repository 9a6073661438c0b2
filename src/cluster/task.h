// The two messages between the front end and the workers. A task names its inputs by content hash and carries no
// secret: the evaluation keys are public, the ciphertexts are encrypted. Both are small JSON documents parsed with
// every field bounded (they come from the network).
//   task   {"v":1,"job","group","groups","keys","input","ciphertexts"}
//   result {"v":1,"job","group","output","layers":[[node, seconds]…],"worker","delivery",
//           "keys_cached","fetch_keys_s","parse_keys_s","fetch_input_s","compute_s","upload_s"}   or   {"v":1,"job","group","error"}
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cryptounet::cluster {

inline constexpr std::size_t kMaxMessageBytes = 64 * 1024;
inline constexpr std::size_t kMaxGroups = 1 << 20;
inline constexpr std::size_t kMaxLayers = 4096;

struct Task {
  std::string job;       // job key (32 hex digits)
  std::size_t group = 0;  // lane group index in the job
  std::size_t groups = 0;
  std::string keys;      // content hash of the evaluation-key bundle
  std::string input;     // content hash of the group's ciphertexts (a ckks ciphertext sequence)
  std::size_t ciphertexts = 0;
};

struct TaskResult {
  std::string job;
  std::size_t group = 0;
  std::string output;  // content hash of the result ciphertexts; empty when `error` is set
  std::string error;   // a permanent failure (the task can never succeed): the job fails with this message
  std::vector<std::pair<std::size_t, double>> layers;  // (model node, seconds) in the order they finished
  std::string worker;
  std::uint64_t delivery = 1;  // 1 = first delivery of the task
  bool keys_cached = false;
  double fetch_keys_s = 0, parse_keys_s = 0, fetch_input_s = 0, compute_s = 0, upload_s = 0;
};

std::string encode(const Task& task);
std::string encode(const TaskResult& result);
// Throw std::runtime_error naming the field on anything out of bounds.
Task decode_task(std::string_view payload);
TaskResult decode_result(std::string_view payload);

}  // namespace cryptounet::cluster
