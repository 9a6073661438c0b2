#include "serve/scheduler.h"

#include <chrono>
#include <system_error>
#include <spdlog/spdlog.h>

#include "serve/atomic_file.h"

namespace cryptounet::serve {

Scheduler::Scheduler(JobStore& jobs, InferenceBackend& backend, Metrics& metrics, std::size_t workers)
    : jobs_(jobs), backend_(backend), metrics_(metrics) {
  for (const auto& id : jobs_.unfinished()) queue_.push_back(id);
  for (std::size_t i = 0; i < std::max<std::size_t>(1, workers); ++i) workers_.emplace_back([this] { work(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : workers_) t.join();
}

void Scheduler::enqueue(const std::string& job_id) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(job_id);
  }
  ready_.notify_one();
}

void Scheduler::work() {
  for (;;) {
    std::string id;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    try {
      run_one(id);
    } catch (...) {
      // run_one records every failure in the job store; nothing may end the worker (std::terminate).
      spdlog::error("job {}: unexpected error in the worker", id);
    }
    bool idle;
    {
      std::lock_guard lock(mutex_);
      idle = --running_ == 0 && queue_.empty();
    }
    if (idle) backend_.release_memory();
  }
}

void Scheduler::run_one(const std::string& id) {
  if (!jobs_.start(id)) return;  // deleted while queued
  const auto started = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  auto written = jobs_.result_path(id);
  written += ".partial";
  // Metrics are updated before the job store publishes the outcome, so a client that sees a job done or failed
  // also sees it counted in /metrics.
  bool counted = false;
  try {
    backend_.run(jobs_.keys_path(id), jobs_.input_path(id), written, [&](const LayerDone& layer) {
      metrics_.layer_completed(layer.index, layer.seconds);
      return !stopping_ && jobs_.layer_done(id, layer);
    });
    metrics_.job_completed(true, elapsed());
    counted = true;
    jobs_.finish(id, written);
    spdlog::info("job {} done in {:.2f} s", id, elapsed());
  } catch (const Cancelled&) {
    std::error_code ignored;
    std::filesystem::remove(written, ignored);
    // On shutdown the job goes back to the queue and runs again after a restart; otherwise it was deleted while
    // running and fail() removes it.
    if (stopping_) jobs_.requeue(id);
    else jobs_.fail(id, "cancelled");
  } catch (const std::exception& e) {
    std::error_code ignored;
    std::filesystem::remove(written, ignored);
    if (!counted) metrics_.job_completed(false, elapsed());
    const auto* system = dynamic_cast<const std::system_error*>(&e);
    jobs_.fail(id, system && is_out_of_space(system->code()) ? std::string("the server's disk is full: ") + e.what()
                                                             : std::string(e.what()));
    spdlog::warn("job {} failed: {}", id, e.what());
  }
}

}  // namespace cryptounet::serve
