// Client side of the service, used by `cryptounet client` and the tests: streams uploads from files and downloads
// to files (atomically), reports transfer progress, and turns every error answer into an ApiError carrying the
// server's status, code and message (status 0: the transport failed; 200 with code "job_failed" from wait()).
// Everything the server sends is treated as hostile: JSON answers are size-capped, numbers range-checked
// (io/json_number.h), ids validated before use, and its messages stripped of control characters.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "serve/api_error.h"

namespace httplib {
class Client;
}

namespace cryptounet::serve {

// Called during uploads and downloads with bytes done and bytes total.
using TransferProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct ClientCredentials {
  std::string token;              // sent as "Authorization: Bearer <token>"; empty: none
  std::filesystem::path ca_file;  // https: the CA certificate(s) (PEM) to verify the server with; empty: system CAs
};

class ServiceClient {
 public:
  // server: "https://host:port" (the server's certificate is always verified) or "http://host:port". A token is
  // never sent over plain HTTP to another machine: that combination throws std::invalid_argument.
  explicit ServiceClient(const std::string& server, const ClientCredentials& credentials = {});
  ~ServiceClient();

  nlohmann::json health();
  nlohmann::json usage();  // this client's holdings and quotas (also checks the token)
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
