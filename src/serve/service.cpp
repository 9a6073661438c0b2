#include "serve/service.h"

#include <cctype>
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

ApiError unknown(const char* what) {
  return ApiError(404, std::string("unknown_") + what, std::string("no ") + what + " with this id");
}

std::string id_segment(std::string_view segment, const char* what) {
  // A malformed id cannot name anything: same answer as an unknown one, and it never reaches a file path.
  if (!is_valid_id(segment)) throw unknown(what);
  return std::string(segment);
}

// The token of an "Authorization: Bearer <token>" header (scheme case-insensitive, RFC 6750), or empty.
std::string_view bearer_token(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return {};
  header.remove_prefix(kScheme.size());
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  return header;
}

// Returns a disk-quota reservation of an upload when the request is done with it.
class DiskReservation {
 public:
  DiskReservation(std::mutex& mutex, std::map<std::string, std::uint64_t>& table, std::string owner,
                  std::uint64_t bytes)
      : mutex_(mutex), table_(table), owner_(std::move(owner)), bytes_(bytes) {}
  DiskReservation(const DiskReservation&) = delete;
  DiskReservation& operator=(const DiskReservation&) = delete;
  ~DiskReservation() {
    std::lock_guard lock(mutex_);
    auto it = table_.find(owner_);
    if (it == table_.end()) return;
    it->second -= std::min(it->second, bytes_);
    if (it->second == 0) table_.erase(it);
  }

 private:
  std::mutex& mutex_;
  std::map<std::string, std::uint64_t>& table_;
  std::string owner_;
  std::uint64_t bytes_;
};

}  // namespace

