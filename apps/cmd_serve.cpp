// `cryptounet serve`: the encrypted-inference HTTP service (docs/SERVICE.md). The server holds the model and the
// clients' public evaluation keys; it never sees a secret key or a plaintext. On a network it needs client tokens
// and TLS; without them it listens on loopback only.
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "serve/fake_backend.h"
#include "serve/henn_backend.h"
#include "serve/http_server.h"
#include "serve/service.h"
#ifdef CRYPTOUNET_HAS_CLUSTER
#include "cluster/cluster_backend.h"
#include "nn/predict.h"
#endif

namespace {

constexpr std::size_t kClusterJobsInFlight = 16;

struct ServeOptions {
  std::string model;
  bool fake = false;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string data_dir = "cryptounet-data";
  std::string tokens, tls_cert, tls_key;
  std::vector<std::string> admins;
  std::uint64_t max_body_mb = 4096;
  std::size_t max_keys = 16;
  std::size_t max_queue = 64;
  std::size_t max_keys_per_client = 4;
  std::size_t max_jobs_per_client = 8;
  std::uint64_t max_disk_gb_per_client = 64;
  std::size_t workers = 0;
  std::size_t connection_threads = 64;
  std::size_t max_connections_per_address = 16;
  double result_ttl_hours = 24;
  double key_ttl_hours = 24;
  std::string nats_url;  // set: a cluster front end, jobs run on `cryptounet worker`s
  std::string nats_credentials;
  int nats_replicas = 1;
  double task_ack_wait_s = 60;
  int task_max_deliver = 5;
  std::uint64_t disk_reserve_mb = 1024;
  std::uint64_t disk_quota_mb = 0;
};

std::unique_ptr<cryptounet::serve::InferenceBackend> make_backend(const ServeOptions& o) {
  if (o.fake) return std::make_unique<cryptounet::serve::FakeBackend>();
  if (o.model.empty()) throw std::runtime_error("--model is required (or --fake for a protocol test)");
  if (!o.nats_url.empty()) {
#ifdef CRYPTOUNET_HAS_CLUSTER
    cryptounet::cluster::ClusterConfig cluster;
    cluster.nats = {o.nats_url, o.nats_credentials, "cryptounet-serve"};
    cluster.kept_keys_file = std::filesystem::path(o.data_dir) / "cluster-key-blobs.json";
    cluster.stream_replicas = o.nats_replicas;
    cluster.task_queues.ack_wait = std::chrono::milliseconds(static_cast<long long>(o.task_ack_wait_s * 1000));
    cluster.task_queues.max_deliver = o.task_max_deliver;
    return std::make_unique<cryptounet::cluster::ClusterBackend>(cluster,
                                                                 cryptounet::nn::LoadedModel::load(o.model).model);
#else
    throw std::runtime_error("this build has no cluster support (libnats-dev was not found at configure time)");
#endif
  }
#ifdef CRYPTOUNET_SERVE_HAS_HENN
  return cryptounet::serve::make_henn_backend(o.model);
#else
  throw std::runtime_error("this build has no encrypted inference layer (src/henn); only --fake is available");
#endif
}

void run_serve(const ServeOptions& o) {
  // SIGINT/SIGTERM are taken by sigwait below; blocking them first makes every thread started later inherit that.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  cryptounet::serve::ServiceConfig config;
  config.data_dir = o.data_dir;
  if (!o.tokens.empty()) {
    config.tokens = std::make_shared<cryptounet::serve::TokenTable>(cryptounet::serve::TokenTable::load(o.tokens));
    config.admins = {o.admins.begin(), o.admins.end()};
  } else if (!o.admins.empty()) {
    throw std::runtime_error("--admin names a client of --tokens");
  }
  config.max_body_bytes = o.max_body_mb << 20;
  config.max_keys = o.max_keys;
  config.max_queue = o.max_queue;
  config.max_keys_per_client = o.max_keys_per_client;
  config.max_jobs_per_client = o.max_jobs_per_client;
  config.max_disk_bytes_per_client = o.max_disk_gb_per_client << 30;
  // A cluster front end's jobs only wait for their workers: let more of them be in flight than there are cores.
  config.workers = o.workers == 0 && !o.nats_url.empty() ? kClusterJobsInFlight : o.workers;
  config.result_ttl = std::chrono::seconds(static_cast<long long>(o.result_ttl_hours * 3600));
  config.key_ttl = std::chrono::seconds(static_cast<long long>(o.key_ttl_hours * 3600));
  config.disk_reserve_bytes = o.disk_reserve_mb << 20;
  config.disk_quota_bytes = o.disk_quota_mb << 20;
  cryptounet::serve::HttpOptions http_options;
  http_options.connection_threads = o.connection_threads;
  http_options.max_connections_per_address = o.max_connections_per_address;
  http_options.tls_certificate = o.tls_cert;
  http_options.tls_private_key = o.tls_key;

  auto backend = make_backend(o);
  cryptounet::serve::Service service(config, *backend);
  cryptounet::serve::HttpServer http(service, http_options);
  const int port = http.bind(o.host, o.port);
  if (!service.authenticates())
    spdlog::warn("no --tokens: every local process can use the service as client '{}' (loopback only)",
                 cryptounet::serve::Service::kLocalClient);
  http.serve_in_background();
  spdlog::info("serving on {}://{}:{} (data in {}, {} layers, {} clients)", http.uses_tls() ? "https" : "http",
               o.host, port, o.data_dir, backend->layer_names().size(),
               config.tokens ? config.tokens->size() : std::size_t{0});
  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("signal {}: stopping (finished results stay in {})", signal, o.data_dir);
#ifdef CRYPTOUNET_HAS_CLUSTER
  if (auto* cluster = dynamic_cast<cryptounet::cluster::ClusterBackend*>(backend.get())) cluster->stop();
#endif
  http.stop();
}

void setup_serve(CLI::App& root) {
  auto options = std::make_shared<ServeOptions>();
  auto* cmd = root.add_subcommand("serve", "Run the encrypted-inference HTTP service");
  cmd->add_option("--model", options->model, "Model file (ONNX) the server runs on encrypted batches");
  cmd->add_flag("--fake", options->fake, "Protocol test mode: a fake model on fake files (no encryption)");
  cmd->add_option("--host", options->host, "Address to listen on (0.0.0.0 for all interfaces)")->capture_default_str();
  cmd->add_option("--port", options->port, "TCP port (0: any free port)")->capture_default_str();
  cmd->add_option("--data-dir", options->data_dir, "Where keys, jobs and results are kept across restarts")
      ->capture_default_str();
  cmd->add_option("--tokens", options->tokens,
                  "Clients file: one 'name token' per line, mode 0600 (required unless --host is loopback)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--admin", options->admins, "A client of --tokens that may read /metrics (repeatable)");
  cmd->add_option("--tls-cert", options->tls_cert, "TLS certificate chain, PEM (required unless --host is loopback)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", options->tls_key, "TLS private key, PEM")->check(CLI::ExistingFile);
  cmd->add_option("--max-body-mb", options->max_body_mb, "Largest upload (key bundle or batch), MiB")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-keys", options->max_keys, "Most key bundles registered at once")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-queue", options->max_queue, "Most jobs waiting for a worker")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-keys-per-client", options->max_keys_per_client, "Most key bundles one client holds")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-jobs-per-client", options->max_jobs_per_client, "Most unfinished jobs of one client")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-disk-gb-per-client", options->max_disk_gb_per_client,
                  "Most GiB of keys, batches and results one client keeps on disk")
      ->capture_default_str()->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 30));
  cmd->add_option("--key-ttl-hours", options->key_ttl_hours, "A key unused this long is deleted")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--workers", options->workers, "Jobs run at once (0: one per core; with --nats, 16)")
      ->capture_default_str();
  cmd->add_option("--connection-threads", options->connection_threads, "Connections served at once")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-connections-per-address", options->max_connections_per_address,
                  "Most open connections from one remote address")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--result-ttl-hours", options->result_ttl_hours, "How long an unfetched result is kept")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--nats", options->nats_url,
                  "Run jobs on cluster workers through this NATS server (docs/SCALING.md); default: in process");
  cmd->add_option("--nats-credentials", options->nats_credentials,
                  "File holding 'user:password' or a token for NATS (mode 0600)")->check(CLI::ExistingFile);
  cmd->add_option("--nats-replicas", options->nats_replicas,
                  "JetStream replicas of the streams, if this front end creates them (3 on a 3-node NATS cluster)")
      ->capture_default_str()->check(CLI::Range(1, 5));
  cmd->add_option("--task-ack-wait-s", options->task_ack_wait_s,
                  "With --nats: seconds without a worker's heartbeat before its task goes to another worker")
      ->capture_default_str()->check(CLI::Range(1.0, 86400.0));
  cmd->add_option("--task-max-deliver", options->task_max_deliver,
                  "With --nats: deliveries of a task (each ended by a worker's crash) before its job fails")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--disk-reserve-mb", options->disk_reserve_mb,
                  "Free space an upload must leave on the data dir's file system (507 otherwise)")
      ->capture_default_str()->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 40));
  cmd->add_option("--disk-quota-mb", options->disk_quota_mb, "Most the data dir may hold, all clients together (0: no quota; 507 beyond)")
      ->capture_default_str()->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 40));
  cmd->callback([options] { run_serve(*options); });
}

}  // namespace

CRYPTOUNET_COMMAND(setup_serve);
