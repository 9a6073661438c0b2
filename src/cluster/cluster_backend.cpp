#include "cluster/cluster_backend.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "ckks/serialization.h"
#include "cluster/topology.h"
#include "henn/batch.h"
#include "henn/key_bundle.h"
#include "io/json_number.h"
#include "serve/atomic_file.h"

namespace cryptounet::cluster {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

constexpr std::size_t kMaxKeptKeysFileBytes = 64 * 1024;
constexpr std::int64_t kAdvisoryDrainMs = 5000;  // longest wait at destruction for an advisory being handled
// How often a job waiting for results makes sure its task queue still exists (another front end that shares the
// bundle deletes it when its own last job on it ends).
constexpr auto kQueueCheckInterval = std::chrono::seconds(10);

// The hashes a kept-keys file lists, most recently used first; an unreadable or damaged file lists none (its
// bundles then stay in NATS until deleted by hand, as before the file existed).
std::vector<std::string> read_kept_keys(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string text(kMaxKeptKeysFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (text.size() > kMaxKeptKeysFileBytes || !j.is_array()) {
    spdlog::warn("{} is not a list of key blobs: ignored", path.string());
    return {};
  }
  std::vector<std::string> hashes;
  for (const auto& h : j)
    if (h.is_string() && is_content_hash(h.get<std::string>())) hashes.push_back(h.get<std::string>());
  return hashes;
}

std::pair<std::uint64_t, std::uint64_t> inode_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path.string());
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

std::string serialize(const ckks::Context& context, const std::vector<ckks::Ciphertext>& cts) {
  std::ostringstream out;
  ckks::save(out, context, cts);
  return std::move(out).str();
}

}  // namespace

ClusterBackend::ClusterBackend(ClusterConfig config, nn::Model model)
    : config_(std::move(config)), local_(std::move(model)), nats_(config_.nats), blobs_(nats_) {
  ensure_streams(nats_, config_.stream_replicas);
  adopt_kept_keys();
  // From the first advisory kept: those that came while no front end was running are handled now.
  advisories_ = nats_.subscribe_ordered(kAdvisoryStream, kMaxDeliveriesAdvisories, "subscribing to delivery advisories",
                                       &ClusterBackend::on_advisory, this);
}

ClusterBackend::~ClusterBackend() {
  if (natsSubscription_Drain(advisories_.get()) == NATS_OK)
    natsSubscription_WaitForDrainCompletion(advisories_.get(), kAdvisoryDrainMs);
  advisories_.reset();
}

