// The masks of volume inputs, gathered image by image and written back in the input's own form: a NIfTI volume's
// slices become a label volume (1 = foreground) with the input's header and affine, <stem>_mask.nii.gz; a DICOM
// object's frames a DICOM Segmentation referencing it, <stem>_seg.dcm. Images are named as the tools name pages
// (page_id: "<stem>", or "<stem>_p<k>" in a stack). PNG and TIFF inputs have no such form (their masks are written
// as images): they are not volumes here.
#pragma once

#include "io/image.h"
#include "io/image_file.h"

#include <map>
#include <string>
#include <vector>

namespace cryptounet::io {

class VolumeMasks {
 public:
  // The NIfTI and DICOM files among `inputs`, NIfTI volumes cut along `axis`. Throws if two share a stem.
  explicit VolumeMasks(const std::vector<std::string>& inputs, int axis = kAxialAxis);

  // The segment a DICOM Segmentation names its masks after.
  static constexpr const char* kSegmentLabel = "Nucleus";

  bool empty() const { return volumes_.empty(); }
  // Records the mask of image `id`; false when it is not an image of a volume input.
  bool add(const std::string& id, const Mask& mask);
  // Writes every volume input into `dir` and returns the files written. Throws if a volume misses an image's mask.
  std::vector<std::string> write(const std::string& dir) const;

 private:
  struct Volume {
    std::string path;
    ImageFormat format;
    int axis = kAxialAxis;  // NIfTI: the slicing axis
    std::vector<Mask> masks;  // one per page; empty until added
  };
  std::vector<Volume> volumes_;
  std::map<std::string, std::pair<std::size_t, int>> pages_;  // image id -> (volume, page)
};

}  // namespace cryptounet::io
