// Many and slow clients: connections that trickle a request byte by byte (slowloris) neither stop a normal client
// nor hold a connection thread past their deadline, and one address cannot take more than its share.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#include "serve_fixture.h"

namespace cryptounet::serve::testing {
namespace {

using namespace std::chrono_literals;

// A TCP connection to 127.0.0.1:port from the loopback address `source` (all of 127.0.0.0/8 is this machine).
int connect_from(const char* source, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Whether the server has closed this connection (end of stream or reset), without blocking; whatever it answered
// before closing is read and dropped.
bool closed_by_server(int fd) {
  char buffer[4096];
  for (;;) {
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) continue;
    return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
  }
}

TEST_F(ServeFixture, FiftySlowClientsDoNotStopANormalOne) {
  plain_http_ = true;  // the trickled bytes are an HTTP request
  HttpOptions http;
  http.limits.header_timeout = 5s;
  start({}, {}, http);

  // 50 connections from 7 addresses (at most 8 each: the per-address cap), each sending a request line and
  // then one header byte at a time.
  constexpr int kSlow = 50;
  std::vector<int> slow;
  for (int i = 0; i < kSlow; ++i) {
    const std::string source = "127.0.0." + std::to_string(2 + i % 7);
    const int fd = connect_from(source.c_str(), port_);
    ASSERT_GE(fd, 0) << source;
    const std::string line = "POST /v1/keys HTTP/1.1\r\nX-Slow: ";
    ASSERT_EQ(::send(fd, line.data(), line.size(), MSG_NOSIGNAL), static_cast<ssize_t>(line.size()));
    slow.push_back(fd);
  }
  std::atomic<bool> trickling{true};
  std::thread trickler([&] {
    while (trickling) {
      for (int fd : slow) (void)::send(fd, "x", 1, MSG_NOSIGNAL);
      std::this_thread::sleep_for(100ms);
    }
  });

  // A normal client's whole job goes through meanwhile.
  auto c = client();
  const auto payload = random_bytes(10000, 11);
  const auto job_id = c.submit(register_keys(), file("b", FakeBackend::make_batch(kFingerprint, payload)));
  c.wait(job_id, {}, 0.02);
  c.download(job_id, dir_ / "r");
  EXPECT_EQ(read_file(dir_ / "r"), FakeBackend::expected_result(payload));

  // Every slow connection is cut once its headers are overdue (guarded against a hang, not timed).
  int closed = 0;
  std::vector<bool> seen(slow.size(), false);
  const auto guard = std::chrono::steady_clock::now() + 120s;
  while (closed < kSlow && std::chrono::steady_clock::now() < guard) {
    for (std::size_t i = 0; i < slow.size(); ++i)
      if (!seen[i] && closed_by_server(slow[i])) seen[i] = true, ++closed;
    std::this_thread::sleep_for(50ms);
  }
  trickling = false;
  trickler.join();
  EXPECT_EQ(closed, kSlow);
  for (int fd : slow) ::close(fd);
  const auto metrics = raw().Get("/metrics")->body;
  EXPECT_NE(metrics.find("cryptounet_connections_dropped_total{reason=\"deadline\"} 50"), std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("reason=\"per_address\""), std::string::npos) << metrics;
}

TEST_F(ServeFixture, OneAddressGetsAtMostItsShareOfConnections) {
  plain_http_ = true;
  HttpOptions http;
  http.max_connections_per_address = 4;
  start({}, {}, http);
  // Connections that send nothing: the first 4 are held (until their 30 s header deadline), the others are
  // closed at once.
  std::vector<int> idle;
  for (int i = 0; i < 10; ++i) {
    const int fd = connect_from("127.0.0.2", port_);
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  std::string metrics;
  const auto guard = std::chrono::steady_clock::now() + 60s;
  while (metrics.find("reason=\"per_address\"} 6") == std::string::npos && std::chrono::steady_clock::now() < guard) {
    metrics = raw().Get("/metrics")->body;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(metrics.find("cryptounet_connections_dropped_total{reason=\"per_address\"} 6"), std::string::npos)
      << metrics;
  // Another address is served meanwhile.
  EXPECT_EQ(client().health()["status"], "ok");
  for (int fd : idle) ::close(fd);
}

}  // namespace
}  // namespace cryptounet::serve::testing
