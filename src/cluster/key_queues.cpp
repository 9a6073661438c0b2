#include "cluster/key_queues.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "cluster/blob_store.h"
#include "cluster/topology.h"

namespace cryptounet::cluster {
namespace {

constexpr std::string_view kConsumerPrefix = "cryptounet-keys-";

bool consumer_exists(const NatsClient& nats, const std::string& name) {
  jsConsumerInfo* info = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus found = js_GetConsumerInfo(&info, nats.jetstream(), kTaskStream, name.c_str(), nullptr, &error);
  jsConsumerInfo_Destroy(info);
  if (found == NATS_NOT_FOUND || error == JSConsumerNotFoundErr) return false;
  check(found, "looking up task queue " + name, error);
  return true;
}

// One look: the queue exists (kept as it is), it was created, or the request failed (status returned).
natsStatus look_up_or_create(const NatsClient& nats, jsConsumerConfig& config, jsErrCode& error) {
  if (consumer_exists(nats, config.Durable)) return NATS_OK;
  jsConsumerInfo* info = nullptr;
  const natsStatus added = js_AddConsumer(&info, nats.jetstream(), kTaskStream, &config, nullptr, &error);
  jsConsumerInfo_Destroy(info);
  // Another front end created it in between (with its own settings: those stay).
  if (added != NATS_OK && added != NATS_TIMEOUT && consumer_exists(nats, config.Durable)) return NATS_OK;
  return added;
}

}  // namespace

std::string key_queue_consumer(const std::string& keys) { return std::string(kConsumerPrefix) + keys; }

std::optional<std::string> key_queue_keys(const std::string& consumer) {
  if (consumer.rfind(kConsumerPrefix, 0) != 0) return std::nullopt;
  std::string keys = consumer.substr(kConsumerPrefix.size());
  if (!is_content_hash(keys)) return std::nullopt;
  return keys;
}

void ensure_key_queue(const NatsClient& nats, const std::string& keys, const KeyQueueSettings& settings) {
  const std::string name = key_queue_consumer(keys);
  const std::string filter = key_tasks_filter(keys);
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = name.c_str();
  config.AckPolicy = js_AckExplicit;
  config.AckWait = nanoseconds(settings.ack_wait);
  config.MaxDeliver = settings.max_deliver;
  config.FilterSubject = filter.c_str();
  for (int attempt = 1;; ++attempt) {
    jsErrCode error = static_cast<jsErrCode>(0);
    const natsStatus status = look_up_or_create(nats, config, error);
    if (status == NATS_OK) return;
    if (error == JSConsumerWQConsumerNotUniqueErr || error == JSConsumerWQMultipleUnfilteredErr)
      check(status, "creating task queue " + name + ": another consumer of " + kTaskStream +
                        " takes the same tasks (a shared `cryptounet-workers` consumer of an earlier version? delete "
                        "it with `nats consumer rm " + kTaskStream + " cryptounet-workers` once its tasks are done)",
            error);
    if (status != NATS_TIMEOUT || attempt == kJetStreamRequestAttempts)
      check(status, "creating task queue " + name, error);
    spdlog::warn("task queue {}: no answer from JetStream (attempt {} of {}), asking again", name, attempt,
                 kJetStreamRequestAttempts);
  }
}

void delete_key_queue(const NatsClient& nats, const std::string& keys) {
  const std::string name = key_queue_consumer(keys);
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = js_DeleteConsumer(nats.jetstream(), kTaskStream, name.c_str(), nullptr, &error);
  if (status == NATS_NOT_FOUND || error == JSConsumerNotFoundErr) return;
  check(status, "deleting task queue " + name, error);
}

std::vector<KeyQueue> list_key_queues(const NatsClient& nats) {
  jsConsumerInfoList* list = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = js_Consumers(&list, nats.jetstream(), kTaskStream, nullptr, &error);
  if (status == NATS_NOT_FOUND) return {};  // no consumer at all
  check(status, "listing task queues", error);
  std::vector<KeyQueue> queues;
  for (int i = 0; i < list->Count; ++i) {
    const jsConsumerInfo& info = *list->List[i];
    auto keys = info.Name ? key_queue_keys(info.Name) : std::nullopt;
    if (!keys) continue;
    KeyQueue q;
    q.keys = std::move(*keys);
    q.pending = info.NumPending;
    q.in_flight = static_cast<std::uint64_t>(std::max<std::int64_t>(0, info.NumAckPending));
    q.redelivered = static_cast<std::uint64_t>(std::max<std::int64_t>(0, info.NumRedelivered));
    if (info.Config) {
      q.settings.ack_wait = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::nanoseconds(std::max<std::int64_t>(0, info.Config->AckWait)));
      q.settings.max_deliver = static_cast<int>(info.Config->MaxDeliver);
    }
    queues.push_back(std::move(q));
  }
  jsConsumerInfoList_Destroy(list);
  return queues;
}

}  // namespace cryptounet::cluster
