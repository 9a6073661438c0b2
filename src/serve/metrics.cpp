#include "serve/metrics.h"

#include <fmt/format.h>

namespace cryptounet::serve {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string prefix = labels.empty() ? "" : labels + ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? fmt::format("{}", bounds_[i]) : "+Inf";
    out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, prefix, le, cumulative);
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += fmt::format("{}_sum{} {:.6f}\n", name, braces, sum_);
  out += fmt::format("{}_count{} {}\n", name, braces, count_);
}

std::string escape_label(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

Metrics::Metrics(std::vector<std::string> layer_names)
    : layer_names_(std::move(layer_names)), layers_(layer_names_.size()) {}

void Metrics::job_completed(bool succeeded, double seconds) {
  std::lock_guard lock(mutex_);
  auto& t = succeeded ? succeeded_ : failed_;
  ++t.count;
  t.seconds += seconds;
}

void Metrics::layer_completed(std::size_t index, double seconds) {
  std::lock_guard lock(mutex_);
  if (index >= layers_.size()) return;
  ++layers_[index].count;
  layers_[index].seconds += seconds;
}

void Metrics::upload_rejected(const std::string& code) {
  std::lock_guard lock(mutex_);
  ++rejected_[code];
}

void Metrics::bytes_received(std::uint64_t n) {
  std::lock_guard lock(mutex_);
  bytes_received_ += n;
}

void Metrics::auth_failed() {
  std::lock_guard lock(mutex_);
  ++auth_failures_;
}

void Metrics::connection_refused(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++refused_connections_[reason];
}

std::string Metrics::render(const JobStore::Counts& jobs, std::size_t keys) const {
  std::lock_guard lock(mutex_);
  std::string out;
  auto line = [&out](const std::string& text) { out += text + "\n"; };
  line("# HELP cryptounet_jobs Jobs currently held by the server, by state.");
  line("# TYPE cryptounet_jobs gauge");
  line(fmt::format("cryptounet_jobs{{state=\"queued\"}} {}", jobs.queued));
  line(fmt::format("cryptounet_jobs{{state=\"running\"}} {}", jobs.running));
  line(fmt::format("cryptounet_jobs{{state=\"done\"}} {}", jobs.done));
  line(fmt::format("cryptounet_jobs{{state=\"failed\"}} {}", jobs.failed));
  line("# HELP cryptounet_keys Evaluation-key bundles registered.");
  line("# TYPE cryptounet_keys gauge");
  line(fmt::format("cryptounet_keys {}", keys));
  line("# HELP cryptounet_jobs_completed_total Jobs completed since start, by outcome.");
  line("# TYPE cryptounet_jobs_completed_total counter");
  line(fmt::format("cryptounet_jobs_completed_total{{outcome=\"succeeded\"}} {}", succeeded_.count));
  line(fmt::format("cryptounet_jobs_completed_total{{outcome=\"failed\"}} {}", failed_.count));
  line("# HELP cryptounet_job_seconds_sum Total inference time of completed jobs.");
  line("# TYPE cryptounet_job_seconds_sum counter");
  line(fmt::format("cryptounet_job_seconds_sum{{outcome=\"succeeded\"}} {:.6f}", succeeded_.seconds));
  line(fmt::format("cryptounet_job_seconds_sum{{outcome=\"failed\"}} {:.6f}", failed_.seconds));
  line("# HELP cryptounet_layer_seconds Time spent in each layer over all jobs (sum and count).");
  line("# TYPE cryptounet_layer_seconds summary");
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    line(fmt::format("cryptounet_layer_seconds_sum{{layer=\"{}\",index=\"{}\"}} {:.6f}", layer_names_[i], i,
                     layers_[i].seconds));
    line(fmt::format("cryptounet_layer_seconds_count{{layer=\"{}\",index=\"{}\"}} {}", layer_names_[i], i,
                     layers_[i].count));
  }
  line("# HELP cryptounet_uploads_rejected_total Uploads refused, by error code.");
  line("# TYPE cryptounet_uploads_rejected_total counter");
  for (const auto& [code, n] : rejected_)
    line(fmt::format("cryptounet_uploads_rejected_total{{code=\"{}\"}} {}", code, n));
  line("# HELP cryptounet_received_bytes_total Request body bytes received.");
  line("# TYPE cryptounet_received_bytes_total counter");
  line(fmt::format("cryptounet_received_bytes_total {}", bytes_received_));
  line("# HELP cryptounet_auth_failures_total Requests refused for a missing or unknown token.");
  line("# TYPE cryptounet_auth_failures_total counter");
  line(fmt::format("cryptounet_auth_failures_total {}", auth_failures_));
  line("# HELP cryptounet_connections_dropped_total Connections closed without an answer, by reason.");
  line("# TYPE cryptounet_connections_dropped_total counter");
  for (const auto& [reason, n] : refused_connections_)
    line(fmt::format("cryptounet_connections_dropped_total{{reason=\"{}\"}} {}", reason, n));
  return out;
}

}  // namespace cryptounet::serve
