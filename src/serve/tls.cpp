#include "serve/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>
#include <string>

namespace cryptounet::serve {
namespace {

std::runtime_error openssl_error(const std::string& what) {
  char reason[256] = "unknown error";
  if (const auto code = ERR_get_error()) ERR_error_string_n(code, reason, sizeof reason);
  ERR_clear_error();
  return std::runtime_error(what + ": " + reason);
}

}  // namespace

TlsContext::TlsContext(const std::filesystem::path& certificate_chain, const std::filesystem::path& private_key)
    : ctx_(SSL_CTX_new(TLS_server_method())) {
  if (!ctx_) throw openssl_error("cannot create a TLS context");
  try {
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx_, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    // Connection writes from whatever buffer httplib hands over and accepts partial progress on a non-blocking
    // socket (connection.cpp).
    SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx_, certificate_chain.c_str()) != 1)
      throw openssl_error("cannot load the TLS certificate " + certificate_chain.string());
    if (SSL_CTX_use_PrivateKey_file(ctx_, private_key.c_str(), SSL_FILETYPE_PEM) != 1)
      throw openssl_error("cannot load the TLS private key " + private_key.string());
    if (SSL_CTX_check_private_key(ctx_) != 1)
      throw openssl_error("the TLS private key does not match the certificate");
  } catch (...) {
    SSL_CTX_free(ctx_);
    throw;
  }
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

}  // namespace cryptounet::serve
