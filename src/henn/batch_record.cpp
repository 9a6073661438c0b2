#include "henn/batch_record.h"

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "io/json_number.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace cryptounet::henn {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kRecordFormat = "cryptounet batch record";
constexpr int kRecordVersion = 1;
constexpr std::uintmax_t kMaxRecordBytes = 64 << 20;
constexpr std::size_t kMaxStemLength = 100;

// The network consumes every level its input is dropped to, and its last layer (the 1x1 head, no activation)
// rescales to exactly the plan's output scale (docs/ENCODING.md, "Scales").
constexpr int kResultLevel = 0;

template <std::size_t Size>
std::array<std::uint8_t, Size> from_hex(const json& value, const char* field) {
  std::array<std::uint8_t, Size> bytes{};
  if (!value.is_string()) throw std::runtime_error(std::string("batch record: '") + field + "' must be a string");
  const auto& text = value.get_ref<const std::string&>();
  std::size_t length = 0;
  if (text.size() != 2 * Size ||
      sodium_hex2bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &length, nullptr) != 0 ||
      length != Size)
    throw std::runtime_error(std::string("batch record: '") + field + "' must be " + std::to_string(2 * Size) +
                             " hex digits");
  return bytes;
}

bool same_scale(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b)); }

std::string describe(const ImageInfo& image) {
  return std::to_string(image.width) + "x" + std::to_string(image.height);
}

std::string safe_stem(const std::string& name) {
  std::string stem;
  for (char c : name) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' || c == '-';
    if (stem.empty() && c == '.') continue;
    stem.push_back(plain ? c : '_');
    if (stem.size() == kMaxStemLength) break;
  }
  return stem;
}

}  // namespace

BatchRecord BatchRecord::of(const ClientKeys& keys, const EncryptedBatch& submitted, int result_channels) {
  if (result_channels < 1 || result_channels > kMaxBatchChannels)
    throw std::invalid_argument("batch record: " + std::to_string(result_channels) + " result channels");
  BatchRecord r;
  r.id = submitted.id;
  r.parameters = keys.context->parameters().fingerprint();
  r.tile = submitted.layout.height;
  r.slots = submitted.layout.slots;
  r.tile_stride = submitted.tile_stride;
  r.ciphertext_count = static_cast<std::uint32_t>(submitted.ciphertexts.size());
  r.channels = submitted.channels();
  r.result_channels = result_channels;
  r.result_level = kResultLevel;
  r.result_scale = keys.plan.layer.output_scale;
  r.images = submitted.images;
  return r;
}

void BatchRecord::check_result(const ClientKeys& keys, const EncryptedBatch& result) const {
  auto refuse = [](const std::string& what) { throw ResultMismatch("result refused, nothing decrypted: " + what); };
  if (result.id != id)
    refuse("it answers batch " + to_hex(result.id) + ", not the submitted batch " + to_hex(id));
  if (keys.context->parameters().fingerprint() != parameters)
    refuse("these keys are not the ones batch " + to_hex(id) + " was encrypted with");
  if (result.layout.height != tile || result.layout.width != tile || result.layout.slots != slots ||
      result.tile_stride != tile_stride)
    refuse("its tile layout differs from the submitted batch's");
  if (result.images.size() != images.size())
    refuse(std::to_string(result.images.size()) + " images, the batch had " + std::to_string(images.size()));
  for (std::size_t i = 0; i < images.size(); ++i)
    if (result.images[i].width != images[i].width || result.images[i].height != images[i].height)
      refuse("image " + std::to_string(i) + " is " + describe(result.images[i]) + ", it was submitted as " +
             describe(images[i]));
  const std::uint64_t expected = std::uint64_t{ciphertext_count} / channels * result_channels;
  if (result.ciphertexts.size() != expected)
    refuse(std::to_string(result.ciphertexts.size()) + " ciphertexts, the batch's " +
           std::to_string(ciphertext_count / channels) + " tile groups of " + std::to_string(result_channels) +
           " logit channels are " + std::to_string(expected));
  for (std::size_t c = 0; c < result.ciphertexts.size(); ++c) {
    const ckks::Ciphertext& ct = result.ciphertexts[c];
    if (ct.poly_degree() != keys.context->parameters().poly_degree())
      refuse("ciphertext " + std::to_string(c) + " has another ring degree");
    if (ct.level() != result_level)
      refuse("ciphertext " + std::to_string(c) + " is at level " + std::to_string(ct.level()) + ", inference ends at " +
             std::to_string(result_level));
    if (!same_scale(ct.scale(), result_scale))
      refuse("ciphertext " + std::to_string(c) + " has scale 2^" + std::to_string(std::log2(ct.scale())) +
             ", inference ends at 2^" + std::to_string(std::log2(result_scale)));
  }
}

