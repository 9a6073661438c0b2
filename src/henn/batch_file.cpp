#include "henn/batch.h"

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
  for (int v : {l.height, l.width, l.slots, batch.tile_stride}) wire::put<std::int32_t>(out, v);
  wire::put<std::uint32_t>(out, static_cast<std::uint32_t>(batch.images.size()));
  for (const auto& img : batch.images) {
    wire::put_string(out, img.name);
    wire::put<std::int32_t>(out, img.width);
    wire::put<std::int32_t>(out, img.height);
  }
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
  if (h != w) throw std::runtime_error(path + ": tiles must be square");
  b.tile_stride = wire::get_in_range<std::int32_t>(in, "tile stride", 1, h);
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
  b.ciphertexts = ckks::load_ciphertexts(in, context);
  const std::size_t needed = (b.tile_count() + b.layout.batch - 1) / b.layout.batch;
  if (b.ciphertexts.size() != needed)
    throw std::runtime_error(path + ": " + std::to_string(b.tile_count()) + " tiles need " + std::to_string(needed) +
                             " ciphertexts, the file has " + std::to_string(b.ciphertexts.size()));
  return b;
}

}  // namespace cryptounet::henn
