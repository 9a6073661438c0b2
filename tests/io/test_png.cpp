#include "io/image_file.h"
#include "io/png.h"
#include "temp_dir.h"
#include "test_images.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace cryptounet::io {
namespace {

using test::make_image;

TEST(Png, RoundTripGrayRgbRgba8And16Bit) {
  test::TempDir dir;
  for (int channels : {1, 2, 3, 4})
    for (int depth : {8, 16}) {
      const Image im = make_image(13, 7, channels, depth);
      const std::string path = dir.file("im.png");
      write_png(path, im);
      const Image back = read_png(path);
      EXPECT_EQ(back.width, 13);
      EXPECT_EQ(back.height, 7);
      EXPECT_EQ(back.channels, channels);
      EXPECT_EQ(back.bit_depth, depth);
      EXPECT_EQ(back.samples, im.samples) << channels << " channels, " << depth << " bit";
    }
}

TEST(Png, EncodedInMemoryEqualsTheWrittenFile) {
  test::TempDir dir;
  const Image im = make_image(13, 7, 3, 16);
  write_png(dir.file("im.png"), im);
  std::ifstream in(dir.file("im.png"), std::ios::binary);
  const std::vector<std::uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(encode_png(im), file);
  Image broken = im;
  broken.samples.pop_back();
  EXPECT_THROW(encode_png(broken), std::invalid_argument);
}

TEST(Png, MaskRoundTripAndThreshold) {
  test::TempDir dir;
  Mask m(5, 3);
  m.at(1, 2) = 1;
  m.at(2, 4) = 1;
  write_mask(dir.file("m.png"), m);
  EXPECT_EQ(read_mask(dir.file("m.png")).pixels, m.pixels);
  Image gray = make_image(3, 1, 1, 8);
  gray.samples = {127, 128, 255};
  write_png(dir.file("g.png"), gray);
  EXPECT_EQ(read_mask(dir.file("g.png")).pixels, (std::vector<std::uint8_t>{0, 1, 1}));
}

TEST(Png, CorruptedAndMissingFilesThrow) {
  test::TempDir dir;
  write_png(dir.file("ok.png"), make_image(64, 64, 3, 8));
  std::ifstream in(dir.file("ok.png"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  {  // truncated in the middle of the image data
    std::ofstream out(dir.file("truncated.png"), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  {  // a flipped byte in the compressed data breaks the CRC
    std::string damaged = bytes;
    damaged[bytes.size() / 2] = static_cast<char>(damaged[bytes.size() / 2] ^ 0x5a);
    std::ofstream out(dir.file("crc.png"), std::ios::binary);
    out.write(damaged.data(), static_cast<std::streamsize>(damaged.size()));
  }
  {
    std::ofstream out(dir.file("text.png"));
    out << "not a png at all";
  }
  for (const char* name : {"truncated.png", "crc.png", "text.png", "missing.png"}) {
    try {
      read_png(dir.file(name));
      ADD_FAILURE() << name << ": expected an exception";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
  Image bad = make_image(4, 4, 1, 8);
  bad.samples.pop_back();
  EXPECT_THROW(write_png(dir.file("bad.png"), bad), std::invalid_argument);
}

}  // namespace
}  // namespace cryptounet::io
