// DSB-layout datasets (images/<id>.png, masks/<id>.png) and the deterministic split shared with train/data.py.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cryptounet::io {

enum class Split { Train, Val, Test };

// The split of the index-th id in sorted (bytewise) order: index % 10 == 8 -> val, == 9 -> test, else train.
// Must stay identical to split_of() in train/data.py.
Split split_of_index(std::size_t index);
Split parse_split(const std::string& name);  // "train" | "val" | "test"; anything else throws
const char* split_name(Split split);

struct Sample {
  std::string id;
  std::string image_path;
  std::string mask_path;  // empty when the folder has no mask for this id
};

// Every images/*.png of a DSB-layout folder, sorted by id, optionally only one split. Throws if the folder has no
// images/ directory or no PNG in it.
std::vector<Sample> list_dataset(const std::string& dir, std::optional<Split> split = std::nullopt);

}  // namespace cryptounet::io
