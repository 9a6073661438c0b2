#include "cluster/worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "ckks/serialization.h"
#include "cluster/topology.h"
#include "henn/inference.h"
#include "serve/bundle_check.h"
#include "serve/ids.h"

namespace cryptounet::cluster {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool queue_listed(const std::vector<KeyQueue>& queues, const std::string& keys) {
  return std::any_of(queues.begin(), queues.end(), [&](const KeyQueue& q) { return q.keys == keys; });
}

// A failure the task can never overcome (bad keys or ciphertexts, another model): reported to the front end, and
// the task is terminated instead of redelivered.
class PermanentFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The worker is stopping: the task goes back to the queue.
struct Interrupted {};

// natsMsg_InProgress every `interval` until destroyed.
class Heartbeat {
 public:
  Heartbeat(natsMsg* msg, std::chrono::milliseconds interval)
      : thread_([this, msg, interval] {
          std::unique_lock lock(mutex_);
          while (!done_cv_.wait_for(lock, interval, [this] { return done_; }))
            if (natsMsg_InProgress(msg, nullptr) != NATS_OK) spdlog::warn("task heartbeat failed");
        }) {}
  ~Heartbeat() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

TaskResult failure(const Task& task, std::string error) {
  TaskResult r;
  r.job = task.job;
  r.group = task.group;
  r.error = std::move(error);
  return r;
}

std::string default_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

// A task found waiting is handed out at once; this only bounds the wait when another worker took it first.
constexpr std::int64_t kFetchWaitMs = 200;
// Queues with every task in flight asked per look for work (see preference_order).
constexpr std::size_t kInFlightQueuesAsked = 2;

}  // namespace

Worker::Worker(WorkerConfig config, nn::Model model)
    : config_(std::move(config)), model_(std::move(model)), nats_(config_.nats), blobs_(nats_),
      keys_(config_.key_cache_bytes), rng_(std::random_device{}()) {
  model_.validate();
  if (config_.name.empty()) config_.name = default_name();
  if (config_.scratch_dir.empty())
    config_.scratch_dir = std::filesystem::temp_directory_path() / ("cryptounet-worker-" + serve::random_id());
  std::filesystem::create_directories(config_.scratch_dir);
  ensure_streams(nats_, config_.stream_replicas);
}

Worker::~Worker() {
  queues_.clear();  // bound to the front end's consumers: closing a subscription never deletes one
  std::error_code ignored;
  std::filesystem::remove_all(config_.scratch_dir, ignored);
}

void Worker::run(const std::atomic<bool>& stop, std::chrono::milliseconds poll) {
  stop_ = &stop;
  while (!stop) {
    try {
      run_once(poll);
    } catch (const std::exception& e) {
      // The connection reconnects on its own; keep pulling.
      spdlog::warn("worker {}: {}", config_.name, e.what());
      std::this_thread::sleep_for(poll);
    }
  }
}

bool Worker::run_once(std::chrono::milliseconds wait, std::chrono::milliseconds relist) {
  const auto deadline = Clock::now() + wait;
  for (;;) {
    if (take_task()) return true;
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(left, relist));
  }
}

bool Worker::take_task() {
  const std::vector<KeyQueue> queues = list_key_queues(nats_);
  // Forget the subscriptions of queues deleted since (their jobs ended).
  for (auto it = queues_.begin(); it != queues_.end();)
    it = queue_listed(queues, it->first) ? std::next(it) : queues_.erase(it);
  for (const KeyQueue* queue : preference_order(queues)) {
    natsMsgList list{};
    jsErrCode error = static_cast<jsErrCode>(0);
    natsStatus status = NATS_OK;
    try {
      status = natsSubscription_Fetch(&list, subscription(queue->keys), 1, kFetchWaitMs, &error);
    } catch (const NatsError& e) {  // deleted since the listing: its job has ended
      spdlog::debug("worker {}: {}", config_.name, e.what());
      continue;
    }
    if (status == NATS_TIMEOUT || status == NATS_NOT_FOUND) continue;  // another worker took it first
    if (status != NATS_OK && !queue_listed(list_key_queues(nats_), queue->keys)) {
      // The server ended the pull because the queue was deleted meanwhile: its last job has ended.
      spdlog::debug("worker {}: task queue {} deleted while fetching", config_.name, queue->keys);
      continue;
    }
    check(status, "fetching a task", error);
    const bool got = list.Count > 0;
    for (int i = 0; i < list.Count; ++i) handle(list.Msgs[i], queue->settings);
    natsMsgList_Destroy(&list);
    if (got) return true;
  }
  return false;
}

