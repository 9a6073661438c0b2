// DSB-layout datasets (images/<id>.<ext>, masks/<id>.<ext>, labels/<id>.<ext>; PNG or TIFF) and the deterministic
// split shared with train/data.py.
#pragma once

#include "io/image_file.h"

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
  int page = 0;            // page of a multi-page TIFF stack (the same page of the mask and label files)
  std::string mask_path;   // empty when the folder has no mask for this id
  std::string label_path;  // instance labels (labels/); empty when absent
};

// Every image of a DSB-layout folder (images/*.png, *.tif, *.tiff), sorted by file stem; a multi-page TIFF stack
// contributes one sample per page, with id "<stem>_p<page>". Optionally only one split, by index in that order.
// Throws if the folder has no images/ directory, no image in it, or two files with the same stem.
std::vector<Sample> list_dataset(const std::string& dir, std::optional<Split> split = std::nullopt);

// The samples of image files named on a command line (stacks expanded to pages; a NIfTI volume's pages are its slices
// along `axis`, io/image_file.h). An image inside a DSB-layout
// folder (dir/images/<file>) is paired with dir/masks/ and dir/labels/ files of the same stem where present.
std::vector<Sample> samples_from_files(const std::vector<std::string>& paths, int axis = kAxialAxis);

}  // namespace cryptounet::io
