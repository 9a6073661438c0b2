// The HTTP API of the encrypted-inference service, independent of any transport: a Request (method, path, a way
// to stream the body) goes in, a Response (status, JSON or a result file to stream) comes out. http_server.cpp
// adapts it to cpp-httplib; the HTTP fuzzer and the handler tests drive it directly.
//
//   GET    /healthz                   {"status":"ok", limits}
//   GET    /metrics                   Prometheus text
//   POST   /v1/keys                   body: evaluation-key bundle        -> 201 {"key_id"}
//   GET    /v1/keys/{key_id}          200 if registered
//   DELETE /v1/keys/{key_id}
//   POST   /v1/keys/{key_id}/jobs     body: encrypted batch              -> 202 {"job_id"}
//   GET    /v1/jobs/{job_id}          status with per-layer progress
//   GET    /v1/jobs/{job_id}/result   the encrypted result (binary)
//   DELETE /v1/jobs/{job_id}          cancels a queued or running job, or drops a result
// Errors: {"error": {"code", "message"}} with a 4xx status (5xx only for a server-side fault).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "serve/backend.h"
#include "serve/job_store.h"
#include "serve/key_store.h"
#include "serve/metrics.h"
#include "serve/scheduler.h"

namespace cryptounet::serve {

struct ServiceConfig {
  std::filesystem::path data_dir = "cryptounet-data";
  std::uint64_t max_body_bytes = std::uint64_t{4} << 30;  // per upload (key bundle or batch)
  std::size_t max_keys = 16;                               // registered key bundles
  std::size_t max_queue = 64;                              // jobs waiting for a worker
  std::size_t workers = 0;                                 // 0: one per hardware thread
  std::chrono::seconds result_ttl{24 * 3600};
  std::chrono::seconds fetched_ttl{600};
  std::chrono::seconds sweep_interval{30};                  // how often expired jobs are deleted
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

 private:
  Response route(const Request& request);
  Response upload_keys(const Request& request);
  Response submit_job(const Request& request, const std::string& key_id);
  std::filesystem::path receive_body(const Request& request);
  void sweep_expired();

  ServiceConfig config_;
  InferenceBackend& backend_;
  std::vector<std::string> layer_names_;
  KeyStore keys_;
  JobStore jobs_;
  Metrics metrics_;
  std::mutex admission_;  // makes "queue not full -> accept" atomic
  Scheduler scheduler_;

  std::mutex sweep_mutex_;
  std::condition_variable sweep_wake_;
  bool stopping_ = false;
  std::thread sweeper_;
};

}  // namespace cryptounet::serve
