// The server's TLS configuration (OpenSSL): certificate chain and private key in PEM, TLS 1.2 or newer only.
#pragma once
#include <filesystem>

typedef struct ssl_ctx_st SSL_CTX;

namespace cryptounet::serve {

class TlsContext {
 public:
  // Throws std::runtime_error with OpenSSL's reason if a file is unreadable or the key does not match the
  // certificate.
  TlsContext(const std::filesystem::path& certificate_chain, const std::filesystem::path& private_key);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }

 private:
  SSL_CTX* ctx_;
};

}  // namespace cryptounet::serve
