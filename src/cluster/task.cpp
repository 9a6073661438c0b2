#include "cluster/task.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cluster/blob_store.h"
#include "io/json_number.h"
#include "serve/ids.h"

namespace cryptounet::cluster {
namespace {

constexpr int kVersion = 1;
constexpr std::size_t kMaxWorkerName = 256;
constexpr std::size_t kMaxErrorText = 4096;

nlohmann::json parse_message(std::string_view payload) {
  if (payload.size() > kMaxMessageBytes) throw std::runtime_error("message over " + std::to_string(kMaxMessageBytes) + " bytes");
  auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object()) throw std::runtime_error("message is not a JSON object");
  if (io::json_integer<int>(j.at("v"), "v") != kVersion) throw std::runtime_error("unsupported message version");
  return j;
}

std::string bounded_string(const nlohmann::json& j, const char* key, std::size_t max) {
  const auto& v = j.at(key);
  if (!v.is_string()) throw std::runtime_error(std::string("'") + key + "' must be a string");
  auto s = v.get<std::string>();
  if (s.size() > max) throw std::runtime_error(std::string("'") + key + "' is too long");
  return s;
}

std::string job_key(const nlohmann::json& j) {
  auto job = bounded_string(j, "job", 32);
  if (!serve::is_valid_id(job)) throw std::runtime_error("'job' is not a job key");
  return job;
}

std::string hash_field(const nlohmann::json& j, const char* key) {
  auto hash = bounded_string(j, key, 64);
  if (!is_content_hash(hash)) throw std::runtime_error(std::string("'") + key + "' is not a content hash");
  return hash;
}

}  // namespace

std::string encode(const Task& t) {
  return nlohmann::json{{"v", kVersion},   {"job", t.job},   {"group", t.group},        {"groups", t.groups},
                        {"keys", t.keys}, {"input", t.input}, {"ciphertexts", t.ciphertexts}}
      .dump();
}

std::string encode(const TaskResult& r) {
  nlohmann::json j{{"v", kVersion}, {"job", r.job}, {"group", r.group}};
  if (!r.error.empty()) {
    j["error"] = r.error.substr(0, kMaxErrorText);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  j["output"] = r.output;
  j["layers"] = r.layers;
  j["worker"] = r.worker.substr(0, kMaxWorkerName);
  j["delivery"] = r.delivery;
  j["keys_cached"] = r.keys_cached;
  j["fetch_keys_s"] = r.fetch_keys_s;
  j["parse_keys_s"] = r.parse_keys_s;
  j["fetch_input_s"] = r.fetch_input_s;
  j["compute_s"] = r.compute_s;
  j["upload_s"] = r.upload_s;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Task decode_task(std::string_view payload) {
  const auto j = parse_message(payload);
  Task t;
  t.job = job_key(j);
  t.groups = io::json_integer<std::size_t>(j.at("groups"), "groups", 1, kMaxGroups);
  t.group = io::json_integer<std::size_t>(j.at("group"), "group", 0, t.groups - 1);
  t.keys = hash_field(j, "keys");
  t.input = hash_field(j, "input");
  t.ciphertexts = io::json_integer<std::size_t>(j.at("ciphertexts"), "ciphertexts", 1, 64);
  return t;
}

TaskResult decode_result(std::string_view payload) {
  const auto j = parse_message(payload);
  TaskResult r;
  r.job = job_key(j);
  r.group = io::json_integer<std::size_t>(j.at("group"), "group", 0, kMaxGroups - 1);
  if (j.contains("error")) {
    r.error = bounded_string(j, "error", kMaxErrorText);
    if (r.error.empty()) r.error = "worker error";
    return r;
  }
  r.output = hash_field(j, "output");
  const auto& layers = j.at("layers");
  if (!layers.is_array() || layers.size() > kMaxLayers) throw std::runtime_error("'layers' must be a short array");
  for (const auto& l : layers) {
    if (!l.is_array() || l.size() != 2) throw std::runtime_error("'layers' entries must be [node, seconds]");
    r.layers.emplace_back(io::json_integer<std::size_t>(l[0], "layers node", 0, kMaxLayers - 1),
                          io::json_finite(l[1], "layers seconds"));
  }
  r.worker = bounded_string(j, "worker", kMaxWorkerName);
  r.delivery = io::json_integer<std::uint64_t>(j.at("delivery"), "delivery", 1, 1u << 20);
  if (!j.at("keys_cached").is_boolean()) throw std::runtime_error("'keys_cached' must be a boolean");
  r.keys_cached = j.at("keys_cached").get<bool>();
  r.fetch_keys_s = io::json_finite(j.at("fetch_keys_s"), "fetch_keys_s");
  r.parse_keys_s = io::json_finite(j.at("parse_keys_s"), "parse_keys_s");
  r.fetch_input_s = io::json_finite(j.at("fetch_input_s"), "fetch_input_s");
  r.compute_s = io::json_finite(j.at("compute_s"), "compute_s");
  r.upload_s = io::json_finite(j.at("upload_s"), "upload_s");
  return r;
}

}  // namespace cryptounet::cluster
