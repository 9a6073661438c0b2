#include "io/tiff.h"
#include "temp_dir.h"
#include "tiff_files.h"
#include "test_images.h"

#include <gtest/gtest.h>
#include <tiffio.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace cryptounet::io {
namespace {

using test::make_image;

TEST(Tiff, RoundTripGrayRgbAlpha8And16Bit) {
  test::TempDir dir;
  for (int channels : {1, 2, 3, 4})
    for (int depth : {8, 16}) {
      const Image im = make_image(13, 7, channels, depth);
      write_tiff(dir.file("im.tif"), {im});
      EXPECT_EQ(tiff_page_count(dir.file("im.tif")), 1);
      const Image back = read_tiff(dir.file("im.tif"));
      EXPECT_EQ(back.width, 13);
      EXPECT_EQ(back.height, 7);
      EXPECT_EQ(back.channels, channels);
      EXPECT_EQ(back.bit_depth, depth);
      EXPECT_EQ(back.samples, im.samples) << channels << " channels, " << depth << " bit";
    }
}

TEST(Tiff, MultiPageStackReadsPageByPage) {
  test::TempDir dir;
  std::vector<Image> pages = {make_image(9, 5, 1, 16), make_image(9, 5, 1, 16), make_image(4, 3, 3, 8)};
  pages[1].samples[0] = 4242;
  write_tiff(dir.file("stack.tiff"), pages);
  ASSERT_EQ(tiff_page_count(dir.file("stack.tiff")), 3);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(read_tiff(dir.file("stack.tiff"), k).samples, pages[k].samples) << k;
  EXPECT_THROW(read_tiff(dir.file("stack.tiff"), 3), std::runtime_error);
  EXPECT_THROW(read_tiff(dir.file("stack.tiff"), -1), std::runtime_error);
}

// Microscope software also writes tiled, planar-separate and min-is-white files; make them with libtiff itself.
void write_layout(const std::string& path, const Image& im, bool tiled, bool separate, bool min_is_white) {
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tif, nullptr);
  test::set_page_fields(
      tif, {.width = static_cast<std::uint32_t>(im.width),
            .height = static_cast<std::uint32_t>(im.height),
            .bits = static_cast<std::uint16_t>(im.bit_depth),
            .samples = static_cast<std::uint16_t>(im.channels),
            .photometric = static_cast<std::uint16_t>(im.channels == 3 ? PHOTOMETRIC_RGB
                                                      : min_is_white  ? PHOTOMETRIC_MINISWHITE
                                                                      : PHOTOMETRIC_MINISBLACK),
            .planar = static_cast<std::uint16_t>(separate ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG)});
  TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
  const int per_pixel = separate ? 1 : im.channels, planes = separate ? im.channels : 1;
  const int bytes = im.bit_depth / 8;
  auto fill = [&](std::vector<std::uint8_t>& buf, int x0, int y0, int bw, int bh, int plane) {
    std::fill(buf.begin(), buf.end(), 0);
    for (int y = y0; y < std::min(im.height, y0 + bh); ++y)
      for (int x = x0; x < std::min(im.width, x0 + bw); ++x)
        for (int c = 0; c < per_pixel; ++c) {
          const std::uint16_t v = im.at(y, x, plane + c);
          std::memcpy(buf.data() + (((y - y0) * bw + (x - x0)) * per_pixel + c) * bytes, &v, bytes);
        }
  };
  if (tiled) {
    TIFFSetField(tif, TIFFTAG_TILEWIDTH, 16u);
    TIFFSetField(tif, TIFFTAG_TILELENGTH, 16u);
    std::vector<std::uint8_t> buf(16 * 16 * per_pixel * bytes);
    for (int p = 0; p < planes; ++p)
      for (int y0 = 0; y0 < im.height; y0 += 16)
        for (int x0 = 0; x0 < im.width; x0 += 16) {
          fill(buf, x0, y0, 16, 16, p);
          ASSERT_GE(TIFFWriteTile(tif, buf.data(), x0, y0, 0, static_cast<std::uint16_t>(p)), 0);
        }
  } else {
    std::vector<std::uint8_t> buf(im.width * per_pixel * bytes);
    for (int p = 0; p < planes; ++p)
      for (int y = 0; y < im.height; ++y) {
        fill(buf, 0, y, im.width, 1, p);
        ASSERT_GE(TIFFWriteScanline(tif, buf.data(), y, static_cast<std::uint16_t>(p)), 0);
      }
  }
  TIFFClose(tif);
}

