#include "cluster/topology.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

namespace cryptounet::cluster {
namespace {

// Finished jobs purge their own subjects; this only bounds what an interrupted job or a task that outlived its job
// leaves behind (a front end restarted within this time still finds its results).
constexpr auto kResultMaxAge = std::chrono::hours(24 * 7);

void warn_if_replicas_differ(NatsClient& nats, const char* name, int replicas) {
  jsStreamInfo* info = nullptr;
  if (js_GetStreamInfo(&info, nats.jetstream(), name, nullptr, nullptr) != NATS_OK) return;
  const std::int64_t existing = info->Config->Replicas;
  jsStreamInfo_Destroy(info);
  if (existing != replicas)
    spdlog::warn("stream {} exists with {} replica(s), not {}: kept as it is (change it with `nats stream edit`)",
                 name, existing, replicas);
}

void add_stream(NatsClient& nats, const char* name, const char* subject, jsRetentionPolicy retention,
                std::chrono::nanoseconds max_age, int replicas) {
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subjects[] = {subject};
  config.Name = name;
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Retention = retention;
  config.Storage = js_FileStorage;
  config.MaxAge = nanoseconds(max_age);
  config.Replicas = replicas;
  jsStreamInfo* info = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = js_AddStream(&info, nats.jetstream(), &config, nullptr, &error);
  jsStreamInfo_Destroy(info);
  // Another process created it first: its configuration is ours (same code) unless its replica count differs.
  if (status != NATS_OK && error == JSStreamNameExistErr) return warn_if_replicas_differ(nats, name, replicas);
  check(status, std::string("creating stream ") + name, error);
}

}  // namespace

std::string task_subject(const std::string& job, std::size_t group) {
  return "cryptounet.task." + job + "." + std::to_string(group);
}
std::string result_subject(const std::string& job, std::size_t group) {
  return "cryptounet.result." + job + "." + std::to_string(group);
}
std::string job_tasks_filter(const std::string& job) { return "cryptounet.task." + job + ".*"; }
std::string job_results_filter(const std::string& job) { return "cryptounet.result." + job + ".*"; }

void ensure_streams(NatsClient& nats, int replicas) {
  if (replicas < 1 || replicas > 5) throw std::invalid_argument("JetStream replicas must be 1 to 5");
  add_stream(nats, kTaskStream, kTaskFilter, js_WorkQueuePolicy, std::chrono::nanoseconds(0), replicas);
  add_stream(nats, kResultStream, "cryptounet.result.>", js_LimitsPolicy, kResultMaxAge, replicas);
  add_stream(nats, kBlobStream, "cryptounet.blob.>", js_LimitsPolicy, std::chrono::nanoseconds(0), replicas);
  add_stream(nats, kAdvisoryStream, kMaxDeliveriesAdvisories, js_LimitsPolicy, kResultMaxAge, replicas);
}

}  // namespace cryptounet::cluster
