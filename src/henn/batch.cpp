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

std::uint64_t EncryptedBatch::group_count() const {
  const auto per = static_cast<std::uint64_t>(layout.tiles_per_ciphertext);
  return (tile_count() + per - 1) / per;
}

int EncryptedBatch::channels() const {
  const std::uint64_t groups = group_count();
  if (groups == 0 || ciphertexts.size() % groups != 0)
    throw std::runtime_error("encrypted batch: " + std::to_string(ciphertexts.size()) + " ciphertexts for " +
                             std::to_string(groups) + " tile groups");
  return static_cast<int>(ciphertexts.size() / groups);
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string hex(2 * bytes.size() + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  hex.pop_back();
  return hex;
}

EncryptedBatch encrypt_images(const ClientKeys& keys, const std::vector<nn::Tensor>& images,
                              const std::vector<std::string>& names, int tile_stride) {
  if (images.size() != names.size()) throw std::invalid_argument("encrypt_images: one name per image");
  if (images.empty()) throw std::invalid_argument("encrypt_images: no images");
  const int channels = images.front().channels;
  if (channels < 1 || channels > kMaxBatchChannels)
    throw std::invalid_argument("encrypt_images: " + std::to_string(channels) + " channels");
  for (const auto& image : images)
    if (image.channels != channels) throw std::invalid_argument("encrypt_images: images differ in channels");
  EncryptedBatch b;
  b.layout = keys.plan.layout;
  if (b.layout.height != b.layout.width) throw std::invalid_argument("encrypt_images: tiles must be square");
  b.tile_stride = tile_stride;
  if (sodium_init() < 0) throw std::runtime_error("encrypt_images: libsodium failed to initialise");
  randombytes_buf(b.id.data(), b.id.size());
  // planes[c][t]: channel c of tile t.
  std::vector<std::vector<std::vector<double>>> planes(channels);
  for (std::size_t i = 0; i < images.size(); ++i) {
    b.images.push_back({names[i], images[i].width, images[i].height});
    for (const auto& t : nn::extract_tiles(images[i], b.grid(b.images.back())))
      for (int c = 0; c < channels; ++c) planes[c].emplace_back(t.channel(c), t.channel(c) + t.plane_size());
  }
  ckks::Encoder encoder(keys.context);
  ckks::Encryptor encryptor(keys.context, keys.secret);
  const std::size_t tiles = planes.front().size();
  for (std::size_t first = 0; first < tiles; first += b.layout.tiles_per_ciphertext)
    for (int c = 0; c < channels; ++c) {
      std::vector<const std::vector<double>*> group;
      for (std::size_t t = first; t < std::min(tiles, first + b.layout.tiles_per_ciphertext); ++t)
        group.push_back(&planes[c][t]);
      const auto slots = b.layout.pack(group);
      b.ciphertexts.push_back(encryptor.encrypt(encoder.encode(slots, keys.plan.levels, keys.plan.input_scale)));
    }
  return b;
}

EncryptedBatch encrypt_images(const ClientKeys& keys, const std::vector<io::Plane>& planes,
                              const std::vector<std::string>& names, int tile_stride) {
  std::vector<nn::Tensor> images;
  for (const auto& p : planes) images.push_back(nn::Tensor::from_plane(p));
  return encrypt_images(keys, images, names, tile_stride);
}

}  // namespace cryptounet::henn
