#include "henn/upload_check.h"

#include "ckks/serialization.h"
#include "henn/file_magic.h"
#include "henn/key_bundle.h"
#include "henn/schedule.h"

#include <algorithm>
#include <istream>
#include <stdexcept>
#include <streambuf>

namespace cryptounet::henn {

namespace {

// The first bytes of a file that is still arriving, as a seekable stream (no copy). Its end is not where the bytes
// end: it reports the size of the largest possible file, so that a bounded loader (one that compares declared sizes
// with the bytes left) reads on, and running past the bytes held is a read at end of file, never a refusal.
class PrefixBuffer : public std::streambuf {
 public:
  explicit PrefixBuffer(std::string_view head) {
    char* begin = const_cast<char*>(head.data());  // read-only: the get area is never written through
    setg(begin, begin, begin + head.size());
  }

 protected:
  pos_type seekoff(off_type offset, std::ios_base::seekdir dir, std::ios_base::openmode which) override {
    const off_type base = dir == std::ios_base::beg ? 0 : dir == std::ios_base::cur ? position() : kVirtualSize;
    return seekpos(pos_type(base + offset), which);
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    const off_type target = pos;
    if (!(which & std::ios_base::in) || target < 0 || target > kVirtualSize) return pos_type(off_type(-1));
    const off_type held = egptr() - eback();
    setg(eback(), eback() + std::min(target, held), egptr());
    beyond_ = target > held ? target : -1;
    return pos;
  }

 private:
  static constexpr off_type kVirtualSize = off_type{1} << 50;
  off_type position() const { return beyond_ >= 0 ? beyond_ : gptr() - eback(); }
  off_type beyond_ = -1;  // a position past the bytes held (only reached by seeking)
};

// Runs `read` over `head`. A reader that throws after reaching the end of `head` failed for lack of bytes, not for
// bad ones: the header continues in bytes that have not arrived yet.
template <class Read>
auto read_prefix(std::string_view head, Read read) -> std::optional<decltype(read(std::declval<std::istream&>()))> {
  PrefixBuffer buffer(head);
  std::istream in(&buffer);
  try {
    return read(in);
  } catch (const std::runtime_error&) {
    if (in.eof()) return std::nullopt;
    throw;
  }
}

bool starts_with(std::string_view head, const char (&magic)[5]) { return head.substr(0, 4) == std::string_view(magic, 4); }

}  // namespace

std::optional<FileKind> identify_file(std::string_view head) {
  if (head.size() < kFileKindBytes) return std::nullopt;
  if (starts_with(head, magic::kEvaluationKeys)) return FileKind::EvaluationKeys;
  if (starts_with(head, magic::kBatch)) return FileKind::EncryptedBatch;
  if (starts_with(head, magic::kPublicKey)) return FileKind::ClientPublicKey;
  const auto ckks_header = read_prefix(head, [](std::istream& in) { return ckks::read_object_header(in); });
  if (!ckks_header) return std::nullopt;  // not reached with kFileKindBytes bytes
  if (!*ckks_header) return FileKind::Unknown;
  return (*ckks_header)->kind == ckks::ObjectKind::SecretKey ? FileKind::SecretKey : FileKind::CkksObject;
}

std::optional<KeysHeader> read_keys_header(std::string_view head) {
  return read_prefix(head, [](std::istream& in) {
    auto [plan, parameters] = read_evaluation_keys_header(in);
    return KeysHeader{std::move(plan), std::move(parameters)};
  });
}

std::optional<BatchUploadHeader> read_batch_upload_header(std::string_view head) {
  return read_prefix(head, [](std::istream& in) {
    BatchUploadHeader header{read_batch_header(in), {}};
    const auto ciphertexts = ckks::read_object_header(in);
    if (!ciphertexts || ciphertexts->kind != ckks::ObjectKind::Ciphertexts)
      throw std::runtime_error("encrypted batch: the images are not followed by a ciphertext sequence");
    header.fingerprint = ciphertexts->fingerprint;
    return header;
  });
}

void check_plan_capacity(const nn::Model& model, const InferencePlan& plan) {
  const Schedule schedule = Schedule::create(model);
  if (schedule.levels > plan.levels)
    throw std::invalid_argument("model '" + model.name + "' needs " + std::to_string(schedule.levels) +
                                " levels, the keys were planned for " + std::to_string(plan.levels) +
                                " (run keygen with this model)");
  const int pooling_factor = 1 << model.pooling_depth();
  if (plan.layout.height % pooling_factor != 0 || plan.layout.width % pooling_factor != 0)
    throw std::invalid_argument("the keys' " + std::to_string(plan.layout.height) + "x" +
                                std::to_string(plan.layout.width) + " tile is not divisible by the model's pooling factor " +
                                std::to_string(pooling_factor));
  if (plan.rotation_levels.size() != plan.rotation_steps.size())
    throw std::invalid_argument("the plan gives " + std::to_string(plan.rotation_levels.size()) + " key levels for " +
                                std::to_string(plan.rotation_steps.size()) + " rotation steps");
  // The input is dropped to the model's levels, so a key must serve the highest level its step is used at from there.
  if (plan.relin_level < schedule.levels - schedule.relinearization_depth())
    throw std::invalid_argument("the relinearization key serves levels up to " + std::to_string(plan.relin_level) +
                                ", model '" + model.name + "' relinearizes at level " +
                                std::to_string(schedule.levels - schedule.relinearization_depth()));
  const auto steps = schedule.rotation_steps(model, plan.layout);
  const auto depths = schedule.rotation_depths(model, plan.layout);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto it = std::find(plan.rotation_steps.begin(), plan.rotation_steps.end(), steps[i]);
    if (it == plan.rotation_steps.end()) continue;  // a missing key is refused by the evaluator, naming the step
    const int level = plan.rotation_levels[static_cast<std::size_t>(it - plan.rotation_steps.begin())];
    if (level < schedule.levels - depths[i])
      throw std::invalid_argument("the Galois key for rotation step " + std::to_string(steps[i]) +
                                  " serves levels up to " + std::to_string(level) + ", model '" + model.name +
                                  "' rotates by it at level " + std::to_string(schedule.levels - depths[i]));
  }
}

