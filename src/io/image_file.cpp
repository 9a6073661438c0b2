#include "io/image_file.h"

#include "io/dicom.h"
#include "io/nifti.h"
#include "io/png.h"
#include "io/tiff.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>

namespace cryptounet::io {

namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// A NIfTI-1 or -2 header, plain or gzip-compressed (.nii.gz): its size field (348 or 540, either byte order) and
// its magic ("n+1"/"ni1" at byte 344, "n+2"/"ni2" at byte 4).
bool is_nifti(const std::string& path) {
  unsigned char header[348] = {0};
  gzFile file = gzopen(path.c_str(), "rb");  // reads plain files as they are
  if (!file) return false;
  const int got = gzread(file, header, sizeof header);
  gzclose(file);
  const auto size_is = [&](unsigned value) {
    const unsigned little = header[0] | header[1] << 8 | header[2] << 16 | unsigned{header[3]} << 24;
    const unsigned big = header[3] | header[2] << 8 | header[1] << 16 | unsigned{header[0]} << 24;
    return little == value || big == value;
  };
  const auto magic_at = [&](int offset, char version) {
    return header[offset] == 'n' && (header[offset + 1] == '+' || header[offset + 1] == 'i') &&
           header[offset + 2] == version && header[offset + 3] == 0;
  };
  return (got == 348 && size_is(348) && magic_at(344, '1')) || (got >= 8 && size_is(540) && magic_at(4, '2'));
}

// Volumes are read one page after another: each thread keeps the one it opened last (by path, size and
// modification time), so a stack of N pages is decoded once, not N times.
template <class Volume>
const Volume& last_opened(const std::string& path, Volume (*open)(const std::string&)) {
  struct Cached {
    std::string path;
    std::uintmax_t size = 0;
    std::filesystem::file_time_type time;
    std::optional<Volume> volume;
  };
  thread_local Cached cached;
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  const auto time = std::filesystem::last_write_time(path, error);
  if (error || !cached.volume || cached.path != path || cached.size != size || cached.time != time) {
    cached.volume.reset();
    cached.volume = open(path);
    cached.path = path;
    cached.size = size;
    cached.time = time;
  }
  return *cached.volume;
}

const NiftiVolume& nifti_volume(const std::string& path) { return last_opened(path, &NiftiVolume::read); }
const DicomFrames& dicom_frames(const std::string& path) { return last_opened(path, &DicomFrames::read); }

int slice_axis(const NiftiVolume& volume, int axis) { return axis == kAxialAxis ? volume.axial_axis() : axis; }

}  // namespace

std::string image_stem(const std::string& path) {
  std::filesystem::path name = std::filesystem::path(path).filename();
  if (lower_extension(name.string()) == ".gz") name = name.stem();
  return name.stem().string();
}

std::string page_id(const std::string& stem, int page, int pages) {
  return pages == 1 ? stem : stem + "_p" + std::to_string(page);
}

bool has_image_extension(const std::string& path) {
  const std::string ext = lower_extension(path);
  return ext == ".png" || ext == ".tif" || ext == ".tiff" || ext == ".dcm";
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
  if (is_dicom_file(path)) return ImageFormat::Dicom;
  if (is_nifti(path)) return ImageFormat::Nifti;
  const std::string ext = lower_extension(path);
  const std::string claim = ext == ".png"                    ? " (named as PNG)"
                            : ext == ".tif" || ext == ".tiff" ? " (named as TIFF)"
                            : ext == ".dcm"                   ? " (named as DICOM)"
                            : ext == ".nii" || ext == ".gz"   ? " (named as NIfTI)"
                                                              : "";
  std::string first;
  for (std::size_t i = 0; i < std::min<std::size_t>(got, 4); ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, " %02x", head[i]);
    first += hex;
  }
  throw std::runtime_error("'" + path + "' is not a PNG, TIFF, DICOM or NIfTI image" + claim + "; it starts with" +
                           (first.empty() ? " nothing (empty file)" : first));
}

int image_page_count(const std::string& path, int axis) {
  switch (detect_image_format(path)) {
    case ImageFormat::Png: return 1;
    case ImageFormat::Tiff: return tiff_page_count(path);
    case ImageFormat::Dicom: return dicom_frames(path).frame_count();
    case ImageFormat::Nifti: {
      const NiftiVolume& volume = nifti_volume(path);
      return volume.size(slice_axis(volume, axis));
    }
  }
  throw std::logic_error("image_page_count: unknown format");
}

Image read_image(const std::string& path, int page, int axis) {
  switch (detect_image_format(path)) {
    case ImageFormat::Png:
      if (page != 0) throw std::runtime_error("'" + path + "' is a PNG: it has no page " + std::to_string(page));
      return read_png(path);
    case ImageFormat::Tiff: return read_tiff(path, page);
    case ImageFormat::Dicom: return dicom_frames(path).frame_image(page);
    case ImageFormat::Nifti: {
      const NiftiVolume& volume = nifti_volume(path);
      return volume.slice_image(slice_axis(volume, axis), page);
    }
  }
  throw std::logic_error("read_image: unknown format");
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
