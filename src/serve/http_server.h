// The network front of Service: accepts TCP connections itself and hands each to cpp-httplib's request parser
// through a Connection (connection.h: plain or TLS, whole-request deadlines). Bodies are streamed into Service
// (never buffered whole), results are streamed out of their file, and httplib's own errors (bad request line,
// payload over the limit) get JSON too.
//
// Many or slow clients cannot take the service away from the others: a bounded number of connections per remote
// address, a fixed pool of connection threads with a bounded queue in front of it (a connection that waited past
// its header deadline is dropped unread), and deadlines that free a thread from a client that trickles bytes. One
// request per connection (no keep-alive), so an idle client holds nothing.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "serve/connection.h"
#include "serve/service.h"

namespace cryptounet::serve {

class TlsContext;

struct HttpOptions {
  std::size_t connection_threads = 64;
  std::size_t max_waiting_connections = 64;  // accepted, waiting for a free connection thread
  std::size_t max_connections_per_address = 16;
  ConnectionLimits limits;
  // Both set: HTTPS with this PEM certificate chain and private key. Both empty: plain HTTP.
  std::filesystem::path tls_certificate, tls_private_key;
};

class HttpServer {
 public:
  HttpServer(Service& service, HttpOptions options = {});
  ~HttpServer();  // stops and joins
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0 picks a free one) and returns the port. Throws if the address is unavailable, or if it
  // is not a loopback address while the service has no token table or the server no TLS (anyone on the network
  // could use the service, or read its traffic).
  int bind(const std::string& host, int port);
  void serve();                // accepts connections until stop()
  void serve_in_background();  // same, on an owned thread
  void stop();
  bool uses_tls() const { return tls_ != nullptr; }

 private:
  class Engine;
  struct Accepted {
    int fd = -1;
    std::string address;
    Connection::Clock::time_point at;
  };
  void accept_connections();
  void work();
  void serve_connection(const Accepted& accepted);

  Service& service_;
  HttpOptions options_;
  std::unique_ptr<TlsContext> tls_;
  std::unique_ptr<Engine> engine_;
  int wake_[2] = {-1, -1};  // a pipe: stop() writes to it to end the accept loop

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Accepted> waiting_;
  std::map<std::string, std::size_t> per_address_;  // open connections by remote address
  std::set<Connection*> active_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::thread thread_;
};

}  // namespace cryptounet::serve