void ClusterBackend::on_advisory(natsConnection*, natsSubscription*, natsMsg* msg, void* self) {
  const MsgPtr owned(msg);
  try {
    static_cast<ClusterBackend*>(self)->give_up_task(
        std::string_view(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
  } catch (const std::exception& e) {
    spdlog::warn("delivery advisory: {}", e.what());
  }
}

void ClusterBackend::give_up_task(std::string_view advisory) {
  if (advisory.size() > kMaxMessageBytes) throw std::runtime_error("advisory too large");
  const auto j = nlohmann::json::parse(advisory, nullptr, false);
  if (!j.is_object() || !j.contains("stream_seq") || !j.contains("deliveries"))
    throw std::runtime_error("not a max-deliveries advisory");
  const auto seq = io::json_integer<std::uint64_t>(j.at("stream_seq"), "stream_seq", 1);
  const auto deliveries = io::json_integer<std::uint64_t>(j.at("deliveries"), "deliveries", 0);
  // The task stays in the work queue after its last delivery; gone means its job is over (purged).
  natsMsg* raw = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus found = js_GetMsg(&raw, nats_.jetstream(), kTaskStream, seq, nullptr, &error);
  const MsgPtr task_msg(raw);
  if (found == NATS_NOT_FOUND || error == JSNoMessageFoundErr) return;
  check(found, "reading a task given up", error);
  const Task task = decode_task(
      std::string_view(natsMsg_GetData(task_msg.get()), static_cast<std::size_t>(natsMsg_GetDataLength(task_msg.get()))));
  if (!has_result(task.job, task.group)) {
    TaskResult r;
    r.job = task.job;
    r.group = task.group;
    r.error = "the task was delivered " + std::to_string(deliveries) +
              " times and no worker finished it (each one stopped or lost its connection while running it)";
    // Every front end sees the advisory; the message id keeps one error result.
    nats_.publish(result_subject(task.job, task.group), encode(r), task.job + "." + std::to_string(task.group),
                  "reporting a task given up");
    metrics_.task_gave_up();
    spdlog::warn("job {} group {}: {}", task.job, task.group, r.error);
  }
  // Left, it would never be delivered again, only counted as queued; purged already if its job has ended since.
  if (js_DeleteMsg(nats_.jetstream(), kTaskStream, seq, nullptr, &error) != NATS_OK)
    spdlog::debug("task {} given up: already deleted", seq);
}

std::string ClusterBackend::metrics() const {
  std::optional<QueueState> queue;
  try {
    const auto queues = list_key_queues(nats_);
    queue = QueueState{};
    queue->queues = queues.size();
    for (const auto& q : queues) {
      queue->pending += q.pending;
      queue->in_flight += q.in_flight;
      queue->redelivered += q.redelivered;
    }
  } catch (const NatsError& e) {
    spdlog::debug("metrics: {}", e.what());
  }
  return metrics_.render(queue);
}

void ClusterBackend::adopt_kept_keys() {
  if (config_.kept_keys_file.empty()) return;
  const auto hashes = read_kept_keys(config_.kept_keys_file);
  const std::size_t limit = std::max<std::size_t>(1, config_.key_blobs_kept);
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < hashes.size() && i < limit; ++i) bundles_.push_back(KeyBundle{{}, hashes[i], nullptr});
    if (hashes.size() > limit) save_kept_keys_locked();
  }
  for (std::size_t i = limit; i < hashes.size(); ++i)
    if (std::find(hashes.begin(), hashes.begin() + limit, hashes[i]) == hashes.begin() + limit) blobs_.remove(hashes[i]);
}

void ClusterBackend::save_kept_keys_locked() const {
  if (config_.kept_keys_file.empty()) return;
  auto list = nlohmann::json::array();
  for (const auto& b : bundles_) list.push_back(b.hash);
  serve::write_file_atomically(config_.kept_keys_file, list.dump());
}

std::string ClusterBackend::job_key(const std::filesystem::path& batch) {
  return content_hash(std::filesystem::absolute(batch).lexically_normal().string()).substr(0, 32);
}

ClusterBackend::KeyBundle ClusterBackend::key_bundle(const std::filesystem::path& keys) {
  const auto inode = inode_of(keys);
  {
    std::lock_guard lock(mutex_);
    const auto it = std::find_if(bundles_.begin(), bundles_.end(), [&](const KeyBundle& b) { return b.inode == inode; });
    if (it != bundles_.end()) {
      bundles_.splice(bundles_.begin(), bundles_, it);
      ++blobs_in_use_[it->hash];
      return *it;
    }
  }
  // The front end needs only the CKKS context to cut the batch into groups: built from the file's header, not its
  // keys. Parameters are deterministic in their spec; a batch under others fails its fingerprint check on load.
  const henn::InferencePlan plan = henn::load_evaluation_key_plan(keys.string());
  KeyBundle bundle{inode, content_hash_of_file(keys), ckks::Context::create(ckks::Parameters::create(plan.spec))};
  blobs_.put_file(keys, bundle.hash);
  std::vector<std::string> evicted;
  {
    std::lock_guard lock(mutex_);
    ++blobs_in_use_[bundle.hash];
    bundles_.remove_if([&](const KeyBundle& b) { return !b.inode && b.hash == bundle.hash; });
    bundles_.push_front(bundle);
    while (bundles_.size() > std::max<std::size_t>(1, config_.key_blobs_kept)) {
      const std::string hash = bundles_.back().hash;
      bundles_.pop_back();
      const bool listed = std::any_of(bundles_.begin(), bundles_.end(), [&](const KeyBundle& b) { return b.hash == hash; });
      if (!listed && blobs_in_use_[hash] == 0) evicted.push_back(hash);
    }
    save_kept_keys_locked();
  }
  for (const auto& hash : evicted) blobs_.remove(hash);
  return bundle;
}

