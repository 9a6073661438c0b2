// Client side of the service, used by `cryptounet client` and the tests: streams uploads from files and downloads
// to files (atomically), reports transfer progress, and turns every error answer into an exception carrying the
// server's JSON message.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace httplib {
class Client;
}

namespace cryptounet::serve {

// An error answer from the server (status >= 400), or a transport failure (status 0).
class ClientError : public std::runtime_error {
 public:
  ClientError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

// Called during uploads and downloads with bytes done and bytes total.
using TransferProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;

class ServiceClient {
 public:
  // server: "http://host:port"
  explicit ServiceClient(const std::string& server);
  ~ServiceClient();

  nlohmann::json health();
  std::string upload_keys(const std::filesystem::path& keys, const TransferProgress& progress = {});
  std::string submit(const std::string& key_id, const std::filesystem::path& batch,
                     const TransferProgress& progress = {});
  nlohmann::json status(const std::string& job_id);
  // Polls until the job is done (returns its final status) or failed (throws); on_status sees every poll.
  nlohmann::json wait(const std::string& job_id, const std::function<void(const nlohmann::json&)>& on_status = {},
                      double poll_seconds = 0.5);
  void download(const std::string& job_id, const std::filesystem::path& out, const TransferProgress& progress = {});
  void delete_job(const std::string& job_id);
  void delete_key(const std::string& key_id);

 private:
  std::string upload(const std::string& path, const std::filesystem::path& file, const char* id_field,
                     const TransferProgress& progress);
  nlohmann::json get_json(const std::string& path);
  void del(const std::string& path);

  std::unique_ptr<httplib::Client> http_;
};

}  // namespace cryptounet::serve
