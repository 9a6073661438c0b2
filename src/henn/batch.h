// An encrypted batch (the files of `encrypt`, `infer`, `decrypt`): the tiles of one or more images packed
// Volley-Revolver style, tile t in block t % batch of ciphertext t / batch. Format: magic "CUNB", version, tile
// layout, the images (name, width, height), the tile origins, then the ckks ciphertext sequence (versioned,
// parameter fingerprint checked against the keys on load).
#pragma once

#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "henn/key_bundle.h"
#include "henn/layout.h"
#include "henn/tiling.h"
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
  std::vector<ImageInfo> images;
  std::vector<TileRef> tiles;
  std::vector<ckks::Ciphertext> ciphertexts;
};

void save_batch(const std::string& path, const ckks::Context& context, const EncryptedBatch& batch);
EncryptedBatch load_batch(const std::string& path, const ckks::Context& context);

// Client side: normalized planes -> tiles -> packed slot vectors -> secret-key encryption at the plan's top level.
EncryptedBatch encrypt_images(const ClientKeys& keys, const std::vector<io::Plane>& planes,
                              const std::vector<std::string>& names);
// Client side: the decrypted logit map of every image (original size).
std::vector<io::Plane> decrypt_logits(const ClientKeys& keys, const EncryptedBatch& batch);

}  // namespace cryptounet::henn
