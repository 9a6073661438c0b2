// Authentication, ownership, quotas, key expiry and TLS of the service; the tokens file's checks.
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "serve_fixture.h"

namespace cryptounet::serve::testing {
namespace {

using namespace std::chrono_literals;

const std::string kToken(40, 't');

std::filesystem::path tokens_file(const std::filesystem::path& dir, const std::string& text, mode_t mode) {
  const auto path = write_file(dir / "tokens", text);
  ::chmod(path.c_str(), mode);
  return path;
}

class TokensFile : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_ = fresh_dir("tokens");
};

TEST_F(TokensFile, LoadsNamesAndAuthenticatesOnlyTheirTokens) {
  const auto table = TokenTable::load(
      tokens_file(dir_, "# clients\n\nalice " + kToken + "\n  bob\t" + std::string(64, 'b') + "  \r\n", 0600));
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.authenticate(kToken), "alice");
  EXPECT_EQ(table.authenticate(std::string(64, 'b')), "bob");
  EXPECT_EQ(table.authenticate(std::string(64, 'c')), std::nullopt);
  EXPECT_EQ(table.authenticate(""), std::nullopt);
  EXPECT_EQ(table.authenticate(kToken + "x"), std::nullopt);
}

TEST_F(TokensFile, RefusesAFileOthersCanRead) {
  for (const mode_t mode : {0644, 0640, 0604, 0660, 0602}) {
    EXPECT_THROW(TokenTable::load(tokens_file(dir_, "alice " + kToken + "\n", mode)), std::runtime_error) << mode;
  }
  EXPECT_NO_THROW(TokenTable::load(tokens_file(dir_, "alice " + kToken + "\n", 0400)));
}

TEST_F(TokensFile, RefusesMalformedFilesWithoutShowingTokens) {
  const std::string secret = std::string(40, 's');
  for (const std::string& text :
       std::vector<std::string>{"", "# only a comment\n", "alice\n", "alice " + kToken + " extra\n", "alice short\n",
                                "al/ice " + kToken + "\n", "alice " + kToken + "\nalice " + secret,
                                "alice " + kToken + "\nbob " + kToken + "\n", "alice " + secret + "\x01\n"}) {
    try {
      TokenTable::load(tokens_file(dir_, text, 0600));
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find(kToken), std::string::npos) << e.what();
    }
  }
}

TEST_F(ServeFixture, MissingOrWrongTokenIs401) {
  start();
  auto anonymous = raw_with_token("");
  EXPECT_EQ(anonymous.Get("/healthz")->status, 200);  // open, for load balancers
  for (const std::string& path :
       std::vector<std::string>{"/v1/usage", "/metrics", "/v1/jobs/" + std::string(32, 'a'), "/nope"}) {
    auto r = anonymous.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_EQ(error_code(r), "unauthorized") << path;
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), R"(Bearer realm="cryptounet")") << path;
  }
  auto wrong = raw_with_token(token_of(kAlice) + "0").Get("/v1/usage");
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(wrong->get_header_value("WWW-Authenticate"), R"(Bearer realm="cryptounet", error="invalid_token")");
  // An upload with a wrong token is refused before its body is stored.
  auto upload = raw_with_token(std::string(40, 'x'))
                    .Post("/v1/keys", FakeBackend::make_keys(kFingerprint, "k"), "application/octet-stream");
  EXPECT_EQ(upload->status, 401);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data" / "keys" / kAlice));
  // The client names itself by its token; /metrics is for admins only.
  EXPECT_EQ(client(kBob).usage()["client"], kBob);
  EXPECT_EQ(raw(kBob).Get("/metrics")->status, 403);
  const auto metrics = raw(kAlice).Get("/metrics");
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("cryptounet_auth_failures_total 6"), std::string::npos) << metrics->body;
  // The client checks the token before it sends a body.
  try {
    ServiceClient(url(), {std::string(40, 'x'), certificate()})
        .upload_keys(file("k", FakeBackend::make_keys(kFingerprint, "k")));
    ADD_FAILURE() << "uploaded with a wrong token";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 401);
  }
}

