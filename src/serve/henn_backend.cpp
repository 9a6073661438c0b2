#include "serve/henn_backend.h"

#include <fmt/format.h>
#include <sodium.h>

#include <fstream>
#include <stdexcept>
#include <vector>

#include "henn/batch.h"
#include "henn/inference.h"
#include "henn/resources.h"
#include "henn/upload_check.h"
#include "nn/predict.h"
#include "serve/bundle_check.h"

namespace cryptounet::serve {
namespace {

// Runs a henn header reader: a malformed header is a malformed upload.
template <class Read>
auto read_header(const char* what, Read read) {
  try {
    return read();
  } catch (const std::exception& e) {
    throw UploadRejected(RejectReason::Malformed, std::string(what) + ": " + e.what());
  }
}

// Runs a henn compatibility check: a mismatch means keys or a batch made for other parameters or another model.
template <class Check>
void check_compatible(Check check) {
  try {
    check();
  } catch (const std::invalid_argument& e) {
    throw UploadRejected(RejectReason::WrongParameters, e.what());
  }
}

std::string read_head(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::string head(kMaxHeaderBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return head;
}

// A stored file's header check: it has all the bytes it will ever have, so "need more" means truncated.
void check_stored_header(HeaderVerdict verdict, const char* what) {
  if (verdict == HeaderVerdict::NeedMore)
    throw UploadRejected(RejectReason::Malformed, std::string(what) + ": the file ends inside its header");
}

henn::KeysHeader stored_keys_header(const std::filesystem::path& keys) {
  auto header = read_header("evaluation keys", [&] { return henn::read_keys_header(read_head(keys)); });
  if (!header) throw UploadRejected(RejectReason::Malformed, "evaluation keys: the file ends inside its header");
  return std::move(*header);
}

}  // namespace

HennBackend::ContentHash hash_file(const std::filesystem::path& path) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  crypto_generichash_state state;
  HennBackend::ContentHash hash{};
  crypto_generichash_init(&state, nullptr, 0, hash.size());
  std::vector<char> chunk(std::size_t{1} << 20);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(chunk.data()),
                              static_cast<unsigned long long>(in.gcount()));
  }
  if (!in.eof()) throw std::runtime_error("cannot read " + path.string());
  crypto_generichash_final(&state, hash.data(), hash.size());
  return hash;
}

HennBackend::HennBackend(nn::Model model) : model_(std::move(model)) { model_.validate(); }

std::vector<std::string> HennBackend::layer_names() const {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < model_.nodes.size(); ++i)
    names.push_back(fmt::format("{}:{}", i, nn::op_name(model_.nodes[i].op)));
  return names;
}

HeaderVerdict HennBackend::check_keys_header(std::string_view head) const {
  const auto kind = henn::identify_file(head);
  if (!kind) return HeaderVerdict::NeedMore;
  require_file_kind(*kind, henn::FileKind::EvaluationKeys, "an evaluation-key bundle (eval.bin)");
  const auto header = read_header("evaluation keys", [&] { return henn::read_keys_header(head); });
  if (!header) return HeaderVerdict::NeedMore;
  check_compatible([&] { henn::check_plan(model_, header->plan); });
  return HeaderVerdict::Accepted;
}

HeaderVerdict HennBackend::check_batch_header(std::string_view head, const std::filesystem::path& keys) const {
  const auto kind = henn::identify_file(head);
  if (!kind) return HeaderVerdict::NeedMore;
  require_file_kind(*kind, henn::FileKind::EncryptedBatch, "an encrypted batch");
  const auto header = read_header("batch", [&] { return henn::read_batch_upload_header(head); });
  if (!header) return HeaderVerdict::NeedMore;
  const auto keys_header = stored_keys_header(keys);
  check_compatible([&] {
    henn::check_batch(keys_header.plan, keys_header.parameters, *header);
    henn::check_batch_channels(model_, *header);
  });
  return HeaderVerdict::Accepted;
}

std::shared_ptr<const henn::EvaluationKeys> HennBackend::load_keys(const std::filesystem::path& keys) const {
  const auto hash = hash_file(keys);
  {
    std::lock_guard lock(cache_mutex_);
    if (cached_keys_ && cached_hash_ == hash) return cached_keys_;
  }
  std::shared_ptr<const henn::EvaluationKeys> loaded;
  try {
    loaded = std::make_shared<const henn::EvaluationKeys>(henn::load_evaluation_keys(keys.string()));
  } catch (const std::exception& e) {
    throw UploadRejected(RejectReason::Malformed, std::string("evaluation keys: ") + e.what());
  }
  // The keys were loaded from the file after it was hashed; files of the key store are never written in place, so
  // they are the bytes hashed. Judged against the model before they are cached.
  check_compatible([&] { henn::check_plan(model_, loaded->plan); });
  std::lock_guard lock(cache_mutex_);
  cached_hash_ = hash;
  cached_keys_ = loaded;
  return loaded;
}

void HennBackend::validate_keys(const std::filesystem::path& keys) const {
  check_stored_header(check_keys_header(read_head(keys)), "evaluation keys");
  (void)load_keys(keys);
}

void HennBackend::validate_batch(const std::filesystem::path& batch, const std::filesystem::path& keys) const {
  check_stored_header(check_batch_header(read_head(batch), keys), "batch");
  const auto loaded = load_keys(keys);
  henn::EncryptedBatch parsed;
  try {
    parsed = henn::load_batch(batch.string(), *loaded->context);
  } catch (const std::exception& e) {
    throw UploadRejected(RejectReason::Malformed, std::string("batch: ") + e.what());
  }
  if (parsed.ciphertexts.empty()) throw UploadRejected(RejectReason::Malformed, "batch: no ciphertexts");
}

void HennBackend::run(const std::filesystem::path& keys, const std::filesystem::path& batch,
                      const std::filesystem::path& result, const ProgressCallback& progress) {
  const auto loaded = load_keys(keys);
  const auto input = henn::load_batch(batch.string(), *loaded->context);
  const auto output = henn::run_inference(model_, *loaded, input, [&](const henn::NodeProgress& p) {
    const LayerDone layer{static_cast<std::size_t>(p.node), p.seconds, static_cast<std::size_t>(p.first_ciphertext),
                          static_cast<std::size_t>(p.group_size), static_cast<std::size_t>(p.ciphertext_count)};
    if (!progress(layer)) throw Cancelled();
  });
  henn::save_batch(result.string(), *loaded->context, output);
}

void HennBackend::release_memory() { henn::release_memory(); }

std::unique_ptr<InferenceBackend> make_henn_backend(const std::filesystem::path& model) {
  return std::make_unique<HennBackend>(nn::LoadedModel::load(model.string()).model);
}

}  // namespace cryptounet::serve