std::vector<const KeyQueue*> Worker::preference_order(const std::vector<KeyQueue>& queues) {
  // A task the server handed to a fetch that had already given up waits in that subscription: taken next time.
  const auto delivered_here = [&](const std::string& keys) {
    const auto it = queues_.find(keys);
    int msgs = 0, bytes = 0;
    return it != queues_.end() && natsSubscription_GetPending(it->second.get(), &msgs, &bytes) == NATS_OK && msgs > 0;
  };
  // Queues with tasks waiting come first. A queue whose tasks are all in flight may hold one whose worker died:
  // the server hands it out again only to a worker that asks (its count cannot tell it from tasks being computed),
  // so a few such queues are asked too, at random.
  std::vector<const KeyQueue*> waiting, in_flight;
  for (const auto& q : queues) {
    if (q.pending > 0 || delivered_here(q.keys))
      waiting.push_back(&q);
    else if (q.in_flight > 0)
      in_flight.push_back(&q);
  }
  std::shuffle(waiting.begin(), waiting.end(), rng_);
  std::shuffle(in_flight.begin(), in_flight.end(), rng_);
  if (config_.prefer_held_keys) {
    // Held bundles, most recently used first; then bundles no worker is computing, whose keys nobody may hold;
    // last, bundles another worker is computing: it holds their keys and will take their next task when done.
    const std::vector<std::string> held = keys_.hashes();
    const auto rank = [&](const KeyQueue* q) {
      const auto h = static_cast<std::size_t>(std::find(held.begin(), held.end(), q->keys) - held.begin());
      return std::pair(h, q->in_flight > 0);
    };
    const auto preferred = [&](const KeyQueue* a, const KeyQueue* b) { return rank(a) < rank(b); };
    std::stable_sort(waiting.begin(), waiting.end(), preferred);
    std::stable_sort(in_flight.begin(), in_flight.end(), preferred);
  }
  if (in_flight.size() > kInFlightQueuesAsked) in_flight.resize(kInFlightQueuesAsked);
  waiting.insert(waiting.end(), in_flight.begin(), in_flight.end());
  return waiting;
}

natsSubscription* Worker::subscription(const std::string& keys) {
  if (const auto it = queues_.find(keys); it != queues_.end()) return it->second.get();
  const std::string consumer = key_queue_consumer(keys);
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = kTaskStream;
  options.Consumer = consumer.c_str();  // bound to the front end's consumer: never created or deleted here
  natsSubscription* raw = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  check(js_PullSubscribe(&raw, nats_.jetstream(), key_tasks_filter(keys).c_str(), consumer.c_str(), nullptr, &options,
                         &error),
        "subscribing to task queue " + consumer, error);
  return queues_.emplace(keys, SubscriptionPtr(raw)).first->second.get();
}

