#include "io/image_file.h"

#include "io/png.h"
#include "io/tiff.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace cryptounet::io {

namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

}  // namespace

bool has_image_extension(const std::string& path) {
  const std::string ext = lower_extension(path);
  return ext == ".png" || ext == ".tif" || ext == ".tiff";
}

ImageFormat detect_image_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
  unsigned char head[8] = {0};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  const std::size_t got = static_cast<std::size_t>(in.gcount());
  static constexpr unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (got == 8 && std::memcmp(head, kPng, 8) == 0) return ImageFormat::Png;
  // Classic TIFF (42) and BigTIFF (43), little- ("II") or big-endian ("MM").
  if (got >= 4 && ((head[0] == 'I' && head[1] == 'I' && (head[2] == 42 || head[2] == 43) && head[3] == 0) ||
                   (head[0] == 'M' && head[1] == 'M' && head[2] == 0 && (head[3] == 42 || head[3] == 43))))
    return ImageFormat::Tiff;
  const std::string ext = lower_extension(path);
  const std::string claim = ext == ".png" ? " (named as PNG)" : ext == ".tif" || ext == ".tiff" ? " (named as TIFF)" : "";
  std::string first;
  for (std::size_t i = 0; i < std::min<std::size_t>(got, 4); ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, " %02x", head[i]);
    first += hex;
  }
  throw std::runtime_error("'" + path + "' is neither a PNG nor a TIFF image" + claim + "; it starts with" +
                           (first.empty() ? " nothing (empty file)" : first));
}

int image_page_count(const std::string& path) {
  return detect_image_format(path) == ImageFormat::Tiff ? tiff_page_count(path) : 1;
}

Image read_image(const std::string& path, int page) {
  if (detect_image_format(path) == ImageFormat::Tiff) return read_tiff(path, page);
  if (page != 0) throw std::runtime_error("'" + path + "' is a PNG: it has no page " + std::to_string(page));
  return read_png(path);
}

Mask read_mask(const std::string& path, int page) {
  const Image image = read_image(path, page);
  const double half = image.max_value() / 2.0;
  Mask mask(image.width, image.height);
  for (std::size_t j = 0; j < mask.pixels.size(); ++j)
    mask.pixels[j] = image.samples[j * image.channels] > half ? 1 : 0;
  return mask;
}

LabelImage read_labels(const std::string& path, int page) {
  Image image = read_image(path, page);
  if (image.channels != 1)
    throw std::runtime_error("'" + path + "' is not a label image: " + std::to_string(image.channels) +
                             " channels (one expected)");
  LabelImage labels;
  labels.width = image.width;
  labels.height = image.height;
  labels.pixels = std::move(image.samples);
  return labels;
}

void write_image(const std::string& path, const Image& image) {
  const std::string ext = lower_extension(path);
  if (ext == ".png") return write_png(path, image);
  if (ext == ".tif" || ext == ".tiff") return write_tiff(path, {image});
  throw std::invalid_argument("'" + path + "': unknown image extension (.png, .tif or .tiff)");
}

void write_mask(const std::string& path, const Mask& mask) {
  Image image;
  image.width = mask.width;
  image.height = mask.height;
  image.channels = 1;
  image.samples.resize(mask.pixels.size());
  for (std::size_t j = 0; j < mask.pixels.size(); ++j) image.samples[j] = mask.pixels[j] ? 255 : 0;
  write_image(path, image);
}

void write_labels(const std::string& path, const LabelImage& labels) {
  Image image;
  image.width = labels.width;
  image.height = labels.height;
  image.channels = 1;
  image.bit_depth = 16;
  image.samples = labels.pixels;
  write_image(path, image);
}

}  // namespace cryptounet::io
