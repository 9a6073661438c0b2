#include "serve/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace cryptounet::serve {
namespace {

constexpr std::size_t kBufferBytes = 16 * 1024;
// Bounds of the drain after the answer: enough for a client to finish a small body and read our answer.
constexpr std::size_t kDrainBytes = 256 * 1024;
constexpr auto kDrainTime = std::chrono::seconds(2);

std::string address_text(const sockaddr_storage& address, int& port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(address);
    ::inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
    port = ntohs(a.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(address);
    ::inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
    port = ntohs(a.sin6_port);
  }
  return text;
}

std::chrono::steady_clock::duration transfer_allowance(const ConnectionLimits& limits, std::uint64_t bytes) {
  const auto rate = std::max<std::uint64_t>(1, limits.min_bytes_per_second);
  return limits.transfer_grace + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(static_cast<double>(bytes) / rate));
}

}  // namespace

std::string peer_address(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  int port = 0;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  return address_text(address, port);
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  return false;
}

Connection::Connection(int fd, SSL_CTX* tls, const ConnectionLimits& limits, Clock::time_point accepted_at)
    : fd_(fd), limits_(limits), accepted_at_(accepted_at), buffer_(kBufferBytes) {
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  // Answers go out in several writes (headers, body, TLS records): do not let Nagle hold them for an ACK.
  const int on = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  if (tls) {
    ssl_ = SSL_new(tls);
    if (ssl_) SSL_set_fd(ssl_, fd_);
  }
}

Connection::~Connection() { close(); }

Connection::Clock::time_point Connection::deadline(Wait what) const {
  if (!headers_done_) return accepted_at_ + limits_.header_timeout;
  if (what == Wait::Read) return body_started_ + transfer_allowance(limits_, body_bytes_);
  return response_started_ + transfer_allowance(limits_, response_bytes_);
}

bool Connection::wait(Wait what) const {
  const auto now = Clock::now();
  const auto until = std::min(deadline(what), now + limits_.idle_timeout);
  if (until <= now) {
    expired_ = true;
    return false;
  }
  pollfd p{fd_, static_cast<short>(what == Wait::Read ? POLLIN : POLLOUT), 0};
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
  int ready;
  do ready = ::poll(&p, 1, static_cast<int>(ms));
  while (ready < 0 && errno == EINTR);
  if (ready == 0) expired_ = true;
  return ready > 0;
}

bool Connection::handshake() {
  if (!ssl_) return true;
  for (;;) {
    const int r = SSL_accept(ssl_);
    if (r == 1) return true;
    const int error = SSL_get_error(ssl_, r);
    ERR_clear_error();
    if (error == SSL_ERROR_WANT_READ ? !wait(Wait::Read) : error == SSL_ERROR_WANT_WRITE ? !wait(Wait::Write) : true)
      return false;
  }
}

void Connection::headers_received() {
  headers_done_ = true;
  body_started_ = Clock::now();
}

void Connection::abort() { ::shutdown(fd_, SHUT_RDWR); }

ssize_t Connection::fill() {
  for (;;) {
    ssize_t n;
    bool want_write = false;
    if (ssl_) {
      n = SSL_read(ssl_, buffer_.data(), static_cast<int>(buffer_.size()));
      if (n <= 0) {
        const int error = SSL_get_error(ssl_, static_cast<int>(n));
        ERR_clear_error();
        if (error == SSL_ERROR_ZERO_RETURN) return 0;
        if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) return -1;
        want_write = error == SSL_ERROR_WANT_WRITE;
      }
    } else {
      do n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
      while (n < 0 && errno == EINTR);
      if (n == 0) return 0;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    }
    if (n > 0) {
      buffer_begin_ = 0;
      buffer_end_ = static_cast<std::size_t>(n);
      return n;
    }
    if (!wait(want_write ? Wait::Write : Wait::Read)) return -1;
  }
}

bool Connection::is_readable() const {
  if (buffer_begin_ < buffer_end_ || (ssl_ && SSL_pending(ssl_) > 0)) return true;
  return wait(Wait::Read);
}

bool Connection::is_writable() const { return wait(Wait::Write); }

ssize_t Connection::read(char* ptr, std::size_t size) {
  if (buffer_begin_ == buffer_end_) {
    const auto n = fill();
    if (n <= 0) return n;
  }
  const auto n = std::min(size, buffer_end_ - buffer_begin_);
  std::copy_n(buffer_.data() + buffer_begin_, n, ptr);
  buffer_begin_ += n;
  if (headers_done_) body_bytes_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t Connection::write(const char* ptr, std::size_t size) {
  if (response_started_ == Clock::time_point{}) response_started_ = Clock::now();
  std::size_t sent = 0;
  while (sent < size) {
    ssize_t n;
    bool want_read = false;
    const auto chunk = std::min<std::size_t>(size - sent, 1 << 30);
    if (ssl_) {
      n = SSL_write(ssl_, ptr + sent, static_cast<int>(chunk));
      if (n <= 0) {
        const int error = SSL_get_error(ssl_, static_cast<int>(n));
        ERR_clear_error();
        if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) return -1;
        want_read = error == SSL_ERROR_WANT_READ;
      }
    } else {
      do n = ::send(fd_, ptr + sent, chunk, MSG_NOSIGNAL);
      while (n < 0 && errno == EINTR);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    }
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      response_bytes_ += static_cast<std::uint64_t>(n);
    } else if (!wait(want_read ? Wait::Read : Wait::Write)) {
      return -1;
    }
  }
  return static_cast<ssize_t>(size);
}

void Connection::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) ip = address_text(address, port);
}

void Connection::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) ip = address_text(address, port);
}

void Connection::close() {
  if (ssl_) {
    SSL_shutdown(ssl_);  // one non-blocking attempt at close_notify; the peer's is not awaited
    ERR_clear_error();
    SSL_free(ssl_);
  }
  // Closing with unread request bytes would make the kernel send a reset, which can destroy our answer before the
  // client reads it (an early 401 or 413): signal the end of our side, then discard what the client still sends,
  // within bounds.
  if (::shutdown(fd_, SHUT_WR) == 0) {
    const auto until = Clock::now() + kDrainTime;
    std::size_t drained = 0;
    char sink[4096];
    while (drained < kDrainBytes) {
      const auto n = ::recv(fd_, sink, sizeof sink, 0);
      if (n > 0) {
        drained += static_cast<std::size_t>(n);
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
      pollfd p{fd_, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    }
  }
  ::close(fd_);
}

}  // namespace cryptounet::serve