void Worker::handle(natsMsg* msg, const KeyQueueSettings& queue) {
  std::uint64_t delivery = 1;
  if (jsMsgMetaData* meta = nullptr; natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
    delivery = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
  }
  Task task;
  try {
    task = decode_task(std::string_view(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
  } catch (const std::exception& e) {
    spdlog::warn("worker {}: dropping a malformed task: {}", config_.name, e.what());
    natsMsg_Term(msg, nullptr);
    return;
  }
  TaskResult result;
  try {
    const Heartbeat heartbeat(msg, std::max(queue.ack_wait / 3, std::chrono::milliseconds(1)));
    result = execute(task);
    result.delivery = delivery;
    ++counters_.tasks_done;  // before the result is visible: whoever has seen a result sees it counted
    publish(result);
  } catch (const Interrupted&) {
    natsMsg_Nak(msg, nullptr);
    return;
  } catch (const NatsError& e) {
    // Transient (connection, JetStream): let another delivery try, unless this was the last one.
    spdlog::warn("worker {}: task {}.{} (delivery {}): {}", config_.name, task.job, task.group, delivery, e.what());
    if (queue.max_deliver <= 0 || delivery < static_cast<std::uint64_t>(queue.max_deliver)) {
      natsMsg_Nak(msg, nullptr);
      return;
    }
    result = failure(task, "gave up after " + std::to_string(delivery) + " deliveries: " + e.what());
    ++counters_.tasks_failed;
    publish(result);
  } catch (const std::exception& e) {
    spdlog::warn("worker {}: task {}.{} failed: {}", config_.name, task.job, task.group, e.what());
    result = failure(task, e.what());
    ++counters_.tasks_failed;
    publish(result);
    natsMsg_Term(msg, nullptr);
    return;
  }
  jsErrCode error = static_cast<jsErrCode>(0);
  check(natsMsg_AckSync(msg, nullptr, &error), "acking task", error);
}

std::shared_ptr<const henn::EvaluationKeys> Worker::keys_for(const Task& task, TaskResult& timing) {
  if (auto cached = keys_.find(task.keys)) {
    ++counters_.key_hits;
    timing.keys_cached = true;
    return cached;
  }
  ++counters_.key_misses;
  auto started = Clock::now();
  const auto path = config_.scratch_dir / (task.keys + ".keys");
  struct Remove {
    std::filesystem::path path;
    ~Remove() {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  } remove{path};
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    blobs_.get(task.keys, out, config_.max_blob_bytes);
    if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
  }
  timing.fetch_keys_s = seconds_since(started);
  started = Clock::now();
  std::shared_ptr<const henn::EvaluationKeys> keys;
  try {
    serve::refuse_non_bundles(path);
    keys = std::make_shared<const henn::EvaluationKeys>(henn::load_evaluation_keys(path.string()));
  } catch (const std::exception& e) {
    throw PermanentFailure(std::string("evaluation keys refused: ") + e.what());
  }
  keys_.insert(task.keys, keys);
  timing.parse_keys_s = seconds_since(started);
  return keys;
}

TaskResult Worker::execute(const Task& task) {
  TaskResult result;
  result.job = task.job;
  result.group = task.group;
  result.worker = config_.name;
  const auto keys = keys_for(task, result);

  auto started = Clock::now();
  henn::EncryptedBatch input{keys->plan.layout, keys->plan.layout.height, {}, {}};
  {
    std::istringstream in(blobs_.get(task.input, config_.max_blob_bytes));
    try {
      input.ciphertexts = ckks::load_ciphertexts(in, *keys->context);
    } catch (const std::exception& e) {
      throw PermanentFailure(std::string("task ciphertexts: ") + e.what());
    }
  }
  if (input.ciphertexts.size() != task.ciphertexts)
    throw PermanentFailure("task names " + std::to_string(task.ciphertexts) + " ciphertexts, its input holds " +
                           std::to_string(input.ciphertexts.size()));
  result.fetch_input_s = seconds_since(started);

  started = Clock::now();
  henn::EncryptedBatch output;
  try {
    output = henn::run_inference(model_, *keys, input, [&](const henn::NodeProgress& p) {
      result.layers.emplace_back(static_cast<std::size_t>(p.node), p.seconds);
      if (stop_ && *stop_) throw Interrupted{};
    });
  } catch (const std::invalid_argument& e) {
    throw PermanentFailure(e.what());  // model, keys and ciphertexts do not belong together
  }
  result.compute_s = seconds_since(started);

  started = Clock::now();
  std::ostringstream out;
  ckks::save(out, *keys->context, output.ciphertexts);
  result.output = blobs_.put(std::move(out).str());
  result.upload_s = seconds_since(started);
  return result;
}

void Worker::publish(const TaskResult& result) {
  const std::string payload = encode(result);
  const std::string subject = result_subject(result.job, result.group);
  // The same result published twice (a redelivered task) is dropped by the server within its duplicate window;
  // past it, the front end takes the first result of each group.
  const std::string msg_id = result.job + "." + std::to_string(result.group);
  nats_.publish(subject, payload, msg_id, "publishing the result of " + msg_id);
}

}  // namespace cryptounet::cluster
