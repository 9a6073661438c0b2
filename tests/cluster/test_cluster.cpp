// The encrypted tiny U-Net run through the cluster: a front end (ClusterBackend) and workers in threads of this
// process, talking through a real nats-server. The cluster's result file must be byte-identical to the one the
// local backend writes for the same batch and keys: CKKS evaluation is deterministic (no randomness after
// encryption, results independent of the thread count), and the front end cuts the batch at the same lane-group
// boundaries as run_inference. Also: a worker that takes a task and dies without acking, a task delivered twice,
// and which worker takes which task when they hold different clients' keys (key affinity).
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "../henn/tiny_unet.h"
#include "ckks/keygenerator.h"
#include "ckks/serialization.h"
#include "cluster/cluster_backend.h"
#include "cluster/key_queues.h"
#include "cluster/topology.h"
#include "cluster/worker.h"
#include "henn/batch.h"
#include "henn/key_bundle.h"
#include "henn/planner.h"
#include "nats_server.h"
#include "serve/job_store.h"
#include "serve/metrics.h"
#include "serve/scheduler.h"

namespace cryptounet::cluster::testing {
namespace {

constexpr int kTile = 16;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The value of one series in a Prometheus exposition; 0 when it is not there (a counter not yet counted).
double metric_value(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return 0;
}

// An encrypted batch and the local backend's result for it.
struct Job {
  std::filesystem::path batch, local_result;
  std::size_t groups = 0;
  std::set<std::size_t> local_layers;  // layer indices the local backend reports
};

// Keys, a batch of two lane groups and one of a single ciphertext, made once for all tests (the test binary runs
// as one ctest: keygen and the local reference runs are most of its time); a second client's keys.
struct Shared {
  std::filesystem::path dir;
  nn::Model model;
  std::filesystem::path keys, other_client_keys;
  Job two_groups, one_ciphertext;
};
Shared* shared = nullptr;

class Cluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    shared = new Shared;
    shared->dir = std::filesystem::temp_directory_path() / ("cryptounet-cluster-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(shared->dir);
    shared->model = henn::testing::tiny_unet(1, 2);
    const auto plan = henn::plan_inference(shared->model, kTile, kTile);
    auto [client, eval] = henn::generate_keys(plan);
    shared->keys = shared->dir / "eval.bin";
    henn::save_evaluation_keys(shared->keys.string(), eval);
    shared->other_client_keys = shared->dir / "eval-other-client.bin";
    henn::save_evaluation_keys(shared->other_client_keys.string(), henn::generate_keys(plan).second);
    serve::HennBackend local(shared->model);
    // One lane group and one tile more: Layout::kMaxLanes full ciphertexts and a fifth with one tile.
    const int two_group_tiles = henn::Layout::kMaxLanes * plan.layout.tiles_per_ciphertext + 1;
    shared->two_groups = make_job(client, local, two_group_tiles, "two_groups");
    shared->one_ciphertext = make_job(client, local, 2, "one_ciphertext");
  }
  static Job make_job(const henn::ClientKeys& client, serve::HennBackend& local, int tiles, const std::string& name) {
    std::mt19937 rng(tiles);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    io::Plane image(kTile * tiles, kTile, 0.0);  // a strip of `tiles` tiles
    for (auto& v : image.pixels) v = u(rng);
    const auto batch = henn::encrypt_images(client, {image}, {name}, kTile);
    Job job;
    job.groups = (batch.ciphertexts.size() + henn::Layout::kMaxLanes - 1) / henn::Layout::kMaxLanes;
    job.batch = shared->dir / (name + ".ct");
    henn::save_batch(job.batch.string(), *client.context, batch);
    job.local_result = shared->dir / (name + ".local.ct");
    local.run(shared->keys, job.batch, job.local_result, [&](const serve::LayerDone& l) {
      job.local_layers.insert(l.index);
      return true;
    });
    return job;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(shared->dir);
    delete shared;
  }

