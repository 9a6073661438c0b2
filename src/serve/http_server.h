// cpp-httplib transport for Service: bodies are streamed into Service (never buffered whole), results are
// streamed out of their file, and httplib's own errors (bad request line, payload over the limit) get JSON too.
#pragma once
#include <memory>
#include <string>
#include <thread>

#include "serve/service.h"

namespace httplib {
class Server;
}

namespace cryptounet::serve {

class HttpServer {
 public:
  explicit HttpServer(Service& service, std::size_t connection_threads = 16);
  ~HttpServer();  // stops and joins
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0 picks a free one) and returns the port. Throws if the address is unavailable.
  int bind(const std::string& host, int port);
  void serve();               // accepts connections until stop()
  void serve_in_background();  // same, on an owned thread
  void stop();

 private:
  Service& service_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace cryptounet::serve