TEST(Tiff, ReadsTiledPlanarAndMinIsWhiteLayouts) {
  test::TempDir dir;
  const Image rgb16 = make_image(37, 21, 3, 16);  // tiles overhang both edges
  write_layout(dir.file("tiled_planar.tif"), rgb16, true, true, false);
  EXPECT_EQ(read_tiff(dir.file("tiled_planar.tif")).samples, rgb16.samples);
  write_layout(dir.file("strips_planar.tif"), rgb16, false, true, false);
  EXPECT_EQ(read_tiff(dir.file("strips_planar.tif")).samples, rgb16.samples);
  const Image gray8 = make_image(20, 18, 1, 8);
  write_layout(dir.file("tiled.tif"), gray8, true, false, false);
  EXPECT_EQ(read_tiff(dir.file("tiled.tif")).samples, gray8.samples);
  write_layout(dir.file("white.tif"), gray8, false, false, true);
  const Image inverted = read_tiff(dir.file("white.tif"));
  for (std::size_t j = 0; j < gray8.samples.size(); ++j) ASSERT_EQ(inverted.samples[j], 255 - gray8.samples[j]);
}

TEST(Tiff, CorruptedUnsupportedAndMissingFilesThrowNamingTheFile) {
  test::TempDir dir;
  write_tiff(dir.file("ok.tif"), {make_image(64, 64, 3, 8)});
  std::ifstream in(dir.file("ok.tif"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  {
    std::ofstream out(dir.file("truncated.tif"), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  {
    std::ofstream out(dir.file("text.tif"));
    out << "not a tiff at all";
  }
  {  // a 32-bit float image: valid TIFF, unsupported samples
    TIFF* tif = TIFFOpen(dir.file("float.tif").c_str(), "w");
    test::set_page_fields(tif, {.width = 2, .height = 1, .bits = 32});
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP);
    const float row[2] = {0.5f, 1.5f};
    TIFFWriteScanline(tif, const_cast<float*>(row), 0, 0);
    TIFFClose(tif);
  }
  for (const char* name : {"truncated.tif", "text.tif", "float.tif", "missing.tif"}) {
    try {
      read_tiff(dir.file(name));
      ADD_FAILURE() << name << ": expected an exception";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
  Image bad = make_image(4, 4, 1, 8);
  bad.samples.pop_back();
  EXPECT_THROW(write_tiff(dir.file("bad.tif"), {bad}), std::invalid_argument);
  EXPECT_THROW(write_tiff(dir.file("none.tif"), {}), std::invalid_argument);
}

// A header claiming a 16384 x 16384 page backed by a few bytes is refused before the page buffer is allocated.
TEST(Tiff, PageLargerThanItsFileIsRefused) {
  test::TempDir dir;
  TIFF* tif = TIFFOpen(dir.file("claim.tif").c_str(), "w");
  ASSERT_NE(tif, nullptr);
  test::set_page_fields(tif,
                        {.width = 16384, .height = 16384, .bits = 16, .samples = 4, .photometric = PHOTOMETRIC_RGB});
  TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 16384u);
  unsigned char bytes[64] = {0};
  ASSERT_GE(TIFFWriteRawStrip(tif, 0, bytes, sizeof bytes), 0);
  ASSERT_TRUE(TIFFWriteDirectory(tif));
  TIFFClose(tif);
  try {
    read_tiff(dir.file("claim.tif"));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be held in"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cryptounet::io