  ClusterConfig front_end_config(const std::string& name = "front-end", KeyQueueSettings queues = {}) {
    ClusterConfig config;
    config.nats = server_.settings(name);
    config.task_queues = queues;
    config.on_task = [this](const TaskResult& r) {
      std::lock_guard lock(mutex_);
      task_results_.push_back(r);
    };
    return config;
  }
  WorkerConfig worker_config(const std::string& name) {
    WorkerConfig config;
    config.nats = server_.settings(name);
    config.name = name;
    config.key_cache_bytes = std::uint64_t{1} << 30;
    config.scratch_dir = server_.dir() / name;
    return config;
  }

  // A worker serving tasks on its own thread until the test ends.
  Worker& start_worker(WorkerConfig config) {
    workers_.push_back(std::make_unique<Worker>(std::move(config), shared->model));
    Worker* w = workers_.back().get();
    threads_.emplace_back([this, w] { w->run(stop_, std::chrono::milliseconds(100)); });
    return *w;
  }

  void TearDown() override {
    stop_ = true;
    for (auto& t : threads_) t.join();
    workers_.clear();
  }

  // Takes one task from the task queue of `keys` (once the front end has created it) and vanishes without acking:
  // for the server, a worker killed mid-task.
  void take_task_and_die(const std::string& name, const std::string& keys) {
    NatsClient doomed(server_.settings(name));
    ASSERT_TRUE(eventually([&] {
      const auto queues = list_key_queues(doomed);
      return std::any_of(queues.begin(), queues.end(), [&](const KeyQueue& q) { return q.keys == keys; });
    }));
    const std::string consumer = key_queue_consumer(keys);
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = kTaskStream;
    options.Consumer = consumer.c_str();
    natsSubscription* sub = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    check(js_PullSubscribe(&sub, doomed.jetstream(), key_tasks_filter(keys).c_str(), consumer.c_str(), nullptr,
                           &options, &error),
          "doomed subscription", error);
    const SubscriptionPtr subscription(sub);
    natsMsgList taken{};
    check(natsSubscription_Fetch(&taken, sub, 1, 120000, &error), "doomed fetch", error);
    ASSERT_EQ(taken.Count, 1);
    natsMsgList_Destroy(&taken);
  }

  std::size_t results_seen() {
    std::lock_guard lock(mutex_);
    return task_results_.size();
  }

  std::uint64_t stream_messages(NatsClient& nats, const char* stream) {
    jsStreamInfo* info = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    check(js_GetStreamInfo(&info, nats.jetstream(), stream, nullptr, &error), "stream info", error);
    const std::uint64_t msgs = info->State.Msgs;
    jsStreamInfo_Destroy(info);
    return msgs;
  }

