// An encrypted batch (the files of `encrypt`, `infer`, `decrypt`): the tiles of one or more images (nn::TileGrid,
// the same tiles as the plaintext nn::predict_logits) packed Volley-Revolver style, tile t in block t % batch of
// tile group g = t / batch. Each tile group is a team of ciphertexts, one per channel (the C input channels of a
// submitted batch, the K logit channels of a result): channel c of group g is ciphertext g * channels + c. A batch
// carries the random id its client drew; the server's result carries the same id, so the client can tell which of
// its batches a result answers (batch_record.h).
//
// Format (version 2): magic "CUNB", version, the 16-byte batch id, tile layout and tile stride, the ciphertext
// count, the image sizes (width, height; no names: they stay with the client), then the ckks ciphertext sequence
// (versioned, parameter fingerprint checked against the keys on load) and nothing after it. The channel count is
// the ciphertext count over the tile groups the images need; loading checks that it divides exactly, by arithmetic,
// before it allocates anything in proportion to it.
#pragma once

#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "henn/key_bundle.h"
#include "henn/layout.h"
#include "nn/tensor.h"
#include "nn/tiling.h"
#include "io/image.h"

#include <array>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

namespace cryptounet::henn {

using BatchId = std::array<std::uint8_t, 16>;
std::string to_hex(std::span<const std::uint8_t> bytes);  // lower-case, two digits per byte

struct ImageInfo {
  std::string name;  // the client's own, in memory only: batch files carry no names
  int width = 0;
  int height = 0;

  bool operator==(const ImageInfo&) const = default;
};

struct EncryptedBatch {
  Layout layout;
  int tile_stride = 0;  // tile grid stride (overlap = tile side - stride)
  std::vector<ImageInfo> images;
  std::vector<ckks::Ciphertext> ciphertexts;
  BatchId id{};  // drawn by the client for each batch; run_inference copies it into the result

  nn::TileGrid grid(const ImageInfo& image) const;
  std::uint64_t tile_count() const;   // by arithmetic: builds no grid
  std::uint64_t group_count() const;  // tile groups: tile_count() / layout.tiles_per_ciphertext, rounded up
  int channels() const;               // ciphertexts per tile group
};

// The most channels a batch may carry per tile group (input colours, or logit channels of a result).
inline constexpr int kMaxBatchChannels = 256;

// Everything in a batch file before its ciphertexts (sizes checked against the declared ciphertext count): enough
// to judge an upload before its body arrives.
struct BatchHeader {
  BatchId id{};
  Layout layout;
  int tile_stride = 0;
  std::uint32_t ciphertext_count = 0;
  int channels = 1;  // ciphertexts per tile group
  std::vector<ImageInfo> images;
};
BatchHeader read_batch_header(std::istream& in);

void save_batch(const std::string& path, const ckks::Context& context, const EncryptedBatch& batch);
EncryptedBatch load_batch(const std::string& path, const ckks::Context& context);
// The batch id in a batch file's header (no keys needed, nothing else read).
BatchId read_batch_id(const std::string& path);

// Client side: normalized C x H x W images (the same C for all) -> tiles -> per tile group and channel one packed
// slot vector -> secret-key encryption at the plan's top level, under a fresh random batch id. Square tiles only
// (the layout's height = width = the model tile).
EncryptedBatch encrypt_images(const ClientKeys& keys, const std::vector<nn::Tensor>& images,
                              const std::vector<std::string>& names, int tile_stride);
// The same for gray (1-channel) images.
EncryptedBatch encrypt_images(const ClientKeys& keys, const std::vector<io::Plane>& planes,
                              const std::vector<std::string>& names, int tile_stride);

}  // namespace cryptounet::henn
