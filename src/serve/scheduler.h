// The worker pool: a FIFO of accepted job ids and N threads that run them through the backend, record per-layer
// progress in the job store and publish results. Jobs are independent of HTTP connections, so a client that
// disconnects after submitting loses nothing. The queue bound is enforced by Service at admission.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "serve/backend.h"
#include "serve/job_store.h"
#include "serve/metrics.h"

namespace cryptounet::serve {

class Scheduler {
 public:
  Scheduler(JobStore& jobs, InferenceBackend& backend, Metrics& metrics, std::size_t workers);
  ~Scheduler();  // stops running jobs at their next layer; unfinished jobs stay on disk for the next start
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void enqueue(const std::string& job_id);

 private:
  void work();
  void run_one(const std::string& id);

  JobStore& jobs_;
  InferenceBackend& backend_;
  Metrics& metrics_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::string> queue_;
  std::size_t running_ = 0;  // jobs in run_one(), guarded by mutex_
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> workers_;
};

}  // namespace cryptounet::serve
