#include "io/tiff.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <tiffio.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
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

// OME-XML beyond this is refused (a series description is a few KiB per thousand planes).
constexpr std::size_t kMaxOmeXml = std::size_t{16} << 20;
constexpr long kMaxOmePlanes = 1 << 20;

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};

bool is_element(const xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char*>(node->name), name) == 0;
}

const xmlNode* first_child(const xmlNode* parent, const char* name) {
  for (const xmlNode* node = parent->children; node; node = node->next)
    if (is_element(node, name)) return node;
  return nullptr;
}

std::optional<std::string> attribute(const xmlNode* node, const char* name) {
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (!value) return std::nullopt;
  std::string text(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return text;
}

// The first series of an OME-TIFF: the directory holding each of its planes, indexed z + Z * (c + C * t).
struct OmeSeries {
  long count_z = 1, count_c = 1, count_t = 1;
  std::vector<tdir_t> directories;
};

// The first <Image> of the OME-XML in the first directory's ImageDescription, its planes mapped to directories
// through <TiffData> (IFD, PlaneCount, FirstZ/C/T in the series' DimensionOrder). Nothing for a plain TIFF.
std::optional<OmeSeries> read_ome_series(TIFF* tif, const TiffFile& file, const std::string& path) {
  const char* description = nullptr;
  if (!TIFFSetDirectory(tif, 0) || !TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &description) || !description)
    return std::nullopt;
  const std::size_t length = std::strlen(description);
  if (std::strstr(description, "<OME") == nullptr) return std::nullopt;
  if (length > kMaxOmeXml) file.fail("OME-XML larger than 16 MiB");
  static const bool initialised = (xmlInitParser(), true);  // libxml2's global state, once, before any thread parses
  (void)initialised;
  // No network, no entity substitution, no DTD loading: the XML only describes this file.
  const std::unique_ptr<xmlDoc, XmlDocDeleter> doc(
      xmlReadMemory(description, static_cast<int>(length), "ome.xml", nullptr,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS));
  const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
  if (!root || !is_element(root, "OME")) file.fail("unreadable OME-XML");
  const xmlNode* image = first_child(root, "Image");
  const xmlNode* pixels = image ? first_child(image, "Pixels") : nullptr;
  if (!pixels) file.fail("OME-XML without Image/Pixels");

  const auto size = [&](const char* name) {
    const std::optional<std::string> text = attribute(pixels, name);
    char* end = nullptr;
    const long value = text ? std::strtol(text->c_str(), &end, 10) : 0;
    if (!text || end == text->c_str() || *end != '\0' || value < 1 || value > kMaxOmePlanes)
      file.fail(std::string("OME-XML Pixels ") + name + " missing or out of range");
    return value;
  };
  OmeSeries series;
  series.count_z = size("SizeZ");
  series.count_c = size("SizeC");
  series.count_t = size("SizeT");
  const long planes = series.count_z * series.count_c * series.count_t;  // each factor <= 2^20: fits
  const tdir_t directories = TIFFNumberOfDirectories(tif);
  if (planes > static_cast<long>(directories))
    file.fail("OME-XML describes " + std::to_string(planes) + " planes, the file has " +
              std::to_string(directories) + " pages");
  // DimensionOrder "XY" then Z, C, T in the order their planes follow each other in the file.
  const std::string order = attribute(pixels, "DimensionOrder").value_or("XYZCT");
  if (order.size() != 5 || order.compare(0, 2, "XY") != 0 || order.find('Z') == std::string::npos ||
      order.find('C') == std::string::npos || order.find('T') == std::string::npos)
    file.fail("OME-XML DimensionOrder '" + order + "' is not valid");
  const auto extent = [&](char d) { return d == 'Z' ? series.count_z : d == 'C' ? series.count_c : series.count_t; };
  const auto file_index = [&](long z, long c, long t) {
    const auto coordinate = [&](char d) { return d == 'Z' ? z : d == 'C' ? c : t; };
    return coordinate(order[2]) + extent(order[2]) * (coordinate(order[3]) + extent(order[3]) * coordinate(order[4]));
  };

  std::vector<long> directory_of(static_cast<std::size_t>(planes), -1);  // file-order plane -> directory
  const auto number = [&](const xmlNode* node, const char* name, long fallback, long limit) {
    const std::optional<std::string> text = attribute(node, name);
    if (!text) return fallback;
    char* end = nullptr;
    const long value = std::strtol(text->c_str(), &end, 10);
    if (end == text->c_str() || *end != '\0' || value < 0 || value >= limit)
      file.fail(std::string("OME-XML TiffData ") + name + " '" + *text + "' out of range");
    return value;
  };
  bool any_tiff_data = false;
  const std::string own_name = std::filesystem::path(path).filename().string();
  for (const xmlNode* node = pixels->children; node; node = node->next) {
    if (!is_element(node, "TiffData")) continue;
    any_tiff_data = true;
    if (const xmlNode* uuid = first_child(node, "UUID")) {
      const std::optional<std::string> name = attribute(uuid, "FileName");
      if (name && *name != own_name) file.fail("the series continues in another file ('" + *name + "')");
    }
    const bool has_ifd = attribute(node, "IFD").has_value();
    const long ifd = number(node, "IFD", 0, directories);
    const long start = file_index(number(node, "FirstZ", 0, series.count_z), number(node, "FirstC", 0, series.count_c),
                                  number(node, "FirstT", 0, series.count_t));
    // Without IFD and PlaneCount a TiffData covers every plane; with an IFD alone, one.
    const long count = number(node, "PlaneCount", has_ifd ? 1 : planes - start, planes + 1);
    if (start + count > planes || ifd + count > static_cast<long>(directories))
      file.fail("OME-XML TiffData beyond the series or the file");
    for (long k = 0; k < count; ++k) directory_of[static_cast<std::size_t>(start + k)] = ifd + k;
  }
  if (!any_tiff_data)
    for (long k = 0; k < planes; ++k) directory_of[static_cast<std::size_t>(k)] = k;
  series.directories.resize(static_cast<std::size_t>(planes));
  for (long t = 0; t < series.count_t; ++t)
    for (long c = 0; c < series.count_c; ++c)
      for (long z = 0; z < series.count_z; ++z) {
        const long directory = directory_of[static_cast<std::size_t>(file_index(z, c, t))];
        if (directory < 0)
          file.fail("OME-XML gives no page for plane z " + std::to_string(z) + ", c " + std::to_string(c) + ", t " +
                    std::to_string(t));
        series.directories[static_cast<std::size_t>(z + series.count_z * (c + series.count_c * t))] =
            static_cast<tdir_t>(directory);
      }
  return series;
}

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
  if (const auto series = read_ome_series(file.get(), file, path))
    return static_cast<int>(series->directories.size());
  const tdir_t pages = TIFFNumberOfDirectories(file.get());
  if (pages == 0) file.fail("no image in the file");
  return static_cast<int>(pages);
}

