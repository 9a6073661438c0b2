#include "henn/batch.h"

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"

#include <stdexcept>

namespace cryptounet::henn {

nn::TileGrid EncryptedBatch::grid(const ImageInfo& image) const {
  return nn::make_tile_grid(image.width, image.height, layout.height, tile_stride);
}

std::size_t EncryptedBatch::tile_count() const {
  std::size_t n = 0;
  for (const auto& img : images) n += grid(img).count();
  return n;
}

EncryptedBatch encrypt_images(const ClientKeys& keys, const std::vector<io::Plane>& planes,
                              const std::vector<std::string>& names, int tile_stride) {
  if (planes.size() != names.size()) throw std::invalid_argument("encrypt_images: one name per image");
  EncryptedBatch b;
  b.layout = keys.plan.layout;
  if (b.layout.height != b.layout.width) throw std::invalid_argument("encrypt_images: tiles must be square");
  b.tile_stride = tile_stride;
  std::vector<nn::Tensor> tiles;
  for (std::size_t i = 0; i < planes.size(); ++i) {
    b.images.push_back({names[i], planes[i].width, planes[i].height});
    for (auto& t : nn::extract_tiles(planes[i], b.grid(b.images.back()))) tiles.push_back(std::move(t));
  }
  ckks::Encoder encoder(keys.context);
  ckks::Encryptor encryptor(keys.context, keys.secret);
  for (std::size_t first = 0; first < tiles.size(); first += b.layout.batch) {
    std::vector<const std::vector<double>*> group;
    for (std::size_t t = first; t < std::min(tiles.size(), first + b.layout.batch); ++t)
      group.push_back(&tiles[t].data);
    const auto slots = b.layout.pack(group);
    b.ciphertexts.push_back(encryptor.encrypt(encoder.encode(slots, keys.plan.depth, keys.plan.input_scale)));
  }
  return b;
}

std::vector<io::Plane> decrypt_logits(const ClientKeys& keys, const EncryptedBatch& batch) {
  ckks::Encoder encoder(keys.context);
  ckks::Decryptor decryptor(keys.context, keys.secret);
  const Layout& l = batch.layout;
  std::vector<nn::Tensor> tiles(batch.tile_count(), nn::Tensor(1, l.height, l.width));
  for (std::size_t c = 0; c < batch.ciphertexts.size(); ++c) {
    const auto slots = encoder.decode(decryptor.decrypt(batch.ciphertexts[c]));
    for (int k = 0; k < l.batch; ++k) {
      const std::size_t t = c * l.batch + k;
      if (t < tiles.size()) tiles[t].data = l.unpack(slots, k);
    }
  }
  std::vector<io::Plane> out;
  std::size_t first = 0;
  for (const auto& img : batch.images) {
    const nn::TileGrid grid = batch.grid(img);
    std::vector<nn::Tensor> mine(tiles.begin() + first, tiles.begin() + first + grid.count());
    out.push_back(nn::assemble_tiles(mine, grid));
    first += grid.count();
  }
  return out;
}

}  // namespace cryptounet::henn
