#include "henn/batch.h"

#include "ckks/encoder.h"
#include "ckks/encryptor.h"

#include <sodium.h>

#include <stdexcept>

namespace cryptounet::henn {

nn::TileGrid EncryptedBatch::grid(const ImageInfo& image) const {
  return nn::make_tile_grid(image.width, image.height, layout.height, tile_stride);
}

std::uint64_t EncryptedBatch::tile_count() const {
  std::uint64_t n = 0;
  for (const auto& img : images) n += nn::tile_count(img.width, img.height, layout.height, tile_stride);
  return n;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string hex(2 * bytes.size() + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  hex.pop_back();
  return hex;
}

EncryptedBatch encrypt_images(const ClientKeys& keys, const std::vector<io::Plane>& planes,
                              const std::vector<std::string>& names, int tile_stride) {
  if (planes.size() != names.size()) throw std::invalid_argument("encrypt_images: one name per image");
  EncryptedBatch b;
  b.layout = keys.plan.layout;
  if (b.layout.height != b.layout.width) throw std::invalid_argument("encrypt_images: tiles must be square");
  b.tile_stride = tile_stride;
  if (sodium_init() < 0) throw std::runtime_error("encrypt_images: libsodium failed to initialise");
  randombytes_buf(b.id.data(), b.id.size());
  std::vector<nn::Tensor> tiles;
  for (std::size_t i = 0; i < planes.size(); ++i) {
    b.images.push_back({names[i], planes[i].width, planes[i].height});
    for (auto& t : nn::extract_tiles(planes[i], b.grid(b.images.back()))) tiles.push_back(std::move(t));
  }
  ckks::Encoder encoder(keys.context);
  ckks::Encryptor encryptor(keys.context, keys.secret);
  for (std::size_t first = 0; first < tiles.size(); first += b.layout.tiles_per_ciphertext) {
    std::vector<const std::vector<double>*> group;
    for (std::size_t t = first; t < std::min(tiles.size(), first + b.layout.tiles_per_ciphertext); ++t)
      group.push_back(&tiles[t].data);
    const auto slots = b.layout.pack(group);
    b.ciphertexts.push_back(encryptor.encrypt(encoder.encode(slots, keys.plan.levels, keys.plan.input_scale)));
  }
  return b;
}

}  // namespace cryptounet::henn
