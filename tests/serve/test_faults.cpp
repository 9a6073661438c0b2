// Disk faults and restarts: a full disk or any I/O error fails a job (with the reason) and never ends the process;
// a job that was running whenever the process died is failed after a bounded number of runs instead of re-queued
// forever; uploads that would overrun the disk are refused with 507 before their body is read; an upload whose
// header does not fit the model is refused after its first bytes; a killed writer never leaves a file a restart
// would trust. The disk is a bounded fake (DurableFiles that fail on a chosen write), so every run is identical.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include "serve/api_error.h"
#include "serve/atomic_file.h"
#include "serve/disk_budget.h"
#include "serve/job_store.h"
#include "serve/metrics.h"
#include "serve/scheduler.h"
#include "serve/upload_gate.h"
#include "serve_fixture.h"

namespace cryptounet::serve::testing {
namespace {

using namespace std::chrono_literals;

// A disk that accepts `writes_left` durable writes (status files and result publications) and then fails every one
// with `error`, as a file system that has just filled up.
class FailingDisk : public DurableFiles {
 public:
  explicit FailingDisk(int writes_left, int error = ENOSPC) : writes_left_(writes_left), error_(error) {}
  void write_atomically(const std::filesystem::path& target, std::string_view contents) const override {
    spend(target);
    DurableFiles::write_atomically(target, contents);
  }
  void publish(const std::filesystem::path& written, const std::filesystem::path& target) const override {
    spend(target);
    DurableFiles::publish(written, target);
  }
  void fail_from_now() const { writes_left_ = 0; }
  void recover() const { writes_left_ = 1 << 20; }

 private:
  void spend(const std::filesystem::path& target) const {
    if (writes_left_.fetch_sub(1) <= 0) throw std::system_error(error_, std::generic_category(), target.string());
  }
  mutable std::atomic<int> writes_left_;
  int error_;
};

class Faults : public ::testing::Test {
 protected:
  JobStore::Options options(std::shared_ptr<const DurableFiles> files = disk_files()) {
    return JobStore::Options{.dir = dir_ / "jobs", .files = std::move(files)};
  }
  // A job as Service::create makes one: a registered key file and an uploaded batch.
  std::string create_job(JobStore& store, const std::string& payload = "payload") {
    write_file(dir_ / "keys.bin", FakeBackend::make_keys(kFingerprint, "k"));
    return store.create("alice", "key", dir_ / "keys.bin",
                        write_file(dir_ / "upload.bin", FakeBackend::make_batch(kFingerprint, payload)));
  }
  // Waits (without a time bound: ctest's timeout is the bound) until the job has left the queue and its run.
  static JobStatus wait_finished(const JobStore& store, const std::string& id) {
    for (;;) {
      const auto s = store.status(id);
      if (!s || s->state == JobState::Done || s->state == JobState::Failed) return s.value_or(JobStatus{});
      std::this_thread::yield();
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_ = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  FakeBackend backend_;
  Metrics metrics_{backend_.layer_names()};
};

TEST_F(Faults, DiskFullWhileFinishingFailsTheJobAndTheProcessLives) {
  // Before: publishing the result failed (ENOSPC), and so did recording the failure inside the worker's catch:
  // std::terminate (exit 134).
  auto disk = std::make_shared<FailingDisk>(2);  // job accepted, start recorded; then the disk is full
  JobStore store(options(disk));
  const auto id = create_job(store);
  {
    Scheduler scheduler(store, backend_, metrics_, 1);
    scheduler.enqueue(id);
    const auto status = wait_finished(store, id);
    EXPECT_EQ(status.state, JobState::Failed);
    EXPECT_NE(status.error.find("disk is full"), std::string::npos) << status.error;
    EXPECT_NE(status.error.find("could not be recorded"), std::string::npos) << status.error;
    // The worker is still there: the next job runs once the disk has room again.
    disk->recover();
    const auto next = create_job(store, "next");
    scheduler.enqueue(next);
    EXPECT_EQ(wait_finished(store, next).state, JobState::Done);
  }
  // No partial result is left behind.
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "jobs" / id))
    EXPECT_EQ(entry.path().filename().string().find(".partial"), std::string::npos) << entry.path();
}

TEST_F(Faults, WorkersSurviveAnIoErrorAndRunTheNextJob) {
  auto disk = std::make_shared<FailingDisk>(1000, EIO);
  JobStore store(options(disk));
  const auto first = create_job(store, "first");
  const auto second = create_job(store, "second");
  disk->fail_from_now();
  Scheduler scheduler(store, backend_, metrics_, 1);
  scheduler.enqueue(first);
  // The start of the first job cannot be recorded: it fails with the reason and is not run.
  const auto failed = wait_finished(store, first);
  EXPECT_EQ(failed.state, JobState::Failed);
  EXPECT_NE(failed.error.find("cannot record the start"), std::string::npos) << failed.error;
  EXPECT_TRUE(failed.layer_seconds.empty());
  // The same worker takes the next job.
  scheduler.enqueue(second);
  EXPECT_EQ(wait_finished(store, second).state, JobState::Failed);
}

TEST_F(Faults, FullDiskAtAdmissionIs507) {
  auto disk = std::make_shared<FailingDisk>(0);
  JobStore store(options(disk));
  try {
    create_job(store);
    ADD_FAILURE() << "accepted on a full disk";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 507);
    EXPECT_EQ(e.code(), "insufficient_storage");
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "jobs"));  // nothing half-created
}