std::vector<std::string> BatchRecord::output_stems() const {
  std::vector<std::string> stems;
  std::set<std::string> taken;
  for (std::size_t i = 0; i < images.size(); ++i) {
    std::string stem = safe_stem(images[i].name);
    if (stem.empty()) stem = "image" + std::to_string(i);
    if (taken.count(stem)) stem += "_" + std::to_string(i);
    while (taken.count(stem)) stem += "_";
    taken.insert(stem);
    stems.push_back(std::move(stem));
  }
  return stems;
}

std::string batch_record_path(const std::string& key_dir, const BatchId& id) {
  return (fs::path(key_dir) / "batches" / (to_hex(id) + ".json")).string();
}

void save_batch_record(const std::string& key_dir, const BatchRecord& record) {
  json images = json::array();
  for (const auto& img : record.images)
    images.push_back({{"name", img.name}, {"width", img.width}, {"height", img.height}});
  const json j = {{"format", kRecordFormat},
                  {"version", kRecordVersion},
                  {"batch_id", to_hex(record.id)},
                  {"parameters", to_hex(record.parameters)},
                  {"tile", record.tile},
                  {"slots", record.slots},
                  {"tile_stride", record.tile_stride},
                  {"ciphertexts", record.ciphertext_count},
                  {"channels", record.channels},
                  {"result_channels", record.result_channels},
                  {"result", {{"level", record.result_level}, {"scale", record.result_scale}}},
                  {"images", images}};
  const std::string text = j.dump(1) + "\n";
  const fs::path dir = fs::path(key_dir) / "batches";
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all);
  const std::string path = batch_record_path(key_dir, record.id);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t w = ::write(fd, text.data() + written, text.size() - written);
    if (w <= 0) break;
    written += static_cast<std::size_t>(w);
  }
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (written != text.size() || !synced || !closed) throw std::runtime_error("cannot write " + path);
}

