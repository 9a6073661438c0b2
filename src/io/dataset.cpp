#include "io/dataset.h"

#include "io/image_file.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

namespace cryptounet::io {

namespace fs = std::filesystem;

namespace {

// The file in `folder` with this stem and an image extension, or empty.
std::string find_companion(const fs::path& folder, const std::string& stem) {
  for (const char* ext : {".png", ".tif", ".tiff", ".PNG", ".TIF", ".TIFF"}) {
    const fs::path candidate = folder / (stem + ext);
    if (fs::is_regular_file(candidate)) return candidate.string();
  }
  return {};
}

// One sample per page of `image_path`; mask and labels from the DSB folder `root` when it is not empty.
void append_pages(const std::string& image_path, const fs::path& root, std::vector<Sample>& out,
                  int axis = kAxialAxis) {
  const std::string stem = image_stem(image_path);
  const int pages = image_page_count(image_path, axis);
  const std::string mask = root.empty() ? std::string() : find_companion(root / "masks", stem);
  const std::string labels = root.empty() ? std::string() : find_companion(root / "labels", stem);
  for (int page = 0; page < pages; ++page) {
    Sample s;
    s.id = page_id(stem, page, pages);
    s.image_path = image_path;
    s.page = page;
    s.mask_path = mask;
    s.label_path = labels;
    out.push_back(std::move(s));
  }
}

}  // namespace

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
  std::map<std::string, std::string> by_stem;  // sorted bytewise, like Python's sorted() on str
  for (const auto& entry : fs::directory_iterator(images)) {
    if (!entry.is_regular_file() || !has_image_extension(entry.path().string())) continue;
    const auto [it, fresh] = by_stem.emplace(entry.path().stem().string(), entry.path().string());
    if (!fresh)
      throw std::runtime_error("'" + it->second + "' and '" + entry.path().string() + "' have the same id");
  }
  if (by_stem.empty()) throw std::runtime_error("no PNG or TIFF images in '" + images.string() + "'");
  std::vector<Sample> all;
  for (const auto& [stem, path] : by_stem) append_pages(path, dir, all);
  if (!split) return all;
  std::vector<Sample> chosen;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (split_of_index(i) == *split) chosen.push_back(std::move(all[i]));
  return chosen;
}

std::vector<Sample> samples_from_files(const std::vector<std::string>& paths, int axis) {
  std::vector<Sample> out;
  for (const auto& path : paths) {
    const fs::path parent = fs::path(path).parent_path();
    append_pages(path, parent.filename() == "images" ? parent.parent_path() : fs::path(), out, axis);
  }
  return out;
}

}  // namespace cryptounet::io