TEST_F(Faults, AJobThatKeepsKillingTheServerIsFailedNotRequeuedForever) {
  std::string id;
  {
    JobStore store(options());
    id = create_job(store);
  }
  // Each "run" records its start and then the process dies (the store is dropped without finish or fail).
  const std::size_t max_attempts = JobStore::Options{}.max_attempts;
  for (std::size_t run = 1; run <= max_attempts; ++run) {
    JobStore store(options());
    ASSERT_EQ(store.unfinished(), std::vector<std::string>{id}) << "run " << run;
    ASSERT_TRUE(store.start(id));
  }
  JobStore restarted(options());
  EXPECT_TRUE(restarted.unfinished().empty());
  const auto status = restarted.status(id);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, JobState::Failed);
  EXPECT_NE(status->error.find("stopped during each of its 3 runs"), std::string::npos) << status->error;
  // Recorded: a further restart finds it failed too.
  EXPECT_EQ(JobStore(options()).status(id)->state, JobState::Failed);
}

TEST_F(Faults, RestartWithAFullDiskNeitherThrowsNorRequeuesAnExhaustedJob) {
  std::string id;
  {
    JobStore store(options());
    id = create_job(store);
    for (std::size_t run = 0; run < JobStore::Options{}.max_attempts; ++run) {
      ASSERT_TRUE(store.start(id));
      store.requeue(id);  // a clean shutdown does not count...
    }
    ASSERT_TRUE(store.start(id));  // ...but dying during a run does
  }
  for (std::size_t run = 2; run <= JobStore::Options{}.max_attempts; ++run) {
    JobStore store(options());
    ASSERT_TRUE(store.start(id)) << "run " << run;
  }
  JobStore restarted(options(std::make_shared<FailingDisk>(0)));
  EXPECT_TRUE(restarted.unfinished().empty());
  EXPECT_EQ(restarted.status(id)->state, JobState::Failed);
}

TEST_F(Faults, UploadsThatWouldOverrunTheDiskAre507BeforeTheBodyIsRead) {
  ServiceConfig config;
  config.data_dir = dir_ / "data";
  config.disk_reserve_bytes = std::uint64_t{1} << 62;  // more free space than any disk has
  Service service(config, backend_);
  std::size_t chunks_read = 0;
  const auto keys = FakeBackend::make_keys(kFingerprint, "k");
  Request request{"POST", "/v1/keys", [&](const BodySink& sink) {
                    ++chunks_read;
                    return sink(keys.data(), keys.size());
                  },
                  keys.size(), ""};
  const auto response = service.handle(request);
  EXPECT_EQ(response.status, 507);
  EXPECT_NE(response.body.find("insufficient_storage"), std::string::npos) << response.body;
  EXPECT_EQ(chunks_read, 0u);
}

TEST_F(Faults, UploadsBeyondTheQuotaAre507) {
  ServiceConfig config;
  config.data_dir = dir_ / "data";
  config.disk_quota_bytes = 4096;
  Service service(config, backend_);
  const auto upload = [&](const std::string& path, const std::string& body, bool declare_length) {
    Request request{"POST", path, [&](const BodySink& sink) {
                      // Arrives in 512-byte chunks, as from a network.
                      for (std::size_t at = 0; at < body.size(); at += 512)
                        if (!sink(body.data() + at, std::min<std::size_t>(512, body.size() - at))) return false;
                      return true;
                    },
                    declare_length ? std::optional<std::uint64_t>(body.size()) : std::nullopt, ""};
    return service.handle(request);
  };
  const auto keys = upload("/v1/keys", FakeBackend::make_keys(kFingerprint, random_bytes(1000, 1)), true);
  ASSERT_EQ(keys.status, 201) << keys.body;
  const auto key_id = nlohmann::json::parse(keys.body)["key_id"].get<std::string>();
  const auto batch = FakeBackend::make_batch(kFingerprint, random_bytes(4000, 2));
  for (const bool declared : {true, false}) {
    const auto r = upload("/v1/keys/" + key_id + "/jobs", batch, declared);
    EXPECT_EQ(r.status, 507) << "declared length: " << declared << " " << r.body;
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "data" / "tmp"));
  // A batch that fits is accepted.
  EXPECT_EQ(upload("/v1/keys/" + key_id + "/jobs", FakeBackend::make_batch(kFingerprint, "x"), true).status, 202);
}

