// Service counters for /metrics, in the Prometheus text exposition format (scrapable, and readable with curl).
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "serve/job_store.h"

namespace cryptounet::serve {

class Metrics {
 public:
  explicit Metrics(std::vector<std::string> layer_names);

  void job_completed(bool succeeded, double seconds);
  void layer_completed(std::size_t index, double seconds);
  void upload_rejected(const std::string& code);
  void bytes_received(std::uint64_t n);
  void auth_failed();
  // A connection closed before its request was read: "per_address" (too many from one address), "busy" (every
  // connection thread and the queue in front of them taken), "deadline" (request not received in time).
  void connection_refused(const std::string& reason);

  std::string render(const JobStore::Counts& jobs, std::size_t keys) const;

 private:
  struct Timing {
    std::uint64_t count = 0;
    double seconds = 0;
  };
  std::vector<std::string> layer_names_;
  mutable std::mutex mutex_;
  std::vector<Timing> layers_;
  Timing succeeded_, failed_;
  std::map<std::string, std::uint64_t> rejected_;
  std::uint64_t bytes_received_ = 0;
  std::uint64_t auth_failures_ = 0;
  std::map<std::string, std::uint64_t> refused_connections_;
};

}  // namespace cryptounet::serve
