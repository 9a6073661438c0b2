#include "henn/batch.h"

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/serialization.h"
#include "henn/wire.h"

#include <fstream>
#include <stdexcept>

namespace cryptounet::henn {

namespace {
constexpr char kBatchMagic[5] = "CUNB";
constexpr std::uint16_t kBatchVersion = 1;
}  // namespace

void save_batch(const std::string& path, const ckks::Context& context, const EncryptedBatch& batch) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  wire::put_magic(out, kBatchMagic, kBatchVersion);
  const Layout& l = batch.layout;
  for (int v : {l.height, l.width, l.slots}) wire::put<std::int32_t>(out, v);
  wire::put<std::uint32_t>(out, static_cast<std::uint32_t>(batch.images.size()));
  for (const auto& img : batch.images) {
    wire::put_string(out, img.name);
    wire::put<std::int32_t>(out, img.width);
    wire::put<std::int32_t>(out, img.height);
  }
  wire::put<std::uint32_t>(out, static_cast<std::uint32_t>(batch.tiles.size()));
  for (const auto& t : batch.tiles)
    for (int v : {t.image, t.y, t.x}) wire::put<std::int32_t>(out, v);
  ckks::save(out, context, batch.ciphertexts);
  out.close();
  if (!out) throw std::runtime_error("error while writing " + path);
}

EncryptedBatch load_batch(const std::string& path, const ckks::Context& context) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  wire::expect_magic(in, kBatchMagic, kBatchVersion, "encrypted batch");
  EncryptedBatch b;
  const int h = wire::get_in_range<std::int32_t>(in, "tile height", 1, 1 << 14);
  const int w = wire::get_in_range<std::int32_t>(in, "tile width", 1, 1 << 14);
  const int slots = wire::get_in_range<std::int32_t>(in, "slots", 1, 1 << 16);
  if (static_cast<std::size_t>(slots) != context.slot_count())
    throw std::runtime_error(path + ": batch was packed for " + std::to_string(slots) + " slots, keys have " +
                             std::to_string(context.slot_count()));
  b.layout = Layout::create(h, w, slots, 0);
  const auto n_images = wire::get_in_range<std::uint32_t>(in, "image count", 0, 1 << 20);
  for (std::uint32_t i = 0; i < n_images; ++i) {
    ImageInfo img;
    img.name = wire::get_string(in, "image name");
    img.width = wire::get_in_range<std::int32_t>(in, "image width", 1, 1 << 16);
    img.height = wire::get_in_range<std::int32_t>(in, "image height", 1, 1 << 16);
    b.images.push_back(std::move(img));
  }
  const auto n_tiles = wire::get_in_range<std::uint32_t>(in, "tile count", 0, 1 << 24);
  for (std::uint32_t t = 0; t < n_tiles; ++t) {
    TileRef r;
    r.image = wire::get_in_range<std::int32_t>(in, "tile image", 0, static_cast<std::int32_t>(n_images) - 1);
    r.y = wire::get_in_range<std::int32_t>(in, "tile y", 0, b.images[r.image].height - 1);
    r.x = wire::get_in_range<std::int32_t>(in, "tile x", 0, b.images[r.image].width - 1);
    b.tiles.push_back(r);
  }
  b.ciphertexts = ckks::load_ciphertexts(in, context);
  const std::size_t needed = (b.tiles.size() + b.layout.batch - 1) / b.layout.batch;
  if (b.ciphertexts.size() != needed)
    throw std::runtime_error(path + ": " + std::to_string(b.tiles.size()) + " tiles need " + std::to_string(needed) +
                             " ciphertexts, the file has " + std::to_string(b.ciphertexts.size()));
  return b;
}

EncryptedBatch encrypt_images(const ClientKeys& keys, const std::vector<io::Plane>& planes,
                              const std::vector<std::string>& names) {
  if (planes.size() != names.size()) throw std::invalid_argument("encrypt_images: one name per image");
  EncryptedBatch b;
  b.layout = keys.plan.layout;
  for (std::size_t i = 0; i < planes.size(); ++i) b.images.push_back({names[i], planes[i].width, planes[i].height});
  Tiles tiles = split_into_tiles(planes, b.layout.height, b.layout.width);
  b.tiles = tiles.refs;
  ckks::Encoder encoder(keys.context);
  ckks::Encryptor encryptor(keys.context, keys.secret);
  for (std::size_t first = 0; first < tiles.pixels.size(); first += b.layout.batch) {
    std::vector<const std::vector<double>*> group;
    for (std::size_t t = first; t < std::min(tiles.pixels.size(), first + b.layout.batch); ++t)
      group.push_back(&tiles.pixels[t]);
    const auto slots = b.layout.pack(group);
    b.ciphertexts.push_back(encryptor.encrypt(encoder.encode(slots, keys.plan.depth, keys.plan.input_scale)));
  }
  return b;
}

std::vector<io::Plane> decrypt_logits(const ClientKeys& keys, const EncryptedBatch& batch) {
  ckks::Encoder encoder(keys.context);
  ckks::Decryptor decryptor(keys.context, keys.secret);
  std::vector<std::vector<double>> tiles(batch.tiles.size());
  for (std::size_t c = 0; c < batch.ciphertexts.size(); ++c) {
    const auto slots = encoder.decode(decryptor.decrypt(batch.ciphertexts[c]));
    for (int k = 0; k < batch.layout.batch; ++k) {
      const std::size_t t = c * batch.layout.batch + k;
      if (t < tiles.size()) tiles[t] = batch.layout.unpack(slots, k);
    }
  }
  std::vector<std::pair<int, int>> sizes;
  for (const auto& img : batch.images) sizes.emplace_back(img.width, img.height);
  return assemble_tiles(batch.tiles, tiles, batch.layout.height, batch.layout.width, sizes);
}

}  // namespace cryptounet::henn
