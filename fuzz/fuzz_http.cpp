// libFuzzer target: the service's own request handling (authentication, ownership, routing, id parsing, streamed
// bodies with the size and quota caps, upload validation, job lifecycle) through Service::handle with the fake
// backend and two clients.
// Input: byte 0 picks the method (low 3 bits) and the credentials (next 2 bits: the owner of the fixed key and job,
// another client, none, a wrong token), byte 1 the body delivery (chunk size, early transport failure, announced
// length), then the path up to '\n', then the body. "{K}" and "{J}" in the path become the owner's registered key
// id and live job id, so the fuzzer reaches the handlers behind valid ids. Invariants: no crash, no leak, never a
// 5xx, and another client never gets a 2xx on the owner's key or job.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>

#include <spdlog/spdlog.h>

#include "serve/fake_backend.h"
#include "serve/service.h"

namespace {

using namespace cryptounet::serve;

const std::string kOwnerToken(40, 'o'), kOtherToken(40, 'x');
const std::string kOwner = "Bearer " + kOwnerToken;

struct Harness {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("fuzz-http-" + std::to_string(::getpid()));
  FakeBackend backend;
  std::unique_ptr<Service> service;
  std::string key_id, job_id;

  Harness() {
    spdlog::set_level(spdlog::level::warn);  // no line per finished job
    std::filesystem::remove_all(dir);
    ServiceConfig config;
    config.data_dir = dir;
    config.max_body_bytes = 4096;
    config.max_keys = 4;
    config.max_queue = 4;
    config.workers = 1;
    config.tokens =
        std::make_shared<TokenTable>(TokenTable::from_pairs({{"owner", kOwnerToken}, {"other", kOtherToken}}));
    config.admins = {"owner"};
    config.disk_reserve_bytes = 0;  // the handlers are fuzzed, not this machine's free space
    service = std::make_unique<Service>(config, backend);
    restore_fixed_ids();
  }
  // The fuzzer may delete the key or the job its paths refer to: bring them back, so inputs stay replayable.
  void restore_fixed_ids() {
    if (key_id.empty() || call("GET", "/v1/keys/" + key_id, "").status != 200)
      key_id = nlohmann::json::parse(call("POST", "/v1/keys", FakeBackend::make_keys(0xC0FFEE, "k")).body)["key_id"];
    if (job_id.empty() || call("GET", "/v1/jobs/" + job_id, "").status != 200) {
      job_id = nlohmann::json::parse(
          call("POST", "/v1/keys/" + key_id + "/jobs", FakeBackend::make_batch(0xC0FFEE, "b")).body)["job_id"];
      wait_until_settled(job_id);
    }
  }
  // Jobs run on the service's worker thread. Waiting for each one to end inside the input that started it keeps
  // every input's coverage, and so the whole fuzzing run, independent of thread timing.
  void wait_until_settled(const std::string& id, const std::string& authorization = kOwner) {
    for (;;) {
      const Response status = call("GET", "/v1/jobs/" + id, "", authorization);
      if (status.status != 200) return;
      const auto state = nlohmann::json::parse(status.body, nullptr, false).value("state", std::string());
      if (state != "queued" && state != "running") return;
      std::this_thread::yield();
    }
  }
  ~Harness() {
    service.reset();
    std::filesystem::remove_all(dir);
  }
  Response call(const std::string& method, const std::string& path, const std::string& body,
                const std::string& authorization = kOwner) {
    return service->handle(Request{method, path, [&](const BodySink& sink) { return sink(body.data(), body.size()); },
                                   body.size(), authorization});
  }
};

std::string substitute(std::string path, std::string_view token, const std::string& value) {
  for (auto at = path.find(token); at != std::string::npos; at = path.find(token, at + value.size()))
    path.replace(at, token.size(), value);
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness harness;
  if (size < 2) return 0;
  static const char* const kMethods[] = {"GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD", "get"};
  const std::string method = kMethods[data[0] % 8];
  static const std::string kCredentials[] = {kOwner, "Bearer " + kOtherToken, "", "Bearer " + std::string(40, 'w')};
  const std::string& authorization = kCredentials[(data[0] >> 3) % 4];
  const std::uint8_t mode = data[1];
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const auto newline = rest.find('\n');
  std::string path(rest.substr(0, newline));
  const std::string body(newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1));
  path = substitute(substitute(path, "{K}", harness.key_id), "{J}", harness.job_id);

  const std::size_t chunk = 1 + (mode & 0x0f) * 97;
  const bool transport_fails = mode & 0x10;
  Request request{method, path, {}, {}, authorization};
  if (mode & 0x20) request.declared_length = body.size() + (mode & 0x40 ? 5000 : 0);
  if (!body.empty() || (mode & 0x80)) {
    request.read_body = [&](const BodySink& sink) {
      for (std::size_t at = 0; at < body.size(); at += chunk) {
        if (transport_fails && at + chunk >= body.size()) return false;
        if (!sink(body.data() + at, std::min(chunk, body.size() - at))) return false;
      }
      return !transport_fails;
    };
  }
  const Response response = harness.service->handle(request);
  if (response.status < 200 || response.status >= 500) {  // a 5xx is a server fault: report it
    std::fprintf(stderr, "%s %s -> %d %s\n", method.c_str(), path.c_str(), response.status, response.body.c_str());
    std::abort();
  }
  const bool names_fixed =
      path.find(harness.key_id) != std::string::npos || path.find(harness.job_id) != std::string::npos;
  if (authorization != kOwner && names_fixed && response.status < 300) {  // ownership broken
    std::fprintf(stderr, "another client: %s %s -> %d\n", method.c_str(), path.c_str(), response.status);
    std::abort();
  }
  // Keep the state bounded: drop what this input created (the fixed key and job stay).
  const auto created = nlohmann::json::parse(response.body, nullptr, false);
  if (response.status == 201 && created.contains("key_id"))
    harness.call("DELETE", "/v1/keys/" + created["key_id"].get<std::string>(), "", authorization);
  if (response.status == 202 && created.contains("job_id")) {
    const auto id = created["job_id"].get<std::string>();
    harness.wait_until_settled(id, authorization);
    harness.call("DELETE", "/v1/jobs/" + id, "", authorization);
  }
  harness.restore_fixed_ids();
  return 0;
}