TEST_F(ServeFixture, AnotherClientsKeysAndJobsAre404) {
  start({}, {.layers = 2, .layer_delay = 10ms});
  auto alice = client(kAlice);
  const auto key_id = register_keys(kAlice);
  const auto payload = random_bytes(1000, 4);
  const auto job_id = alice.submit(key_id, file("b", FakeBackend::make_batch(kFingerprint, payload)));
  alice.wait(job_id, {}, 0.01);

  auto bob = raw(kBob);
  const auto batch = FakeBackend::make_batch(kFingerprint, "bob's");
  EXPECT_EQ(bob.Get("/v1/keys/" + key_id)->status, 404);
  EXPECT_EQ(error_code(bob.Post("/v1/keys/" + key_id + "/jobs", batch, "application/octet-stream")), "unknown_key");
  EXPECT_EQ(error_code(bob.Delete("/v1/keys/" + key_id)), "unknown_key");
  EXPECT_EQ(error_code(bob.Get("/v1/jobs/" + job_id)), "unknown_job");
  EXPECT_EQ(error_code(bob.Get("/v1/jobs/" + job_id + "/result")), "unknown_job");
  EXPECT_EQ(error_code(bob.Delete("/v1/jobs/" + job_id)), "unknown_job");
  // Bob's answers are exactly those for ids that do not exist.
  EXPECT_EQ(bob.Get("/v1/jobs/" + job_id)->body, bob.Get("/v1/jobs/" + std::string(32, 'a'))->body);

  // Nothing of Alice's was touched; her job's status names only her own key.
  const auto status = alice.status(job_id);
  EXPECT_EQ(status["state"], "done");
  EXPECT_EQ(status["key_id"], key_id);
  alice.download(job_id, dir_ / "r");
  EXPECT_EQ(read_file(dir_ / "r"), FakeBackend::expected_result(payload));
  EXPECT_EQ(raw(kAlice).Get("/v1/keys/" + key_id)->status, 200);

  // Ownership survives a restart.
  stop();
  start();
  EXPECT_EQ(raw(kBob).Get("/v1/jobs/" + job_id)->status, 404);
  EXPECT_EQ(raw(kBob).Get("/v1/keys/" + key_id)->status, 404);
  EXPECT_EQ(raw(kAlice).Get("/v1/jobs/" + job_id)->status, 200);
  EXPECT_EQ(raw(kAlice).Get("/v1/keys/" + key_id)->status, 200);
}

TEST_F(ServeFixture, PerClientQuotasAre429) {
  ServiceConfig config;
  config.max_keys_per_client = 1;
  config.max_jobs_per_client = 1;
  config.max_disk_bytes_per_client = 4000;
  config.workers = 1;
  start(config, {.layers = 100, .layer_delay = 100ms});  // the first job stays unfinished during the test
  const auto expect_429 = [](const std::function<void()>& request, const std::string& code) {
    try {
      request();
      ADD_FAILURE() << "expected 429 " << code;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 429) << e.what();
      EXPECT_EQ(e.code(), code) << e.what();
    }
  };
  const auto key_id = register_keys(kAlice);
  expect_429([&] { register_keys(kAlice); }, "key_quota");
  const auto bob_key = register_keys(kBob);  // another client's quota is its own

  const auto batch = file("b", FakeBackend::make_batch(kFingerprint, "x"));
  const auto job_id = client(kAlice).submit(key_id, batch);
  expect_429([&] { client(kAlice).submit(key_id, batch); }, "job_quota");
  const auto bob_job = client(kBob).submit(bob_key, batch);

  // Bob deletes his job, then finds his disk quota too small for a large batch.
  client(kBob).delete_job(bob_job);
  const auto large = file("large", FakeBackend::make_batch(kFingerprint, std::string(5000, 'x')));
  expect_429([&] { client(kBob).submit(bob_key, large); }, "disk_quota");
  const auto usage = client(kAlice).usage();
  EXPECT_EQ(usage["keys"]["held"], 1);
  EXPECT_EQ(usage["jobs"]["unfinished"], 1);
  client(kAlice).delete_job(job_id);
}

TEST_F(ServeFixture, UnusedKeysExpire) {
  ServiceConfig config;
  config.key_ttl = 0s;
  config.sweep_interval = 1s;
  start(config);
  const auto key_id = register_keys();
  // Gone at the next sweep (1 s; polled for up to 30 s so that a loaded CI machine does not fail it).
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (raw().Get("/v1/keys/" + key_id)->status != 404 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(raw().Get("/v1/keys/" + key_id)->status, 404);
  EXPECT_EQ(client().usage()["keys"]["held"], 0);
}

TEST_F(ServeFixture, WithoutTokensOnlyOnLoopback) {
  anonymous_ = true;
  start();
  EXPECT_EQ(client().usage()["client"], Service::kLocalClient);
  HttpServer other(*service_);
  EXPECT_THROW(other.bind("0.0.0.0", 0), std::runtime_error);
  EXPECT_THROW(other.bind("::", 0), std::runtime_error);
  EXPECT_NO_THROW(other.bind("127.0.0.1", 0));
}

TEST_F(ServeFixture, ClientVerifiesTheServerCertificate) {
  start();
  EXPECT_EQ(client().health()["status"], "ok");
  // Another self-signed certificate as the trusted CA: the server's does not chain to it.
  write_self_signed_certificate(dir_ / "other.pem", dir_ / "other-key.pem");
  for (const std::filesystem::path& ca : {dir_ / "other.pem", std::filesystem::path{}}) {
    try {
      ServiceClient(url(), {token_of(kAlice), ca}).health();
      ADD_FAILURE() << "connected with CA '" << ca << "'";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 0) << e.what();  // a transport failure: nothing was sent
    }
  }
  // The token never goes over plain HTTP to another machine.
  EXPECT_THROW(ServiceClient("http://192.0.2.1:8080", {token_of(kAlice), {}}), std::invalid_argument);
  EXPECT_THROW(ServiceClient("https://192.0.2.1:8080", {"bad token", {}}), std::invalid_argument);
  EXPECT_NO_THROW(ServiceClient("http://127.0.0.1:8080", {token_of(kAlice), {}}));
}

}  // namespace
}  // namespace cryptounet::serve::testing
