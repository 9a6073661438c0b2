#include "serve/job_store.h"

#include <fstream>
#include <iterator>
#include <spdlog/spdlog.h>

#include "serve/api_error.h"
#include "serve/atomic_file.h"
#include "serve/ids.h"
#include "io/json_number.h"

namespace cryptounet::serve {
namespace {

constexpr const char* kStatusFile = "job.json";

double unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
double now_seconds() { return unix_seconds(std::chrono::system_clock::now()); }

JobState parse_state(const std::string& name) {
  for (auto s : {JobState::Queued, JobState::Running, JobState::Done, JobState::Failed})
    if (name == to_string(s)) return s;
  throw std::runtime_error("unknown job state '" + name + "'");
}

nlohmann::json to_disk_json(const JobStatus& s) {
  return {{"id", s.id},
          {"owner", s.owner},
          {"key_id", s.key_id},
          {"state", to_string(s.state)},
          {"error", s.error},
          {"attempts", s.attempts},
          {"layer_seconds", s.layer_seconds},
          {"layers_done", s.layers_done},
          {"first_ciphertext", s.first_ciphertext},
          {"group_size", s.group_size},
          {"ciphertext_count", s.ciphertext_count},
          {"created_at", s.created_at},
          {"started_at", s.started_at},
          {"finished_at", s.finished_at},
          {"expires_at", s.expires_at}};
}

JobStatus from_disk_json(const nlohmann::json& j) {
  JobStatus s;
  s.id = j.at("id").get<std::string>();
  s.owner = j.at("owner").get<std::string>();
  s.key_id = j.at("key_id").get<std::string>();
  s.state = parse_state(j.at("state").get<std::string>());
  s.error = j.at("error").get<std::string>();
  s.attempts = io::json_integer_or<std::size_t>(j, "attempts", 0, 0, 1 << 20);
  s.layer_seconds = j.at("layer_seconds").get<std::vector<double>>();
  s.layers_done = j.at("layers_done").get<std::size_t>();
  s.first_ciphertext = j.at("first_ciphertext").get<std::size_t>();
  s.group_size = j.at("group_size").get<std::size_t>();
  s.ciphertext_count = j.at("ciphertext_count").get<std::size_t>();
  s.created_at = j.at("created_at").get<double>();
  s.started_at = j.at("started_at").get<double>();
  s.finished_at = j.at("finished_at").get<double>();
  s.expires_at = j.at("expires_at").get<double>();
  return s;
}

}  // namespace

const char* to_string(JobState state) {
  switch (state) {
    case JobState::Queued: return "queued";
    case JobState::Running: return "running";
    case JobState::Done: return "done";
    case JobState::Failed: return "failed";
  }
  return "unknown";
}

nlohmann::json to_json(const JobStatus& s, const std::vector<std::string>& layer_names) {
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t i = 0; i < s.layer_seconds.size() && i < layer_names.size(); ++i)
    layers.push_back({{"name", layer_names[i]}, {"seconds", s.layer_seconds[i]}});
  // Fraction of the batch's ciphertexts through the network, counting the current group by its layers done.
  const double group_fraction = static_cast<double>(s.layers_done) /
                                static_cast<double>(std::max<std::size_t>(1, layer_names.size()));
  const double progress =
      s.state == JobState::Done
          ? 1.0
          : std::min(1.0, (static_cast<double>(s.first_ciphertext) + static_cast<double>(s.group_size) * group_fraction) /
                              static_cast<double>(std::max<std::size_t>(1, s.ciphertext_count)));
  nlohmann::json out = {{"job_id", s.id},
                        {"key_id", s.key_id},
                        {"state", to_string(s.state)},
                        {"layers_done", s.state == JobState::Done ? layer_names.size() : s.layers_done},
                        {"layers_total", layer_names.size()},
                        {"ciphertexts", {{"first", s.first_ciphertext},
                                         {"group", s.group_size},
                                         {"total", s.ciphertext_count}}},
                        {"progress", progress},
                        {"layers", layers},
                        {"created_at", s.created_at},
                        {"started_at", s.started_at},
                        {"finished_at", s.finished_at},
                        {"expires_at", s.expires_at}};
  if (s.state == JobState::Running && s.layers_done < layer_names.size())
    out["current_layer"] = layer_names[s.layers_done];
  if (s.state == JobState::Failed) out["error"] = s.error;
  return out;
}

