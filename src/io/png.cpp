#include "io/png.h"

#include <png.h>

#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>

namespace cryptounet::io {

namespace {

// libpng reports errors through a callback that must not return: keep the message and longjmp back.
struct ErrorSink {
  char message[256] = {0};
};

void on_error(png_structp png, png_const_charp msg) {
  auto* sink = static_cast<ErrorSink*>(png_get_error_ptr(png));
  std::snprintf(sink->message, sizeof sink->message, "%s", msg);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

// libpng's write callback for encoding into memory; the std::vector grows as rows arrive.
void append_bytes(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(png_get_io_ptr(png));
  try {
    out->insert(out->end(), data, data + length);
  } catch (const std::bad_alloc&) {  // an exception must not unwind through libpng's C frames
    png_error(png, "out of memory");
  }
}

// Larger sides are rejected (microscopy fields are at most a few thousand pixels across).
constexpr png_uint_32 kMaxSide = 16384;

struct File {
  std::FILE* fp = nullptr;
  File(const std::string& path, const char* mode) : fp(std::fopen(path.c_str(), mode)) {}
  ~File() {
    if (fp) std::fclose(fp);
  }
};

}  // namespace

Image read_png(const std::string& path) {
  File file(path, "rb");
  if (!file.fp) throw std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
  unsigned char signature[8];
  if (std::fread(signature, 1, 8, file.fp) != 8 || png_sig_cmp(signature, 0, 8) != 0)
    throw std::runtime_error("'" + path + "' is not a PNG file");

  ErrorSink sink;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
  if (!png) throw std::runtime_error("libpng: out of memory");
  png_infop info = png_create_info_struct(png);
  Image image;
  std::vector<png_byte> buffer;
  std::vector<png_bytep> rows;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    throw std::runtime_error("corrupt PNG '" + path + "': " + sink.message);
  }
  if (!info) png_error(png, "out of memory");
  png_init_io(png, file.fp);
  png_set_sig_bytes(png, 8);
  png_set_user_limits(png, kMaxSide, kMaxSide);  // a hostile header must not make us allocate gigabytes
  png_read_info(png, info);

  const int color_type = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);

  image.width = static_cast<int>(png_get_image_width(png, info));
  image.height = static_cast<int>(png_get_image_height(png, info));
  image.channels = png_get_channels(png, info);
  image.bit_depth = png_get_bit_depth(png, info);
  if (image.bit_depth != 8 && image.bit_depth != 16) png_error(png, "unsupported bit depth");
  if (image.channels < 1 || image.channels > 4) png_error(png, "unsupported channel count");
  const std::size_t row_bytes = png_get_rowbytes(png, info);
  buffer.resize(row_bytes * image.height);
  rows.resize(image.height);
  for (int y = 0; y < image.height; ++y) rows[y] = buffer.data() + row_bytes * y;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);

  const std::size_t count = image.pixel_count() * image.channels;
  image.samples.resize(count);
  if (image.bit_depth == 8) {
    for (std::size_t j = 0; j < count; ++j) image.samples[j] = buffer[j];
  } else {  // 16-bit samples are big-endian in PNG
    for (std::size_t j = 0; j < count; ++j)
      image.samples[j] = static_cast<std::uint16_t>((buffer[2 * j] << 8) | buffer[2 * j + 1]);
  }
  return image;
}

std::vector<std::uint8_t> encode_png(const Image& image) {
  if (image.width <= 0 || image.height <= 0 || image.channels < 1 || image.channels > 4 ||
      (image.bit_depth != 8 && image.bit_depth != 16) ||
      image.samples.size() != image.pixel_count() * image.channels)
    throw std::invalid_argument("encode_png: inconsistent image");
  static constexpr int color_types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                        PNG_COLOR_TYPE_RGB_ALPHA};
  const int bytes = image.bit_depth / 8;
  const std::size_t row_bytes = static_cast<std::size_t>(image.width) * image.channels * bytes;
  std::vector<png_byte> buffer(row_bytes * image.height);
  for (std::size_t j = 0; j < image.samples.size(); ++j) {
    const std::uint16_t v = image.samples[j];
    if (bytes == 1) {
      if (v > 255) throw std::invalid_argument("encode_png: sample above 255 in an 8-bit image");
      buffer[j] = static_cast<png_byte>(v);
    } else {
      buffer[2 * j] = static_cast<png_byte>(v >> 8);
      buffer[2 * j + 1] = static_cast<png_byte>(v & 0xff);
    }
  }
  std::vector<png_bytep> rows(image.height);
  for (int y = 0; y < image.height; ++y) rows[y] = buffer.data() + row_bytes * y;

  std::vector<std::uint8_t> encoded;
  ErrorSink sink;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
  if (!png) throw std::runtime_error("libpng: out of memory");
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error(std::string("encoding PNG failed: ") + sink.message);
  }
  if (!info) png_error(png, "out of memory");
  png_set_write_fn(png, &encoded, append_bytes, nullptr);
  png_set_IHDR(png, info, image.width, image.height, image.bit_depth, color_types[image.channels - 1],
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return encoded;
}

void write_png(const std::string& path, const Image& image) {
  std::vector<std::uint8_t> encoded;
  try {
    encoded = encode_png(image);
  } catch (const std::invalid_argument& e) {  // the same exception types, naming the file
    throw std::invalid_argument("write_png '" + path + "': " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("write_png '" + path + "': " + e.what());
  }
  File file(path, "wb");
  if (!file.fp) throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno));
  if (std::fwrite(encoded.data(), 1, encoded.size(), file.fp) != encoded.size() || std::fflush(file.fp) != 0)
    throw std::runtime_error("writing '" + path + "' failed");
}

}  // namespace cryptounet::io
