// An encrypted batch (the files of `encrypt`, `infer`, `decrypt`): the tiles of one or more images (nn::TileGrid,
// the same tiles as the plaintext nn::predict_logits) packed Volley-Revolver style, tile t in block t % batch of
// ciphertext t / batch. Format: magic "CUNB", version, tile layout and tile stride, the images (name, width,
// height), then the ckks ciphertext sequence (versioned, parameter fingerprint checked against the keys on load).
#pragma once

#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "henn/key_bundle.h"
#include "henn/layout.h"
#include "nn/tiling.h"
#include "io/image.h"

#include <string>
#include <vector>

namespace cryptounet::henn {

struct ImageInfo {
  std::string name;
  int width = 0;
  int height = 0;
};

struct EncryptedBatch {
  Layout layout;
  int tile_stride = 0;  // tile grid stride (overlap = tile side - stride)
  std::vector<ImageInfo> images;
  std::vector<ckks::Ciphertext> ciphertexts;

  nn::TileGrid grid(const ImageInfo& image) const;
  std::size_t tile_count() const;
};

void save_batch(const std::string& path, const ckks::Context& context, const EncryptedBatch& batch);
EncryptedBatch load_batch(const std::string& path, const ckks::Context& context);

// Client side: normalized planes -> tiles -> packed slot vectors -> secret-key encryption at the plan's top level.
// Square tiles only (the layout's height = width = the model tile).
EncryptedBatch encrypt_images(const ClientKeys& keys, const std::vector<io::Plane>& planes,
                              const std::vector<std::string>& names, int tile_stride);
// Client side: the decrypted logit map of every image (original size).
std::vector<io::Plane> decrypt_logits(const ClientKeys& keys, const EncryptedBatch& batch);

}  // namespace cryptounet::henn
