// A connection to NATS with its JetStream context, and RAII handles for the C client's objects. Errors of the C
// client become NatsError exceptions carrying the client's own description.
#pragma once
#include <nats/nats.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cryptounet::cluster {

class NatsError : public std::runtime_error {
 public:
  NatsError(const std::string& what, natsStatus status, jsErrCode js_error = static_cast<jsErrCode>(0));
  natsStatus status() const { return status_; }
  jsErrCode js_error() const { return js_error_; }

 private:
  natsStatus status_;
  jsErrCode js_error_;
};

// Throws NatsError unless status is NATS_OK.
void check(natsStatus status, const std::string& what, jsErrCode js_error = static_cast<jsErrCode>(0));

// JetStream in a cluster answers a stream or consumer request once the replicas agree; on a loaded machine, or
// while a leader is elected after a node loss, that can outlast one request's wait. Such requests are idempotent
// (a timed-out consumer create leaves at most an idle ephemeral consumer, which the server removes), so a timeout
// is retried this many times.
inline constexpr int kJetStreamRequestAttempts = 6;

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;
struct SubscriptionDeleter {
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
};
using SubscriptionPtr = std::unique_ptr<natsSubscription, SubscriptionDeleter>;

struct NatsSettings {
  std::string url = "nats://127.0.0.1:4222";  // a comma-separated list for a cluster
  // One line: "user:password" or a token. Keeps the credentials out of the command line and the process list.
  std::filesystem::path credentials_file;
  std::string name = "cryptounet";  // shown by the server's monitoring
};

class NatsClient {
 public:
  explicit NatsClient(const NatsSettings& settings);
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  natsConnection* connection() const { return connection_; }
  jsCtx* jetstream() const { return jetstream_; }
  // The largest message the server accepts (payload and headers together).
  std::int64_t max_payload() const { return natsConnection_GetMaxPayload(connection_); }

  // Publishes to a JetStream subject and waits for the server's acknowledgement. A non-empty msg_id is the
  // Nats-Msg-Id the server deduplicates on. Throws NatsError naming `what`.
  void publish(const std::string& subject, std::string_view payload, const std::string& msg_id,
               const std::string& what) const;
  // An ordered consumer of `stream` on the subjects matching `filter`, from its first message or, when
  // start_sequence > 0, from that stream sequence on.
  SubscriptionPtr subscribe_ordered(const char* stream, const std::string& filter, const std::string& what,
                                    std::uint64_t start_sequence = 0) const;
  // The same from the first message, delivered to `handler(…, closure)` on the client's thread.
  SubscriptionPtr subscribe_ordered(const char* stream, const std::string& filter, const std::string& what,
                                    natsMsgHandler handler, void* closure) const;

 private:
  SubscriptionPtr ordered_subscription(const char* stream, const std::string& filter, const std::string& what,
                                       std::uint64_t start_sequence, natsMsgHandler handler, void* closure) const;
  natsConnection* connection_ = nullptr;
  jsCtx* jetstream_ = nullptr;
};

}  // namespace cryptounet::cluster
