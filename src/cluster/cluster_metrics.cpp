#include "cluster/cluster_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace cryptounet::cluster {
namespace {

// Seconds: a lane group of the tiny test model takes seconds, one of the default model minutes, a large image's
// job up to hours.
std::vector<double> latency_bounds() { return {1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400}; }

}  // namespace

ClusterMetrics::ClusterMetrics()
    : task_latency_(latency_bounds()), job_latency_succeeded_(latency_bounds()), job_latency_failed_(latency_bounds()) {}

void ClusterMetrics::task_done(const TaskResult& result, std::optional<double> latency_s) {
  std::lock_guard lock(mutex_);
  const bool known = workers_.count(result.worker) > 0 || workers_.size() < kMaxWorkers;
  auto& w = workers_[known ? result.worker : std::string("other")];
  ++w.tasks;
  w.compute_seconds += std::max(0.0, result.compute_s);
  ++(result.keys_cached ? w.key_hits : w.key_misses);
  if (latency_s) task_latency_.observe(std::max(0.0, *latency_s));
}

void ClusterMetrics::task_gave_up() {
  std::lock_guard lock(mutex_);
  ++gave_up_;
}

void ClusterMetrics::job_done(bool succeeded, double seconds) {
  std::lock_guard lock(mutex_);
  (succeeded ? job_latency_succeeded_ : job_latency_failed_).observe(std::max(0.0, seconds));
}

std::string ClusterMetrics::render(const std::optional<QueueState>& queue) const {
  std::lock_guard lock(mutex_);
  std::string out;
  auto line = [&out](const std::string& text) { out += text + "\n"; };
  if (queue) {
    line("# HELP cryptounet_cluster_task_queues Key bundles with a task queue (jobs running on them).");
    line("# TYPE cryptounet_cluster_task_queues gauge");
    line(fmt::format("cryptounet_cluster_task_queues {}", queue->queues));
    line("# HELP cryptounet_cluster_tasks Tasks of the task queues, by state (as the NATS server counts them).");
    line("# TYPE cryptounet_cluster_tasks gauge");
    line(fmt::format("cryptounet_cluster_tasks{{state=\"pending\"}} {}", queue->pending));
    line(fmt::format("cryptounet_cluster_tasks{{state=\"in_flight\"}} {}", queue->in_flight));
    line(fmt::format("cryptounet_cluster_tasks{{state=\"redelivered\"}} {}", queue->redelivered));
  }
  line("# HELP cryptounet_cluster_tasks_gave_up_total Tasks whose deliveries ran out without a result.");
  line("# TYPE cryptounet_cluster_tasks_gave_up_total counter");
  line(fmt::format("cryptounet_cluster_tasks_gave_up_total {}", gave_up_));
  line("# HELP cryptounet_cluster_worker_tasks_total Task results accepted, by worker.");
  line("# TYPE cryptounet_cluster_worker_tasks_total counter");
  for (const auto& [name, w] : workers_)
    line(fmt::format("cryptounet_cluster_worker_tasks_total{{worker=\"{}\"}} {}", serve::escape_label(name), w.tasks));
  line("# HELP cryptounet_cluster_worker_compute_seconds_total Encrypted inference time of accepted tasks, by worker.");
  line("# TYPE cryptounet_cluster_worker_compute_seconds_total counter");
  for (const auto& [name, w] : workers_)
    line(fmt::format("cryptounet_cluster_worker_compute_seconds_total{{worker=\"{}\"}} {:.6f}",
                     serve::escape_label(name), w.compute_seconds));
  line("# HELP cryptounet_cluster_key_cache_total Evaluation keys found in a worker's cache or fetched, by worker.");
  line("# TYPE cryptounet_cluster_key_cache_total counter");
  for (const auto& [name, w] : workers_) {
    const auto label = serve::escape_label(name);
    line(fmt::format("cryptounet_cluster_key_cache_total{{worker=\"{}\",result=\"hit\"}} {}", label, w.key_hits));
    line(fmt::format("cryptounet_cluster_key_cache_total{{worker=\"{}\",result=\"miss\"}} {}", label, w.key_misses));
  }
  line("# HELP cryptounet_cluster_task_seconds From a task's publication to its result accepted.");
  line("# TYPE cryptounet_cluster_task_seconds histogram");
  task_latency_.render(out, "cryptounet_cluster_task_seconds");
  line("# HELP cryptounet_cluster_job_seconds From a job's start on the front end to its result written, by outcome.");
  line("# TYPE cryptounet_cluster_job_seconds histogram");
  job_latency_succeeded_.render(out, "cryptounet_cluster_job_seconds", "outcome=\"succeeded\"");
  job_latency_failed_.render(out, "cryptounet_cluster_job_seconds", "outcome=\"failed\"");
  return out;
}

}  // namespace cryptounet::cluster