Service::Service(ServiceConfig config, InferenceBackend& backend)
    : config_(std::move(config)),
      backend_(backend),
      layer_names_(backend.layer_names()),
      keys_(KeyStore::Options{config_.data_dir / "keys", config_.max_keys, config_.max_keys_per_client,
                              config_.key_ttl}),
      jobs_(JobStore::Options{config_.data_dir / "jobs", config_.result_ttl, config_.fetched_ttl}),
      metrics_(layer_names_),
      disk_(config_.data_dir, config_.disk_reserve_bytes, config_.disk_quota_bytes),
      scheduler_(jobs_, backend_, metrics_, worker_count(config_.workers)) {
  for (const auto& admin : config_.admins)
    if (config_.tokens && !config_.tokens->contains(admin))
      throw std::invalid_argument("admin client '" + admin + "' has no token");
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
      const auto now = std::chrono::system_clock::now();
      jobs_.expire(now);
      keys_.expire(now);
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
      if (e.status() == 401) {
        // RFC 6750: tell a client that presented a token that it was refused, not merely missing.
        const bool presented = !request.authorization.empty();
        response.headers.emplace_back("WWW-Authenticate",
                                      presented ? R"(Bearer realm="cryptounet", error="invalid_token")"
                                                : R"(Bearer realm="cryptounet")");
      }
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

Service::Caller Service::authenticate(const Request& request) {
  if (!config_.tokens) return {kLocalClient, true};
  const auto token = bearer_token(request.authorization);
  if (token.empty() || token.size() > TokenTable::kMaxTokenLength) {
    metrics_.auth_failed();
    throw ApiError(401, "unauthorized", "this request needs an 'Authorization: Bearer <token>' header");
  }
  auto name = config_.tokens->authenticate(token);
  if (!name) {
    metrics_.auth_failed();
    throw ApiError(401, "unauthorized", "the token is not valid");
  }
  const bool admin = config_.admins.contains(*name);
  return {std::move(*name), admin};
}

Response Service::route(const Request& request) {
  const auto parts = split_path(request.path);
  if (parts.size() == 1 && parts[0] == "healthz") {
    if (request.method != "GET")
      throw ApiError(405, "method_not_allowed", request.method + " is not allowed on " + request.path);
    return json_response(200, {{"status", "ok"},
                               {"authentication", authenticates() ? "bearer" : "none"},
                               {"layers", layer_names_},
                               {"max_body_bytes", config_.max_body_bytes},
                               {"max_keys", config_.max_keys},
                               {"max_queue", config_.max_queue}});
  }
  // Credentials are checked before anything else, the path included: an anonymous caller learns nothing.
  return route_authenticated(request, parts, authenticate(request));
}

Response Service::route_authenticated(const Request& request, const std::vector<std::string_view>& parts,
                                      const Caller& caller) {
  const auto& method = request.method;
  const auto method_not_allowed = [&] {
    return ApiError(405, "method_not_allowed", method + " is not allowed on " + request.path);
  };

  if (parts.size() == 1 && parts[0] == "metrics") {
    if (method != "GET") throw method_not_allowed();
    if (!caller.admin) throw ApiError(403, "forbidden", "/metrics is for the server's admin clients");
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics_.render(jobs_.counts(), keys_.size()) + backend_.metrics();
    return r;
  }
  if (parts.size() == 2 && parts[0] == "v1" && parts[1] == "usage") {
    if (method != "GET") throw method_not_allowed();
    return usage(caller);
  }
  if (parts.size() >= 2 && parts[0] == "v1" && parts[1] == "keys") {
    if (parts.size() == 2) {
      if (method != "POST") throw method_not_allowed();
      return upload_keys(request, caller);
    }
    const auto key_id = id_segment(parts[2], "key");
    if (parts.size() == 3) {
      if (method == "GET") {
        const auto expires_at = keys_.expires_at(caller.name, key_id);
        if (!expires_at) throw unknown("key");
        return json_response(200, {{"key_id", key_id}, {"expires_at", *expires_at}});
      }
      if (method == "DELETE") {
        if (!keys_.remove(caller.name, key_id)) throw unknown("key");
        return json_response(200, {{"deleted", key_id}});
      }
      throw method_not_allowed();
    }
    if (parts.size() == 4 && parts[3] == "jobs") {
      if (method != "POST") throw method_not_allowed();
      return submit_job(request, key_id, caller);
    }
  }
  if (parts.size() >= 3 && parts.size() <= 4 && parts[0] == "v1" && parts[1] == "jobs") {
    const auto job_id = id_segment(parts[2], "job");
    if (parts.size() == 3) {
      if (method == "GET") return json_response(200, to_json(owned_job(job_id, caller), layer_names_));
      if (method == "DELETE") {
        owned_job(job_id, caller);
        if (!jobs_.remove(job_id)) throw unknown("job");
        return json_response(200, {{"deleted", job_id}});
      }
      throw method_not_allowed();
    }
    if (parts[3] == "result") {
      if (method != "GET") throw method_not_allowed();
      owned_job(job_id, caller);
      Response r;
      r.content_type = "application/octet-stream";
      r.file = jobs_.open_result(job_id);
      return r;
    }
  }
  throw ApiError(404, "not_found", "no such endpoint: " + request.path);
}

// A job's status if the caller owns it. The owner never changes, so checking before acting on the id is enough.
JobStatus Service::owned_job(const std::string& job_id, const Caller& caller) const {
  auto status = jobs_.status(job_id);
  if (!status || status->owner != caller.name) throw unknown("job");
  return *status;
}

Response Service::usage(const Caller& caller) {
  const auto jobs = jobs_.usage(caller.name);
  return json_response(200, {{"client", caller.name},
                             {"keys", {{"held", keys_.count_of(caller.name)}, {"max", config_.max_keys_per_client}}},
                             {"jobs", {{"unfinished", jobs.unfinished}, {"max", config_.max_jobs_per_client}}},
                             {"disk_bytes", {{"used", keys_.bytes_of(caller.name) + jobs.bytes},
                                             {"max", config_.max_disk_bytes_per_client}}},
                             {"key_ttl_seconds", config_.key_ttl.count()}});
}

std::filesystem::path Service::receive_body(const Request& request, const Caller& caller,
                                            const UploadGate::HeaderCheck& check_header) {
  if (!request.read_body) throw ApiError(400, "empty_body", "the request has no body");
  const auto too_large = [this] {
    return ApiError(413, "too_large", "the body exceeds the limit of " + std::to_string(config_.max_body_bytes) + " bytes");
  };
  if (request.declared_length && *request.declared_length > config_.max_body_bytes) throw too_large();
  // The disk-wide budget (507) and the header check, then the client's own quota (429).
  UploadGate gate(disk_, check_header, request.declared_length);

  // Reserve the body's size (or, for a body of unknown length, all the room left) against the client's disk
  // quota, so that concurrent uploads cannot overrun it together.
  std::uint64_t room = 0, reserved = 0;
  {
    std::lock_guard lock(uploads_mutex_);
    const std::uint64_t used =
        keys_.bytes_of(caller.name) + jobs_.usage(caller.name).bytes + uploading_[caller.name];
    room = config_.max_disk_bytes_per_client - std::min(used, config_.max_disk_bytes_per_client);
    reserved = std::min(request.declared_length.value_or(room), std::min(room, config_.max_body_bytes));
    if (room == 0 || (request.declared_length && *request.declared_length > room)) {
      if (uploading_[caller.name] == 0) uploading_.erase(caller.name);
      throw ApiError(429, "disk_quota", "this upload would exceed the client's disk quota of " +
                                            std::to_string(config_.max_disk_bytes_per_client) +
                                            " bytes; delete results or keys first");
    }
    uploading_[caller.name] += reserved;
  }
  DiskReservation reservation(uploads_mutex_, uploading_, caller.name, reserved);
  const std::uint64_t limit = std::min(config_.max_body_bytes, room);

  const auto path = config_.data_dir / "tmp" / (random_id() + ".upload");
  UploadGuard guard{path};
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot create an upload file in " + path.parent_path().string());
  std::uint64_t received = 0;
  bool over_limit = false, write_failed = false;
  const bool complete = request.read_body([&](const char* data, std::size_t size) {
    if (size > limit - received) {
      over_limit = true;
      return false;
    }
    if (bool read_on; !gate.admit({data, size}, read_on)) return read_on;
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
  if (over_limit && limit < config_.max_body_bytes)
    throw ApiError(429, "disk_quota", "this upload exceeds the client's disk quota of " +
                                          std::to_string(config_.max_disk_bytes_per_client) + " bytes");
  if (over_limit) throw too_large();
  try {
    gate.finish();
  } catch (const UploadRejected& e) {
    throw to_api_error(e);
  }
  if (write_failed || !out) throw ApiError(507, "insufficient_storage", "cannot store the upload (disk full?)");
  if (!complete) throw ApiError(400, "truncated_body", "the body ended before its announced length");
  if (received == 0) throw ApiError(400, "empty_body", "the request has no body");
  guard.path.clear();  // the caller owns the file now
  return path;
}

Response Service::upload_keys(const Request& request, const Caller& caller) {
  keys_.check_room(caller.name);
  const auto upload = receive_body(request, caller,
                                   [this](std::string_view head) { return backend_.check_keys_header(head); });
  UploadGuard guard{upload};
  try {
    backend_.validate_keys(upload);
  } catch (const UploadRejected& e) {
    throw to_api_error(e);
  }
  const auto key_id = keys_.add(caller.name, upload);
  return json_response(201, {{"key_id", key_id}});
}

Response Service::submit_job(const Request& request, const std::string& key_id, const Caller& caller) {
  const auto key_file = keys_.find(caller.name, key_id);
  if (!key_file) throw ApiError(404, "unknown_key", "no key with this id; register the evaluation keys first");
  const auto check_admission = [&] {
    if (jobs_.counts().queued >= config_.max_queue)
      throw ApiError(429, "queue_full", "the job queue is full (" + std::to_string(config_.max_queue) +
                                            " waiting jobs); retry later");
    if (jobs_.usage(caller.name).unfinished >= config_.max_jobs_per_client)
      throw ApiError(429, "job_quota", "this client already has " + std::to_string(config_.max_jobs_per_client) +
                                           " unfinished jobs (its quota); wait for one to finish");
  };
  check_admission();

  const auto upload = receive_body(
      request, caller, [&](std::string_view head) { return backend_.check_batch_header(head, *key_file); });
  UploadGuard guard{upload};
  try {
    backend_.validate_batch(upload, *key_file);
  } catch (const UploadRejected& e) {
    throw to_api_error(e);
  }
  std::string job_id;
  {
    std::lock_guard lock(admission_);
    check_admission();
    const auto deleted = [] { return ApiError(404, "unknown_key", "the key was deleted during the upload"); };
    // Submitting a job is a use of the key: its time to live starts again.
    if (!keys_.use(caller.name, key_id)) throw deleted();
    try {
      job_id = jobs_.create(caller.name, key_id, *key_file, upload);
    } catch (const std::filesystem::filesystem_error&) {
      if (!keys_.find(caller.name, key_id)) throw deleted();  // deleted between the check and the link
      throw;
    }
    scheduler_.enqueue(job_id);
  }
  auto r = json_response(202, {{"job_id", job_id}, {"key_id", key_id}});
  r.headers.emplace_back("Location", "/v1/jobs/" + job_id);
  return r;
}

}  // namespace cryptounet::serve
