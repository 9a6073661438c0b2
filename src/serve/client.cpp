#include "serve/client.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "io/json_number.h"
#include "serve/connection.h"
#include "serve/ids.h"

namespace cryptounet::serve {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;
constexpr std::size_t kMaxErrorBody = 64 * 1024;
constexpr std::size_t kMaxJsonBody = std::size_t{1} << 20;

// Server text shown to the user: ASCII without control characters (no terminal escapes), bounded.
std::string printable(std::string_view text, std::size_t max_length) {
  std::string out;
  for (char c : text.substr(0, max_length)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > max_length) out += "...";
  return out;
}

// object[key] as a string; throws if the server's answer does not have it.
std::string json_string(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string())
    throw std::runtime_error(std::string("the server's answer has no text field '") + key + "'");
  return object[key].get<std::string>();
}

nlohmann::json parse_object(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) throw std::runtime_error("the server's answer is not a JSON object");
  return json;
}

[[noreturn]] void throw_transport(httplib::Error error, const std::string& what) {
  throw ApiError(0, "transport", what + ": " + httplib::to_string(error));
}

[[noreturn]] void throw_answer(int status, const std::string& body) {
  std::string code = "http_" + std::to_string(status), message = printable(body, 200);
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    const auto& error = json["error"];
    if (error.contains("code") && error["code"].is_string()) code = printable(error["code"].get<std::string>(), 64);
    if (error.contains("message") && error["message"].is_string())
      message = printable(error["message"].get<std::string>(), 1000);
  }
  throw ApiError(status, code, "server answered " + std::to_string(status) + " (" + code + "): " + message);
}

const httplib::Response& checked(const httplib::Result& result, const std::string& what) {
  if (!result) throw_transport(result.error(), what);
  if (result->status >= 400) throw_answer(result->status, result->body);
  return *result;
}

// Only well-formed ids go into request paths.
const std::string& checked_id(const std::string& id) {
  if (!is_valid_id(id))
    throw std::invalid_argument("'" + printable(id, 64) + "' is not a key or job id (32 hex digits)");
  return id;
}

// A token goes into a header line: printable ASCII without spaces only, so it cannot inject other headers.
const std::string& checked_token(const std::string& token) {
  if (token.size() > 512) throw std::invalid_argument("the token is longer than 512 characters");
  for (char c : token)
    if (c <= ' ' || c >= 0x7f) throw std::invalid_argument("the token has a space or a non-printable character");
  return token;
}

// A GET whose successful answer is streamed into `sink` (which returns false to stop the transfer) and whose error
// answer is kept, up to kMaxErrorBody, for throw_answer.
struct StreamedGet {
  httplib::Error error = httplib::Error::Success;
  int status = 0;
  std::string error_body;
  bool sink_stopped = false;
};

StreamedGet get_streamed(httplib::Client& http, const std::string& path,
                         const std::function<bool(const char*, std::size_t)>& sink,
                         const TransferProgress& progress = {}) {
  StreamedGet answer;
  const auto result = http.Get(
      path,
      [&](const httplib::Response& response) {
        answer.status = response.status;
        return true;
      },
      [&](const char* data, std::size_t size) {
        if (answer.status >= 400) {
          answer.error_body.append(data, std::min(size, kMaxErrorBody - answer.error_body.size()));
          return true;
        }
        answer.sink_stopped = !sink(data, size);
        return !answer.sink_stopped;
      },
      [&](std::uint64_t done, std::uint64_t total) {
        if (progress && answer.status < 400) progress(done, total);
        return true;
      });
  answer.error = result.error();
  return answer;
}

}  // namespace

