// Soak test (label slow): 8 clients, each with its own token, submit jobs over TLS round after round against one
// server (fake backend, 2 workers). Every result must come back right to the client that submitted it, no job may
// be lost or left behind, and resident memory after the last round must stay near its level after the warm-up
// round (no per-request growth: TLS sessions, connections, job records).
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "serve_fixture.h"

namespace cryptounet::serve::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kClients = 8;
constexpr int kJobsPerRound = 4;
constexpr int kRounds = 16;  // the first is the warm-up
constexpr std::size_t kBatchBytes = 256 * 1024;

double resident_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

std::string client_name(int c) { return "client" + std::to_string(c); }

TEST_F(ServeFixture, SoakEightClientsOverTls) {
  std::vector<std::pair<std::string, std::string>> tokens;
  for (int c = 0; c < kClients; ++c) tokens.emplace_back(client_name(c), token_of(client_name(c)));
  ServiceConfig config;
  config.tokens = std::make_shared<TokenTable>(TokenTable::from_pairs(tokens));
  config.admins = {client_name(0)};
  config.workers = 2;
  start(config, {.layers = 4, .layer_delay = 5ms});

  std::atomic<int> correct{0}, failed{0};
  double rss_after_warmup = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> threads;
    for (int c = 0; c < kClients; ++c) {
      threads.emplace_back([&, c] {
        try {
          auto me = client(client_name(c));
          const auto tag = std::to_string(round) + "-" + std::to_string(c);
          const auto key_id =
              me.upload_keys(write_file(dir_ / ("keys-" + tag), FakeBackend::make_keys(kFingerprint, tag)));
          std::vector<std::pair<std::string, std::string>> jobs;  // job id, payload
          for (int j = 0; j < kJobsPerRound; ++j) {
            auto payload = random_bytes(kBatchBytes, static_cast<unsigned>(100000 * round + 100 * c + j));
            const auto batch = write_file(dir_ / ("batch-" + tag), FakeBackend::make_batch(kFingerprint, payload));
            jobs.emplace_back(me.submit(key_id, batch), std::move(payload));
          }
          for (const auto& [job_id, payload] : jobs) {
            me.wait(job_id, {}, 0.05);
            const auto out = dir_ / ("result-" + tag);
            me.download(job_id, out);
            (read_file(out) == FakeBackend::expected_result(payload) ? correct : failed)++;
            me.delete_job(job_id);
          }
          me.delete_key(key_id);
        } catch (const std::exception& e) {
          ++failed;
          ADD_FAILURE() << client_name(c) << " round " << round << ": " << e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    if (round == 0) rss_after_warmup = resident_mib();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double rss_end = resident_mib();
  constexpr int kJobs = kClients * kJobsPerRound * kRounds;
  std::printf("soak: %d clients, %d jobs of %zu KiB over TLS in %.1f s (%.1f jobs/s); %d correct, %d failed; RSS "
              "after warm-up %.1f MiB, at the end %.1f MiB\n",
              kClients, kJobs, kBatchBytes / 1024, seconds, kJobs / seconds, correct.load(), failed.load(),
              rss_after_warmup, rss_end);
  EXPECT_EQ(correct, kJobs);
  EXPECT_EQ(failed, 0);
  // Nothing lost or left behind: every job completed once, and the server holds no job or key afterwards.
  const auto metrics = raw(client_name(0)).Get("/metrics")->body;
  EXPECT_NE(metrics.find("cryptounet_jobs_completed_total{outcome=\"succeeded\"} " + std::to_string(kJobs)),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find("cryptounet_jobs_completed_total{outcome=\"failed\"} 0"), std::string::npos);
  EXPECT_NE(metrics.find("cryptounet_keys 0"), std::string::npos);
  for (const auto* state : {"queued", "running", "done", "failed"})
    EXPECT_NE(metrics.find(std::string("cryptounet_jobs{state=\"") + state + "\"} 0"), std::string::npos) << state;
  // Flat memory: 15 rounds after the warm-up moved 15 x 32 x 2 x 256 KiB through TLS; allow allocator noise only.
  EXPECT_LT(rss_end - rss_after_warmup, 32.0);
}

}  // namespace
}  // namespace cryptounet::serve::testing