  NatsServer server_;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::vector<TaskResult> task_results_;
};

TEST_F(Cluster, TwoWorkersGiveTheLocalResultByteForByte) {
  const Job& job = shared->two_groups;
  ASSERT_EQ(job.groups, 2u);
  Worker& a = start_worker(worker_config("worker-a"));
  Worker& b = start_worker(worker_config("worker-b"));
  ClusterBackend front_end(front_end_config(), shared->model);
  const auto result = server_.dir() / "cluster.ct";
  std::set<std::size_t> reported;
  front_end.run(shared->keys, job.batch, result, [&](const serve::LayerDone& l) {
    reported.insert(l.index);
    return true;
  });
  EXPECT_EQ(read_file(result), read_file(job.local_result));
  EXPECT_EQ(reported, job.local_layers);
  EXPECT_EQ(a.counters().tasks_done + b.counters().tasks_done, job.groups);
  EXPECT_EQ(a.counters().tasks_failed + b.counters().tasks_failed, 0u);
  ASSERT_EQ(task_results_.size(), job.groups);
  for (const auto& r : task_results_) EXPECT_EQ(r.delivery, 1u);

  // Everything the job put into NATS is gone: tasks acked, results and ciphertext blobs purged. The key bundle
  // stays for the next job of the same client.
  NatsClient nats(server_.settings("observer"));
  EXPECT_EQ(stream_messages(nats, kTaskStream), 0u);
  EXPECT_EQ(stream_messages(nats, kResultStream), 0u);
  EXPECT_TRUE(BlobStore(nats).contains(content_hash_of_file(shared->keys)));
  EXPECT_TRUE(list_key_queues(nats).empty());  // the bundle's task queue ends with its last job

  // A third task with the same keys: each worker parses them at most once, so this one is a cache hit.
  const Job& small = shared->one_ciphertext;
  front_end.run(shared->keys, small.batch, server_.dir() / "small.ct", [](const serve::LayerDone&) { return true; });
  EXPECT_EQ(read_file(server_.dir() / "small.ct"), read_file(small.local_result));
  EXPECT_LE(a.counters().key_misses + b.counters().key_misses, 2u);
  EXPECT_GE(a.counters().key_hits + b.counters().key_hits, 1u);

  // The front end's /metrics lines: what the workers' results said, the latencies, the queue drained.
  const std::string exposition = front_end.metrics();
  const auto value = [&](const std::string& series) { return metric_value(exposition, series); };
  EXPECT_EQ(value("cryptounet_cluster_worker_tasks_total{worker=\"worker-a\"}"), static_cast<double>(a.counters().tasks_done));
  EXPECT_EQ(value("cryptounet_cluster_worker_tasks_total{worker=\"worker-b\"}"), static_cast<double>(b.counters().tasks_done));
  EXPECT_EQ(value("cryptounet_cluster_key_cache_total{worker=\"worker-a\",result=\"hit\"}"), static_cast<double>(a.counters().key_hits));
  EXPECT_EQ(value("cryptounet_cluster_key_cache_total{worker=\"worker-b\",result=\"miss\"}"), static_cast<double>(b.counters().key_misses));
  EXPECT_EQ(value("cryptounet_cluster_task_seconds_count"), static_cast<double>(job.groups + 1));
  EXPECT_EQ(value("cryptounet_cluster_job_seconds_count{outcome=\"succeeded\"}"), 2);
  EXPECT_TRUE(eventually([&] {  // the last ack may reach the server after the result
    return metric_value(front_end.metrics(), "cryptounet_cluster_tasks{state=\"in_flight\"}") == 0;
  }));
  EXPECT_EQ(value("cryptounet_cluster_tasks{state=\"pending\"}"), 0);
  EXPECT_NE(exposition.find("cryptounet_cluster_task_queues 0\n"), std::string::npos);
}

TEST_F(Cluster, TaskOfAWorkerThatDiesIsDeliveredAgain) {
  const Job& job = shared->one_ciphertext;
  // A short ack deadline; the surviving worker starts pulling only after the doomed one holds the task.
  auto survivor = std::make_unique<Worker>(worker_config("survivor"), shared->model);
  ClusterBackend front_end(front_end_config("front-end", {std::chrono::milliseconds(1500), 5}), shared->model);
  const auto result = server_.dir() / "cluster.ct";
  auto running = std::async(std::launch::async, [&] {
    front_end.run(shared->keys, job.batch, result, [](const serve::LayerDone&) { return true; });
  });
  take_task_and_die("doomed", content_hash_of_file(shared->keys));
  Worker* w = survivor.get();
  workers_.push_back(std::move(survivor));
  threads_.emplace_back([this, w] { w->run(stop_, std::chrono::milliseconds(100)); });
  running.get();
  EXPECT_EQ(read_file(result), read_file(job.local_result));
  ASSERT_EQ(task_results_.size(), 1u);
  EXPECT_EQ(task_results_[0].delivery, 2u);
}

TEST_F(Cluster, TaskWhoseDeliveriesRunOutFailsItsJob) {
  const Job& job = shared->one_ciphertext;
  // The task queue as `serve --task-max-deliver 2 --task-ack-wait-s 1` creates it.
  ClusterBackend front_end(front_end_config("front-end", {std::chrono::milliseconds(1000), 2}), shared->model);
  auto running = std::async(std::launch::async, [&] {
    front_end.run(shared->keys, job.batch, server_.dir() / "cluster.ct", [](const serve::LayerDone&) { return true; });
  });
  take_task_and_die("doomed-1", content_hash_of_file(shared->keys));
  take_task_and_die("doomed-2", content_hash_of_file(shared->keys));
  // A live worker asks for work: the server finds the task's deliveries spent and announces it instead.
  Worker& survivor = start_worker(worker_config("survivor"));
  try {
    running.get();
    ADD_FAILURE() << "the job succeeded";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("delivered 2 times and no worker finished it"), std::string::npos) << e.what();
  }
  EXPECT_EQ(survivor.counters().tasks_done, 0u);
  EXPECT_NE(front_end.metrics().find("cryptounet_cluster_tasks_gave_up_total 1\n"), std::string::npos);
  EXPECT_NE(front_end.metrics().find("cryptounet_cluster_job_seconds_count{outcome=\"failed\"} 1\n"), std::string::npos);
  NatsClient nats(server_.settings("observer"));
  EXPECT_EQ(stream_messages(nats, kTaskStream), 0u);
  EXPECT_EQ(stream_messages(nats, kResultStream), 0u);
}

