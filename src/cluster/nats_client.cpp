#include "cluster/nats_client.h"

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cryptounet::cluster {
namespace {

constexpr std::size_t kMaxCredentialsBytes = 4096;
constexpr std::int64_t kJetStreamWaitMs = 10000;  // JetStream API requests; file-backed streams answer in ms

// "nats://a:4222, nats://b:4222" -> the URLs, blanks trimmed, for SetServers: given such a list, SetURL of the C
// client 3.4.1 fails to connect ("no server available").
std::vector<std::string> split_urls(const std::string& list) {
  std::vector<std::string> urls;
  std::istringstream in(list);
  for (std::string url; std::getline(in, url, ',');) {
    const std::size_t first = url.find_first_not_of(' ');
    if (first != std::string::npos) urls.push_back(url.substr(first, url.find_last_not_of(' ') - first + 1));
  }
  return urls;
}

struct Credentials {
  std::string user, password, token;
};

Credentials read_credentials(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("cannot read NATS credentials " + path.string());
  if ((st.st_mode & 077) != 0)
    spdlog::warn("NATS credentials {} are readable by other users (chmod 600)", path.string());
  std::ifstream in(path, std::ios::binary);
  std::string line(kMaxCredentialsBytes, '\0');
  in.read(line.data(), static_cast<std::streamsize>(line.size()));
  line.resize(static_cast<std::size_t>(in.gcount()));
  line = line.substr(0, line.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw std::runtime_error("NATS credentials " + path.string() + " are empty");
  Credentials c;
  if (const auto colon = line.find(':'); colon != std::string::npos) {
    c.user = line.substr(0, colon);
    c.password = line.substr(colon + 1);
  } else {
    c.token = line;
  }
  return c;
}

}  // namespace

NatsError::NatsError(const std::string& what, natsStatus status, jsErrCode js_error)
    : std::runtime_error(what), status_(status), js_error_(js_error) {}

void check(natsStatus status, const std::string& what, jsErrCode js_error) {
  if (status == NATS_OK) return;
  std::string message = what + ": " + natsStatus_GetText(status);
  natsStatus ignored;
  if (const char* detail = nats_GetLastError(&ignored); detail && *detail) message += std::string(" (") + detail + ")";
  if (js_error != 0) message += " [JetStream error " + std::to_string(static_cast<int>(js_error)) + "]";
  throw NatsError(message, status, js_error);
}

NatsClient::NatsClient(const NatsSettings& settings) {
  natsOptions* options = nullptr;
  check(natsOptions_Create(&options), "NATS options");
  const std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)> owned(options, natsOptions_Destroy);
  const auto urls = split_urls(settings.url);
  if (urls.empty()) throw std::invalid_argument("no NATS URL");
  std::vector<const char*> servers;
  for (const auto& url : urls) servers.push_back(url.c_str());
  check(natsOptions_SetServers(options, servers.data(), static_cast<int>(servers.size())), "NATS URLs " + settings.url);
  check(natsOptions_SetName(options, settings.name.c_str()), "NATS client name");
  // Keep retrying through a server restart or a cluster fail-over instead of giving up after 60 attempts.
  check(natsOptions_SetMaxReconnect(options, -1), "NATS reconnect");
  if (!settings.credentials_file.empty()) {
    const auto c = read_credentials(settings.credentials_file);
    if (c.token.empty())
      check(natsOptions_SetUserInfo(options, c.user.c_str(), c.password.c_str()), "NATS user");
    else
      check(natsOptions_SetToken(options, c.token.c_str()), "NATS token");
  }
  check(natsConnection_Connect(&connection_, options), "connecting to NATS at " + settings.url);
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = kJetStreamWaitMs;
  if (const auto s = natsConnection_JetStream(&jetstream_, connection_, &js_options); s != NATS_OK) {
    natsConnection_Destroy(connection_);
    check(s, "JetStream context");
  }
}

void NatsClient::publish(const std::string& subject, std::string_view payload, const std::string& msg_id,
                         const std::string& what) const {
  jsPubOptions options;
  jsPubOptions_Init(&options);
  if (!msg_id.empty()) options.MsgId = msg_id.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = js_Publish(&ack, jetstream_, subject.c_str(), payload.data(),
                                       static_cast<int>(payload.size()), &options, &error);
  jsPubAck_Destroy(ack);
  check(status, what, error);
}

SubscriptionPtr NatsClient::subscribe_ordered(const char* stream, const std::string& filter, const std::string& what,
                                              std::uint64_t start_sequence) const {
  return ordered_subscription(stream, filter, what, start_sequence, nullptr, nullptr);
}

SubscriptionPtr NatsClient::subscribe_ordered(const char* stream, const std::string& filter, const std::string& what,
                                              natsMsgHandler handler, void* closure) const {
  return ordered_subscription(stream, filter, what, 0, handler, closure);
}

SubscriptionPtr NatsClient::ordered_subscription(const char* stream, const std::string& filter,
                                                 const std::string& what, std::uint64_t start_sequence,
                                                 natsMsgHandler handler, void* closure) const {
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream;
  options.Ordered = true;
  options.Config.DeliverPolicy = start_sequence > 0 ? js_DeliverByStartSequence : js_DeliverAll;
  options.Config.OptStartSeq = start_sequence;
  for (int attempt = 1;; ++attempt) {
    natsSubscription* subscription = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    const natsStatus status =
        handler ? js_Subscribe(&subscription, jetstream_, filter.c_str(), handler, closure, nullptr, &options, &error)
                : js_SubscribeSync(&subscription, jetstream_, filter.c_str(), nullptr, &options, &error);
    if (status == NATS_OK) return SubscriptionPtr(subscription);
    if (status != NATS_TIMEOUT || attempt == kJetStreamRequestAttempts) check(status, what, error);
    spdlog::warn("{}: no answer from JetStream creating a consumer (attempt {} of {}), asking again", what, attempt,
                 kJetStreamRequestAttempts);
  }
}

NatsClient::~NatsClient() {
  jsCtx_Destroy(jetstream_);
  natsConnection_Close(connection_);
  natsConnection_Destroy(connection_);
}

}  // namespace cryptounet::cluster
