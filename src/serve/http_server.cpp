#include "serve/http_server.h"

#include <httplib.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

namespace cryptounet::serve {
namespace {

constexpr std::size_t kSendChunk = std::size_t{1} << 20;

void forward(Service& service, const httplib::Request& req, httplib::Response& res,
             const httplib::ContentReader* reader) {
  Request request{req.method, req.path, {}, {}};
  if (req.has_header("Content-Length")) {
    // strtoull semantics: an unparsable value reads as 0 and then fails as a truncated or empty body.
    request.declared_length = req.get_header_value<std::uint64_t>("Content-Length");
  }
  bool consumed = false;
  if (reader) {
    request.read_body = [&](const BodySink& sink) {
      consumed = true;
      return (*reader)([&](const char* data, std::size_t size) { return sink(data, size); });
    };
  } else if (!req.body.empty()) {
    request.read_body = [&](const BodySink& sink) { return sink(req.body.data(), req.body.size()); };
  }
  auto response = service.handle(request);
  res.status = response.status;
  for (const auto& [name, value] : response.headers) res.set_header(name, value);
  // An unread body would be parsed as the next request of a kept-alive connection: close it instead.
  if (reader && !consumed) res.set_header("Connection", "close");
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

HttpServer::HttpServer(Service& service, std::size_t connection_threads)
    : service_(service), server_(std::make_unique<httplib::Server>()) {
  // A client that hangs up mid-transfer must not kill the server with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  auto& s = *server_;
  s.new_task_queue = [connection_threads] { return new httplib::ThreadPool(connection_threads); };
  // httplib rejects a larger Content-Length up front (413); Service also counts the bytes of chunked bodies.
  s.set_payload_max_length(static_cast<std::size_t>(service.config().max_body_bytes));
  s.set_read_timeout(60);
  s.set_write_timeout(60);

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

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind(const std::string& host, int port) {
  const int bound = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port));
  return bound;
}

void HttpServer::serve() { server_->listen_after_bind(); }

void HttpServer::serve_in_background() {
  thread_ = std::thread([this] { serve(); });
  while (!server_->is_running()) std::this_thread::yield();
}

void HttpServer::stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cryptounet::serve