void ClusterBackend::release_key_blob(const std::string& hash) {
  bool remove = false;
  {
    std::lock_guard lock(mutex_);
    const int left = --blobs_in_use_[hash];
    if (left > 0) return;
    blobs_in_use_.erase(hash);
    // Under the lock: a job starting on the bundle counts itself in before it makes sure the queue exists.
    try {
      if (!stopping_) delete_key_queue(nats_, hash);
    } catch (const NatsError& e) {
      spdlog::warn("{} (the queue stays, idle, until deleted by hand)", e.what());
    }
    remove = std::none_of(bundles_.begin(), bundles_.end(), [&](const KeyBundle& b) { return b.hash == hash; });
  }
  if (remove) blobs_.remove(hash);
}

bool ClusterBackend::has_result(const std::string& job, std::size_t group) {
  natsMsg* msg = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = js_GetLastMsg(&msg, nats_.jetstream(), kResultStream, result_subject(job, group).c_str(),
                                          nullptr, &error);
  natsMsg_Destroy(msg);
  if (status == NATS_NOT_FOUND || error == JSNoMessageFoundErr) return false;
  check(status, "looking up a result", error);
  return true;
}

void ClusterBackend::publish_task(const Task& task) {
  const std::string msg_id = task.job + "." + std::to_string(task.group);
  nats_.publish(task_subject(task.keys, task.job, task.group), encode(task), msg_id, "publishing task " + msg_id);
}

void ClusterBackend::purge(const char* stream, const std::string& subject) {
  jsOptions options;
  jsOptions_Init(&options);
  options.Stream.Purge.Subject = subject.c_str();
  jsErrCode error = static_cast<jsErrCode>(0);
  check(js_PurgeStream(nats_.jetstream(), stream, &options, &error), "purging " + subject, error);
}

void ClusterBackend::run(const std::filesystem::path& keys, const std::filesystem::path& batch,
                         const std::filesystem::path& result, const serve::ProgressCallback& progress) {
  const auto started = Clock::now();
  try {
    run_job(keys, batch, result, progress);
  } catch (const serve::Cancelled&) {
    throw;
  } catch (...) {
    metrics_.job_done(false, seconds_since(started));
    throw;
  }
  metrics_.job_done(true, seconds_since(started));
}