BatchRecord load_batch_record(const std::string& key_dir, const BatchId& id) {
  const std::string path = batch_record_path(key_dir, id);
  std::error_code error;
  const auto size = fs::file_size(path, error);
  if (error)
    throw ResultMismatch("result refused, nothing decrypted: the keys in " + key_dir + " encrypted no batch " +
                         to_hex(id) + " (no " + path + ")");
  if (size > kMaxRecordBytes) throw std::runtime_error(path + ": too large for a batch record");
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  try {
    if (!j.is_object() || j.value("format", std::string{}) != kRecordFormat)
      throw std::runtime_error("not a batch record");
    if (io::json_integer<int>(j.at("version"), "version") != kRecordVersion)
      throw std::runtime_error("unsupported version");
    BatchRecord r;
    r.id = from_hex<std::tuple_size_v<BatchId>>(j.at("batch_id"), "batch_id");
    if (r.id != id) throw std::runtime_error("it records batch " + to_hex(r.id));
    r.parameters = from_hex<32>(j.at("parameters"), "parameters");
    r.tile = io::json_integer<int>(j.at("tile"), "tile", 1, 1 << 14);
    r.slots = io::json_integer<int>(j.at("slots"), "slots", 1, 1 << 16);
    r.tile_stride = io::json_integer<int>(j.at("tile_stride"), "tile_stride", 1, r.tile);
    r.ciphertext_count = io::json_integer<std::uint32_t>(j.at("ciphertexts"), "ciphertexts", 1, 1 << 20);
    r.channels = io::json_integer_or(j, "channels", 1, 1, kMaxBatchChannels);
    r.result_channels = io::json_integer_or(j, "result_channels", 1, 1, kMaxBatchChannels);
    r.result_level = io::json_integer<int>(j.at("result").at("level"), "result.level", 0, 1 << 10);
    r.result_scale = io::json_finite(j.at("result").at("scale"), "result.scale");
    const json& images = j.at("images");
    if (!images.is_array() || images.empty()) throw std::runtime_error("'images' must be a non-empty array");
    for (const json& img : images) {
      if (!img.at("name").is_string()) throw std::runtime_error("image names must be strings");
      r.images.push_back({img.at("name").get<std::string>(),
                          io::json_integer<int>(img.at("width"), "width", 1, 1 << 16),
                          io::json_integer<int>(img.at("height"), "height", 1, 1 << 16)});
    }
    const Layout layout = Layout::create(r.tile, r.tile, r.slots, 0);
    const EncryptedBatch shape{layout, r.tile_stride, r.images, {}, r.id};
    if (shape.group_count() * static_cast<std::uint64_t>(r.channels) != r.ciphertext_count)
      throw std::runtime_error("its images do not fill its " + std::to_string(r.ciphertext_count) + " ciphertexts of " +
                               std::to_string(r.channels) + " channels");
    return r;
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

std::vector<nn::Tensor> decrypt_logit_maps(const ClientKeys& keys, const BatchRecord& submitted,
                                           const EncryptedBatch& result) {
  submitted.check_result(keys, result);
  ckks::Encoder encoder(keys.context);
  ckks::Decryptor decryptor(keys.context, keys.secret);
  const Layout& l = result.layout;
  const int channels = submitted.result_channels;
  const EncryptedBatch shape{l, submitted.tile_stride, submitted.images, {}, submitted.id};
  std::vector<nn::Tensor> tiles(shape.tile_count(), nn::Tensor(channels, l.height, l.width));
  for (std::size_t i = 0; i < result.ciphertexts.size(); ++i) {
    const std::size_t group = i / channels;
    const int channel = static_cast<int>(i % channels);
    const auto slots = encoder.decode(decryptor.decrypt(result.ciphertexts[i]));
    for (int k = 0; k < l.tiles_per_ciphertext; ++k) {
      const std::size_t t = group * l.tiles_per_ciphertext + k;
      if (t >= tiles.size()) break;
      const auto plane = l.unpack(slots, k);
      std::copy(plane.begin(), plane.end(), tiles[t].channel(channel));
    }
  }
  std::vector<nn::Tensor> out;
  std::size_t first = 0;
  for (const auto& img : submitted.images) {
    const nn::TileGrid grid = shape.grid(img);
    std::vector<nn::Tensor> mine(tiles.begin() + first, tiles.begin() + first + grid.count());
    out.push_back(nn::assemble_tiles(mine, grid));
    first += grid.count();
  }
  return out;
}

std::vector<io::Plane> decrypt_logits(const ClientKeys& keys, const BatchRecord& submitted,
                                      const EncryptedBatch& result) {
  if (submitted.result_channels != 1)
    throw std::invalid_argument("decrypt_logits: the result has " + std::to_string(submitted.result_channels) +
                                " logit channels; use decrypt_logit_maps");
  std::vector<io::Plane> planes;
  for (const nn::Tensor& maps : decrypt_logit_maps(keys, submitted, result)) planes.push_back(maps.to_plane(0));
  return planes;
}

}  // namespace cryptounet::henn
