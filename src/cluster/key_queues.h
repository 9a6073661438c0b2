// One work queue per evaluation-key bundle, so that a worker can take the tasks of the keys it already holds
// first. Every task of every job on a bundle is published on cryptounet.task.<keys>.<job>.<group> and delivered by
// the bundle's durable pull consumer `cryptounet-keys-<keys>` (filter cryptounet.task.<keys>.>). The task stream
// keeps its work-queue retention, which allows several consumers as long as their filters do not overlap: bundle
// filters never do. One listing of the stream's consumers tells a worker which bundles have tasks waiting, the
// in-flight and redelivered counts, and each queue's ack deadline and delivery limit.
//
// The front end creates a bundle's queue when a job on it starts and deletes it when the last such job ends
// (ClusterBackend); a job waiting for its results re-creates its queue if it vanished (another front end deleted
// it, or an operator), and the tasks still in the stream are delivered by the new consumer.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/nats_client.h"

namespace cryptounet::cluster {

struct KeyQueueSettings {
  std::chrono::milliseconds ack_wait{60000};  // without a heartbeat for this long, a task goes to another worker
  int max_deliver = 5;                        // deliveries before the task is given up (its job fails)
};

struct KeyQueue {
  std::string keys;               // content hash of the bundle
  std::uint64_t pending = 0;      // tasks no worker has taken yet
  std::uint64_t in_flight = 0;    // taken and not acknowledged
  std::uint64_t redelivered = 0;  // in flight or pending again after a worker failed to finish them
  KeyQueueSettings settings;      // as the consumer was created
};

// The durable consumer of a bundle's queue; the bundle of a consumer name (none: not a key queue).
std::string key_queue_consumer(const std::string& keys);
std::optional<std::string> key_queue_keys(const std::string& consumer);

// Creates the queue unless it exists (one that exists keeps its settings). Idempotent, retried while JetStream
// does not answer.
void ensure_key_queue(const NatsClient& nats, const std::string& keys, const KeyQueueSettings& settings);
// Deletes the queue's consumer (its tasks stay in the stream); a queue already gone is fine.
void delete_key_queue(const NatsClient& nats, const std::string& keys);
// Every key queue of the task stream, as the server counts them now.
std::vector<KeyQueue> list_key_queues(const NatsClient& nats);

}  // namespace cryptounet::cluster
