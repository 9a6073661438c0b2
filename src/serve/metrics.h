// Service counters for /metrics, in the Prometheus text exposition format (scrapable, and readable with curl).
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "serve/job_store.h"

namespace cryptounet::serve {

// A Prometheus histogram: counts of observations at or under each fixed upper bound (cumulative, as the format
// wants), their sum and count. Not synchronised: its owner locks.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // The _bucket, _sum and _count lines of `name`, with `labels` (`key="value"` pairs, may be empty) on each.
  void render(std::string& out, const std::string& name, const std::string& labels = "") const;

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bound, not cumulative; the last one is +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// A label value with the characters the text format escapes (backslash, double quote, newline) escaped.
std::string escape_label(const std::string& value);

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
