// One accepted client connection as an httplib::Stream, over plain TCP or TLS, on a non-blocking socket, with
// deadlines on the whole request rather than on each read. cpp-httplib's own per-read timeout lets a client that
// sends one byte just before each timeout (slowloris) hold a connection thread for days; here:
//   - the TLS handshake, request line and headers must all arrive within `header_timeout` of the accept;
//   - after the headers, the body must keep an average of `min_bytes_per_second` (plus `transfer_grace`), and so
//     must the client's reading of the response;
//   - no single wait for the peer lasts longer than `idle_timeout`.
// A connection past a deadline fails its next read or write, which ends the request.
#pragma once
#include <chrono>
#include <cstdint>
#include <httplib.h>
#include <string>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace cryptounet::serve {

struct ConnectionLimits {
  std::chrono::milliseconds header_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds transfer_grace{std::chrono::seconds(30)};
  std::uint64_t min_bytes_per_second = 64 * 1024;
};

class Connection : public httplib::Stream {
 public:
  using Clock = std::chrono::steady_clock;
  // Takes ownership of `fd` (made non-blocking); `tls` null for plain HTTP.
  Connection(int fd, SSL_CTX* tls, const ConnectionLimits& limits, Clock::time_point accepted_at);
  ~Connection() override;  // closes gracefully (see close())
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The TLS handshake (a no-op for plain HTTP); false if it failed or missed the header deadline.
  bool handshake();
  // The headers are in: from now on the body's rate rule applies instead of the header deadline.
  void headers_received();
  // Whether a read or write failed because the peer was too slow.
  bool expired() const { return expired_; }
  // Cuts the connection at once (server shutdown): any blocked read or write fails.
  void abort();

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, std::size_t size) override;
  ssize_t write(const char* ptr, std::size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

 private:
  enum class Wait { Read, Write };
  // Waits until the socket is ready or the current deadline passes; false on timeout or error.
  bool wait(Wait what) const;
  Clock::time_point deadline(Wait what) const;
  ssize_t fill();  // reads what is available into the buffer; 0 at end of stream, -1 on failure
  void close();    // TLS close_notify, then a bounded drain so that the client reads our answer before a reset

  int fd_;
  SSL* ssl_ = nullptr;
  ConnectionLimits limits_;
  Clock::time_point accepted_at_;
  bool headers_done_ = false;
  Clock::time_point body_started_{}, response_started_{};
  std::uint64_t body_bytes_ = 0, response_bytes_ = 0;
  mutable bool expired_ = false;
  std::vector<char> buffer_;
  std::size_t buffer_begin_ = 0, buffer_end_ = 0;
};

// A peer address as text ("192.0.2.7", "2001:db8::1"), or "" if it cannot be read.
std::string peer_address(int fd);

// Whether `host` names only this machine: 127.0.0.0/8, ::1 (also IPv4-mapped) or "localhost".
bool is_loopback_host(const std::string& host);

}  // namespace cryptounet::serve