TEST_F(Faults, DiskBudgetCountsUploadsInFlight) {
  std::filesystem::create_directories(dir_ / "data");
  DiskBudget budget(dir_ / "data", 0, 1000);
  auto first = budget.reserve(600);
  EXPECT_THROW(budget.reserve(600), ApiError);  // 600 + 600 > 1000 although the disk holds nothing yet
  EXPECT_FALSE(first.grow_to(1001));
  EXPECT_TRUE(first.grow_to(1000));
  { auto released = std::move(first); }
  EXPECT_NO_THROW(budget.reserve(1000));
}

// A body that would go on for 64 MiB, in 4 KiB chunks, after `header`; counts what the server read of it.
struct EndlessUpload {
  std::string header;
  std::size_t bytes_read = 0;
  Request request(const std::string& path) {
    return Request{"POST", path, [this](const BodySink& sink) {
                     if (!sink(header.data(), header.size())) return false;
                     bytes_read = header.size();
                     const std::string zeros(4096, '\0');
                     for (std::size_t i = 0; i < (std::size_t{64} << 20) / zeros.size(); ++i) {
                       if (!sink(zeros.data(), zeros.size())) return false;
                       bytes_read += zeros.size();
                     }
                     return true;
                   },
                   std::nullopt, ""};
  }
};

TEST_F(Faults, AMismatchedHeaderIsRefusedBeforeTheBodyIsRead) {
  ServiceConfig config;
  config.data_dir = dir_ / "data";
  Service service(config, backend_);
  const auto header_of = [](const std::string& file) { return file.substr(0, 20); };
  struct Case {
    std::string header;
    int status;
  };
  for (const auto& [header, status] : std::vector<Case>{
           {header_of(FakeBackend::make_keys(kFingerprint + 1, "")), 422},
           {header_of(FakeBackend::make_secret_key(kFingerprint, "")), 403},
           {header_of(FakeBackend::make_batch(kFingerprint, "")), 400},
       }) {
    EndlessUpload upload{header};
    const auto response = service.handle(upload.request("/v1/keys"));
    EXPECT_EQ(response.status, status) << response.body;
    // Read on only as far as the bounded drain (the body goes on for 64 MiB), and nothing stored.
    EXPECT_LE(upload.bytes_read, header.size() + UploadGate::kDrainBytes) << "the server read on after a refused header";
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "data" / "tmp"));
}

TEST_F(Faults, AFailedAtomicWriteLeavesNothingBehind) {
  // A directory in place of the target: the rename fails after the temporary file was written.
  std::filesystem::create_directories(dir_ / "target" / "occupied");
  EXPECT_THROW(write_file_atomically(dir_ / "target", "contents"), std::system_error);
  for (const auto& entry : std::filesystem::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename(), "target") << entry.path();
}

TEST_F(Faults, AKilledWriterLeavesTheOldFileOrTheNewOneNeverATornOne) {
  const auto target = dir_ / "job.json";
  const std::string old_contents(1 << 20, 'o'), new_contents(8 << 20, 'n');
  write_file_atomically(target, old_contents);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Rewrites the file in a loop until it is killed, at whatever point of a write that happens to be.
    char byte = 1;
    (void)!::write(ready[1], &byte, 1);
    for (;;) write_file_atomically(target, new_contents);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  const auto contents = read_file(target);
  EXPECT_TRUE(contents == old_contents || contents == new_contents) << "torn file of " << contents.size() << " bytes";
  // What a killed writer leaves is only ever a temporary name, which no reader opens and a restart discards.
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path() == target) continue;
    EXPECT_NE(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
}

TEST_F(Faults, RestartDiscardsWhatAnInterruptedCreationLeft) {
  std::string id;
  {
    JobStore store(options());
    id = create_job(store);
  }
  // A job folder without a job.json (killed during create) and a stray temporary status file.
  std::filesystem::create_directories(dir_ / "jobs" / "0123456789abcdef0123456789abcdef");
  write_file(dir_ / "jobs" / "0123456789abcdef0123456789abcdef" / "input.bin", "half");
  write_file(dir_ / "jobs" / id / "job.json.tmp-0123", "{\"torn");
  JobStore restarted(options());
  EXPECT_EQ(restarted.unfinished(), std::vector<std::string>{id});
  EXPECT_FALSE(std::filesystem::exists(dir_ / "jobs" / "0123456789abcdef0123456789abcdef"));
}

}  // namespace
}  // namespace cryptounet::serve::testing
