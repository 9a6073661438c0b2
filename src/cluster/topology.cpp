#include "cluster/topology.h"

#include <chrono>

namespace cryptounet::cluster {
namespace {

// Finished jobs purge their own subjects; this only bounds what an interrupted job or a task that outlived its job
// leaves behind (a front end restarted within this time still finds its results).
constexpr auto kResultMaxAge = std::chrono::hours(24 * 7);

void add_stream(NatsClient& nats, const char* name, const char* subject, jsRetentionPolicy retention,
                std::chrono::nanoseconds max_age) {
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subjects[] = {subject};
  config.Name = name;
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Retention = retention;
  config.Storage = js_FileStorage;
  config.MaxAge = nanoseconds(max_age);
  jsStreamInfo* info = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = js_AddStream(&info, nats.jetstream(), &config, nullptr, &error);
  jsStreamInfo_Destroy(info);
  // Another process created it first: its configuration is ours (same code), nothing to do.
  if (status != NATS_OK && error == JSStreamNameExistErr) return;
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

void ensure_streams(NatsClient& nats) {
  add_stream(nats, kTaskStream, kTaskFilter, js_WorkQueuePolicy, std::chrono::nanoseconds(0));
  add_stream(nats, kResultStream, "cryptounet.result.>", js_LimitsPolicy, kResultMaxAge);
  add_stream(nats, kBlobStream, "cryptounet.blob.>", js_LimitsPolicy, std::chrono::nanoseconds(0));
  add_stream(nats, kAdvisoryStream, kMaxDeliveriesAdvisories, js_LimitsPolicy, kResultMaxAge);
}

}  // namespace cryptounet::cluster
