#include "serve/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "serve/tls.h"

namespace cryptounet::serve {
namespace {

constexpr std::size_t kSendChunk = std::size_t{1} << 20;
constexpr int kListenBacklog = 256;

void forward(Service& service, const httplib::Request& req, httplib::Response& res,
             const httplib::ContentReader* reader) {
  Request request{req.method, req.path, {}, {}, req.get_header_value("Authorization")};
  if (req.has_header("Content-Length")) {
    // strtoull semantics: an unparsable value reads as 0 and then fails as a truncated or empty body.
    request.declared_length = req.get_header_value<std::uint64_t>("Content-Length");
  }
  if (reader) {
    request.read_body = [&](const BodySink& sink) {
      return (*reader)([&](const char* data, std::size_t size) { return sink(data, size); });
    };
  } else if (!req.body.empty()) {
    request.read_body = [&](const BodySink& sink) { return sink(req.body.data(), req.body.size()); };
  }
  auto response = service.handle(request);
  res.status = response.status;
  for (const auto& [name, value] : response.headers) res.set_header(name, value);
  if (response.file.stream) {
    auto stream = response.file.stream;
    res.set_content_provider(static_cast<std::size_t>(response.file.size), response.content_type,
                             [stream](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                               std::vector<char> buffer(std::min(length, kSendChunk));
                               stream->clear();
                               stream->seekg(static_cast<std::streamoff>(offset));
                               stream->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
                               if (stream->gcount() <= 0) return false;
                               return sink.write(buffer.data(), static_cast<std::size_t>(stream->gcount()));
                             });
  } else {
    res.set_content(response.body, response.content_type);
  }
}

}  // namespace

// httplib's request parser and router, fed by our own accept loop through Connection.
class HttpServer::Engine : public httplib::Server {
 public:
  bool process(Connection& connection) {
    bool closed = false;
    return process_request(connection, /*close_connection=*/true, closed,
                           [&connection](httplib::Request&) { connection.headers_received(); });
  }
  int listening_socket() const { return svr_sock_; }
  void close_listening_socket() {
    const auto fd = svr_sock_.exchange(INVALID_SOCKET);
    if (fd != INVALID_SOCKET) ::close(fd);
  }
};

HttpServer::HttpServer(Service& service, HttpOptions options)
    : service_(service), options_(std::move(options)), engine_(std::make_unique<Engine>()) {
  // A client that hangs up mid-transfer must not kill the server with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  if (options_.tls_certificate.empty() != options_.tls_private_key.empty())
    throw std::invalid_argument("TLS needs both a certificate and a private key");
  if (!options_.tls_certificate.empty())
    tls_ = std::make_unique<TlsContext>(options_.tls_certificate, options_.tls_private_key);
  if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("cannot create a pipe");

  auto& s = *engine_;
  // httplib rejects a larger Content-Length up front (413); Service also counts the bytes of chunked bodies.
  s.set_payload_max_length(static_cast<std::size_t>(service.config().max_body_bytes));

  const std::string any = ".*";
  auto with_reader = [this](const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& reader) { forward(service_, req, res, &reader); };
  auto without_body = [this](const httplib::Request& req, httplib::Response& res) {
    forward(service_, req, res, nullptr);
  };
  s.Get(any, without_body);
  s.Post(any, with_reader).Post(any, without_body);
  s.Put(any, with_reader).Put(any, without_body);
  s.Patch(any, with_reader).Patch(any, without_body);
  s.Delete(any, with_reader).Delete(any, without_body);
  s.Options(any, without_body);

  // Errors produced by httplib itself (malformed request line, 413 on Content-Length, ...) carry no body.
  s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty() || res.content_length_ > 0) return httplib::Server::HandlerResponse::Unhandled;
    const std::string code = res.status == 413 ? "too_large" : "bad_request";
    const std::string message = "the HTTP request was rejected (status " + std::to_string(res.status) + ")";
    const nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
    res.set_content(body.dump(), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(R"({"error":{"code":"internal","message":"internal error"}})", "application/json");
  });
}

HttpServer::~HttpServer() {
  stop();
  ::close(wake_[0]);
  ::close(wake_[1]);
}

int HttpServer::bind(const std::string& host, int port) {
  if (!is_loopback_host(host)) {
    if (!service_.authenticates())
      throw std::runtime_error("refusing to listen on " + host + " without client tokens: anyone on the network "
                               "could use the service (give --tokens, or listen on 127.0.0.1)");
    if (!tls_)
      throw std::runtime_error("refusing to listen on " + host + " without TLS: tokens, keys and ciphertexts "
                               "would cross the network in clear (give --tls-cert and --tls-key)");
  }
  const int bound = port == 0 ? engine_->bind_to_any_port(host) : (engine_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port));
  ::listen(engine_->listening_socket(), kListenBacklog);  // httplib's backlog is 5
  return bound;
}

void HttpServer::serve() {
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.connection_threads); ++i)
      workers_.emplace_back([this] { work(); });
  }
  accept_connections();
}

void HttpServer::serve_in_background() { thread_ = std::thread([this] { serve(); }); }

void HttpServer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (auto* connection : active_) connection->abort();
  }
  const char byte = 0;
  (void)!::write(wake_[1], &byte, 1);
  ready_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  for (const auto& accepted : waiting_) ::close(accepted.fd);
  waiting_.clear();
  engine_->close_listening_socket();
}

void HttpServer::accept_connections() {
  const int listening = engine_->listening_socket();
  if (listening < 0) throw std::runtime_error("serve() before bind()");
  for (;;) {
    pollfd fds[2] = {{listening, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (fds[1].revents) break;
    if (!(fds[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listening, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors: the pending connection stays in the backlog; give the threads time to close some.
      if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    Accepted accepted{fd, peer_address(fd), Connection::Clock::now()};
    const char* refused = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (per_address_[accepted.address] >= options_.max_connections_per_address) refused = "per_address";
      else if (waiting_.size() >= options_.max_waiting_connections) refused = "busy";
      if (refused) {
        if (per_address_[accepted.address] == 0) per_address_.erase(accepted.address);
      } else {
        ++per_address_[accepted.address];
        waiting_.push_back(std::move(accepted));
      }
    }
    if (refused) {
      service_.metrics().connection_refused(refused);
      ::close(fd);
    } else {
      ready_.notify_one();
    }
  }
}

void HttpServer::work() {
  for (;;) {
    Accepted accepted;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      accepted = std::move(waiting_.front());
      waiting_.pop_front();
    }
    serve_connection(accepted);
  }
}

void HttpServer::serve_connection(const Accepted& accepted) {
  Connection connection(accepted.fd, tls_ ? tls_->get() : nullptr, options_.limits, accepted.at);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      if (--per_address_[accepted.address] == 0) per_address_.erase(accepted.address);
      return;
    }
    active_.insert(&connection);
  }
  try {
    if (connection.handshake()) engine_->process(connection);
  } catch (const std::exception& e) {
    spdlog::warn("connection from {}: {}", accepted.address, e.what());
  }
  if (connection.expired()) service_.metrics().connection_refused("deadline");
  {
    // The answer is out: the client may open its next connection while this one drains (Connection's destructor).
    std::lock_guard lock(mutex_);
    active_.erase(&connection);
    if (--per_address_[accepted.address] == 0) per_address_.erase(accepted.address);
  }
}

}  // namespace cryptounet::serve
