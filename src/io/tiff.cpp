#include "io/tiff.h"

#include <tiffio.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace cryptounet::io {

namespace {

// Larger sides are rejected, as for PNG (microscopy fields are at most a few thousand pixels across).
constexpr std::uint32_t kMaxSide = 16384;
// No single libtiff allocation (a strip or tile buffer) may exceed what the largest accepted page needs.
constexpr tmsize_t kMaxAllocation = tmsize_t{kMaxSide} * kMaxSide * 4 * 2;

// libtiff reports through callbacks; keep the first error for the exception, drop warnings (unknown private tags
// of microscope vendors are routine).
int on_error(TIFF*, void* user, const char* module, const char* format, va_list args) {
  auto* message = static_cast<std::string*>(user);
  if (message->empty()) {
    char text[256];
    std::vsnprintf(text, sizeof text, format, args);
    *message = std::string(module ? module : "libtiff") + ": " + text;
  }
  return 1;
}

int on_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

// An open TIFF with its own error sink (libtiff's global handlers are not thread-safe to swap).
class TiffFile {
 public:
  TiffFile(const std::string& path, const char* mode) : path_(path) {
    TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, kMaxAllocation);
    TIFFOpenOptionsSetErrorHandlerExtR(options, on_error, &message_);
    TIFFOpenOptionsSetWarningHandlerExtR(options, on_warning, nullptr);
    tif_ = TIFFOpenExt(path.c_str(), mode, options);
    TIFFOpenOptionsFree(options);
    if (!tif_)
      throw std::runtime_error((mode[0] == 'r' ? "cannot read TIFF '" : "cannot write TIFF '") + path + "'" +
                               (message_.empty() ? "" : ": " + message_));
  }
  ~TiffFile() {
    if (tif_) TIFFClose(tif_);
  }
  TiffFile(const TiffFile&) = delete;
  TiffFile& operator=(const TiffFile&) = delete;

  TIFF* get() const { return tif_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("TIFF '" + path_ + "': " + what + (message_.empty() ? "" : " (" + message_ + ")"));
  }
  // Flushes and closes, reporting a failed final write.
  void close() {
    TIFF* tif = tif_;
    tif_ = nullptr;
    TIFFClose(tif);
    if (!message_.empty()) fail("write failed");
  }

 private:
  std::string path_;
  std::string message_;
  TIFF* tif_ = nullptr;
};

// The index-th sample of a decoded libtiff buffer (host byte order).
std::uint16_t sample_at(const std::vector<std::uint8_t>& buffer, std::size_t index, int bits) {
  if (bits == 8) return buffer[index];
  std::uint16_t v;
  std::memcpy(&v, buffer.data() + 2 * index, 2);
  return v;
}

}  // namespace

int tiff_page_count(const std::string& path) {
  TiffFile file(path, "r");
  const tdir_t pages = TIFFNumberOfDirectories(file.get());
  if (pages == 0) file.fail("no image in the file");
  return static_cast<int>(pages);
}