ServiceClient::ServiceClient(const std::string& server, const ClientCredentials& credentials) {
  std::signal(SIGPIPE, SIG_IGN);
  static const std::regex kUrl(R"(^(https?)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?/?$)");
  std::smatch url;
  if (!std::regex_match(server, url, kUrl))
    throw std::invalid_argument("bad server URL '" + printable(server, 200) + "' (expected https://host:port)");
  const bool https = url[1] == "https";
  std::string host = url[2];
  if (host.front() == '[') host = host.substr(1, host.size() - 2);
  if (!https && !credentials.token.empty() && !is_loopback_host(host))
    throw std::invalid_argument("refusing to send the token over plain HTTP to " + host + "; use https://");
  if (!https && !credentials.ca_file.empty())
    throw std::invalid_argument("a CA certificate is for an https:// server");
  http_ = std::make_unique<httplib::Client>(server.back() == '/' ? server.substr(0, server.size() - 1) : server);
  if (!http_->is_valid()) throw std::invalid_argument("bad server URL '" + server + "'");
  if (https) {
    if (!credentials.ca_file.empty()) {
      if (!std::filesystem::is_regular_file(credentials.ca_file))
        throw std::invalid_argument("no CA certificate file " + credentials.ca_file.string());
      http_->set_ca_cert_path(credentials.ca_file.string());
    }
    http_->enable_server_certificate_verification(true);
  }
  if (!credentials.token.empty()) http_->set_bearer_token_auth(checked_token(credentials.token));
  http_->set_connection_timeout(10);
  // The server validates a whole upload before it answers; a large key bundle takes a while.
  http_->set_read_timeout(600);
  http_->set_write_timeout(60);
}

ServiceClient::~ServiceClient() = default;

nlohmann::json ServiceClient::get_json(const std::string& path) {
  std::string body;
  const StreamedGet answer = get_streamed(*http_, path, [&](const char* data, std::size_t size) {
    if (size > kMaxJsonBody - body.size()) return false;
    body.append(data, size);
    return true;
  });
  if (answer.sink_stopped) throw ApiError(0, "too_large", "GET " + path + ": the server's answer exceeds 1 MiB");
  if (answer.error != httplib::Error::Success) throw_transport(answer.error, "GET " + path);
  if (answer.status >= 400) throw_answer(answer.status, answer.error_body);
  return parse_object(body);
}

nlohmann::json ServiceClient::health() { return get_json("/healthz"); }
nlohmann::json ServiceClient::usage() { return get_json("/v1/usage"); }

std::string ServiceClient::upload(const std::string& path, const std::filesystem::path& file, const char* id_field,
                                  const TransferProgress& progress) {
  const auto size = std::filesystem::file_size(file);
  // Checked here because a server refusing a body mid-upload can only hang up, not explain: the size limit, and
  // the credentials (a wrong token fails here, before gigabytes are sent).
  const auto limit = io::json_integer_or<std::uint64_t>(health(), "max_body_bytes", 0);
  usage();
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
  const auto id = json_string(parse_object(checked(result, "upload " + file.string()).body), id_field);
  if (!is_valid_id(id)) throw std::runtime_error("the server answered a malformed id '" + printable(id, 64) + "'");
  return id;
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
    const auto state = json_string(s, "state");
    if (state == "done") return s;
    if (state == "failed") {
      const auto error = s.contains("error") && s["error"].is_string() ? s["error"].get<std::string>() : "";
      throw ApiError(200, "job_failed", "job " + job_id + " failed: " + printable(error, 1000));
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_seconds));
  }
}

void ServiceClient::download(const std::string& job_id, const std::filesystem::path& out,
                             const TransferProgress& progress) {
  auto partial = out;
  partial += ".partial";
  std::ofstream file(partial, std::ios::binary | std::ios::trunc);
  if (!file) throw std::runtime_error("cannot create " + partial.string());
  const auto path = "/v1/jobs/" + checked_id(job_id) + "/result";
  const StreamedGet answer = get_streamed(
      *http_, path,
      [&](const char* data, std::size_t size) {
        file.write(data, static_cast<std::streamsize>(size));
        return static_cast<bool>(file);
      },
      progress);
  file.close();
  if (answer.error != httplib::Error::Success || answer.status >= 400 || !file) {
    std::filesystem::remove(partial);
    if (answer.status >= 400) throw_answer(answer.status, answer.error_body);
    if (!answer.sink_stopped) throw_transport(answer.error, "download of job " + job_id);
    throw std::runtime_error("cannot write " + partial.string());
  }
  std::filesystem::rename(partial, out);
}

void ServiceClient::del(const std::string& path) { checked(http_->Delete(path), "DELETE " + path); }
void ServiceClient::delete_job(const std::string& job_id) { del("/v1/jobs/" + checked_id(job_id)); }
void ServiceClient::delete_key(const std::string& key_id) { del("/v1/keys/" + checked_id(key_id)); }

}  // namespace cryptounet::serve