TEST_F(Cluster, FrontEndRestartedMidJobFinishesIt) {
  // The front end of `serve --nats` (job store, scheduler, ClusterBackend) stops after one of the job's two
  // groups has its result; a second one on the same data directory and NATS finishes the job without computing
  // that group again.
  const Job& job = shared->two_groups;
  const auto data = server_.dir() / "front-end";
  const auto kept_keys = data / "cluster-key-blobs.json";
  std::filesystem::create_directories(data);
  const auto front_end_with_data = [&](const std::string& name) {
    ClusterConfig config = front_end_config(name);
    config.kept_keys_file = kept_keys;
    return config;
  };
  NatsClient nats(server_.settings("observer"));
  auto worker = std::make_unique<Worker>(worker_config("worker"), shared->model);
  std::string id;
  {
    serve::JobStore jobs(serve::JobStore::Options{data / "jobs"});
    std::filesystem::copy_file(job.batch, data / "upload.ct");
    id = jobs.create("client", "keys", shared->keys, data / "upload.ct");
    ClusterBackend front_end(front_end_with_data("front-end-1"), shared->model);
    serve::Metrics metrics(front_end.layer_names());
    std::optional<serve::Scheduler> scheduler(std::in_place, jobs, front_end, metrics, 1);
    scheduler->enqueue(id);
    ASSERT_TRUE(eventually([&] { return stream_messages(nats, kTaskStream) == job.groups; }));
    ASSERT_TRUE(worker->run_once(std::chrono::seconds(120)));  // one group, computed by hand
    ASSERT_TRUE(eventually([&] { return results_seen() == 1; }, std::chrono::seconds(600)));
    // Stopped as `serve` stops on SIGTERM: the backend first, then the scheduler (the job goes back to the queue).
    front_end.stop();
    scheduler.reset();
    EXPECT_EQ(jobs.status(id)->state, serve::JobState::Queued);
  }
  EXPECT_EQ(stream_messages(nats, kResultStream), 1u);
  EXPECT_EQ(stream_messages(nats, kTaskStream), job.groups - 1);
  EXPECT_EQ(list_key_queues(nats).size(), 1u);  // kept at shutdown: workers go on while the front end restarts
  Worker* w = worker.get();
  workers_.push_back(std::move(worker));
  threads_.emplace_back([this, w] { w->run(stop_, std::chrono::milliseconds(100)); });
  {
    serve::JobStore jobs(serve::JobStore::Options{data / "jobs"});
    ASSERT_EQ(jobs.unfinished(), std::vector<std::string>{id});
    ClusterBackend front_end(front_end_with_data("front-end-2"), shared->model);
    serve::Metrics metrics(front_end.layer_names());
    const serve::Scheduler scheduler(jobs, front_end, metrics, 1);  // re-queues the unfinished job
    ASSERT_TRUE(eventually([&] {
      const auto state = jobs.status(id)->state;
      return state == serve::JobState::Done || state == serve::JobState::Failed;
    }, std::chrono::seconds(600)));
    ASSERT_EQ(jobs.status(id)->state, serve::JobState::Done) << jobs.status(id)->error;
    EXPECT_EQ(read_file(jobs.result_path(id)), read_file(job.local_result));
  }
  EXPECT_EQ(w->counters().tasks_done, job.groups);  // the group finished before the restart ran once
  EXPECT_EQ(results_seen(), 1 + job.groups);        // and was replayed to the second front end
  EXPECT_EQ(stream_messages(nats, kTaskStream), 0u);
  EXPECT_EQ(stream_messages(nats, kResultStream), 0u);
  EXPECT_TRUE(list_key_queues(nats).empty());
}

