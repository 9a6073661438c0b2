// Judging a henn file by its first bytes, for a server that receives files from clients it does not trust: which
// kind of file it is, and whether the plan and parameters in its header fit the server's model and keys. A server
// calls these while the body is still arriving and refuses a mismatch before reading, storing or allocating for the
// rest (key bundles are gigabytes).
#pragma once

#include "ckks/params.h"
#include "henn/batch.h"
#include "henn/planner.h"
#include "nn/model.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cryptounet::henn {

enum class FileKind {
  EvaluationKeys,   // eval.bin of keygen: what a server accepts as keys
  EncryptedBatch,   // a batch of encrypt (or a result of infer)
  ClientPublicKey,  // public.bin: the client's file, not meant for the server
  SecretKey,        // a CKKS secret key: a server must never hold one
  CkksObject,       // any other bare CKKS object
  Unknown,
};
// The bytes identify_file needs: a CKKS object's header (magic, version, type, 32-byte parameter fingerprint), the
// longest of the headers it reads.
inline constexpr std::size_t kFileKindBytes = 40;
// std::nullopt while `head` holds fewer than kFileKindBytes bytes.
std::optional<FileKind> identify_file(std::string_view head);

// The headers below are read from the first bytes of a file: std::nullopt when `head` ends before the header does
// (wait for more bytes), std::runtime_error when the header is malformed.
struct KeysHeader {
  InferencePlan plan;
  ckks::Parameters parameters;
};
std::optional<KeysHeader> read_keys_header(std::string_view head);

struct BatchUploadHeader {
  BatchHeader batch;
  std::array<std::uint8_t, 32> fingerprint{};  // of the parameters the ciphertexts were encrypted under
};
std::optional<BatchUploadHeader> read_batch_upload_header(std::string_view head);

// Throws std::invalid_argument naming the mismatch unless `model` fits keys made for `plan`: enough levels, a tile
// the model's poolings divide, and keys that serve every level the model relinearizes or rotates by their step at
// (what run_inference requires).
void check_plan_capacity(const nn::Model& model, const InferencePlan& plan);
// check_plan_capacity, and the keys hold Galois keys for exactly the rotations the model uses on the plan's layout,
// each serving no level above the highest the model uses it at: none missing, no key or limb a server would hold for
// nothing (what a server requires of an upload).
void check_plan(const nn::Model& model, const InferencePlan& plan);
// Throws std::invalid_argument unless a batch with this layout runs with keys for `plan`.
void check_batch_layout(const InferencePlan& plan, const Layout& layout);
// Throws std::invalid_argument unless a batch's header matches keys for `plan` under `parameters`.
void check_batch(const InferencePlan& plan, const ckks::Parameters& parameters, const BatchUploadHeader& header);
// Throws std::invalid_argument unless the batch holds as many ciphertexts per tile group as the model has input
// channels.
void check_batch_channels(const nn::Model& model, const BatchUploadHeader& header);

}  // namespace cryptounet::henn
