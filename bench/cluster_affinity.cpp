// Key affinity under a mixed load (docs/SCALING.md): `clients` clients, each with its own evaluation keys and
// `jobs` jobs of one ciphertext (the tiny U-Net of the tests), all submitted at once to one front end, on 2 workers
// whose key caches hold one bundle each; first with key-affine scheduling, then with workers that ignore their
// caches when choosing a queue (WorkerConfig::prefer_held_keys = false: every queue with tasks waiting equally
// likely), each half on a fresh nats-server, `rounds` times. Prints the key-cache hits and misses and the seconds
// the misses cost (key fetch + parse), which do not depend on the machine's load the way wall times do.
//   build/bench/cluster_affinity [clients=3] [jobs=2] [rounds=1]
#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#ifdef CRYPTOUNET_HAS_CLUSTER
#include "local_cluster.h"

using namespace cryptounet;

namespace {

struct Client {
  std::filesystem::path keys;
  std::vector<std::filesystem::path> batches;
};

struct Totals {
  std::uint64_t hits = 0, misses = 0;
  double key_seconds = 0;  // fetch + parse, summed over the misses
  double wall = 0;
};

Totals run_half(const nn::Model& model, const std::vector<Client>& clients, bool affinity,
                const std::filesystem::path& dir) {
  cluster::testing::NatsServer server;
  bench::WorkerPool pool(server, model, 2, [&](cluster::WorkerConfig& config) {
    config.key_cache_bytes = 1;  // the newest bundle always stays: exactly one
    config.prefer_held_keys = affinity;
  });
  std::mutex mutex;
  Totals totals;
  cluster::ClusterConfig config;
  config.nats = server.settings("front-end");
  config.key_blobs_kept = clients.size();
  config.on_task = [&](const cluster::TaskResult& r) {
    std::lock_guard lock(mutex);
    ++(r.keys_cached ? totals.hits : totals.misses);
    totals.key_seconds += r.fetch_keys_s + r.parse_keys_s;
    std::printf("    %-8s keys %-7s (fetch %.2f s, parse %.2f s), compute %.2f s\n", r.worker.c_str(),
                r.keys_cached ? "cached" : "fetched", r.fetch_keys_s, r.parse_keys_s, r.compute_s);
    std::fflush(stdout);
  };
  cluster::ClusterBackend front_end(config, model);
  const auto start = std::chrono::steady_clock::now();
  // Submitted as a front end's scheduler runs them: one thread per job, the clients' jobs interleaved.
  std::vector<std::thread> jobs;
  for (std::size_t j = 0; j < clients.front().batches.size(); ++j)
    for (std::size_t c = 0; c < clients.size(); ++c)
      jobs.emplace_back([&, c, j] {
        const auto result = dir / ("result-" + std::to_string(c) + "-" + std::to_string(j) + ".ct");
        front_end.run(clients[c].keys, clients[c].batches[j], result, [](const serve::LayerDone&) { return true; });
      });
  for (auto& t : jobs) t.join();
  totals.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  pool.stop();
  return totals;
}

}  // namespace

int main(int argc, char** argv) {
  const int client_count = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  const int jobs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 2;
  const int rounds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 1;
  const auto dir = std::filesystem::temp_directory_path() / ("cryptounet-affinity-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const nn::Model model = henn::testing::tiny_unet(1, 2);
  const auto plan = henn::plan_inference(model, 16, 16);
  std::vector<Client> clients(static_cast<std::size_t>(client_count));
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int c = 0; c < client_count; ++c) {
    auto [client_keys, eval] = henn::generate_keys(plan);
    auto& client = clients[static_cast<std::size_t>(c)];
    client.keys = dir / ("eval-" + std::to_string(c) + ".bin");
    henn::save_evaluation_keys(client.keys.string(), eval);
    for (int j = 0; j < jobs; ++j) {
      io::Plane image(16 * plan.layout.tiles_per_ciphertext, 16, 0.0);  // one ciphertext
      for (auto& v : image.pixels) v = u(rng);
      const auto batch = henn::encrypt_images(client_keys, {image}, {"strip"}, 16);
      client.batches.push_back(dir / ("batch-" + std::to_string(c) + "-" + std::to_string(j) + ".ct"));
      henn::save_batch(client.batches.back().string(), *client_keys.context, batch);
    }
  }
  std::printf("tiny U-Net, N = 2^%d, eval.bin %.1f MiB; %d clients x %d jobs of 1 ciphertext; 2 workers, 1 thread "
              "each, key cache of one bundle\n",
              plan.spec.log_n, std::filesystem::file_size(clients[0].keys) / 1048576.0, client_count, jobs);
  Totals with, without;
  for (int r = 0; r < rounds; ++r)
    for (const bool affinity : {true, false}) {
      std::printf("\nround %d, %s:\n", r + 1, affinity ? "key affinity" : "no affinity");
      const Totals t = run_half(model, clients, affinity, dir);
      std::printf("  hits %lu, misses %lu, key fetch + parse %.2f s, wall %.1f s\n", t.hits, t.misses, t.key_seconds,
                  t.wall);
      Totals& sum = affinity ? with : without;
      sum.hits += t.hits;
      sum.misses += t.misses;
      sum.key_seconds += t.key_seconds;
      sum.wall += t.wall;
    }
  std::printf("\n%-12s %6s %6s %9s %22s\n", "", "hits", "misses", "hit rate", "key fetch + parse (s)");
  for (const auto& [name, t] : {std::pair{"affinity", with}, std::pair{"no affinity", without}})
    std::printf("%-12s %6lu %6lu %8.0f%% %22.2f\n", name, t.hits, t.misses, 100.0 * t.hits / (t.hits + t.misses),
                t.key_seconds);
  std::filesystem::remove_all(dir);
}
#else
int main() { std::puts("built without the cluster (libnats-dev)"); }
#endif
