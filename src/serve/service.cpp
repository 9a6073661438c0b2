#include "serve/service.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <string_view>

#include "serve/api_error.h"
#include "serve/ids.h"

namespace cryptounet::serve {
namespace {

std::size_t worker_count(std::size_t configured) {
  if (configured > 0) return configured;
  return std::max(1u, std::thread::hardware_concurrency());
}

Response json_response(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  // Paths echoed in messages are client bytes, not necessarily UTF-8: replace invalid sequences, never throw.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response error_response(int status, const std::string& code, const std::string& message) {
  return json_response(status, {{"error", {{"code", code}, {"message", message}}}});
}

// "/v1/jobs/abc/result" -> {"v1", "jobs", "abc", "result"}; empty segments (as in "//" or a trailing "/") are
// kept so that such paths match no route.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty() || path.front() != '/') return parts;
  path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

ApiError to_api_error(const UploadRejected& e) {
  switch (e.reason()) {
    case RejectReason::SecretKey:
      return ApiError(403, "secret_key_refused",
                      std::string("refused: the upload is a secret key; the server only accepts public evaluation "
                                  "keys (") + e.what() + ")");
    case RejectReason::WrongParameters: return ApiError(422, "wrong_parameters", e.what());
    case RejectReason::Malformed: break;
  }
  return ApiError(400, "malformed", e.what());
}

// Deletes an upload that was not taken over (moved) by a store.
struct UploadGuard {
  std::filesystem::path path;
  ~UploadGuard() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

std::string id_segment(std::string_view segment, const char* what) {
  // A malformed id cannot name anything: same answer as an unknown one, and it never reaches a file path.
  if (!is_valid_id(segment)) throw ApiError(404, std::string("unknown_") + what, std::string("no ") + what + " with this id");
  return std::string(segment);
}

}  // namespace

Service::Service(ServiceConfig config, InferenceBackend& backend)
    : config_(std::move(config)),
      backend_(backend),
      layer_names_(backend.layer_names()),
      keys_(config_.data_dir / "keys", config_.max_keys),
      jobs_(JobStore::Options{config_.data_dir / "jobs", config_.result_ttl, config_.fetched_ttl}),
      metrics_(layer_names_),
      scheduler_(jobs_, backend_, metrics_, worker_count(config_.workers)) {
  // Partial uploads of a previous run are worthless.
  std::filesystem::remove_all(config_.data_dir / "tmp");
  std::filesystem::create_directories(config_.data_dir / "tmp");
  sweeper_ = std::thread([this] { sweep_expired(); });
}

Service::~Service() {
  {
    std::lock_guard lock(sweep_mutex_);
    stopping_ = true;
  }
  sweep_wake_.notify_all();
  sweeper_.join();
}

void Service::sweep_expired() {
  std::unique_lock lock(sweep_mutex_);
  while (!sweep_wake_.wait_for(lock, config_.sweep_interval, [this] { return stopping_; })) {
    lock.unlock();
    try {
      jobs_.expire(std::chrono::system_clock::now());
    } catch (const std::exception&) {
      // A file system hiccup: try again at the next sweep.
    }
    lock.lock();
  }
}

Response Service::handle(const Request& request) noexcept {
  try {
    try {
      return route(request);
    } catch (const ApiError& e) {
      if (request.method == "POST") metrics_.upload_rejected(e.code());
      auto response = error_response(e.status(), e.code(), e.what());
      if (e.status() == 429) response.headers.emplace_back("Retry-After", "10");
      return response;
    } catch (const std::exception& e) {
      return error_response(500, "internal", e.what());
    }
  } catch (...) {  // even building the error response failed (out of memory)
    Response r;
    r.status = 500;
    return r;
  }
}

Response Service::route(const Request& request) {
  const auto parts = split_path(request.path);
  const auto& method = request.method;
  const auto method_not_allowed = [&] {
    return ApiError(405, "method_not_allowed", method + " is not allowed on " + request.path);
  };

  if (parts.size() == 1 && parts[0] == "healthz") {
    if (method != "GET") throw method_not_allowed();
    return json_response(200, {{"status", "ok"},
                               {"layers", layer_names_},
                               {"max_body_bytes", config_.max_body_bytes},
                               {"max_keys", config_.max_keys},
                               {"max_queue", config_.max_queue}});
  }
  if (parts.size() == 1 && parts[0] == "metrics") {
    if (method != "GET") throw method_not_allowed();
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics_.render(jobs_.counts(), keys_.size());
    return r;
  }
  if (parts.size() >= 2 && parts[0] == "v1" && parts[1] == "keys") {
    if (parts.size() == 2) {
      if (method != "POST") throw method_not_allowed();
      return upload_keys(request);
    }
    const auto key_id = id_segment(parts[2], "key");
    if (parts.size() == 3) {
      if (method == "GET") {
        if (!keys_.find(key_id)) throw ApiError(404, "unknown_key", "no key with this id");
        return json_response(200, {{"key_id", key_id}});
      }
      if (method == "DELETE") {
        if (!keys_.remove(key_id)) throw ApiError(404, "unknown_key", "no key with this id");
        return json_response(200, {{"deleted", key_id}});
      }
      throw method_not_allowed();
    }
    if (parts.size() == 4 && parts[3] == "jobs") {
      if (method != "POST") throw method_not_allowed();
      return submit_job(request, key_id);
    }
  }
  if (parts.size() >= 3 && parts.size() <= 4 && parts[0] == "v1" && parts[1] == "jobs") {
    const auto job_id = id_segment(parts[2], "job");
    if (parts.size() == 3) {
      if (method == "GET") {
        const auto status = jobs_.status(job_id);
        if (!status) throw ApiError(404, "unknown_job", "no job with this id");
        return json_response(200, to_json(*status, layer_names_));
      }
      if (method == "DELETE") {
        if (!jobs_.remove(job_id)) throw ApiError(404, "unknown_job", "no job with this id");
        return json_response(200, {{"deleted", job_id}});
      }
      throw method_not_allowed();
    }
    if (parts[3] == "result") {
      if (method != "GET") throw method_not_allowed();
      Response r;
      r.content_type = "application/octet-stream";
      r.file = jobs_.open_result(job_id);
      return r;
    }
  }
  throw ApiError(404, "not_found", "no such endpoint: " + request.path);
}

std::filesystem::path Service::receive_body(const Request& request) {
  if (!request.read_body) throw ApiError(400, "empty_body", "the request has no body");
  const auto too_large = [this] {
    return ApiError(413, "too_large", "the body exceeds the limit of " + std::to_string(config_.max_body_bytes) + " bytes");
  };
  if (request.declared_length && *request.declared_length > config_.max_body_bytes) throw too_large();
  const auto path = config_.data_dir / "tmp" / (random_id() + ".upload");
  UploadGuard guard{path};
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot create an upload file in " + path.parent_path().string());
  std::uint64_t received = 0;
  bool over_limit = false, write_failed = false;
  const bool complete = request.read_body([&](const char* data, std::size_t size) {
    if (size > config_.max_body_bytes - received) {
      over_limit = true;
      return false;
    }
    out.write(data, static_cast<std::streamsize>(size));
    if (!out) {
      write_failed = true;
      return false;
    }
    received += size;
    return true;
  });
  out.close();
  metrics_.bytes_received(received);
  if (over_limit) throw too_large();
  if (write_failed || !out) throw std::runtime_error("cannot store the upload (disk full?)");
  if (!complete) throw ApiError(400, "truncated_body", "the body ended before its announced length");
  if (received == 0) throw ApiError(400, "empty_body", "the request has no body");
  guard.path.clear();  // the caller owns the file now
  return path;
}

Response Service::upload_keys(const Request& request) {
  if (keys_.full())
    throw ApiError(429, "too_many_keys", "the server already holds " + std::to_string(config_.max_keys) +
                                             " key bundles; delete one first");
  const auto upload = receive_body(request);
  UploadGuard guard{upload};
  try {
    backend_.validate_keys(upload);
  } catch (const UploadRejected& e) {
    throw to_api_error(e);
  }
  const auto key_id = keys_.add(upload);
  return json_response(201, {{"key_id", key_id}});
}

Response Service::submit_job(const Request& request, const std::string& key_id) {
  const auto key_file = keys_.find(key_id);
  if (!key_file) throw ApiError(404, "unknown_key", "no key with this id; register the evaluation keys first");
  const auto queue_full = [this] { return jobs_.counts().queued >= config_.max_queue; };
  const auto queue_full_error = [this] {
    return ApiError(429, "queue_full", "the job queue is full (" + std::to_string(config_.max_queue) +
                                           " waiting jobs); retry later");
  };
  if (queue_full()) throw queue_full_error();

  const auto upload = receive_body(request);
  UploadGuard guard{upload};
  try {
    backend_.validate_batch(upload, *key_file);
  } catch (const UploadRejected& e) {
    throw to_api_error(e);
  }
  std::string job_id;
  {
    std::lock_guard lock(admission_);
    if (queue_full()) throw queue_full_error();
    const auto deleted = [] { return ApiError(404, "unknown_key", "the key was deleted during the upload"); };
    if (!keys_.find(key_id)) throw deleted();
    try {
      job_id = jobs_.create(key_id, *key_file, upload);
    } catch (const std::filesystem::filesystem_error&) {
      if (!keys_.find(key_id)) throw deleted();  // deleted between the check and the link
      throw;
    }
    scheduler_.enqueue(job_id);
  }
  auto r = json_response(202, {{"job_id", job_id}, {"key_id", key_id}});
  r.headers.emplace_back("Location", "/v1/jobs/" + job_id);
  return r;
}

}  // namespace cryptounet::serve
