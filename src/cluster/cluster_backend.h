// The front end's side of the cluster: an InferenceBackend that runs a job on the workers instead of in process.
// run() cuts the batch into lane groups (henn::Layout::kMaxLanes ciphertexts, the unit run_inference processes
// together), stores each group's ciphertexts and the evaluation keys as content-addressed blobs, publishes one task
// per group on the work queue, and writes the batch file once every group's result is in, in group order, so the
// result is the file a local run would write. Uploads are still validated here, with the local checks.
//
// Tasks are named after the job's input file (unique per job), so a front end restarted mid-job finds the
// results already published and publishes only the missing tasks (a duplicate of one still queued is dropped
// by the server's duplicate window, or computed twice, harmlessly). The key bundles it keeps in NATS for the next
// jobs are listed in a file, so that a restarted front end still evicts (and deletes) them.
//
// Each key bundle in use has its own task queue (key_queues.h), so that workers take the tasks of the keys they
// hold first: created when a job on the bundle starts, deleted when the last one ends, and left in place at
// shutdown so that workers go on with the job's tasks while the front end restarts.
//
// A task whose deliveries run out without a result (every worker that took it died) would leave its job waiting
// forever: the front end turns the server's MAX_DELIVERIES advisory into an error result for that task, so the
// job fails with a clear message, also when the advisory came while no front end was running.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "ckks/context.h"
#include "cluster/blob_store.h"
#include "cluster/cluster_metrics.h"
#include "cluster/key_queues.h"
#include "cluster/nats_client.h"
#include "cluster/task.h"
#include "serve/henn_backend.h"

namespace cryptounet::cluster {

struct ClusterConfig {
  NatsSettings nats;
  int stream_replicas = 1;                                 // JetStream replicas of streams it creates (topology.h)
  std::uint64_t max_blob_bytes = std::uint64_t{64} << 30;  // largest result a worker may send back
  std::size_t key_blobs_kept = 4;                          // key bundles left in NATS for the next jobs
  std::filesystem::path kept_keys_file;                    // where their hashes survive a restart; empty: nowhere
  KeyQueueSettings task_queues;                            // of the key bundles' task queues this front end creates
  std::chrono::milliseconds poll{500};                     // how often a waiting job checks for shutdown
  std::function<void(const TaskResult&)> on_task;          // every accepted task result (logs, measurements)
};

class ClusterBackend : public serve::InferenceBackend {
 public:
  ClusterBackend(ClusterConfig config, nn::Model model);
  ~ClusterBackend() override;
  ClusterBackend(const ClusterBackend&) = delete;
  ClusterBackend& operator=(const ClusterBackend&) = delete;

  std::vector<std::string> layer_names() const override { return local_.layer_names(); }
  serve::HeaderVerdict check_keys_header(std::string_view head) const override {
    return local_.check_keys_header(head);
  }
  serve::HeaderVerdict check_batch_header(std::string_view head, const std::filesystem::path& keys) const override {
    return local_.check_batch_header(head, keys);
  }
  void validate_keys(const std::filesystem::path& keys) const override { local_.validate_keys(keys); }
  void validate_batch(const std::filesystem::path& batch, const std::filesystem::path& keys) const override {
    local_.validate_batch(batch, keys);
  }
  void run(const std::filesystem::path& keys, const std::filesystem::path& batch,
           const std::filesystem::path& result, const serve::ProgressCallback& progress) override;
  void release_memory() override { local_.release_memory(); }
  std::string metrics() const override;

  // Shutdown: jobs waiting for workers ask the service whether to stop (through their progress callback) at
  // every poll instead of only when a result arrives. Their tasks and results stay in NATS for the restart.
  void stop() { stopping_ = true; }

  // The key of the job whose input is `batch` (32 hex digits): names its tasks and results.
  static std::string job_key(const std::filesystem::path& batch);

 private:
  struct KeyBundle {
    std::optional<std::pair<std::uint64_t, std::uint64_t>> inode;  // none: kept by a previous run of the front end
    std::string hash;
    ckks::ContextPtr context;
  };
  void run_job(const std::filesystem::path& keys, const std::filesystem::path& batch,
               const std::filesystem::path& result, const serve::ProgressCallback& progress);
  KeyBundle key_bundle(const std::filesystem::path& keys);
  // One job fewer on the bundle: with none left, its task queue is deleted (unless stopping) and its blob too
  // unless kept for the next jobs.
  void release_key_blob(const std::string& hash);
  // Key bundles a previous run kept: listed again (evicted as usual later), those over the limit deleted now.
  void adopt_kept_keys();
  void save_kept_keys_locked() const;
  bool has_result(const std::string& job, std::size_t group);
  void publish_task(const Task& task);
  void purge(const char* stream, const std::string& subject);
  void give_up_task(std::string_view advisory);
  static void on_advisory(natsConnection*, natsSubscription*, natsMsg* msg, void* self);

  ClusterConfig config_;
  serve::HennBackend local_;
  NatsClient nats_;
  BlobStore blobs_;
  std::mutex mutex_;
  std::list<KeyBundle> bundles_;             // most recently used first, at most key_blobs_kept
  std::map<std::string, int> blobs_in_use_;  // key hash -> running jobs
  std::atomic<bool> stopping_{false};
  ClusterMetrics metrics_;
  SubscriptionPtr advisories_;  // last: its callback uses everything above
};

}  // namespace cryptounet::cluster