TEST_F(Cluster, RestartedFrontEndDeletesTheKeyBlobsItKeptBeyondItsLimit) {
  NatsClient nats(server_.settings("observer"));
  ensure_streams(nats);
  BlobStore blobs(nats);
  const std::vector<std::string> kept = {blobs.put("bundle 1"), blobs.put("bundle 2"), blobs.put("bundle 3")};
  const auto kept_keys = server_.dir() / "cluster-key-blobs.json";
  std::ofstream(kept_keys) << nlohmann::json(kept).dump();
  ClusterConfig config = front_end_config();
  config.kept_keys_file = kept_keys;
  config.key_blobs_kept = 2;
  const ClusterBackend front_end(config, shared->model);
  EXPECT_TRUE(blobs.contains(kept[0]));
  EXPECT_TRUE(blobs.contains(kept[1]));
  EXPECT_FALSE(blobs.contains(kept[2]));
  EXPECT_EQ(nlohmann::json::parse(read_file(kept_keys)), nlohmann::json(std::vector{kept[0], kept[1]}));
}

TEST_F(Cluster, DuplicateTasksAreHarmless) {
  const Job& job = shared->one_ciphertext;
  // The task twice: a copy published without a message id (as by a front end restarted after the server's
  // duplicate window), queued ahead of the front end's own.
  NatsClient nats(server_.settings("duplicator"));
  ensure_streams(nats);
  const std::string key = ClusterBackend::job_key(job.batch);
  {
    const auto eval = henn::load_evaluation_keys(shared->keys.string());
    const auto batch = henn::load_batch(job.batch.string(), *eval.context);
    std::ostringstream slice;
    ckks::save(slice, *eval.context, batch.ciphertexts);
    BlobStore blobs(nats);
    const Task task{key, 0, 1, blobs.put_file(shared->keys, content_hash_of_file(shared->keys)), blobs.put(slice.str()),
                    batch.ciphertexts.size()};
    const std::string payload = encode(task);
    jsPubAck* ack = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    check(js_Publish(&ack, nats.jetstream(), task_subject(task.keys, key, 0).c_str(), payload.data(),
                     static_cast<int>(payload.size()), nullptr, &error),
          "duplicate task", error);
    jsPubAck_Destroy(ack);
  }
  ClusterBackend front_end(front_end_config(), shared->model);
  auto running = std::async(std::launch::async, [&] {
    front_end.run(shared->keys, job.batch, server_.dir() / "cluster.ct", [](const serve::LayerDone&) { return true; });
  });
  // Both copies are queued before the worker starts, so it is handed the duplicate first.
  ASSERT_TRUE(eventually([&] { return stream_messages(nats, kTaskStream) == 2; }));
  Worker& worker = start_worker(worker_config("worker"));
  running.get();
  EXPECT_EQ(read_file(server_.dir() / "cluster.ct"), read_file(job.local_result));
  EXPECT_EQ(task_results_.size(), 1u);
  // The copy left over is purged or runs to a harmless end; the worker keeps serving.
  EXPECT_TRUE(eventually([&] { return stream_messages(nats, kTaskStream) == 0; }));
  EXPECT_GE(worker.counters().tasks_done, 1u);
}

