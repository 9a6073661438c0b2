#include "io/dataset.h"
#include "io/image_file.h"
#include "io/png.h"
#include "io/synth.h"
#include "temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace cryptounet::io {
namespace {

TEST(Synth, SameSeedSameImageOnEveryRun) {
  const SynthSample a = synthesize(42), b = synthesize(42), c = synthesize(43);
  EXPECT_EQ(image_hash(a.image), image_hash(b.image));
  EXPECT_EQ(a.mask.pixels, b.mask.pixels);
  EXPECT_NE(image_hash(a.image), image_hash(c.image));
  // Pinned: the generator's output must not drift (the bundled data/demo was made with it). Update only on purpose.
  EXPECT_EQ(image_hash(a.image), 0xa87500d1ee1e9a07ULL) << std::hex << image_hash(a.image);
}

TEST(Synth, PlausibleFluorescenceImages) {
  for (int i = 0; i < 12; ++i) {
    const SynthSample s = synthesize(synth_image_seed(7, i));
    std::size_t fg = 0;
    double fg_sum = 0, bg_sum = 0;
    for (std::size_t j = 0; j < s.mask.pixels.size(); ++j) {
      if (s.mask.pixels[j]) {
        ++fg;
        fg_sum += s.image.samples[j];
      } else {
        bg_sum += s.image.samples[j];
      }
      EXPECT_EQ(s.mask.pixels[j] != 0, s.labels.samples[j] != 0);
    }
    const double fraction = static_cast<double>(fg) / static_cast<double>(s.mask.pixels.size());
    EXPECT_GT(fraction, 0.01) << "image " << i;
    EXPECT_LT(fraction, 0.45) << "image " << i;
    // Dark background, bright nuclei.
    EXPECT_GT(fg_sum / static_cast<double>(fg), 3 * bg_sum / static_cast<double>(s.mask.pixels.size() - fg));
    EXPECT_LT(bg_sum / static_cast<double>(s.mask.pixels.size() - fg), 40.0);
  }
}

TEST(Synth, WritesADsbLayoutFolder) {
  test::TempDir dir;
  write_synthetic_dataset(dir.path().string(), 3, 5, SynthParams{.width = 64, .height = 48});
  const auto samples = list_dataset(dir.path().string());
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].id, "synth_0000");
  const Image im = read_png(samples[2].image_path);
  EXPECT_EQ(im.width, 64);
  EXPECT_EQ(im.height, 48);
  EXPECT_EQ(image_hash(im), image_hash(synthesize(synth_image_seed(5, 2), SynthParams{.width = 64, .height = 48}).image));
  EXPECT_EQ(read_mask(samples[2].mask_path).pixels.size(), 64u * 48u);
}

// The bundled demo is exactly what `cryptounet synth -o data/demo --count 8 --size 128 --seed 2018` writes.
TEST(Synth, BundledDemoIsReproducible) {
  const auto samples = list_dataset(std::string(CRYPTOUNET_SOURCE_DIR) + "/data/demo");
  ASSERT_EQ(samples.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    const SynthSample s = synthesize(synth_image_seed(2018, i));
    EXPECT_EQ(image_hash(read_png(samples[i].image_path)), image_hash(s.image)) << samples[i].id;
    EXPECT_EQ(read_mask(samples[i].mask_path).pixels, s.mask.pixels) << samples[i].id;
  }
}

TEST(Dataset, SplitRuleMatchesTrainData) {
  EXPECT_EQ(split_of_index(0), Split::Train);
  EXPECT_EQ(split_of_index(8), Split::Val);
  EXPECT_EQ(split_of_index(9), Split::Test);
  EXPECT_EQ(split_of_index(19), Split::Test);
  EXPECT_EQ(parse_split("test"), Split::Test);
  EXPECT_THROW(parse_split("testing"), std::invalid_argument);
  EXPECT_THROW(list_dataset("/nonexistent/folder"), std::runtime_error);
}

TEST(Dataset, SortedIdsAndSplitSelection) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "images");
  std::filesystem::create_directories(dir.path() / "masks");
  const SynthSample s = synthesize(1, SynthParams{.width = 16, .height = 16});
  for (int i = 11; i >= 0; --i) {
    const std::string id = "img" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    write_png((dir.path() / "images" / (id + ".png")).string(), s.image);
    if (i % 2 == 0) write_mask((dir.path() / "masks" / (id + ".png")).string(), s.mask);
  }
  const auto all = list_dataset(dir.path().string());
  ASSERT_EQ(all.size(), 12u);
  EXPECT_EQ(all[0].id, "img00");
  EXPECT_FALSE(all[0].mask_path.empty());
  EXPECT_TRUE(all[1].mask_path.empty());
  const auto test = list_dataset(dir.path().string(), Split::Test);
  ASSERT_EQ(test.size(), 1u);
  EXPECT_EQ(test[0].id, "img09");
}

}  // namespace
}  // namespace cryptounet::io
