// The default model (models/unet_he.onnx, N = 2^16, a 1.6 GiB key bundle) through the cluster: 10 tiles of the demo
// images (5 ciphertexts = two lane groups, one for each worker) encrypted as `cryptounet client` does, run by a front end and two workers (threads of this process, a real
// nats-server); the result file must equal the local backend's byte for byte. Label "slow": the local reference
// and the cluster run each take minutes, and the process holds three parsed copies of the keys (local run, two
// workers).
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>

#include "cluster/cluster_backend.h"
#include "cluster/worker.h"
#include "henn/batch.h"
#include "henn/key_bundle.h"
#include "henn/planner.h"
#include "io/dataset.h"
#include "io/image_file.h"
#include "io/preprocess.h"
#include "nats_server.h"
#include "nn/predict.h"

namespace cryptounet::cluster::testing {
namespace {

// Two tiles more than one lane group (4 ciphertexts of 2 tiles at N = 2^16) holds: the 8 demo images, then the
// first ones again under other names.
constexpr std::size_t kImages = 2 * henn::Layout::kMaxLanes + 2;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(ClusterDefaultModel, TwoWorkersGiveTheLocalResultByteForByte) {
  const std::string root = CRYPTOUNET_SOURCE_DIR;
  const nn::LoadedModel loaded = nn::LoadedModel::load(root + "/models/unet_he.onnx");
  const auto samples = io::list_dataset(root + "/data/demo");
  ASSERT_FALSE(samples.empty());
  const int tile = loaded.info.tile;
  const henn::InferencePlan plan = henn::plan_inference(loaded.model, tile, tile);
  auto [client, eval] = henn::generate_keys(plan);
  std::vector<io::Plane> planes;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < kImages; ++i) {
    const auto& s = samples[i % samples.size()];
    planes.push_back(io::preprocess(io::read_image(s.image_path, s.page), loaded.info.normalization));
    names.push_back(s.id + "-" + std::to_string(i));
  }
  const henn::EncryptedBatch batch = henn::encrypt_images(client, planes, names, tile * 3 / 4);
  ASSERT_GT(batch.ciphertexts.size(), henn::Layout::kMaxLanes) << "fewer than two lane groups";

  NatsServer server;
  const auto dir = server.dir() / "files";
  std::filesystem::create_directories(dir);
  const auto keys = dir / "eval.bin", input = dir / "batch.ct";
  henn::save_evaluation_keys(keys.string(), eval);
  henn::save_batch(input.string(), *client.context, batch);
  {
    serve::HennBackend local(loaded.model);
    local.run(keys, input, dir / "local.ct", [](const serve::LayerDone&) { return true; });
  }

  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  for (const std::string name : {"worker-a", "worker-b"}) {
    WorkerConfig config;
    config.nats = server.settings(name);
    config.name = name;
    config.scratch_dir = server.dir() / name;
    workers.push_back(std::make_unique<Worker>(config, loaded.model));
    threads.emplace_back([&stop, w = workers.back().get()] { w->run(stop); });
  }
  ClusterConfig config;
  config.nats = server.settings("front-end");
  {
    ClusterBackend front_end(config, loaded.model);
    front_end.run(keys, input, dir / "cluster.ct", [](const serve::LayerDone&) { return true; });
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(read_file(dir / "cluster.ct"), read_file(dir / "local.ct"));
  EXPECT_EQ(workers[0]->counters().tasks_done + workers[1]->counters().tasks_done,
            (batch.ciphertexts.size() + henn::Layout::kMaxLanes - 1) / henn::Layout::kMaxLanes);
}

}  // namespace
}  // namespace cryptounet::cluster::testing
