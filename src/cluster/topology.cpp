#include "cluster/topology.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

namespace cryptounet::cluster {
namespace {

// Finished jobs purge their own subjects; this only bounds what an interrupted job or a task that outlived its job
// leaves behind (a front end restarted within this time still finds its results).
constexpr auto kResultMaxAge = std::chrono::hours(24 * 7);

void warn_if_replicas_differ(const jsStreamInfo& info, const char* name, int replicas) {
  if (info.Config->Replicas != replicas)
    spdlog::warn("stream {} exists with {} replica(s), not {}: kept as it is (change it with `nats stream edit`)",
                 name, info.Config->Replicas, replicas);
}

// One look at the stream: it exists (kept as it is), it was created, or the request failed (status returned).
natsStatus look_up_or_create(NatsClient& nats, jsStreamConfig& config, int replicas, jsErrCode& error) {
  jsStreamInfo* info = nullptr;
  natsStatus status = js_GetStreamInfo(&info, nats.jetstream(), config.Name, nullptr, &error);
  if (status == NATS_OK) {
    warn_if_replicas_differ(*info, config.Name, replicas);
    jsStreamInfo_Destroy(info);
    return NATS_OK;
  }
  if (status != NATS_NOT_FOUND && error != JSStreamNotFoundErr) return status;
  error = static_cast<jsErrCode>(0);
  status = js_AddStream(&info, nats.jetstream(), &config, nullptr, &error);
  jsStreamInfo_Destroy(info);
  // Another process created it in between: its configuration is ours (same code).
  return status != NATS_OK && error == JSStreamNameExistErr ? NATS_OK : status;
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
  for (int attempt = 1;; ++attempt) {
    jsErrCode error = static_cast<jsErrCode>(0);
    const natsStatus status = look_up_or_create(nats, config, replicas, error);
    if (status == NATS_OK) return;
    if (status != NATS_TIMEOUT || attempt == kJetStreamRequestAttempts)
      check(status, std::string("creating stream ") + name, error);
    spdlog::warn("stream {}: no answer from JetStream (attempt {} of {}), asking again", name, attempt,
                 kJetStreamRequestAttempts);
  }
}

}  // namespace

std::string task_subject(const std::string& keys, const std::string& job, std::size_t group) {
  return "cryptounet.task." + keys + "." + job + "." + std::to_string(group);
}
std::string result_subject(const std::string& job, std::size_t group) {
  return "cryptounet.result." + job + "." + std::to_string(group);
}
std::string key_tasks_filter(const std::string& keys) { return "cryptounet.task." + keys + ".>"; }
std::string job_tasks_filter(const std::string& job) { return "cryptounet.task.*." + job + ".*"; }
std::string job_results_filter(const std::string& job) { return "cryptounet.result." + job + ".*"; }

void ensure_streams(NatsClient& nats, int replicas) {
  if (replicas < 1 || replicas > 5) throw std::invalid_argument("JetStream replicas must be 1 to 5");
  add_stream(nats, kTaskStream, kTaskFilter, js_WorkQueuePolicy, std::chrono::nanoseconds(0), replicas);
  add_stream(nats, kResultStream, "cryptounet.result.>", js_LimitsPolicy, kResultMaxAge, replicas);
  add_stream(nats, kBlobStream, "cryptounet.blob.>", js_LimitsPolicy, std::chrono::nanoseconds(0), replicas);
  add_stream(nats, kAdvisoryStream, kMaxDeliveriesAdvisories, js_LimitsPolicy, kResultMaxAge, replicas);
}

}  // namespace cryptounet::cluster
