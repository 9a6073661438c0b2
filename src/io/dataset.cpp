#include "io/dataset.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace cryptounet::io {

namespace fs = std::filesystem;

Split split_of_index(std::size_t index) {
  const std::size_t r = index % 10;
  return r == 8 ? Split::Val : r == 9 ? Split::Test : Split::Train;
}

Split parse_split(const std::string& name) {
  if (name == "train") return Split::Train;
  if (name == "val") return Split::Val;
  if (name == "test") return Split::Test;
  throw std::invalid_argument("unknown split '" + name + "' (train, val or test)");
}

const char* split_name(Split split) {
  switch (split) {
    case Split::Train: return "train";
    case Split::Val: return "val";
    case Split::Test: return "test";
  }
  return "?";
}

std::vector<Sample> list_dataset(const std::string& dir, std::optional<Split> split) {
  const fs::path images = fs::path(dir) / "images";
  if (!fs::is_directory(images)) throw std::runtime_error("'" + dir + "' has no images/ folder (DSB layout expected)");
  std::vector<std::string> ids;
  for (const auto& entry : fs::directory_iterator(images))
    if (entry.is_regular_file() && entry.path().extension() == ".png") ids.push_back(entry.path().stem().string());
  if (ids.empty()) throw std::runtime_error("no PNG images in '" + images.string() + "'");
  std::sort(ids.begin(), ids.end());  // bytewise, like Python's sorted() on str
  std::vector<Sample> samples;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (split && split_of_index(i) != *split) continue;
    Sample s;
    s.id = ids[i];
    s.image_path = (images / (ids[i] + ".png")).string();
    const fs::path mask = fs::path(dir) / "masks" / (ids[i] + ".png");
    if (fs::is_regular_file(mask)) s.mask_path = mask.string();
    samples.push_back(std::move(s));
  }
  return samples;
}

}  // namespace cryptounet::io
