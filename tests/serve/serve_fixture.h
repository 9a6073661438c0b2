// A Service with the fake backend behind a real HTTP server on 127.0.0.1 (ephemeral port), in a fresh data dir.
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

namespace cryptounet::serve::testing {

constexpr std::uint64_t kFingerprint = FakeBackend::Options{}.fingerprint;

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
  void start(ServiceConfig config = {}, FakeBackend::Options backend_options = {}) {
    if (config.data_dir == ServiceConfig{}.data_dir) config.data_dir = dir_ / "data";
    if (!backend_) backend_ = std::make_unique<FakeBackend>(backend_options);
    service_ = std::make_unique<Service>(config, *backend_);
    http_ = std::make_unique<HttpServer>(*service_);
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
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  httplib::Client raw() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30);
    return c;
  }
  ServiceClient client() const { return ServiceClient(url()); }
  std::filesystem::path file(const std::string& name, const std::string& bytes) { return write_file(dir_ / name, bytes); }
  std::string register_keys() {
    return client().upload_keys(file("keys.bin", FakeBackend::make_keys(kFingerprint, "public evaluation keys")));
  }

  std::filesystem::path dir_ = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
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
