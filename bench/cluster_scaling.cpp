// The cluster on one machine: one job of 3 lane groups (12 ciphertexts of the tiny U-Net) through a local
// nats-server, first with 1 worker, then with 2 (1 OpenMP thread each), side by side in one run; and every task's
// overhead (key fetch and parse, ciphertext fetch, result upload) against its compute. docs/SCALING.md.
// On a shared machine the wall times depend on the cores the run got: each run also reports the process's CPU
// time and the cores it used on average, each worker thread's CPU time, and the load average before and after.
//   build/bench/cluster_scaling [groups=3]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <string>

#ifdef CRYPTOUNET_HAS_CLUSTER
#include "local_cluster.h"

using namespace cryptounet;

namespace {

double cpu_seconds(int who) {
  rusage usage{};
  getrusage(who, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string load_average() {
  std::string one, five, fifteen;
  std::ifstream("/proc/loadavg") >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

}  // namespace

int main(int argc, char** argv) {
  const int groups = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  const auto dir = std::filesystem::temp_directory_path() / ("cryptounet-scaling-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const nn::Model model = henn::testing::tiny_unet(1, 2);
  const auto plan = henn::plan_inference(model, 16, 16);
  auto [client, eval] = henn::generate_keys(plan);
  henn::save_evaluation_keys((dir / "eval.bin").string(), eval);
  const int tiles = groups * henn::Layout::kMaxLanes * plan.layout.tiles_per_ciphertext;
  io::Plane image(16 * tiles, 16, 0.0);
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (auto& v : image.pixels) v = u(rng);
  const auto batch = henn::encrypt_images(client, {image}, {"strip"}, 16);
  henn::save_batch((dir / "batch.ct").string(), *client.context, batch);
  std::printf("tiny U-Net, N = 2^%d, %zu ciphertexts = %d lane groups, eval.bin %.1f MiB, batch %.1f MiB\n",
              plan.spec.log_n, batch.ciphertexts.size(), groups, std::filesystem::file_size(dir / "eval.bin") / 1048576.0,
              std::filesystem::file_size(dir / "batch.ct") / 1048576.0);

  for (int workers : {1, 2}) {
    cluster::testing::NatsServer server;
    std::vector<double> worker_cpu(static_cast<std::size_t>(workers));
    bench::WorkerPool pool(server, model, workers, {},
                           [&](int w) { worker_cpu[static_cast<std::size_t>(w)] = cpu_seconds(RUSAGE_THREAD); });
    std::mutex mutex;
    std::vector<cluster::TaskResult> results;
    cluster::ClusterConfig config;
    config.nats = server.settings("front-end");
    config.on_task = [&](const cluster::TaskResult& r) {
      std::lock_guard lock(mutex);
      results.push_back(r);
    };
    cluster::ClusterBackend front_end(config, model);
    const std::string load_before = load_average();
    const double cpu_start = cpu_seconds(RUSAGE_SELF);
    const auto start = std::chrono::steady_clock::now();
    front_end.run(dir / "eval.bin", dir / "batch.ct", dir / "result.ct", [](const serve::LayerDone&) { return true; });
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = cpu_seconds(RUSAGE_SELF) - cpu_start;
    pool.stop();
    std::printf("\n%d worker(s), 1 thread each: job wall time %.2f s, CPU time %.2f s (%.2f cores on average); "
                "load average %s before, %s after\n",
                workers, wall, cpu, cpu / wall, load_before.c_str(), load_average().c_str());
    for (int w = 0; w < workers; ++w)
      std::printf("  worker-%d thread CPU time %.2f s\n", w, worker_cpu[static_cast<std::size_t>(w)]);
    std::printf("  group worker    keys     fetch_s parse_s input_s compute_s upload_s\n");
    for (const auto& r : results)
      std::printf("  %5zu %-9s %-8s %7.2f %7.2f %7.3f %9.2f %8.3f\n", r.group + 1, r.worker.c_str(),
                  r.keys_cached ? "cached" : "fetched", r.fetch_keys_s, r.parse_keys_s, r.fetch_input_s, r.compute_s,
                  r.upload_s);
  }
  std::filesystem::remove_all(dir);
}
#else
int main() { std::puts("built without the cluster (libnats-dev)"); }
#endif
