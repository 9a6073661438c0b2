// The one error type of the service: an HTTP status, a stable machine-readable code and a human message.
// Server side, every handler failure becomes {"error": {"code": ..., "message": ...}} with this status (service.cpp);
// client side, ServiceClient rebuilds it from that answer (client.cpp).
#pragma once
#include <stdexcept>
#include <string>

namespace cryptounet::serve {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

}  // namespace cryptounet::serve
