// `cryptounet worker`: pulls lane-group tasks from the key bundles' task queues (key_queues.h), fetches the task's
// evaluation keys (kept in a byte-capped LRU cache) and ciphertexts by content hash, runs the encrypted U-Net on
// them, publishes the result and only then acks, so a worker that dies mid-task loses nothing: the task is
// delivered again after the ack deadline. While a task runs, a heartbeat (natsMsg_InProgress every ack_wait / 3 of
// its queue) keeps the deadline away, so ack_wait bounds the time to detect a dead worker, not the length of a task.
//
// Key affinity: each time it looks for work, the worker lists the queues with tasks waiting and pulls first from
// those of bundles in its key cache (most recently used first), then from the others in random order. A bundle's
// tasks thus go to the workers that hold its keys while they have nothing else to do, and any idle worker takes
// them otherwise: a preference, never a wait.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "cluster/blob_store.h"
#include "cluster/key_cache.h"
#include "cluster/key_queues.h"
#include "cluster/nats_client.h"
#include "cluster/task.h"
#include "nn/model.h"

namespace cryptounet::cluster {

struct WorkerConfig {
  NatsSettings nats;
  int stream_replicas = 1;                     // JetStream replicas of streams this worker creates (topology.h)
  std::string name;                            // reported in results; default host:pid
  std::uint64_t key_cache_bytes = std::uint64_t{8} << 30;
  std::uint64_t max_blob_bytes = std::uint64_t{64} << 30;  // largest key bundle or ciphertext set fetched
  std::filesystem::path scratch_dir;           // fetched key bundles are parsed from here; default a temp dir
  // false: the key cache plays no part in choosing a queue (every queue with tasks waiting is equally likely), to
  // measure what affinity gains (bench/cluster_affinity.cpp).
  bool prefer_held_keys = true;
};

struct WorkerCounters {
  std::atomic<std::uint64_t> tasks_done{0};    // counted just before the result is published (a failed publish that
                                               // is delivered again counts again)
  std::atomic<std::uint64_t> tasks_failed{0};  // permanent failures reported to the front end
  std::atomic<std::uint64_t> key_hits{0};
  std::atomic<std::uint64_t> key_misses{0};
};

class Worker {
 public:
  Worker(WorkerConfig config, nn::Model model);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Serves tasks until `stop` becomes true (checked at least every `poll`, and after every layer of a task: an
  // interrupted task is handed back to the queue at once).
  void run(const std::atomic<bool>& stop, std::chrono::milliseconds poll = std::chrono::milliseconds(500));
  // Waits up to `wait` for one task and handles it; false when none came. Idle, it lists the queues every
  // `relist` (one JetStream request).
  bool run_once(std::chrono::milliseconds wait, std::chrono::milliseconds relist = std::chrono::milliseconds(500));
  const WorkerCounters& counters() const { return counters_; }

 private:
  // Takes one waiting task, from the most preferred queue that still has one; false when there was none.
  bool take_task();
  std::vector<const KeyQueue*> preference_order(const std::vector<KeyQueue>& queues);
  natsSubscription* subscription(const std::string& keys);
  void handle(natsMsg* msg, const KeyQueueSettings& queue);
  TaskResult execute(const Task& task);
  std::shared_ptr<const henn::EvaluationKeys> keys_for(const Task& task, TaskResult& timing);
  void publish(const TaskResult& result);

  WorkerConfig config_;
  nn::Model model_;
  NatsClient nats_;
  BlobStore blobs_;
  KeyCache keys_;
  std::map<std::string, SubscriptionPtr> queues_;  // pull subscriptions by bundle hash, for queues that exist
  std::mt19937 rng_;
  WorkerCounters counters_;
  const std::atomic<bool>* stop_ = nullptr;
};

}  // namespace cryptounet::cluster
