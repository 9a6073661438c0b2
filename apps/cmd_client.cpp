// `cryptounet client --server URL <action>`: talks to `cryptounet serve` (docs/SERVICE.md). The client only moves
// public evaluation keys and ciphertexts; encryption and decryption stay on the hospital's side.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "command.h"
#include "serve/client.h"

namespace {

using cryptounet::serve::ServiceClient;

// One status line on stderr, redrawn in place: "upload  [#######.............]  35%  12.0/34.3 MiB".
void draw_bar(const char* what, std::uint64_t done, std::uint64_t total, const std::string& suffix = {}) {
  constexpr int kWidth = 30;
  const double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
  const int filled = static_cast<int>(fraction * kWidth);
  std::fprintf(stderr, "\r%-9s [%s%s] %3.0f%% %s   ", what, std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), 100 * fraction, suffix.c_str());
  if (done >= total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

// Redrawn only when the whole percent changes (transfers report every few KiB).
cryptounet::serve::TransferProgress bytes_bar(const char* what) {
  return [what, last_percent = -1](std::uint64_t done, std::uint64_t total) mutable {
    const int percent = total > 0 ? static_cast<int>(100 * done / total) : 100;
    if (percent == last_percent) return;
    last_percent = percent;
    draw_bar(what, done, total, fmt::format("{:.1f}/{:.1f} MiB", done / 1048576.0, total / 1048576.0));
  };
}

void inference_bar(const nlohmann::json& s) {
  constexpr std::uint64_t kSteps = 1000;
  const auto state = s.value("state", std::string{});
  std::string suffix = state;
  const auto& cts = s.value("ciphertexts", nlohmann::json::object());
  const auto total = cts.value("total", std::size_t{1}), first = cts.value("first", std::size_t{0});
  if (total > 1 && state == "running")
    suffix += fmt::format(" ciphertexts {}-{} of {}", first + 1, std::min(total, first + cts.value("group", std::size_t{1})), total);
  if (s.contains("current_layer")) suffix += " " + s["current_layer"].get<std::string>();
  draw_bar("inference", static_cast<std::uint64_t>(s.value("progress", 0.0) * kSteps), kSteps, suffix);
}

struct ClientOptions {
  std::string server = "http://127.0.0.1:8080";
  std::string keys, batch, out, key_id, job_id;
  bool keep_key = false;
};

void run_all(const ClientOptions& o) {
  ServiceClient client(o.server);
  const bool uploaded_key = o.key_id.empty();
  const auto key_id = uploaded_key ? client.upload_keys(o.keys, bytes_bar("keys")) : o.key_id;
  if (uploaded_key) fmt::print(stderr, "key id {}\n", key_id);
  const auto job_id = client.submit(key_id, o.batch, bytes_bar("batch"));
  fmt::print(stderr, "job id {}\n", job_id);
  client.wait(job_id, inference_bar);
  client.download(job_id, o.out, bytes_bar("result"));
  client.delete_job(job_id);
  if (uploaded_key && !o.keep_key) client.delete_key(key_id);
  fmt::print("{}\n", o.out);
}

void setup_client(CLI::App& root) {
  auto o = std::make_shared<ClientOptions>();
  auto* cmd = root.add_subcommand("client", "Talk to a `cryptounet serve` server");
  cmd->add_option("--server", o->server, "Server URL")->capture_default_str();
  cmd->require_subcommand(1);

  auto* run = cmd->add_subcommand("run", "Upload keys (or reuse --key-id), submit a batch, wait, download");
  run->add_option("--keys", o->keys, "Evaluation-key bundle (public keys only)")->check(CLI::ExistingFile);
  run->add_option("--key-id", o->key_id, "A key id registered earlier, instead of --keys");
  run->add_option("--batch", o->batch, "Encrypted batch")->required()->check(CLI::ExistingFile);
  run->add_option("--out", o->out, "Where to write the encrypted result")->required();
  run->add_flag("--keep-key", o->keep_key, "Leave the uploaded keys registered for later jobs");
  run->callback([o] {
    if (o->keys.empty() == o->key_id.empty()) throw CLI::ValidationError("give exactly one of --keys and --key-id");
    run_all(*o);
  });

  auto* keys = cmd->add_subcommand("upload-keys", "Register an evaluation-key bundle; prints its key id");
  keys->add_option("--keys", o->keys, "Evaluation-key bundle")->required()->check(CLI::ExistingFile);
  keys->callback([o] { fmt::print("{}\n", ServiceClient(o->server).upload_keys(o->keys, bytes_bar("keys"))); });

  auto* submit = cmd->add_subcommand("submit", "Submit an encrypted batch for a key id; prints its job id");
  submit->add_option("--key-id", o->key_id, "Key id from upload-keys")->required();
  submit->add_option("--batch", o->batch, "Encrypted batch")->required()->check(CLI::ExistingFile);
  submit->callback(
      [o] { fmt::print("{}\n", ServiceClient(o->server).submit(o->key_id, o->batch, bytes_bar("batch"))); });

  auto* status = cmd->add_subcommand("status", "Print a job's status (JSON)");
  status->add_option("--job-id", o->job_id, "Job id")->required();
  status->callback([o] { fmt::print("{}\n", ServiceClient(o->server).status(o->job_id).dump(2)); });

  auto* wait = cmd->add_subcommand("wait", "Show a job's progress until it is done");
  wait->add_option("--job-id", o->job_id, "Job id")->required();
  wait->callback([o] { ServiceClient(o->server).wait(o->job_id, inference_bar); });

  auto* download = cmd->add_subcommand("download", "Download a finished job's encrypted result");
  download->add_option("--job-id", o->job_id, "Job id")->required();
  download->add_option("--out", o->out, "Output file")->required();
  download->callback([o] { ServiceClient(o->server).download(o->job_id, o->out, bytes_bar("result")); });

  auto* delete_job = cmd->add_subcommand("delete-job", "Cancel a job or drop its result");
  delete_job->add_option("--job-id", o->job_id, "Job id")->required();
  delete_job->callback([o] { ServiceClient(o->server).delete_job(o->job_id); });

  auto* delete_key = cmd->add_subcommand("delete-key", "Unregister a key bundle");
  delete_key->add_option("--key-id", o->key_id, "Key id")->required();
  delete_key->callback([o] { ServiceClient(o->server).delete_key(o->key_id); });
}

}  // namespace

CRYPTOUNET_COMMAND(setup_client);
