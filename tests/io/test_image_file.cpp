#include "io/dataset.h"
#include "io/image_file.h"
#include "io/png.h"
#include "io/tiff.h"
#include "temp_dir.h"
#include "test_images.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <stdexcept>

namespace cryptounet::io {
namespace {

namespace fs = std::filesystem;
using test::make_image;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(ImageFile, FormatComesFromContentNotName) {
  test::TempDir dir;
  const Image im = make_image(6, 5, 3, 8);
  write_png(dir.file("really_png.tif"), im);
  write_tiff(dir.file("really_tiff.png"), {im});
  EXPECT_EQ(detect_image_format(dir.file("really_png.tif")), ImageFormat::Png);
  EXPECT_EQ(detect_image_format(dir.file("really_tiff.png")), ImageFormat::Tiff);
  EXPECT_EQ(read_image(dir.file("really_png.tif")).samples, im.samples);
  EXPECT_EQ(read_image(dir.file("really_tiff.png")).samples, im.samples);
  EXPECT_EQ(image_page_count(dir.file("really_png.tif")), 1);
  EXPECT_TRUE(has_image_extension("a/b.TIFF"));
  EXPECT_FALSE(has_image_extension("a/b.jpg"));
}

TEST(ImageFile, AFileThatIsNotWhatItClaimsIsNamedInTheError) {
  test::TempDir dir;
  {
    std::ofstream out(dir.file("scan.tif"));
    out << "<html>";
  }
  std::ofstream(dir.file("empty.png")).close();
  const std::string html = error_of([&] { read_image(dir.file("scan.tif")); });
  EXPECT_NE(html.find(dir.file("scan.tif")), std::string::npos) << html;
  EXPECT_NE(html.find("named as TIFF"), std::string::npos) << html;
  EXPECT_NE(html.find("3c 68 74 6d"), std::string::npos) << html;
  const std::string empty = error_of([&] { read_mask(dir.file("empty.png")); });
  EXPECT_NE(empty.find(dir.file("empty.png")), std::string::npos) << empty;
  EXPECT_NE(empty.find("empty file"), std::string::npos) << empty;
  const std::string missing = error_of([&] { read_image(dir.file("missing.tiff")); });
  EXPECT_NE(missing.find("missing.tiff"), std::string::npos) << missing;
  write_png(dir.file("one.png"), make_image(2, 2, 1, 8));
  EXPECT_THROW(read_image(dir.file("one.png"), 1), std::runtime_error);
  EXPECT_THROW(write_mask(dir.file("mask.jpg"), Mask(2, 2)), std::invalid_argument);
}

TEST(ImageFile, MasksAndLabelsRoundTripAsPngAndTiff) {
  test::TempDir dir;
  Mask m(5, 3);
  m.at(1, 2) = m.at(2, 4) = 1;
  LabelImage labels(4, 3);
  labels.at(0, 0) = 1;
  labels.at(2, 3) = 65535;
  labels.at(1, 1) = 300;
  for (const char* ext : {".png", ".tif"}) {
    write_mask(dir.file(std::string("m") + ext), m);
    EXPECT_EQ(read_mask(dir.file(std::string("m") + ext)).pixels, m.pixels) << ext;
    const Image raw = read_image(dir.file(std::string("m") + ext));  // 8-bit 0/255, as viewers expect of a mask
    EXPECT_EQ(raw.bit_depth, 8);
    EXPECT_EQ(raw.at(1, 2, 0), 255);
    write_labels(dir.file(std::string("l") + ext), labels);
    EXPECT_EQ(read_image(dir.file(std::string("l") + ext)).bit_depth, 16);
    EXPECT_EQ(read_labels(dir.file(std::string("l") + ext)).pixels, labels.pixels) << ext;
  }
  Image gray = make_image(3, 1, 1, 16);
  gray.samples = {32767, 32768, 65535};
  write_tiff(dir.file("g16.tif"), {gray});
  EXPECT_EQ(read_mask(dir.file("g16.tif")).pixels, (std::vector<std::uint8_t>{0, 1, 1}));
  write_tiff(dir.file("rgb.tif"), {make_image(2, 2, 3, 8)});
  EXPECT_THROW(read_labels(dir.file("rgb.tif")), std::runtime_error);
}

TEST(Dataset, TiffStacksAndLabelsInADsbFolder) {
  test::TempDir dir;
  for (const char* sub : {"images", "masks", "labels"}) fs::create_directories(dir.path() / sub);
  write_png((dir.path() / "images" / "a.png").string(), make_image(8, 8, 3, 8));
  write_mask((dir.path() / "masks" / "a.png").string(), Mask(8, 8));
  write_labels((dir.path() / "labels" / "a.tif").string(), LabelImage(8, 8));
  write_tiff((dir.path() / "images" / "b.tiff").string(), {make_image(8, 8, 1, 16), make_image(8, 8, 1, 16)});
  Mask second(8, 8);
  second.at(3, 3) = 1;
  Image m0 = make_image(8, 8, 1, 8), m1 = make_image(8, 8, 1, 8);
  std::fill(m0.samples.begin(), m0.samples.end(), 0);
  std::fill(m1.samples.begin(), m1.samples.end(), 0);
  m1.samples[3 * 8 + 3] = 255;
  write_tiff((dir.path() / "masks" / "b.tif").string(), {m0, m1});
  std::ofstream(dir.path() / "images" / "notes.txt") << "ignored";

  const auto samples = list_dataset(dir.path().string());
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].id, "a");
  EXPECT_EQ(fs::path(samples[0].label_path).filename(), "a.tif");
  EXPECT_EQ(samples[1].id, "b_p0");
  EXPECT_EQ(samples[2].id, "b_p1");
  EXPECT_EQ(samples[2].page, 1);
  EXPECT_TRUE(samples[2].label_path.empty());
  EXPECT_EQ(read_mask(samples[2].mask_path, samples[2].page).pixels, second.pixels);
  EXPECT_EQ(read_image(samples[2].image_path, samples[2].page).bit_depth, 16);

  const auto files = samples_from_files({(dir.path() / "images" / "a.png").string()});
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].mask_path, samples[0].mask_path);
  EXPECT_EQ(files[0].label_path, samples[0].label_path);

  write_png((dir.path() / "images" / "b.png").string(), make_image(8, 8, 3, 8));
  const std::string clash = error_of([&] { list_dataset(dir.path().string()); });
  EXPECT_NE(clash.find("same id"), std::string::npos) << clash;
}

}  // namespace
}  // namespace cryptounet::io
