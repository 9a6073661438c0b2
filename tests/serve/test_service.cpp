// Handlers of the service over loopback HTTP, with the fake backend: the happy path, every error path, restart
// and expiry. Each error case checks the status *and* the JSON error code.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "serve_fixture.h"

namespace cryptounet::serve::testing {
namespace {

using namespace std::chrono_literals;

const std::string kUnknownId(32, 'a');

TEST_F(ServeFixture, HealthAndMetrics) {
  start();
  auto c = raw();
  auto health = c.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(nlohmann::json::parse(health->body)["status"], "ok");
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("cryptounet_jobs{state=\"queued\"} 0"), std::string::npos);
  EXPECT_NE(metrics->body.find("cryptounet_layer_seconds_count{layer=\"fake0\",index=\"0\"} 0"), std::string::npos);
}

TEST_F(ServeFixture, FullRoundTripWithProgressAndMetrics) {
  start();
  auto c = client();
  const auto key_id = register_keys();
  const auto payload = random_bytes(100000, 1);
  const auto job_id = c.submit(key_id, file("batch.bin", FakeBackend::make_batch(kFingerprint, payload)));
  const auto final_status = c.wait(job_id, {}, 0.01);
  EXPECT_EQ(final_status["layers_done"], 4);
  EXPECT_EQ(final_status["layers_total"], 4);
  EXPECT_EQ(final_status["progress"], 1.0);
  EXPECT_EQ(final_status["layers"][3]["name"], "fake3");
  c.download(job_id, dir_ / "result.bin");
  EXPECT_EQ(read_file(dir_ / "result.bin"), FakeBackend::expected_result(payload));
  const auto metrics = raw().Get("/metrics")->body;
  EXPECT_NE(metrics.find("cryptounet_jobs_completed_total{outcome=\"succeeded\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("cryptounet_layer_seconds_count{layer=\"fake2\",index=\"2\"} 1"), std::string::npos);
  // The worker went idle after the job: the backend was asked to give its scratch memory back.
  for (int i = 0; i < 1000 && backend_->memory_releases() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(backend_->memory_releases(), 1u);
  c.delete_job(job_id);
  EXPECT_EQ(raw().Get("/v1/jobs/" + job_id)->status, 404);
  c.delete_key(key_id);
  EXPECT_EQ(raw().Get("/v1/keys/" + key_id)->status, 404);
}

TEST_F(ServeFixture, RunningJobReportsCurrentLayer) {
  start({}, {.layers = 3, .layer_delay = 300ms});
  auto c = client();
  const auto job_id = c.submit(register_keys(), file("b", FakeBackend::make_batch(kFingerprint, "x")));
  bool saw_running = false;
  double last_progress = 0;
  c.wait(job_id, [&](const nlohmann::json& s) {
    if (s["state"] == "running" && s.contains("current_layer")) saw_running = true;
    EXPECT_GE(s["progress"].get<double>(), last_progress);
    last_progress = s["progress"].get<double>();
  }, 0.02);
  EXPECT_TRUE(saw_running);
  EXPECT_EQ(last_progress, 1.0);
}

TEST_F(ServeFixture, OversizedUploadsAre413) {
  ServiceConfig config;
  config.max_body_bytes = 1000;
  start(config);
  auto c = raw();
  // Announced length over the limit: refused before the body is read.
  auto r = c.Post("/v1/keys", std::string(5000, 'k'), "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_code(r), "too_large");
  // Chunked body (no length): counted while streaming. The server answers 413 as soon as the count passes the
  // limit and stops reading; depending on timing the client reads that answer or fails writing its next chunk
  // (seen on a loaded CI machine). Either way the upload must not be stored and the server must keep serving.
  const auto big_keys = FakeBackend::make_keys(kFingerprint, std::string(3980, 'k'));  // a header that passes
  auto chunked = raw().Post(
      "/v1/keys",
      [&](std::size_t offset, httplib::DataSink& sink) {
        if (offset >= big_keys.size()) sink.done();
        else sink.write(big_keys.data() + offset, std::min<std::size_t>(500, big_keys.size() - offset));
        return true;
      },
      "application/octet-stream");
  if (chunked) {
    EXPECT_EQ(chunked->status, 413);
    EXPECT_EQ(error_code(chunked), "too_large");
  } else {
    const httplib::Error cut = chunked.error();  // the server closed the connection mid-upload
    EXPECT_TRUE(cut == httplib::Error::Write || cut == httplib::Error::Read) << httplib::to_string(cut);
  }
  const auto metrics = raw().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("cryptounet_keys 0"), std::string::npos);
  // And the client refuses before sending.
  try {
    client().upload_keys(file("big", std::string(5000, 'k')));
    FAIL() << "expected a ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 413);
  }
}

// Sends a request whose body stops short of its Content-Length, then half-closes the socket.
std::string send_truncated(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "connect failed";
  // The 20 bytes sent are a well-formed header, so that only the missing bytes are wrong.
  const std::string request =
      "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + FakeBackend::make_keys(kFingerprint, "");
  (void)::write(fd, request.data(), request.size());
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return answer;
}

// Sends raw bytes on a fresh connection and returns what comes back before the server closes or 0.5 s pass.
std::string send_raw(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{0, 500000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "connect failed";
  (void)::write(fd, bytes.data(), bytes.size());
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return answer;
}

TEST_F(ServeFixture, MalformedHttpNeverKillsTheServer) {
  plain_http_ = true;
  start();
  const std::vector<std::string> requests = {
      "GARBAGE\r\n\r\n",
      "POST /v1/keys HTTP/1.1\r\nContent-Length: abc\r\n\r\nxyz",
      "POST /v1/keys HTTP/1.1\r\nContent-Length: -1\r\n\r\nxyz",
      "POST /v1/keys HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
      "POST /v1/keys HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbad\r\n0\r\n\r\n",
      "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nX: " + std::string(20000, 'h') + "\r\n\r\n",
      "GET /v1/jobs/%zz%00 HTTP/1.1\r\n\r\n",
      random_bytes(5000, 9),
  };
  for (const auto& request : requests) {
    const auto answer = send_raw(port_, request);
    // Whatever httplib or the service answered, it is never a 5xx.
    EXPECT_EQ(answer.find("HTTP/1.1 5"), std::string::npos) << request.substr(0, 80) << " -> " << answer;
  }
  EXPECT_EQ(raw().Get("/healthz")->status, 200);
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "data" / "keys"));
}

TEST_F(ServeFixture, TruncatedBodiesAre400) {
  plain_http_ = anonymous_ = true;
  start();
  // httplib writes no answer to a peer that has hung up its sending side, so the refusal is checked in the metrics.
  const auto answer = send_truncated(port_, "/v1/keys");
  EXPECT_TRUE(answer.empty() || answer.find("truncated_body") != std::string::npos) << answer;
  EXPECT_NE(raw().Get("/metrics")->body.find("cryptounet_uploads_rejected_total{code=\"truncated_body\"} 1"),
            std::string::npos);
  // A complete HTTP body holding a truncated key file.
  const auto keys = FakeBackend::make_keys(kFingerprint, "0123456789");
  auto r = raw().Post("/v1/keys", keys.substr(0, keys.size() - 3), "application/octet-stream");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r), "malformed");
  // The server is still fine, and no upload was left behind.
  EXPECT_EQ(raw().Get("/healthz")->status, 200);
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "data" / "tmp"));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "data" / "keys"));
}