TEST_F(Cluster, WorkerRefusesASecretKeyBundle) {
  // A key "bundle" that is a CKKS secret key, published as if by a front end: the worker refuses it with the
  // front end's own check and reports a permanent failure; the job fails with that reason.
  const auto context = ckks::Context::create(ckks::Parameters::create(ckks::ParameterSpec{13, {40, 30}, {40}}));
  std::ostringstream secret_file;
  ckks::save(secret_file, *context, ckks::KeyGenerator(context).secret_key());
  const std::string secret = secret_file.str();
  NatsClient nats(server_.settings("attacker"));
  ensure_streams(nats);
  BlobStore blobs(nats);
  const std::string job(32, 'a');
  const Task task{job, 0, 1, blobs.put(secret), blobs.put("not read"), 1};
  ensure_key_queue(nats, task.keys, {});
  Worker& worker = start_worker(worker_config("worker"));
  const std::string payload = encode(task);
  jsPubAck* ack = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  check(js_Publish(&ack, nats.jetstream(), task_subject(task.keys, job, 0).c_str(), payload.data(),
                   static_cast<int>(payload.size()), nullptr, &error),
        "task", error);
  jsPubAck_Destroy(ack);
  ASSERT_TRUE(eventually([&] { return worker.counters().tasks_failed == 1; }));
  natsMsg* raw = nullptr;
  check(js_GetLastMsg(&raw, nats.jetstream(), kResultStream, result_subject(job, 0).c_str(), nullptr, &error),
        "result", error);
  const MsgPtr msg(raw);
  const auto r = decode_result(std::string_view(natsMsg_GetData(msg.get()), natsMsg_GetDataLength(msg.get())));
  EXPECT_NE(r.error.find("secret key"), std::string::npos) << r.error;
  EXPECT_EQ(worker.counters().tasks_done, 0u);
}

TEST_F(Cluster, WorkersTakeTheTasksOfTheKeysTheyHoldFirst) {
  // Two clients' key bundles, each with its task queue; two workers whose caches hold one bundle each. The tasks'
  // ciphertexts do not parse: a worker looks the task's keys up (a cache hit or a fetch and parse, counted), then
  // reports a permanent failure without computing. What is tested is which worker takes which task; the workers
  // are driven one task at a time, so the outcome does not depend on timing.
  NatsClient nats(server_.settings("front-end"));
  ensure_streams(nats);
  BlobStore blobs(nats);
  const std::string first = blobs.put_file(shared->keys, content_hash_of_file(shared->keys));
  const std::string second = blobs.put_file(shared->other_client_keys, content_hash_of_file(shared->other_client_keys));
  ensure_key_queue(nats, first, {});
  ensure_key_queue(nats, second, {});
  const std::string job(32, 'b');
  const std::string input = blobs.put("not ciphertexts");
  std::size_t group = 0;
  const auto publish = [&](const std::string& keys) {
    const Task task{job, group++, 100, keys, input, 1};
    nats.publish(task_subject(keys, job, task.group), encode(task), "", "publishing a task");
  };
  const auto one_bundle_worker = [&](const std::string& name) {
    WorkerConfig config = worker_config(name);
    config.key_cache_bytes = 1;  // the newest bundle always stays: exactly one
    return std::make_unique<Worker>(config, shared->model);
  };
  const auto a = one_bundle_worker("worker-a");
  const auto b = one_bundle_worker("worker-b");

  // Warm-up: a takes the first client's task, b the second's (each the only task waiting).
  publish(first);
  ASSERT_TRUE(a->run_once(std::chrono::seconds(120)));
  publish(second);
  ASSERT_TRUE(b->run_once(std::chrono::seconds(120)));
  ASSERT_EQ(a->counters().key_misses, 1u);
  ASSERT_EQ(b->counters().key_misses, 1u);

  // Both clients' tasks waiting, the second client's first in the stream: each worker takes those of its keys.
  for (const auto* keys : {&second, &first, &second, &first}) publish(*keys);
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(a->run_once(std::chrono::seconds(120)));
    ASSERT_TRUE(b->run_once(std::chrono::seconds(120)));
  }
  EXPECT_EQ(a->counters().key_hits, 2u);
  EXPECT_EQ(a->counters().key_misses, 1u);
  EXPECT_EQ(b->counters().key_hits, 2u);
  EXPECT_EQ(b->counters().key_misses, 1u);

  // The first client's holder is busy (not asking for work): its next task goes to b, which has nothing else.
  publish(first);
  ASSERT_TRUE(b->run_once(std::chrono::seconds(120)));
  EXPECT_EQ(b->counters().key_misses, 2u);
  EXPECT_EQ(a->counters().tasks_failed + b->counters().tasks_failed, group);  // every task reached a worker
}

}  // namespace
}  // namespace cryptounet::cluster::testing
