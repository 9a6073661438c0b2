// What a client keeps of each batch it encrypts, and the only way it decrypts a result. CKKS is not IND-CPA-D
// secure (Li and Micciancio, EUROCRYPT 2021): decryptions of ciphertexts that someone else chose can reveal the
// secret key, so a client decrypts only the result of a batch it submitted itself, with the batch id it drew, under
// its parameters, at the level, scale and size that inference gives, and names the outputs after its own inputs
// (never after bytes from the server). docs/SECURITY.md.
//
// Records live in the key folder, keys/batches/<batch id in hex>.json (mode 0600: image names can identify
// patients), so that `decrypt` finds the batch a result claims to answer and refuses results of any other.
#pragma once

#include "henn/batch.h"
#include "henn/key_bundle.h"
#include "io/image.h"
#include "nn/tensor.h"

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cryptounet::henn {

// A result that is not the expected answer to the recorded batch; nothing of it was decrypted.
class ResultMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct BatchRecord {
  BatchId id{};
  std::array<std::uint8_t, 32> parameters{};  // ckks::Parameters::fingerprint() of the keys
  int tile = 0;
  int slots = 0;
  int tile_stride = 0;
  std::uint32_t ciphertext_count = 0;
  int channels = 1;         // input ciphertexts per tile group (the model's input channels)
  int result_channels = 1;  // logit ciphertexts per tile group the result must have (the model's output channels)
  int result_level = 0;
  double result_scale = 0;
  std::vector<ImageInfo> images;  // the client's names and the original sizes

  // The record of a batch just made by encrypt_images with `keys`, for a model with `result_channels` logit channels.
  static BatchRecord of(const ClientKeys& keys, const EncryptedBatch& submitted, int result_channels = 1);

  // Throws ResultMismatch naming the first difference unless `result` answers this batch under `keys`: same batch
  // id, parameters, layout, stride and image sizes, result_channels ciphertexts per tile group, each at result_level
  // and result_scale.
  void check_result(const ClientKeys& keys, const EncryptedBatch& result) const;

  // One file-name stem per image, unique, from the client's names reduced to [A-Za-z0-9._+-] without leading dots
  // (so never a path, "..", or a control character); "image<i>" when nothing is left.
  std::vector<std::string> output_stems() const;
};

std::string batch_record_path(const std::string& key_dir, const BatchId& id);
void save_batch_record(const std::string& key_dir, const BatchRecord& record);
// Throws ResultMismatch when these keys encrypted no batch with this id.
BatchRecord load_batch_record(const std::string& key_dir, const BatchId& id);

// check_result, then decryption: the logit maps (result_channels x height x width, original size) of each recorded
// image, in the record's order.
std::vector<nn::Tensor> decrypt_logit_maps(const ClientKeys& keys, const BatchRecord& submitted,
                                           const EncryptedBatch& result);
// The same for a 1-channel result: the logit map of each image as a plane.
std::vector<io::Plane> decrypt_logits(const ClientKeys& keys, const BatchRecord& submitted,
                                      const EncryptedBatch& result);

}  // namespace cryptounet::henn