TEST_F(ServeFixture, GarbageIs400) {
  start();
  auto r = raw().Post("/v1/keys", random_bytes(3000, 7), "application/octet-stream");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r), "malformed");
  const auto key_id = register_keys();
  auto b = raw().Post("/v1/keys/" + key_id + "/jobs", random_bytes(3000, 8), "application/octet-stream");
  EXPECT_EQ(b->status, 400);
  EXPECT_EQ(error_code(b), "malformed");
  // Keys where a batch belongs.
  auto k = raw().Post("/v1/keys/" + key_id + "/jobs", FakeBackend::make_keys(kFingerprint, "k"), "application/octet-stream");
  EXPECT_EQ(k->status, 400);
}

TEST_F(ServeFixture, EmptyBodyIs400) {
  start();
  auto r = raw().Post("/v1/keys", "", "application/octet-stream");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r), "empty_body");
}

TEST_F(ServeFixture, WrongParametersAre422) {
  start();
  auto r = raw().Post("/v1/keys", FakeBackend::make_keys(kFingerprint + 1, "k"), "application/octet-stream");
  EXPECT_EQ(r->status, 422);
  EXPECT_EQ(error_code(r), "wrong_parameters");
  const auto key_id = register_keys();
  auto b = raw().Post("/v1/keys/" + key_id + "/jobs", FakeBackend::make_batch(kFingerprint + 1, "x"),
                      "application/octet-stream");
  EXPECT_EQ(b->status, 422);
  EXPECT_EQ(error_code(b), "wrong_parameters");
}

