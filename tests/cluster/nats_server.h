// A nats-server with JetStream for one test: loopback only, a client port the server picks itself (-p -1, read back
// from its ports file), a fresh store directory, user/password authentication. Stopped (SIGTERM, then waited for)
// when the object goes away, or with the test process if that dies first.
#pragma once
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cluster/nats_client.h"

namespace cryptounet::cluster::testing {

// Polls `done` until it holds or `limit` passes; the caller asserts on the result.
template <typename Predicate>
bool eventually(Predicate done, std::chrono::seconds limit = std::chrono::seconds(120)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class NatsServer {
 public:
  NatsServer() {
    dir_ = std::filesystem::temp_directory_path() / ("cryptounet-nats-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_ / "store");
    std::filesystem::create_directories(dir_ / "ports");
    credentials_ = dir_ / "credentials";
    std::ofstream(credentials_) << kUser << ":" << kPassword << "\n";
    std::filesystem::permissions(credentials_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::vector<std::string> args = {CRYPTOUNET_NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", "-1",
                                     "-sd", (dir_ / "store").string(), "--ports_file_dir", (dir_ / "ports").string(),
                                     "--user", kUser, "--pass", kPassword, "-l", (dir_ / "server.log").string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("cannot start nats-server");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive a test binary that crashed
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    const auto ports_file = dir_ / "ports" / ("nats-server_" + std::to_string(pid_) + ".ports");
    std::string port_url;
    eventually([&] {
      std::ifstream in(ports_file);
      const auto j = nlohmann::json::parse(in, nullptr, false);
      if (!j.is_object() || !j.contains("nats") || j["nats"].empty()) return false;
      port_url = j["nats"][0].get<std::string>();
      return true;
    }, std::chrono::seconds(60));
    if (port_url.empty()) throw std::runtime_error("nats-server did not report its port");
    url_ = port_url;
  }
  ~NatsServer() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  NatsSettings settings(const std::string& name) const { return NatsSettings{url_, credentials_, name}; }
  const std::string& url() const { return url_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  static constexpr const char* kUser = "cryptounet";
  static constexpr const char* kPassword = "test-password";
  std::filesystem::path dir_, credentials_;
  std::string url_;
  pid_t pid_ = 0;
};

}  // namespace cryptounet::cluster::testing
