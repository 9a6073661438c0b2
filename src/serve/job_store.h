// The table of inference jobs and their files under <data-dir>/jobs/<id>/ (input.bin, keys.bin, result.bin,
// job.json). State changes that must survive a restart (accepted, started, done, failed) are written atomically to
// job.json after the result file is published, so a restarted server finds every finished job and re-queues the
// others. Disk faults never escape the worker's path: a job whose state cannot be recorded fails (in memory, with
// the error), and a job that was running when the process died N times is marked failed instead of run again, so
// that a job which kills the server cannot make it crash-loop.
#pragma once
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <istream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "serve/atomic_file.h"
#include "serve/backend.h"

namespace cryptounet::serve {

enum class JobState { Queued, Running, Done, Failed };
const char* to_string(JobState state);

// A copy of one job's state, safe to read without the store's lock. Times are Unix seconds, 0 = not yet.
struct JobStatus {
  std::string id;
  std::string owner;  // the client that submitted it; no other client may see it
  std::string key_id;
  JobState state = JobState::Queued;
  std::string error;
  std::size_t attempts = 0;  // runs started, the interrupted ones included
  std::vector<double> layer_seconds;  // per layer, summed over the groups of ciphertexts so far
  std::size_t layers_done = 0;        // for the current group of ciphertexts
  std::size_t first_ciphertext = 0, group_size = 1, ciphertext_count = 1;
  double created_at = 0, started_at = 0, finished_at = 0, expires_at = 0;
};
nlohmann::json to_json(const JobStatus& status, const std::vector<std::string>& layer_names);

// An open result file: opening it under the store's lock keeps it readable even if the job is deleted meanwhile.
struct ResultStream {
  std::shared_ptr<std::istream> stream;
  std::uint64_t size = 0;
};

class JobStore {
 public:
  struct Options {
    std::filesystem::path dir;
    std::chrono::seconds result_ttl{24 * 3600};  // a finished job is kept this long...
    std::chrono::seconds fetched_ttl{600};       // ...or this long after its result was first downloaded
    std::size_t max_attempts = 3;                // runs a job gets when the process dies during them
    std::shared_ptr<const DurableFiles> files = disk_files();
  };
  // Loads the jobs a previous run left on disk.
  explicit JobStore(Options options);

  // Jobs accepted but not finished by a previous run, oldest first: the scheduler re-queues them.
  std::vector<std::string> unfinished() const;

  // Accepts a validated batch (moved into the job folder) for a registered key file (hard-linked). Throws ApiError
  // 507 when the disk is full.
  std::string create(const std::string& owner, const std::string& key_id, const std::filesystem::path& key_file,
                     const std::filesystem::path& uploaded_batch);
  std::optional<JobStatus> status(const std::string& id) const;
  std::filesystem::path input_path(const std::string& id) const;
  std::filesystem::path keys_path(const std::string& id) const;
  std::filesystem::path result_path(const std::string& id) const;

  // Worker transitions. start/layer_done return false when the job must not run on: deleted, or (start) its
  // start could not be recorded, which fails it. finish throws on a disk fault (the worker then calls fail).
  bool start(const std::string& id);
  bool layer_done(const std::string& id, const LayerDone& layer);
  void finish(const std::string& id, const std::filesystem::path& written_result);
  // Never throws: when the failure cannot be written to disk the job is failed in memory, with both errors.
  void fail(const std::string& id, const std::string& message) noexcept;
  // A running job stopped by a shutdown: queued again, this run not counted as an attempt. Never throws.
  void requeue(const std::string& id) noexcept;

  // Deletes a job and its files. A running job is only flagged; its worker deletes it when the backend stops.
  bool remove(const std::string& id);
  // The result of a done job (throws ApiError 404/409 otherwise); shortens its expiry to fetched_ttl.
  ResultStream open_result(const std::string& id);
  // Deletes finished jobs whose expiry has passed; returns how many.
  std::size_t expire(std::chrono::system_clock::time_point now);

  struct Counts {
    std::size_t queued = 0, running = 0, done = 0, failed = 0;
  };
  Counts counts() const;

  // What one client holds: jobs not finished yet, and the bytes of their inputs and results on disk.
  struct Usage {
    std::size_t unfinished = 0;
    std::uint64_t bytes = 0;
  };
  Usage usage(const std::string& owner) const;

 private:
  struct Job {
    JobStatus status;
    bool cancelled = false;
  };
  std::filesystem::path dir_of(const std::string& id) const;
  void persist(const Job& job) const;
  // persist, reporting instead of throwing: the error message, empty on success.
  std::string try_persist(const Job& job) const noexcept;
  // Marks the job failed with `message` and records it (best effort).
  void give_up(Job& job, const std::string& message) const noexcept;
  void erase_locked(std::map<std::string, Job>::iterator it);

  Options options_;
  mutable std::mutex mutex_;
  std::map<std::string, Job> jobs_;
};

}  // namespace cryptounet::serve