void ClusterBackend::run_job(const std::filesystem::path& keys, const std::filesystem::path& batch,
                             const std::filesystem::path& result, const serve::ProgressCallback& progress) {
  const KeyBundle bundle = key_bundle(keys);
  struct KeyUse {
    ClusterBackend& self;
    std::string hash;
    ~KeyUse() {
      try {
        self.release_key_blob(hash);
      } catch (const std::exception& e) {
        spdlog::warn("releasing key blob {}: {}", hash, e.what());
      }
    }
  } key_use{*this, bundle.hash};
  ensure_key_queue(nats_, bundle.hash, config_.task_queues);

  const henn::EncryptedBatch input = henn::load_batch(batch.string(), *bundle.context);
  const std::string job = job_key(batch);
  const std::size_t count = input.ciphertexts.size();
  // A task is what run_inference runs at once: up to kMaxLanes tile groups, each a team of one ciphertext per input
  // channel; it returns one ciphertext per output channel and tile group.
  const std::size_t in_channels = static_cast<std::size_t>(local_.model().input().channels);
  const std::size_t out_channels = static_cast<std::size_t>(local_.model().output().channels);
  const std::size_t lanes = henn::Layout::kMaxLanes * in_channels;
  const std::size_t groups = (count + lanes - 1) / lanes;
  const auto group_size = [&](std::size_t g) { return std::min(lanes, count - g * lanes); };

  // Subscribed before any task is published: an ordered consumer from the start of the job's result subjects also
  // replays the results that came in before a restart.
  const SubscriptionPtr results =
      nats_.subscribe_ordered(kResultStream, job_results_filter(job), "subscribing to results");

  std::vector<std::optional<Clock::time_point>> published(groups);  // by this run, not one before a restart
  std::vector<std::string> blobs;  // this job's ciphertext blobs, inputs and outputs
  const auto clean_up = [&] {
    try {
      purge(kTaskStream, job_tasks_filter(job));
      purge(kResultStream, job_results_filter(job));
      for (const auto& hash : blobs) blobs_.remove(hash);
    } catch (const std::exception& e) {
      spdlog::warn("job {}: cleaning up NATS: {}", job, e.what());
    }
  };

  for (std::size_t g = 0; g < groups; ++g) {
    const std::vector<ckks::Ciphertext> slice(input.ciphertexts.begin() + g * lanes,
                                              input.ciphertexts.begin() + g * lanes + group_size(g));
    blobs.push_back(blobs_.put(serialize(*bundle.context, slice)));
    if (has_result(job, g)) continue;
    publish_task(Task{job, g, groups, bundle.hash, blobs.back(), slice.size()});
    published[g] = Clock::now();
  }

  const std::size_t layer_count = local_.layer_names().size();
  std::vector<std::optional<std::vector<ckks::Ciphertext>>> outputs(groups);
  std::size_t done = 0;
  serve::LayerDone last{0, 0.0, 0, group_size(0), count};
  auto queue_checked = Clock::now();
  while (done < groups) {
    // At shutdown the service answers "stop" through the progress callback; repeating the last report adds nothing.
    if (stopping_ && !progress(serve::LayerDone{last.index, 0.0, last.first_ciphertext, last.group_size, count}))
      throw serve::Cancelled();
    natsMsg* raw = nullptr;
    const natsStatus next = natsSubscription_NextMsg(&raw, results.get(), config_.poll.count());
    if (next == NATS_TIMEOUT) {
      if (Clock::now() - queue_checked > kQueueCheckInterval) {
        ensure_key_queue(nats_, bundle.hash, config_.task_queues);
        queue_checked = Clock::now();
      }
      continue;
    }
    check(next, "waiting for results");
    const MsgPtr msg(raw);
    TaskResult r;
    try {
      r = decode_result(std::string_view(natsMsg_GetData(msg.get()), static_cast<std::size_t>(natsMsg_GetDataLength(msg.get()))));
      if (r.job != job || r.group >= groups) throw std::runtime_error("result for another job");
      for (const auto& [node, seconds] : r.layers)
        if (node >= layer_count) throw std::runtime_error("result names layer " + std::to_string(node));
    } catch (const std::exception& e) {
      spdlog::warn("job {}: ignoring a malformed result: {}", job, e.what());
      continue;
    }
    if (outputs[r.group]) continue;  // a second result for a redelivered task
    if (!r.error.empty()) {
      clean_up();
      throw std::runtime_error("group " + std::to_string(r.group) + ": " + r.error);
    }
    std::vector<ckks::Ciphertext> cts;
    {
      std::istringstream in(blobs_.get(r.output, config_.max_blob_bytes));
      cts = ckks::load_ciphertexts(in, *bundle.context);
    }
    blobs.push_back(r.output);
    if (cts.size() != group_size(r.group) / in_channels * out_channels)
      throw std::runtime_error("group " + std::to_string(r.group) + ": the worker returned " +
                               std::to_string(cts.size()) + " ciphertexts");
    metrics_.task_done(r, published[r.group] ? std::optional(seconds_since(*published[r.group])) : std::nullopt);
    if (config_.on_task) config_.on_task(r);
    spdlog::info("job {} group {}/{}: worker {} delivery {} keys {} (fetch {:.2f} s, parse {:.2f} s), "
                 "input {:.2f} s, compute {:.2f} s, upload {:.2f} s", job, r.group + 1, groups, r.worker, r.delivery,
                 r.keys_cached ? "cached" : "fetched", r.fetch_keys_s, r.parse_keys_s, r.fetch_input_s, r.compute_s,
                 r.upload_s);
    outputs[r.group] = std::move(cts);
    ++done;
    for (const auto& [node, seconds] : r.layers) {
      last = serve::LayerDone{node, seconds, r.group * lanes, group_size(r.group), count};
      if (!progress(last)) {
        if (!stopping_) clean_up();  // deleted by its client; at shutdown everything stays for the restart
        throw serve::Cancelled();
      }
    }
  }

  // The batch id goes back unchanged: the client decrypts only the result of the batch it submitted.
  henn::EncryptedBatch output{input.layout, input.tile_stride, input.images, {}, input.id};
  for (auto& group : outputs)
    for (auto& ct : *group) output.ciphertexts.push_back(std::move(ct));
  henn::save_batch(result.string(), *bundle.context, output);
  clean_up();
}

}  // namespace cryptounet::cluster
