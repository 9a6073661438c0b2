// Bounded loopback load test: 8 concurrent clients x 3 jobs each against one server (fake backend, 2 workers).
// Every job must complete with its own right result, and the process's resident memory must stay bounded:
// bodies are streamed to disk, so memory must not grow with the bytes moved (here 2 rounds x 24 x 1 MiB x 2).
#include <malloc.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "serve_fixture.h"

namespace cryptounet::serve::testing {
namespace {

using namespace std::chrono_literals;

double resident_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

// Bytes currently allocated with malloc (live heap), unlike RSS not inflated by per-thread arenas kept for reuse.
double heap_in_use_mib() { return static_cast<double>(mallinfo2().uordblks) / (1024.0 * 1024.0); }

constexpr int kClients = 8;
constexpr int kJobsPerClient = 3;
constexpr std::size_t kBatchBytes = std::size_t{1} << 20;

// Returns the number of jobs that came back with the right result.
int run_round(const std::function<ServiceClient()>& connect, const std::filesystem::path& dir, int round) {
  std::atomic<int> correct{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      try {
        auto client = connect();
        const auto tag = std::to_string(round) + "-" + std::to_string(c);
        const auto key_id =
            client.upload_keys(write_file(dir / ("keys-" + tag), FakeBackend::make_keys(kFingerprint, tag)));
        for (int j = 0; j < kJobsPerClient; ++j) {
          const auto payload = random_bytes(kBatchBytes, static_cast<unsigned>(1000 * round + 10 * c + j));
          const auto batch = write_file(dir / ("batch-" + tag), FakeBackend::make_batch(kFingerprint, payload));
          const auto job_id = client.submit(key_id, batch);
          client.wait(job_id, {}, 0.02);
          const auto out = dir / ("result-" + tag);
          client.download(job_id, out);
          if (read_file(out) == FakeBackend::expected_result(payload)) ++correct;
          client.delete_job(job_id);
        }
        client.delete_key(key_id);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "client " << c << ": " << e.what();
      }
    });
  }
  for (auto& t : clients) t.join();
  return correct;
}

TEST_F(ServeFixture, LoadEightClientsThreeJobsEach) {
  ServiceConfig config;
  config.workers = 2;
  config.max_queue = kClients * kJobsPerClient;
  config.max_keys = config.max_keys_per_client = kClients;
  config.max_jobs_per_client = kClients * kJobsPerClient;
  start(config, {.layers = 4, .layer_delay = 10ms});

  const auto t0 = std::chrono::steady_clock::now();
  const auto connect = [this] { return client(); };
  EXPECT_EQ(run_round(connect, dir_, 0), kClients * kJobsPerClient);
  const double first_round_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double heap_first = heap_in_use_mib(), rss_first = resident_mib();
  EXPECT_EQ(run_round(connect, dir_, 1), kClients * kJobsPerClient);
  const double heap_second = heap_in_use_mib(), rss_second = resident_mib();

  std::printf("load: %d jobs of %zu KiB in %.2f s (%.1f jobs/s); after round 1: heap %.1f MiB, RSS %.1f MiB; "
              "after round 2: heap %.1f MiB, RSS %.1f MiB\n",
              kClients * kJobsPerClient, kBatchBytes / 1024, first_round_seconds,
              kClients * kJobsPerClient / first_round_seconds, heap_first, rss_first, heap_second, rss_second);
  // A second identical round must not keep what the first one moved (no per-job leak: 24 MiB went through).
  EXPECT_LT(heap_second - heap_first, 4.0);
  // Bodies are never buffered whole: the 2 x 48 MiB moved do not show up in memory.
  EXPECT_LT(rss_second, 200.0);
  const auto counts = raw().Get("/metrics")->body;
  EXPECT_NE(counts.find("cryptounet_jobs_completed_total{outcome=\"succeeded\"} 48"), std::string::npos);
  EXPECT_NE(counts.find("cryptounet_jobs{state=\"done\"} 0"), std::string::npos);
}

}  // namespace
}  // namespace cryptounet::serve::testing