Image read_tiff(const std::string& path, int page) {
  TiffFile file(path, "r");
  TIFF* tif = file.get();
  if (page < 0) file.fail("no page " + std::to_string(page));
  tdir_t directory = static_cast<tdir_t>(page);
  if (const auto series = read_ome_series(tif, file, path)) {
    if (static_cast<std::size_t>(page) >= series->directories.size())
      file.fail("no page " + std::to_string(page) + " in the OME-TIFF's first series");
    directory = series->directories[static_cast<std::size_t>(page)];
  }
  if (!TIFFSetDirectory(tif, directory)) file.fail("no page " + std::to_string(page));

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

  // A page must not claim more pixels than the file's bytes can hold: uncompressed data is its own size, compressed
  // data expands at most about 1032-fold (deflate's limit; LZW, PackBits and JPEG of real images stay below).
  std::uint16_t compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  std::error_code size_error;
  const double file_size = static_cast<double>(std::filesystem::file_size(path, size_error));
  const double decoded = static_cast<double>(width) * height * channels * (bits / 8);
  if (size_error || decoded > file_size * (compression == COMPRESSION_NONE ? 1.0 : 1032.0))
    file.fail("a page of " + std::to_string(width) + "x" + std::to_string(height) + " cannot be held in " +
              std::to_string(static_cast<std::uintmax_t>(file_size)) + " bytes");

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
