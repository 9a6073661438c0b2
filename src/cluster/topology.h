// The JetStream streams and subjects the front end and the workers share.
//   CRYPTOUNET_TASKS    cryptounet.task.<keys>.<job>.<group>   work queue: a task is removed once a worker acks
//                       it; one durable consumer per key bundle delivers it (key_queues.h)
//   CRYPTOUNET_RESULTS  cryptounet.result.<job>.<group>    one small JSON message per finished task
//   CRYPTOUNET_BLOBS    cryptounet.blob.meta.<hash>        content-addressed blobs (blob_store.h)
//                       cryptounet.blob.data.<hash>.<upload>
//   CRYPTOUNET_ADVISORIES  $JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.CRYPTOUNET_TASKS.*   the server's notices of
//                       tasks whose deliveries ran out, kept for front ends that were down when they came
// <job> is a 32-hex-digit job key, <group> the lane group's index, <keys> and <hash> 64-hex-digit BLAKE2b-256
// digests (<keys> that of the evaluation-key bundle the task needs).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "cluster/nats_client.h"

namespace cryptounet::cluster {

inline constexpr const char* kTaskStream = "CRYPTOUNET_TASKS";
inline constexpr const char* kResultStream = "CRYPTOUNET_RESULTS";
inline constexpr const char* kBlobStream = "CRYPTOUNET_BLOBS";
inline constexpr const char* kTaskFilter = "cryptounet.task.>";
inline constexpr const char* kAdvisoryStream = "CRYPTOUNET_ADVISORIES";
inline constexpr const char* kMaxDeliveriesAdvisories = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.CRYPTOUNET_TASKS.*";

std::string task_subject(const std::string& keys, const std::string& job, std::size_t group);
std::string result_subject(const std::string& job, std::size_t group);
std::string key_tasks_filter(const std::string& keys);  // every task subject of a key bundle
std::string job_tasks_filter(const std::string& job);    // every task subject of a job
std::string job_results_filter(const std::string& job);  // every result subject of a job

// Creates the four streams if they do not exist (file storage, so they survive a NATS restart), each kept on
// `replicas` servers of a NATS cluster (1, or 3 or 5 so that a stream outlives the loss of 1 or 2 servers).
// Idempotent; both the front end and the workers call it at start, so either may come up first. Streams that
// exist keep their settings (a warning names a replica count that differs).
void ensure_streams(NatsClient& nats, int replicas = 1);

// Milliseconds/seconds to the nanoseconds the C client's configuration fields take.
inline std::int64_t nanoseconds(std::chrono::nanoseconds d) { return d.count(); }

}  // namespace cryptounet::cluster