Image read_tiff(const std::string& path, int page) {
  TiffFile file(path, "r");
  TIFF* tif = file.get();
  if (page < 0 || !TIFFSetDirectory(tif, static_cast<tdir_t>(page)))
    file.fail("no page " + std::to_string(page));

  std::uint32_t width = 0, height = 0;
  std::uint16_t bits = 0, channels = 0, planar = 0, format = 0, photometric = PHOTOMETRIC_MINISBLACK;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height))
    file.fail("no image size");
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &channels);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
  if (width == 0 || height == 0 || width > kMaxSide || height > kMaxSide)
    file.fail("image size " + std::to_string(width) + "x" + std::to_string(height) + " out of range");
  if (bits != 8 && bits != 16) file.fail(std::to_string(bits) + "-bit samples are not supported (8 or 16)");
  if (format != SAMPLEFORMAT_UINT) file.fail("only unsigned integer samples are supported");
  if (channels < 1 || channels > 4) file.fail(std::to_string(channels) + " samples per pixel are not supported");
  const bool gray = photometric == PHOTOMETRIC_MINISBLACK || photometric == PHOTOMETRIC_MINISWHITE;
  if (!(gray && channels <= 2) && !(photometric == PHOTOMETRIC_RGB && channels >= 3))
    file.fail("photometric interpretation " + std::to_string(photometric) + " with " + std::to_string(channels) +
              " samples is not supported (gray or RGB)");

  Image image;
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.channels = channels;
  image.bit_depth = bits;
  image.samples.assign(image.pixel_count() * channels, 0);
  const bool separate = planar == PLANARCONFIG_SEPARATE;
  const int planes = separate ? channels : 1;
  const int per_pixel = separate ? 1 : channels;  // samples per pixel within one decoded buffer

  // Places a decoded block of `block_w` x `block_h` pixels whose top-left corner is (x0, y0) for plane `plane`.
  auto place = [&](const std::vector<std::uint8_t>& buffer, std::uint32_t x0, std::uint32_t y0,
                   std::uint32_t block_w, std::uint32_t block_h, int plane) {
    for (std::uint32_t y = y0; y < std::min(height, y0 + block_h); ++y)
      for (std::uint32_t x = x0; x < std::min(width, x0 + block_w); ++x)
        for (int c = 0; c < per_pixel; ++c)
          image.samples[(static_cast<std::size_t>(y) * width + x) * channels + plane + c] =
              sample_at(buffer, ((static_cast<std::size_t>(y - y0) * block_w + (x - x0)) * per_pixel + c), bits);
  };
  if (TIFFIsTiled(tif)) {
    std::uint32_t tile_w = 0, tile_h = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_w);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &tile_h);
    if (tile_w == 0 || tile_h == 0 || tile_w > kMaxSide || tile_h > kMaxSide) file.fail("bad tile size");
    std::vector<std::uint8_t> buffer(static_cast<std::size_t>(tile_w) * tile_h * per_pixel * (bits / 8));
    for (int plane = 0; plane < planes; ++plane)
      for (std::uint32_t y0 = 0; y0 < height; y0 += tile_h)
        for (std::uint32_t x0 = 0; x0 < width; x0 += tile_w) {
          const ttile_t tile = TIFFComputeTile(tif, x0, y0, 0, static_cast<std::uint16_t>(plane));
          if (TIFFReadEncodedTile(tif, tile, buffer.data(), static_cast<tmsize_t>(buffer.size())) < 0)
            file.fail("corrupt tile");
          place(buffer, x0, y0, tile_w, tile_h, plane);
        }
  } else {
    std::vector<std::uint8_t> buffer(static_cast<std::size_t>(width) * per_pixel * (bits / 8));
    if (TIFFScanlineSize(tif) != static_cast<tmsize_t>(buffer.size())) file.fail("unexpected scanline size");
    for (int plane = 0; plane < planes; ++plane)
      for (std::uint32_t y = 0; y < height; ++y) {
        if (TIFFReadScanline(tif, buffer.data(), y, static_cast<std::uint16_t>(plane)) < 0)
          file.fail("corrupt row " + std::to_string(y));
        place(buffer, 0, y, width, 1, plane);
      }
  }
  if (photometric == PHOTOMETRIC_MINISWHITE) {
    const auto top = static_cast<std::uint16_t>(image.max_value());
    for (std::size_t j = 0; j < image.samples.size(); j += channels) image.samples[j] = top - image.samples[j];
  }
  return image;
}

void write_tiff(const std::string& path, const std::vector<Image>& pages) {
  if (pages.empty()) throw std::invalid_argument("write_tiff '" + path + "': no page");
  for (const Image& image : pages)
    if (image.width <= 0 || image.height <= 0 || image.channels < 1 || image.channels > 4 ||
        (image.bit_depth != 8 && image.bit_depth != 16) ||
        image.samples.size() != image.pixel_count() * image.channels)
      throw std::invalid_argument("write_tiff '" + path + "': inconsistent image");
  TiffFile file(path, "w");
  TIFF* tif = file.get();
  for (std::size_t k = 0; k < pages.size(); ++k) {
    const Image& image = pages[k];
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(image.width));
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(image.height));
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, static_cast<std::uint16_t>(image.bit_depth));
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, static_cast<std::uint16_t>(image.channels));
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, image.channels >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    if (image.channels == 2 || image.channels == 4) {
      const std::uint16_t alpha = EXTRASAMPLE_UNASSALPHA;
      TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, 1, &alpha);
    }
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(tif, 0));
    if (pages.size() > 1) {
      TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
      TIFFSetField(tif, TIFFTAG_PAGENUMBER, static_cast<std::uint16_t>(k), static_cast<std::uint16_t>(pages.size()));
    }
    const std::size_t row_samples = static_cast<std::size_t>(image.width) * image.channels;
    std::vector<std::uint8_t> row(row_samples * (image.bit_depth / 8));
    for (int y = 0; y < image.height; ++y) {
      const std::uint16_t* src = image.samples.data() + static_cast<std::size_t>(y) * row_samples;
      if (image.bit_depth == 8) {
        for (std::size_t j = 0; j < row_samples; ++j) {
          if (src[j] > 255) throw std::invalid_argument("write_tiff '" + path + "': sample above 255 in an 8-bit image");
          row[j] = static_cast<std::uint8_t>(src[j]);
        }
      } else {
        std::memcpy(row.data(), src, row.size());  // libtiff records the host byte order
      }
      if (TIFFWriteScanline(tif, row.data(), static_cast<std::uint32_t>(y), 0) < 0) file.fail("write failed");
    }
    if (!TIFFWriteDirectory(tif)) file.fail("write failed");
  }
  file.close();
}

}  // namespace cryptounet::io
