// What a cluster front end adds to /metrics (Prometheus text format): the task queue as the server sees it, the
// workers as their results describe them (tasks done, compute seconds, key-cache hits and misses), and the
// latencies of tasks (published to result accepted) and jobs (run() start to result file written).
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "cluster/task.h"
#include "serve/metrics.h"

namespace cryptounet::cluster {

// The key bundles' task queues at scrape time, all together.
struct QueueState {
  std::uint64_t pending = 0;      // tasks no worker has taken yet
  std::uint64_t in_flight = 0;    // taken and not acknowledged
  std::uint64_t redelivered = 0;  // in flight or pending again after a worker failed to finish them
  std::uint64_t queues = 0;       // key bundles with a task queue (jobs running on them)
};

class ClusterMetrics {
 public:
  // Worker names come from the network: past this many, further workers are counted under "other".
  static constexpr std::size_t kMaxWorkers = 1024;

  ClusterMetrics();

  // An accepted result; `latency_s` from its task's publication, when this front end published it.
  void task_done(const TaskResult& result, std::optional<double> latency_s);
  void task_gave_up();  // a task whose deliveries ran out without a result
  void job_done(bool succeeded, double seconds);
  // `queue` is empty when the server could not be asked.
  std::string render(const std::optional<QueueState>& queue) const;

 private:
  struct WorkerTotals {
    std::uint64_t tasks = 0;
    double compute_seconds = 0;
    std::uint64_t key_hits = 0, key_misses = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, WorkerTotals> workers_;
  std::uint64_t gave_up_ = 0;
  serve::Histogram task_latency_, job_latency_succeeded_, job_latency_failed_;
};

}  // namespace cryptounet::cluster
