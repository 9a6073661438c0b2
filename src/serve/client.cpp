#include "serve/client.h"

#include <httplib.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "serve/ids.h"

namespace cryptounet::serve {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;
constexpr std::size_t kMaxErrorBody = 64 * 1024;

[[noreturn]] void throw_transport(const httplib::Result& result, const std::string& what) {
  throw ApiError(0, "transport", what + ": " + httplib::to_string(result.error()));
}

[[noreturn]] void throw_answer(int status, const std::string& body) {
  std::string code = "http_" + std::to_string(status), message = body;
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    code = json["error"].value("code", code);
    message = json["error"].value("message", message);
  }
  throw ApiError(status, code, "server answered " + std::to_string(status) + " (" + code + "): " + message);
}

const httplib::Response& checked(const httplib::Result& result, const std::string& what) {
  if (!result) throw_transport(result, what);
  if (result->status >= 400) throw_answer(result->status, result->body);
  return *result;
}

// Only well-formed ids go into request paths.
const std::string& checked_id(const std::string& id) {
  if (!is_valid_id(id)) throw std::invalid_argument("'" + id + "' is not a key or job id (32 hex digits)");
  return id;
}

}  // namespace

ServiceClient::ServiceClient(const std::string& server) : http_(std::make_unique<httplib::Client>(server)) {
  std::signal(SIGPIPE, SIG_IGN);
  if (!http_->is_valid()) throw std::invalid_argument("bad server URL '" + server + "'");
  http_->set_connection_timeout(10);
  // The server validates a whole upload before it answers; a large key bundle takes a while.
  http_->set_read_timeout(600);
  http_->set_write_timeout(60);
}

ServiceClient::~ServiceClient() = default;

nlohmann::json ServiceClient::get_json(const std::string& path) {
  return nlohmann::json::parse(checked(http_->Get(path), "GET " + path).body);
}

nlohmann::json ServiceClient::health() { return get_json("/healthz"); }

std::string ServiceClient::upload(const std::string& path, const std::filesystem::path& file, const char* id_field,
                                  const TransferProgress& progress) {
  const auto size = std::filesystem::file_size(file);
  // Checked here because a server refusing a large body mid-upload can only hang up, not explain.
  const auto limit = health().value("max_body_bytes", std::uint64_t{0});
  if (limit > 0 && size > limit)
    throw ApiError(413, "too_large", file.string() + " has " + std::to_string(size) +
                                            " bytes; the server accepts at most " + std::to_string(limit));
  auto in = std::make_shared<std::ifstream>(file, std::ios::binary);
  if (!*in) throw std::runtime_error("cannot open " + file.string());
  auto result = http_->Post(
      path, static_cast<std::size_t>(size),
      [&](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        std::vector<char> buffer(std::min(length, kChunk));
        in->seekg(static_cast<std::streamoff>(offset));
        in->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        if (in->gcount() <= 0) return false;
        if (!sink.write(buffer.data(), static_cast<std::size_t>(in->gcount()))) return false;
        if (progress) progress(offset + static_cast<std::uint64_t>(in->gcount()), size);
        return true;
      },
      "application/octet-stream");
  const auto json = nlohmann::json::parse(checked(result, "upload " + file.string()).body);
  return json.at(id_field).get<std::string>();
}

std::string ServiceClient::upload_keys(const std::filesystem::path& keys, const TransferProgress& progress) {
  return upload("/v1/keys", keys, "key_id", progress);
}

std::string ServiceClient::submit(const std::string& key_id, const std::filesystem::path& batch,
                                  const TransferProgress& progress) {
  // Fail fast on an unknown key instead of after uploading the whole batch.
  get_json("/v1/keys/" + checked_id(key_id));
  return upload("/v1/keys/" + key_id + "/jobs", batch, "job_id", progress);
}

nlohmann::json ServiceClient::status(const std::string& job_id) { return get_json("/v1/jobs/" + checked_id(job_id)); }

nlohmann::json ServiceClient::wait(const std::string& job_id,
                                   const std::function<void(const nlohmann::json&)>& on_status,
                                   double poll_seconds) {
  for (;;) {
    auto s = status(job_id);
    if (on_status) on_status(s);
    const auto state = s.value("state", "");
    if (state == "done") return s;
    if (state == "failed") throw ApiError(200, "job_failed", "job " + job_id + " failed: " + s.value("error", ""));
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_seconds));
  }
}

void ServiceClient::download(const std::string& job_id, const std::filesystem::path& out,
                             const TransferProgress& progress) {
  auto partial = out;
  partial += ".partial";
  std::ofstream file(partial, std::ios::binary | std::ios::trunc);
  if (!file) throw std::runtime_error("cannot create " + partial.string());
  int status = 0;
  std::string error_body;
  const auto path = "/v1/jobs/" + checked_id(job_id) + "/result";
  auto result = http_->Get(
      path,
      [&](const httplib::Response& response) {
        status = response.status;
        return true;
      },
      [&](const char* data, std::size_t size) {
        if (status >= 400) {
          if (error_body.size() < kMaxErrorBody) error_body.append(data, std::min(size, kMaxErrorBody));
          return true;
        }
        file.write(data, static_cast<std::streamsize>(size));
        return static_cast<bool>(file);
      },
      [&](std::uint64_t done, std::uint64_t total) {
        if (progress && status < 400) progress(done, total);
        return true;
      });
  file.close();
  if (!result || status >= 400 || !file) {
    std::filesystem::remove(partial);
    if (!result) throw_transport(result, "download of job " + job_id);
    if (status >= 400) throw_answer(status, error_body);
    throw std::runtime_error("cannot write " + partial.string());
  }
  std::filesystem::rename(partial, out);
}

void ServiceClient::del(const std::string& path) { checked(http_->Delete(path), "DELETE " + path); }
void ServiceClient::delete_job(const std::string& job_id) { del("/v1/jobs/" + checked_id(job_id)); }
void ServiceClient::delete_key(const std::string& key_id) { del("/v1/keys/" + checked_id(key_id)); }

}  // namespace cryptounet::serve