JobStore::JobStore(Options options) : options_(std::move(options)) {
  std::filesystem::create_directories(options_.dir);
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir)) {
    const auto id = entry.path().filename().string();
    try {
      if (!is_valid_id(id)) throw std::runtime_error("not a job folder");
      std::ifstream in(entry.path() / kStatusFile);
      Job job{from_disk_json(nlohmann::json::parse(in)), false};
      if (job.status.id != id) throw std::runtime_error("id mismatch");
      if (job.status.state == JobState::Done && !std::filesystem::exists(result_path(id)))
        throw std::runtime_error("result file missing");
      if (job.status.state == JobState::Running) {  // the process died during this run
        if (job.status.attempts >= options_.max_attempts) {
          give_up(job, "the server stopped during each of its " + std::to_string(job.status.attempts) +
                           " runs; not run again");
        } else {
          job.status.state = JobState::Queued;
        }
      }
      if (job.status.state == JobState::Queued) {  // progress of the interrupted run is void
        job.status.layer_seconds.clear();
        job.status.layers_done = job.status.first_ciphertext = 0;
        job.status.started_at = 0;
      }
      jobs_.emplace(id, std::move(job));
    } catch (const std::exception& e) {
      // Only an accepted job has a job.json; anything else is an interrupted creation.
      spdlog::warn("discarding {}: {}", entry.path().string(), e.what());
      std::error_code ignored;
      std::filesystem::remove_all(entry.path(), ignored);
    }
  }
}

std::vector<std::string> JobStore::unfinished() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<double, std::string>> pending;
  for (const auto& [id, job] : jobs_)
    if (job.status.state == JobState::Queued) pending.emplace_back(job.status.created_at, id);
  std::sort(pending.begin(), pending.end());
  std::vector<std::string> ids;
  for (auto& p : pending) ids.push_back(std::move(p.second));
  return ids;
}

std::filesystem::path JobStore::dir_of(const std::string& id) const { return options_.dir / id; }
std::filesystem::path JobStore::input_path(const std::string& id) const { return dir_of(id) / "input.bin"; }
std::filesystem::path JobStore::keys_path(const std::string& id) const { return dir_of(id) / "keys.bin"; }
std::filesystem::path JobStore::result_path(const std::string& id) const { return dir_of(id) / "result.bin"; }

void JobStore::persist(const Job& job) const {
  options_.files->write_atomically(dir_of(job.status.id) / kStatusFile, to_disk_json(job.status).dump());
}

std::string JobStore::try_persist(const Job& job) const noexcept {
  try {
    persist(job);
    return {};
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

void JobStore::give_up(Job& job, const std::string& message) const noexcept {
  auto& s = job.status;
  s.state = JobState::Failed;
  s.error = message;
  s.finished_at = now_seconds();
  s.expires_at = s.finished_at + static_cast<double>(options_.result_ttl.count());
  if (const auto error = try_persist(job); !error.empty()) {
    // The job stays failed in this process; after a restart its attempts bound it.
    s.error += " (and the failure could not be recorded: " + error + ")";
    spdlog::error("job {}: cannot record its failure: {}", s.id, error);
  }
}

std::string JobStore::create(const std::string& owner, const std::string& key_id, const std::filesystem::path& key_file,
                             const std::filesystem::path& uploaded_batch) {
  const auto id = random_id();
  const auto dir = dir_of(id);
  std::filesystem::create_directory(dir);
  try {
    std::filesystem::rename(uploaded_batch, input_path(id));
    std::error_code link_error;
    std::filesystem::create_hard_link(key_file, keys_path(id), link_error);
    if (link_error) std::filesystem::copy_file(key_file, keys_path(id));
    Job job;
    job.status.id = id;
    job.status.owner = owner;
    job.status.key_id = key_id;
    job.status.created_at = now_seconds();
    persist(job);  // from here on the job is accepted and survives a restart
    std::lock_guard lock(mutex_);
    jobs_.emplace(id, std::move(job));
  } catch (const std::system_error& e) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    if (is_out_of_space(e.code()))
      throw ApiError(507, "insufficient_storage", "the server's disk is full; retry later");
    throw;
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    throw;
  }
  return id;
}

std::optional<JobStatus> JobStore::status(const std::string& id) const {
  std::lock_guard lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.cancelled) return std::nullopt;
  return it->second.status;
}

bool JobStore::start(const std::string& id) {
  std::lock_guard lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.status.state != JobState::Queued) return false;
  auto& s = it->second.status;
  s.state = JobState::Running;
  s.started_at = now_seconds();
  ++s.attempts;
  // Recorded before the run, so that a run that kills the process counts against the job after a restart.
  if (const auto error = try_persist(it->second); !error.empty()) {
    give_up(it->second, "cannot record the start of the job: " + error);
    return false;
  }
  return true;
}

