// The HTTP API of the encrypted-inference service, independent of any transport: a Request (method, path, bearer
// credentials, a way to stream the body) goes in, a Response (status, JSON or a result file to stream) comes out.
// http_server.cpp adapts it to cpp-httplib; the HTTP fuzzer and the handler tests drive it directly.
//
//   GET    /healthz                   {"status":"ok", limits}                      (no credentials needed)
//   GET    /metrics                   Prometheus text                              (admin clients only)
//   GET    /v1/usage                  the calling client's holdings and quotas
//   POST   /v1/keys                   body: evaluation-key bundle        -> 201 {"key_id"}
//   GET    /v1/keys/{key_id}          200 {"key_id", "expires_at"} if registered
//   DELETE /v1/keys/{key_id}
//   POST   /v1/keys/{key_id}/jobs     body: encrypted batch              -> 202 {"job_id"}
//   GET    /v1/jobs/{job_id}          status with per-layer progress
//   GET    /v1/jobs/{job_id}/result   the encrypted result (binary)
//   DELETE /v1/jobs/{job_id}          cancels a queued or running job, or drops a result
// With a token table, every request but /healthz needs "Authorization: Bearer <token>" (401 otherwise). Keys and
// jobs belong to the client that created them; to any other client they do not exist (404, never 403), so ids
// cannot be probed. Errors: {"error": {"code", "message"}} with a 4xx status (5xx only for a server-side fault).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "serve/backend.h"
#include "serve/disk_budget.h"
#include "serve/job_store.h"
#include "serve/key_store.h"
#include "serve/metrics.h"
#include "serve/scheduler.h"
#include "serve/tokens.h"
#include "serve/upload_gate.h"

namespace cryptounet::serve {

struct ServiceConfig {
  std::filesystem::path data_dir = "cryptounet-data";
  // The clients and their tokens. Null: no authentication, every request acts as the one client "local"
  // (HttpServer then listens on loopback only).
  std::shared_ptr<const TokenTable> tokens;
  std::set<std::string> admins;                            // clients allowed to read /metrics
  std::uint64_t max_body_bytes = std::uint64_t{4} << 30;  // per upload (key bundle or batch)
  std::size_t max_keys = 16;                               // registered key bundles, all clients together
  std::size_t max_queue = 64;                              // jobs waiting for a worker, all clients together
  std::size_t max_keys_per_client = 4;
  std::size_t max_jobs_per_client = 8;                     // unfinished (queued or running) jobs of one client
  std::uint64_t max_disk_bytes_per_client = std::uint64_t{64} << 30;  // keys, inputs and results on disk
  std::chrono::seconds key_ttl{24 * 3600};                 // an unused key is deleted after this long
  std::size_t workers = 0;                                 // 0: one per hardware thread
  std::chrono::seconds result_ttl{24 * 3600};
  std::chrono::seconds fetched_ttl{600};
  std::chrono::seconds sweep_interval{30};                  // how often expired jobs are deleted
  std::uint64_t disk_reserve_bytes = std::uint64_t{1} << 30;  // free space an upload must leave (507 otherwise)
  std::uint64_t disk_quota_bytes = 0;  // most the data dir may hold, all clients together (0: no quota)
};

// Streams a request body chunk by chunk into `sink`; false when the transport failed (truncated body) or when
// the sink refused a chunk.
using BodySink = std::function<bool(const char* data, std::size_t size)>;
using BodyReader = std::function<bool(const BodySink& sink)>;

struct Request {
  std::string method;
  std::string path;
  BodyReader read_body;                         // empty when the request has no body
  std::optional<std::uint64_t> declared_length;  // Content-Length, when the client announced one
  std::string authorization;                    // the Authorization header, empty when absent
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  ResultStream file;  // set instead of body for a result download
  std::vector<std::pair<std::string, std::string>> headers;
};

class Service {
 public:
  // Restores keys and jobs found in config.data_dir and starts the workers.
  Service(ServiceConfig config, InferenceBackend& backend);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Never throws: every failure is a JSON error response.
  Response handle(const Request& request) noexcept;
  const ServiceConfig& config() const { return config_; }
  bool authenticates() const { return config_.tokens != nullptr; }
  Metrics& metrics() { return metrics_; }

  // The client name requests act as when the service has no token table.
  static constexpr const char* kLocalClient = "local";

 private:
  struct Caller {
    std::string name;
    bool admin = false;
  };
  Caller authenticate(const Request& request);
  Response route(const Request& request);
  Response route_authenticated(const Request& request, const std::vector<std::string_view>& parts,
                               const Caller& caller);
  Response usage(const Caller& caller);
  Response upload_keys(const Request& request, const Caller& caller);
  Response submit_job(const Request& request, const std::string& key_id, const Caller& caller);
  JobStatus owned_job(const std::string& job_id, const Caller& caller) const;
  std::filesystem::path receive_body(const Request& request, const Caller& caller,
                                     const UploadGate::HeaderCheck& check_header);
  void sweep_expired();

  ServiceConfig config_;
  InferenceBackend& backend_;
  std::vector<std::string> layer_names_;
  KeyStore keys_;
  JobStore jobs_;
  Metrics metrics_;
  DiskBudget disk_;
  std::mutex admission_;  // makes "queue not full -> accept" atomic
  std::mutex uploads_mutex_;
  std::map<std::string, std::uint64_t> uploading_;  // bytes reserved by uploads in progress, by client
  Scheduler scheduler_;

  std::mutex sweep_mutex_;
  std::condition_variable sweep_wake_;
  bool stopping_ = false;
  std::thread sweeper_;
};

}  // namespace cryptounet::serve
