// `cryptounet worker`: one inference worker of a cluster (docs/SCALING.md). It pulls lane-group tasks from NATS
// JetStream, runs the encrypted U-Net on them with the evaluation keys the task names, and publishes the results
// for the front end (`cryptounet serve --nats`). It holds no secret key and refuses any it is sent.
#include <omp.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <thread>

#include "command.h"

#ifdef CRYPTOUNET_HAS_CLUSTER
#include "cluster/worker.h"
#include "nn/predict.h"
#endif

namespace {

struct WorkerOptions {
  std::string nats_url;
  std::string credentials;
  int nats_replicas = 1;
  std::string model;
  int threads = 0;
  std::uint64_t cache_mb = 8192;
  std::string name;
};

void run_worker(const WorkerOptions& o) {
#ifdef CRYPTOUNET_HAS_CLUSTER
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (o.threads > 0) omp_set_num_threads(o.threads);

  cryptounet::cluster::WorkerConfig config;
  config.nats = {o.nats_url, o.credentials, o.name.empty() ? "cryptounet-worker" : o.name};
  config.stream_replicas = o.nats_replicas;
  config.name = o.name;
  config.key_cache_bytes = o.cache_mb << 20;
  cryptounet::cluster::Worker worker(config, cryptounet::nn::LoadedModel::load(o.model).model);
  std::atomic<bool> stop{false};
  std::thread serving([&] { worker.run(stop); });
  spdlog::info("worker pulling tasks from {} ({} threads, key cache {} MiB)", o.nats_url,
               o.threads > 0 ? o.threads : omp_get_max_threads(), o.cache_mb);
  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("signal {}: stopping (a task in progress goes back to the queue)", signal);
  stop = true;
  serving.join();
#else
  (void)o;
  throw std::runtime_error("this build has no cluster support (libnats-dev was not found at configure time)");
#endif
}

void setup_worker(CLI::App& root) {
  auto options = std::make_shared<WorkerOptions>();
  auto* cmd = root.add_subcommand("worker", "Run an inference worker of a NATS JetStream cluster");
  cmd->add_option("--nats", options->nats_url, "NATS server URL(s), comma-separated (nats://host:4222)")->required();
  cmd->add_option("--nats-credentials", options->credentials,
                  "File holding 'user:password' or a token for NATS (mode 0600)")->check(CLI::ExistingFile);
  cmd->add_option("--nats-replicas", options->nats_replicas,
                  "JetStream replicas of the streams, if this worker creates them (3 on a 3-node NATS cluster)")
      ->capture_default_str()->check(CLI::Range(1, 5));
  cmd->add_option("--model", options->model, "Model file (ONNX); the same as the front end's")->required();
  cmd->add_option("--threads", options->threads, "OpenMP threads per task (0: one per core)")->capture_default_str();
  cmd->add_option("--cache-mb", options->cache_mb, "Parsed evaluation keys kept, MiB (least recently used out)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--name", options->name, "Name in logs and results (default host:pid)");
  cmd->callback([options] { run_worker(*options); });
}

}  // namespace

CRYPTOUNET_COMMAND(setup_worker);