bool JobStore::layer_done(const std::string& id, const LayerDone& layer) {
  std::lock_guard lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.cancelled) return false;
  auto& s = it->second.status;
  if (s.layer_seconds.size() <= layer.index) s.layer_seconds.resize(layer.index + 1, 0.0);
  s.layer_seconds[layer.index] += layer.seconds;
  s.layers_done = layer.index + 1;
  s.first_ciphertext = layer.first_ciphertext;
  s.group_size = layer.group_size;
  s.ciphertext_count = layer.ciphertext_count;
  return true;
}

void JobStore::erase_locked(std::map<std::string, Job>::iterator it) {
  std::error_code ignored;
  std::filesystem::remove_all(dir_of(it->first), ignored);
  jobs_.erase(it);
}

void JobStore::finish(const std::string& id, const std::filesystem::path& written_result) {
  std::lock_guard lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  if (it->second.cancelled) return erase_locked(it);
  options_.files->publish(written_result, result_path(id));
  auto& s = it->second.status;
  s.state = JobState::Done;
  s.finished_at = now_seconds();
  s.expires_at = s.finished_at + static_cast<double>(options_.result_ttl.count());
  persist(it->second);
  // The input is no longer needed once the result is safely on disk.
  std::error_code ignored;
  std::filesystem::remove(input_path(id), ignored);
  std::filesystem::remove(keys_path(id), ignored);
}

void JobStore::fail(const std::string& id, const std::string& message) noexcept {
  std::lock_guard lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  if (it->second.cancelled) return erase_locked(it);
  give_up(it->second, message);
}

void JobStore::requeue(const std::string& id) noexcept {
  std::lock_guard lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  if (it->second.cancelled) return erase_locked(it);
  auto& s = it->second.status;
  s.state = JobState::Queued;
  s.attempts -= std::min<std::size_t>(s.attempts, 1);
  s.layer_seconds.clear();
  s.layers_done = s.first_ciphertext = 0;
  s.started_at = 0;
  // If this is lost, the job.json says "running" and the restart counts the run as an attempt: still bounded.
  if (const auto error = try_persist(it->second); !error.empty())
    spdlog::warn("job {}: cannot record its return to the queue: {}", id, error);
}

bool JobStore::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.cancelled) return false;
  if (it->second.status.state == JobState::Running) it->second.cancelled = true;
  else erase_locked(it);
  return true;
}

ResultStream JobStore::open_result(const std::string& id) {
  std::lock_guard lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.cancelled) throw ApiError(404, "unknown_job", "no job with this id");
  auto& s = it->second.status;
  if (s.state == JobState::Failed) throw ApiError(409, "job_failed", "the job failed: " + s.error);
  if (s.state != JobState::Done)
    throw ApiError(409, "not_ready", std::string("the job is ") + to_string(s.state) + "; poll its status");
  auto file = std::make_shared<std::ifstream>(result_path(id), std::ios::binary);
  if (!*file) throw std::runtime_error("result file of job " + id + " is unreadable");
  const auto size = std::filesystem::file_size(result_path(id));
  s.expires_at = std::min(s.expires_at, now_seconds() + static_cast<double>(options_.fetched_ttl.count()));
  return {file, size};
}

std::size_t JobStore::expire(std::chrono::system_clock::time_point now) {
  std::lock_guard lock(mutex_);
  const double t = unix_seconds(now);
  std::size_t removed = 0;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    const auto& s = it->second.status;
    const bool finished = s.state == JobState::Done || s.state == JobState::Failed;
    if (finished && s.expires_at <= t) {
      erase_locked(it++);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

JobStore::Counts JobStore::counts() const {
  std::lock_guard lock(mutex_);
  Counts c;
  for (const auto& [id, job] : jobs_) {
    if (job.cancelled) continue;
    switch (job.status.state) {
      case JobState::Queued: ++c.queued; break;
      case JobState::Running: ++c.running; break;
      case JobState::Done: ++c.done; break;
      case JobState::Failed: ++c.failed; break;
    }
  }
  return c;
}

JobStore::Usage JobStore::usage(const std::string& owner) const {
  std::lock_guard lock(mutex_);
  Usage u;
  for (const auto& [id, job] : jobs_) {
    if (job.status.owner != owner) continue;
    if (job.status.state == JobState::Queued || job.status.state == JobState::Running) ++u.unfinished;
    auto partial = result_path(id);
    partial += ".partial";
    // keys.bin is not counted: it is a link to the client's key bundle, counted by the key store.
    for (const auto& file : {input_path(id), result_path(id), partial}) {
      std::error_code absent;
      const auto size = std::filesystem::file_size(file, absent);
      if (!absent) u.bytes += size;
    }
  }
  return u;
}

}  // namespace cryptounet::serve
