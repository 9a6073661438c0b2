#include "serve/henn_backend.h"

#include <fmt/format.h>
#include <malloc.h>
#include <sys/stat.h>

#include <stdexcept>

#include "ckks/buffer.h"
#include "henn/batch.h"
#include "henn/inference.h"
#include "nn/predict.h"
#include "serve/bundle_check.h"

namespace cryptounet::serve {
namespace {

// run_inference checks that model, keys and batch belong together before it touches a ciphertext; with an empty
// batch it does only those checks (std::invalid_argument), so the service reuses them instead of copying them.
void check_compatible(const nn::Model& model, const henn::EvaluationKeys& keys, const henn::EncryptedBatch& batch) {
  try {
    (void)henn::run_inference(model, keys, henn::EncryptedBatch{batch.layout, batch.tile_stride, batch.images, {}});
  } catch (const std::invalid_argument& e) {
    throw UploadRejected(RejectReason::WrongParameters, e.what());
  }
}

std::pair<std::uint64_t, std::uint64_t> inode_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path.string());
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

}  // namespace

HennBackend::HennBackend(nn::Model model) : model_(std::move(model)) { model_.validate(); }

std::vector<std::string> HennBackend::layer_names() const {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < model_.nodes.size(); ++i)
    names.push_back(fmt::format("{}:{}", i, nn::op_name(model_.nodes[i].op)));
  return names;
}

std::shared_ptr<const henn::EvaluationKeys> HennBackend::load_keys(const std::filesystem::path& keys) const {
  const auto inode = inode_of(keys);
  {
    std::lock_guard lock(cache_mutex_);
    if (cached_keys_ && cached_inode_ == inode) return cached_keys_;
  }
  std::shared_ptr<const henn::EvaluationKeys> loaded;
  try {
    loaded = std::make_shared<const henn::EvaluationKeys>(henn::load_evaluation_keys(keys.string()));
  } catch (const std::exception& e) {
    throw UploadRejected(RejectReason::Malformed, std::string("evaluation keys: ") + e.what());
  }
  std::lock_guard lock(cache_mutex_);
  cached_inode_ = inode;
  cached_keys_ = loaded;
  return loaded;
}

void HennBackend::validate_keys(const std::filesystem::path& keys) const {
  refuse_non_bundles(keys);
  const auto loaded = load_keys(keys);
  check_compatible(model_, *loaded, henn::EncryptedBatch{loaded->plan.layout, 0, {}, {}});
}

void HennBackend::validate_batch(const std::filesystem::path& batch, const std::filesystem::path& keys) const {
  const auto loaded = load_keys(keys);
  henn::EncryptedBatch parsed;
  try {
    parsed = henn::load_batch(batch.string(), *loaded->context);
  } catch (const std::exception& e) {
    // The ckks loader names a parameter mismatch by its fingerprint; anything else is a broken file.
    const bool other_parameters = std::string(e.what()).find("fingerprint") != std::string::npos;
    throw UploadRejected(other_parameters ? RejectReason::WrongParameters : RejectReason::Malformed,
                         std::string("batch: ") + e.what());
  }
  if (parsed.ciphertexts.empty()) throw UploadRejected(RejectReason::Malformed, "batch: no ciphertexts");
  check_compatible(model_, *loaded, parsed);
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

void HennBackend::release_memory() {
  ckks::pool_release();
  ::malloc_trim(0);  // glibc keeps freed arena memory (GiBs after a U-Net job) unless asked to return it
}

std::unique_ptr<InferenceBackend> make_henn_backend(const std::filesystem::path& model) {
  return std::make_unique<HennBackend>(nn::LoadedModel::load(model.string()).model);
}

}  // namespace cryptounet::serve
