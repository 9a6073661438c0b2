#include "henn/batch.h"

#include "ckks/serialization.h"
#include "henn/file_magic.h"
#include "henn/wire.h"

#include <fstream>
#include <stdexcept>

namespace cryptounet::henn {

namespace {
constexpr int kMaxImageSide = 1 << 16;
constexpr std::uint32_t kMaxCiphertexts = 1 << 20;

void put_id(std::ostream& out, const BatchId& id) {
  out.write(reinterpret_cast<const char*>(id.data()), static_cast<std::streamsize>(id.size()));
}

BatchId get_id(std::istream& in) {
  BatchId id{};
  if (!in.read(reinterpret_cast<char*>(id.data()), static_cast<std::streamsize>(id.size())))
    throw std::runtime_error("truncated file while reading batch id");
  return id;
}

std::ifstream open_batch(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  wire::expect_magic(in, magic::kBatch, magic::kBatchVersion, "encrypted batch");
  return in;
}

}  // namespace

void save_batch(const std::string& path, const ckks::Context& context, const EncryptedBatch& batch) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  wire::put_magic(out, magic::kBatch, magic::kBatchVersion);
  put_id(out, batch.id);
  const Layout& l = batch.layout;
  for (int v : {l.height, l.width, l.slots, batch.tile_stride}) wire::put<std::int32_t>(out, v);
  wire::put<std::uint32_t>(out, static_cast<std::uint32_t>(batch.ciphertexts.size()));
  wire::put<std::uint32_t>(out, static_cast<std::uint32_t>(batch.images.size()));
  for (const auto& img : batch.images) {
    wire::put<std::int32_t>(out, img.width);
    wire::put<std::int32_t>(out, img.height);
  }
  ckks::save(out, context, batch.ciphertexts);
  out.close();
  if (!out) throw std::runtime_error("error while writing " + path);
}

BatchId read_batch_id(const std::string& path) {
  std::ifstream in = open_batch(path);
  return get_id(in);
}

BatchHeader read_batch_header(std::istream& in) {
  wire::expect_magic(in, magic::kBatch, magic::kBatchVersion, "encrypted batch");
  BatchHeader b;
  b.id = get_id(in);
  const int h = wire::get_in_range<std::int32_t>(in, "tile height", 1, 1 << 14);
  const int w = wire::get_in_range<std::int32_t>(in, "tile width", 1, 1 << 14);
  const int slots = wire::get_in_range<std::int32_t>(in, "slots", 1, 1 << 16);
  if (h != w) throw std::runtime_error("encrypted batch: tiles must be square");
  b.tile_stride = wire::get_in_range<std::int32_t>(in, "tile stride", 1, h);
  b.layout = Layout::create(h, w, slots, 0);

  // Every size below is checked against the declared ciphertexts before anything proportional to it exists; the
  // ciphertexts themselves must then be in the file.
  b.ciphertext_count = wire::get_in_range<std::uint32_t>(in, "ciphertext count", 1, kMaxCiphertexts);
  const std::uint64_t capacity = std::uint64_t{b.ciphertext_count} * static_cast<std::uint64_t>(b.layout.tiles_per_ciphertext);
  const auto n_images = wire::get_in_range<std::uint32_t>(in, "image count", 1, kMaxCiphertexts);
  if (n_images > capacity)
    throw std::runtime_error("encrypted batch: " + std::to_string(n_images) + " images cannot fit in " +
                             std::to_string(b.ciphertext_count) + " ciphertexts");
  std::uint64_t tiles = 0;
  for (std::uint32_t i = 0; i < n_images; ++i) {
    ImageInfo img;
    img.width = wire::get_in_range<std::int32_t>(in, "image width", 1, kMaxImageSide);
    img.height = wire::get_in_range<std::int32_t>(in, "image height", 1, kMaxImageSide);
    tiles += nn::tile_count(img.width, img.height, h, b.tile_stride);
    if (tiles > capacity)
      throw std::runtime_error("encrypted batch: the images need more than the " + std::to_string(capacity) +
                               " tiles that " + std::to_string(b.ciphertext_count) + " ciphertexts hold");
    b.images.push_back(std::move(img));
  }
  const std::uint64_t groups = (tiles + b.layout.tiles_per_ciphertext - 1) / b.layout.tiles_per_ciphertext;
  if (groups == 0 || b.ciphertext_count % groups != 0 || b.ciphertext_count / groups > kMaxBatchChannels)
    throw std::runtime_error("encrypted batch: " + std::to_string(tiles) + " tiles need " + std::to_string(groups) +
                             " ciphertexts per channel (at most " + std::to_string(kMaxBatchChannels) +
                             " channels), the header declares " + std::to_string(b.ciphertext_count));
  b.channels = static_cast<int>(b.ciphertext_count / groups);
  return b;
}

EncryptedBatch load_batch(const std::string& path, const ckks::Context& context) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  auto header = read_batch_header(in);
  if (static_cast<std::size_t>(header.layout.slots) != context.slot_count())
    throw std::runtime_error(path + ": batch was packed for " + std::to_string(header.layout.slots) +
                             " slots, keys have " + std::to_string(context.slot_count()));
  EncryptedBatch b;
  b.id = header.id;
  b.layout = header.layout;
  b.tile_stride = header.tile_stride;
  b.images = std::move(header.images);
  b.ciphertexts = ckks::load_ciphertexts(in, context);
  if (b.ciphertexts.size() != header.ciphertext_count)
    throw std::runtime_error(path + ": the header declares " + std::to_string(header.ciphertext_count) +
                             " ciphertexts, the file has " + std::to_string(b.ciphertexts.size()));
  if (in.peek() != std::ifstream::traits_type::eof()) throw std::runtime_error(path + ": data after the ciphertexts");
  return b;
}

}  // namespace cryptounet::henn
