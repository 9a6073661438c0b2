// A Service with the fake backend behind a real HTTPS server on 127.0.0.1 (ephemeral port, throwaway self-signed
// certificate), in a fresh data dir, with two clients: "alice" (an admin) and "bob". Tests that speak raw HTTP on
// a socket set plain_http_; tests of the token-less loopback mode set anonymous_.
#pragma once
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "serve/client.h"
#include "serve/fake_backend.h"
#include "serve/http_server.h"
#include "serve/service.h"
#include "test_certificate.h"

namespace cryptounet::serve::testing {

constexpr std::uint64_t kFingerprint = FakeBackend::Options{}.fingerprint;
inline const std::string kAlice = "alice", kBob = "bob";

inline std::string token_of(const std::string& client) { return client + "-token-0123456789abcdef0123456789abcdef"; }

inline std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("cryptounet-serve-" + name + "-" + std::to_string(std::random_device{}()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::filesystem::path write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class ServeFixture : public ::testing::Test {
 protected:
  void start(ServiceConfig config = {}, FakeBackend::Options backend_options = {}, HttpOptions http = {}) {
    if (config.data_dir == ServiceConfig{}.data_dir) config.data_dir = dir_ / "data";
    if (!anonymous_ && !config.tokens) {
      config.tokens = std::make_shared<TokenTable>(
          TokenTable::from_pairs({{kAlice, token_of(kAlice)}, {kBob, token_of(kBob)}}));
      config.admins = {kAlice};
    }
    if (!plain_http_) {
      if (!std::filesystem::exists(certificate())) write_self_signed_certificate(certificate(), dir_ / "key.pem");
      http.tls_certificate = certificate();
      http.tls_private_key = dir_ / "key.pem";
    }
    if (!backend_) backend_ = std::make_unique<FakeBackend>(backend_options);
    service_ = std::make_unique<Service>(config, *backend_);
    http_ = std::make_unique<HttpServer>(*service_, http);
    port_ = http_->bind("127.0.0.1", 0);
    http_->serve_in_background();
  }
  void stop() {
    http_.reset();
    service_.reset();
  }
  void TearDown() override {
    stop();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path certificate() const { return dir_ / "cert.pem"; }
  std::string url() const {
    return std::string(plain_http_ ? "http" : "https") + "://127.0.0.1:" + std::to_string(port_);
  }
  ClientCredentials credentials(const std::string& client = kAlice) const {
    return {anonymous_ ? "" : token_of(client), plain_http_ ? "" : certificate()};
  }
  // httplib's own client, for requests ServiceClient would refuse to make; `token` empty: none sent.
  httplib::Client raw_with_token(const std::string& token) const {
    httplib::Client c(url());
    if (!plain_http_) c.set_ca_cert_path(certificate().string());
    if (!token.empty()) c.set_bearer_token_auth(token);
    c.set_read_timeout(30);
    return c;
  }
  httplib::Client raw(const std::string& client = kAlice) const {
    return raw_with_token(anonymous_ ? "" : token_of(client));
  }
  ServiceClient client(const std::string& name = kAlice) const { return ServiceClient(url(), credentials(name)); }
  std::filesystem::path file(const std::string& name, const std::string& bytes) { return write_file(dir_ / name, bytes); }
  std::string register_keys(const std::string& name = kAlice) {
    return client(name).upload_keys(file("keys.bin", FakeBackend::make_keys(kFingerprint, "public evaluation keys")));
  }

  std::filesystem::path dir_ = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  bool plain_http_ = false;
  bool anonymous_ = false;
  std::unique_ptr<FakeBackend> backend_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<HttpServer> http_;
  int port_ = 0;
};

// The error code of a JSON error answer.
inline std::string error_code(const httplib::Result& r) {
  const auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("error")) return "<not a JSON error: " + r->body + ">";
  return j["error"].value("code", "");
}

}  // namespace cryptounet::serve::testing
