// `cryptounet client --server URL <action>`: talks to `cryptounet serve` (docs/SERVICE.md). The client only moves
// public evaluation keys and ciphertexts; encryption and decryption stay on the hospital's side. Its token comes
// from --token-file (mode 0600) or the CRYPTOUNET_TOKEN environment variable; with https:// the server's
// certificate is verified against --ca (or the system's CAs).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "command.h"
#include "henn/batch.h"
#include "io/json_number.h"
#include "serve/client.h"
#include "serve/tokens.h"

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

// The server's status is untrusted: numbers are range-checked, and only printable text reaches the terminal.
void inference_bar(const nlohmann::json& s) {
  using cryptounet::io::json_finite_or;
  using cryptounet::io::json_integer_or;
  constexpr std::uint64_t kSteps = 1000;
  constexpr std::size_t kMaxCount = std::size_t{1} << 20;
  const auto text = [&s](const char* key) {
    return s.contains(key) && s[key].is_string() ? s[key].get<std::string>() : std::string{};
  };
  const auto state = text("state");
  std::string suffix = state == "queued" || state == "running" || state == "done" || state == "failed" ? state : "";
  const auto cts =
      s.contains("ciphertexts") && s["ciphertexts"].is_object() ? s["ciphertexts"] : nlohmann::json::object();
  const auto total = json_integer_or<std::size_t>(cts, "total", 1, 0, kMaxCount);
  const auto first = json_integer_or<std::size_t>(cts, "first", 0, 0, kMaxCount);
  const auto group = json_integer_or<std::size_t>(cts, "group", 1, 0, kMaxCount);
  if (total > 1 && state == "running")
    suffix += fmt::format(" ciphertexts {}-{} of {}", first + 1, std::min(total, first + group), total);
  const auto layer = text("current_layer");
  const auto is_printable = [](char c) { return c >= 0x20 && c < 0x7f; };  // no terminal escapes
  if (!layer.empty() && layer.size() <= 64 && std::all_of(layer.begin(), layer.end(), is_printable))
    suffix += " " + layer;
  const double progress = std::clamp(json_finite_or(s, "progress", 0.0), 0.0, 1.0);
  draw_bar("inference", static_cast<std::uint64_t>(progress * kSteps), kSteps, suffix);
}

struct ClientOptions {
  std::string server = "http://127.0.0.1:8080";
  std::string token_file, ca;
  std::string keys, batch, out, key_id, job_id;
  bool keep_key = false;
};

// The token from --token-file, else from CRYPTOUNET_TOKEN, else none (a server without --tokens).
ServiceClient connect(const ClientOptions& o) {
  cryptounet::serve::ClientCredentials credentials;
  credentials.ca_file = o.ca;
  if (!o.token_file.empty()) {
    auto text = cryptounet::serve::read_private_file(o.token_file);
    const auto begin = text.find_first_not_of(" \t\r\n"), end = text.find_last_not_of(" \t\r\n");
    if (begin != std::string::npos) credentials.token = text.substr(begin, end - begin + 1);
  } else if (const char* token = std::getenv("CRYPTOUNET_TOKEN")) {
    credentials.token = token;
  }
  return ServiceClient(o.server, credentials);
}

// The result reaches `out` only when it answers the submitted batch (same batch id); `decrypt` checks the rest.
void download_answer(ServiceClient& client, const std::string& job_id, const std::filesystem::path& batch,
                     const std::filesystem::path& out) {
  auto unverified = out;
  unverified += ".unverified";
  client.download(job_id, unverified, bytes_bar("result"));
  try {
    const auto expected = cryptounet::henn::read_batch_id(batch.string());
    const auto answered = cryptounet::henn::read_batch_id(unverified.string());
    if (answered != expected)
      throw std::runtime_error(fmt::format("job {} returned a result for batch {}, not for the submitted batch {}",
                                           job_id, cryptounet::henn::to_hex(answered),
                                           cryptounet::henn::to_hex(expected)));
  } catch (...) {
    std::filesystem::remove(unverified);
    throw;
  }
  std::filesystem::rename(unverified, out);
}

void run_all(const ClientOptions& o) {
  auto client = connect(o);
  const bool uploaded_key = o.key_id.empty();
  const auto key_id = uploaded_key ? client.upload_keys(o.keys, bytes_bar("keys")) : o.key_id;
  if (uploaded_key) fmt::print(stderr, "key id {}\n", key_id);
  const auto job_id = client.submit(key_id, o.batch, bytes_bar("batch"));
  fmt::print(stderr, "job id {}\n", job_id);
  client.wait(job_id, inference_bar);
  download_answer(client, job_id, o.batch, o.out);
  client.delete_job(job_id);
  if (uploaded_key && !o.keep_key) client.delete_key(key_id);
  fmt::print("{}\n", o.out);
}

void setup_client(CLI::App& root) {
  auto o = std::make_shared<ClientOptions>();
  auto* cmd = root.add_subcommand("client", "Talk to a `cryptounet serve` server");
  cmd->add_option("--server", o->server, "Server URL (https://host:port on a network)")->capture_default_str();
  cmd->add_option("--token-file", o->token_file,
                  "File holding this client's token (mode 0600); default: $CRYPTOUNET_TOKEN")
      ->check(CLI::ExistingFile);
  cmd->add_option("--ca", o->ca,
                  "CA certificate (PEM) the https server's certificate must chain to; default: system CAs")
      ->check(CLI::ExistingFile);
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
  keys->callback([o] { fmt::print("{}\n", connect(*o).upload_keys(o->keys, bytes_bar("keys"))); });

  auto* submit = cmd->add_subcommand("submit", "Submit an encrypted batch for a key id; prints its job id");
  submit->add_option("--key-id", o->key_id, "Key id from upload-keys")->required();
  submit->add_option("--batch", o->batch, "Encrypted batch")->required()->check(CLI::ExistingFile);
  submit->callback(
      [o] { fmt::print("{}\n", connect(*o).submit(o->key_id, o->batch, bytes_bar("batch"))); });

  auto* status = cmd->add_subcommand("status", "Print a job's status (JSON)");
  status->add_option("--job-id", o->job_id, "Job id")->required();
  status->callback([o] { fmt::print("{}\n", connect(*o).status(o->job_id).dump(2)); });

  auto* wait = cmd->add_subcommand("wait", "Show a job's progress until it is done");
  wait->add_option("--job-id", o->job_id, "Job id")->required();
  wait->callback([o] { connect(*o).wait(o->job_id, inference_bar); });

  auto* download = cmd->add_subcommand("download", "Download a finished job's encrypted result");
  download->add_option("--job-id", o->job_id, "Job id")->required();
  download->add_option("--out", o->out, "Output file")->required();
  download->callback([o] { connect(*o).download(o->job_id, o->out, bytes_bar("result")); });

  auto* delete_job = cmd->add_subcommand("delete-job", "Cancel a job or drop its result");
  delete_job->add_option("--job-id", o->job_id, "Job id")->required();
  delete_job->callback([o] { connect(*o).delete_job(o->job_id); });

  auto* delete_key = cmd->add_subcommand("delete-key", "Unregister a key bundle");
  delete_key->add_option("--key-id", o->key_id, "Key id")->required();
  delete_key->callback([o] { connect(*o).delete_key(o->key_id); });
}

}  // namespace

CRYPTOUNET_COMMAND(setup_client);