void check_plan(const nn::Model& model, const InferencePlan& plan) {
  check_plan_capacity(model, plan);
  const Schedule schedule = Schedule::create(model);
  auto needed = schedule.rotation_steps(model, plan.layout);
  auto present = plan.rotation_steps;
  std::sort(present.begin(), present.end());
  if (needed != present)
    throw std::invalid_argument("the keys hold Galois keys for " + std::to_string(present.size()) +
                                " rotations, model '" + model.name + "' uses " + std::to_string(needed.size()) +
                                " other ones on this layout (run keygen with this model)");
  // Keys above the levels the plan's model uses them at are memory a server would hold for nothing.
  const auto depths = schedule.rotation_depths(model, plan.layout);
  for (std::size_t i = 0; i < plan.rotation_steps.size(); ++i) {
    const auto at = std::find(needed.begin(), needed.end(), plan.rotation_steps[i]) - needed.begin();
    if (plan.rotation_levels[i] > plan.levels - depths[static_cast<std::size_t>(at)])
      throw std::invalid_argument("the Galois key for rotation step " + std::to_string(plan.rotation_steps[i]) +
                                  " serves levels up to " + std::to_string(plan.rotation_levels[i]) + ", model '" +
                                  model.name + "' needs it up to " +
                                  std::to_string(plan.levels - depths[static_cast<std::size_t>(at)]));
  }
  if (plan.relin_level > plan.levels - schedule.relinearization_depth())
    throw std::invalid_argument("the relinearization key serves levels up to " + std::to_string(plan.relin_level) +
                                ", model '" + model.name + "' needs it up to " +
                                std::to_string(plan.levels - schedule.relinearization_depth()));
}

void check_batch_layout(const InferencePlan& plan, const Layout& layout) {
  if (layout.height != plan.layout.height || layout.width != plan.layout.width || layout.slots != plan.layout.slots)
    throw std::invalid_argument("the batch was packed for another layout than the evaluation keys'");
}

void check_batch(const InferencePlan& plan, const ckks::Parameters& parameters, const BatchUploadHeader& header) {
  check_batch_layout(plan, header.batch.layout);
  if (header.fingerprint != parameters.fingerprint())
    throw std::invalid_argument("the batch was encrypted under other CKKS parameters than the evaluation keys'");
}

void check_batch_channels(const nn::Model& model, const BatchUploadHeader& header) {
  if (header.batch.channels != model.input().channels)
    throw std::invalid_argument("the batch holds " + std::to_string(header.batch.channels) +
                                " channels per tile group, model '" + model.name + "' takes " +
                                std::to_string(model.input().channels));
}

}  // namespace cryptounet::henn