TEST_F(ServeFixture, WrongKeyIdIs404) {
  start();
  const auto batch = FakeBackend::make_batch(kFingerprint, "x");
  for (const std::string& id : std::vector<std::string>{kUnknownId, "not-an-id", "..%2F..%2Fetc", std::string(33, 'a')}) {
    auto r = raw().Post("/v1/keys/" + id + "/jobs", batch, "application/octet-stream");
    ASSERT_TRUE(r) << id;
    EXPECT_EQ(r->status, 404) << id;
    EXPECT_EQ(error_code(r), "unknown_key") << id;
  }
  const auto key_id = register_keys();
  client().delete_key(key_id);
  auto r = raw().Post("/v1/keys/" + key_id + "/jobs", batch, "application/octet-stream");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(raw().Delete("/v1/keys/" + key_id)->status, 404);
  EXPECT_EQ(raw().Get("/v1/jobs/" + kUnknownId)->status, 404);
  EXPECT_EQ(raw().Get("/v1/jobs/" + kUnknownId + "/result")->status, 404);
  EXPECT_EQ(raw().Delete("/v1/jobs/" + kUnknownId)->status, 404);
}

TEST_F(ServeFixture, SecretKeyUploadIsRefused) {
  start();
  auto r = raw().Post("/v1/keys", FakeBackend::make_secret_key(kFingerprint, "s"), "application/octet-stream");
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(error_code(r), "secret_key_refused");
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "data" / "keys"));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "data" / "tmp"));
}

TEST_F(ServeFixture, KeyLimitIs429) {
  ServiceConfig config;
  config.max_keys = 2;
  start(config);
  register_keys();
  const auto second = register_keys();
  try {
    register_keys();
    FAIL() << "expected a ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 429);
    EXPECT_EQ(e.code(), "too_many_keys");
  }
  client().delete_key(second);
  EXPECT_NO_THROW(register_keys());
}

TEST_F(ServeFixture, QueueLimitIs429) {
  ServiceConfig config;
  config.max_queue = 1;
  config.workers = 1;
  // Long enough that the running job cannot finish during the requests below, even on a loaded CI machine.
  start(config, {.layers = 100, .layer_delay = 100ms});
  auto c = client();
  const auto key_id = register_keys();
  const auto batch = file("b", FakeBackend::make_batch(kFingerprint, "x"));
  const auto running = c.submit(key_id, batch);
  while (c.status(running)["state"] != "running") std::this_thread::sleep_for(5ms);
  const auto queued = c.submit(key_id, batch);
  auto r = raw().Post("/v1/keys/" + key_id + "/jobs", read_file(batch), "application/octet-stream");
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(error_code(r), "queue_full");
  EXPECT_EQ(r->get_header_value("Retry-After"), "10");
  // A result that is not ready is a 409, not an empty download.
  auto early = raw().Get("/v1/jobs/" + queued + "/result");
  EXPECT_EQ(early->status, 409);
  EXPECT_EQ(error_code(early), "not_ready");
  c.delete_job(queued);
  c.delete_job(running);  // stops at its next layer
}

TEST_F(ServeFixture, UnknownRoutesAndMethods) {
  start();
  auto c = raw();
  EXPECT_EQ(c.Get("/nope")->status, 404);
  EXPECT_EQ(error_code(c.Get("/nope")), "not_found");
  EXPECT_EQ(c.Get("/v1/keys/")->status, 404);
  EXPECT_EQ(c.Put("/v1/keys", "x", "text/plain")->status, 405);
  EXPECT_EQ(c.Post("/healthz", "x", "text/plain")->status, 405);
  EXPECT_EQ(c.Get("/v1/keys")->status, 405);
  EXPECT_EQ(error_code(c.Delete("/metrics")), "method_not_allowed");
}

TEST_F(ServeFixture, JobsSurviveTheClientHangingUp) {
  start({}, {.layers = 3, .layer_delay = 100ms});
  const auto payload = random_bytes(1000, 5);
  std::string job_id;
  {
    ServiceClient submitter(url(), credentials());
    job_id = submitter.submit(register_keys(), file("b", FakeBackend::make_batch(kFingerprint, payload)));
  }  // connection closed while the job is queued or running
  auto later = client();
  later.wait(job_id, {}, 0.02);
  later.download(job_id, dir_ / "r");
  EXPECT_EQ(read_file(dir_ / "r"), FakeBackend::expected_result(payload));
}

