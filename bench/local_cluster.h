// The cluster of the cluster benchmarks on one machine: a nats-server of the tests and cluster workers on threads of
// this process, 1 OpenMP thread each (a task runs on its worker's thread, so that thread's CPU time is the worker's).
#pragma once

#ifndef CRYPTOUNET_NATS_SERVER
#define CRYPTOUNET_NATS_SERVER "nats-server"
#endif
#include "../tests/cluster/nats_server.h"
#include "../tests/henn/tiny_unet.h"
#include "cluster/cluster_backend.h"
#include "cluster/worker.h"
#include "henn/batch.h"
#include "henn/planner.h"

#include <omp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cryptounet::bench {

class WorkerPool {
 public:
  // `count` workers "worker-0".. on `server`; `configure` adjusts each one's config before it starts, `on_exit(w)`
  // runs on worker w's thread when its run loop has ended.
  WorkerPool(cluster::testing::NatsServer& server, const nn::Model& model, int count,
             const std::function<void(cluster::WorkerConfig&)>& configure = {},
             std::function<void(int)> on_exit = {})
      : on_exit_(std::move(on_exit)) {
    for (int w = 0; w < count; ++w) {
      cluster::WorkerConfig config;
      config.name = "worker-" + std::to_string(w);
      config.nats = server.settings(config.name);
      config.scratch_dir = server.dir() / config.name;
      if (configure) configure(config);
      workers_.push_back(std::make_unique<cluster::Worker>(config, model));
    }
    for (int w = 0; w < count; ++w)
      threads_.emplace_back([this, w] {
        omp_set_num_threads(1);
        workers_[w]->run(stop_, std::chrono::milliseconds(100));
        if (on_exit_) on_exit_(w);
      });
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool() { stop(); }

  // Ends every worker's run loop and waits for it.
  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  std::function<void(int)> on_exit_;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<cluster::Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace cryptounet::bench