TEST_F(ServeFixture, DeletingARunningJobCancelsIt) {
  ServiceConfig config;
  config.workers = 1;
  start(config, {.layers = 50, .layer_delay = 20ms});
  auto c = client();
  const auto job_id = c.submit(register_keys(), file("b", FakeBackend::make_batch(kFingerprint, "x")));
  while (c.status(job_id)["state"] != "running") std::this_thread::sleep_for(5ms);
  c.delete_job(job_id);
  EXPECT_EQ(raw().Get("/v1/jobs/" + job_id)->status, 404);
  // The worker notices at the next layer and removes the job's files.
  const auto job_dir = dir_ / "data" / "jobs" / job_id;
  for (int i = 0; i < 1000 && std::filesystem::exists(job_dir); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(std::filesystem::exists(job_dir));
}

TEST_F(ServeFixture, FinishedAndQueuedJobsSurviveARestart) {
  ServiceConfig config;
  config.workers = 1;
  start(config, {.layers = 2, .layer_delay = 100ms});
  auto c = client();
  const auto key_id = register_keys();
  const auto payload_a = random_bytes(5000, 2), payload_b = random_bytes(5000, 3);
  const auto done_job = c.submit(key_id, file("a", FakeBackend::make_batch(kFingerprint, payload_a)));
  c.wait(done_job, {}, 0.02);
  const auto pending_job = c.submit(key_id, file("b", FakeBackend::make_batch(kFingerprint, payload_b)));
  stop();  // pending_job is queued or running: it must run again after the restart
  start(config);
  auto c2 = client();
  EXPECT_EQ(c2.status(done_job)["state"], "done");
  c2.download(done_job, dir_ / "a.out");
  EXPECT_EQ(read_file(dir_ / "a.out"), FakeBackend::expected_result(payload_a));
  c2.wait(pending_job, {}, 0.02);
  c2.download(pending_job, dir_ / "b.out");
  EXPECT_EQ(read_file(dir_ / "b.out"), FakeBackend::expected_result(payload_b));
  EXPECT_NO_THROW(c2.submit(key_id, dir_ / "a"));  // the key was kept too
  // No temporary or partial file is left in a finished job's folder.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_ / "data" / "jobs" / done_job))
    EXPECT_TRUE(entry.path().filename() == "job.json" || entry.path().filename() == "result.bin") << entry.path();
}

TEST_F(ServeFixture, FetchedResultsExpire) {
  ServiceConfig config;
  config.fetched_ttl = 0s;
  config.sweep_interval = 1s;
  start(config);
  auto c = client();
  const auto job_id = c.submit(register_keys(), file("b", FakeBackend::make_batch(kFingerprint, "x")));
  c.wait(job_id, {}, 0.01);
  EXPECT_EQ(c.status(job_id)["state"], "done");  // kept until fetched...
  c.download(job_id, dir_ / "r");
  // ...then gone at the next sweep (1 s; polled for up to 10 s so that a loaded CI machine does not fail it).
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (raw().Get("/v1/jobs/" + job_id)->status != 404 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(raw().Get("/v1/jobs/" + job_id)->status, 404);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data" / "jobs" / job_id));
}

TEST_F(ServeFixture, DirectHandlerCallsNeverThrow) {
  // The transport-free entry point the fuzzer uses: odd paths and a body reader that fails at once.
  start();
  for (const std::string& path : std::vector<std::string>{"", "/", "//", "/v1", "/v1/jobs",
                                                         "/v1/keys/" + kUnknownId + "/jobs/x",
                                                         std::string(10000, '/'), std::string("\0\xff", 2)}) {
    Request request{"POST", path, [](const BodySink&) { return false; }, std::nullopt, "Bearer " + token_of(kAlice)};
    const auto response = service_->handle(request);
    EXPECT_GE(response.status, 400) << path;
    EXPECT_LT(response.status, 500) << path;
  }
}

TEST_F(ServeFixture, NonUtf8PathGetsAJsonError) {
  // Found by fuzz_http: echoing such a path in the message made the JSON encoder throw (500, empty body).
  start();
  const auto response = service_->handle(Request{"GET", "\xae\x0e", {}, {}, "Bearer " + token_of(kAlice)});
  EXPECT_EQ(response.status, 404);
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"]["code"], "not_found");
}

}  // namespace
}  // namespace cryptounet::serve::testing
