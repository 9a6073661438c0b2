// NIfTI-1/2 volumes with nifti2_io (Debian libnifti2): an MRI volume is segmented slice by slice along a chosen
// axis, and the result is written as a label volume with the input's header (grid, voxel size, qform/sform affine),
// so it overlays on the input in any viewer.
#pragma once

#include "io/image.h"

#include <memory>
#include <string>
#include <vector>

namespace cryptounet::io {

class NiftiVolume {
 public:
  // A 3-D volume (.nii or .nii.gz; NIfTI-1 or -2) of any real scalar type. Throws std::runtime_error naming the
  // file when it is unreadable, not 3-D (dim[4..7] must be 1), complex/RGB, has a side above 16384 or more than
  // 2^28 voxels.
  static NiftiVolume read(const std::string& path);

  // Voxels along axis 0 (i), 1 (j) or 2 (k).
  int size(int axis) const;
  // The voxel axis closest to the body's inferior-superior direction by the sform (else qform) affine: the axis
  // whose slices are axial. 2 when the header has no affine.
  int axial_axis() const;

  // Slice `index` perpendicular to `axis`, in scaled intensities (scl_slope and scl_inter applied). Its width runs
  // along the lower remaining axis, its height along the higher one (axis 2: width i, height j).
  Plane slice(int axis, int index) const;
  // The same slice as a 16-bit gray image, the volume's whole intensity range mapped onto 0..65535 (one window for
  // every slice, so slices stay comparable).
  Image slice_image(int axis, int index) const;

  // Writes 16-bit labels (one LabelImage per slice along `axis`, shaped as slice() returns them) with this volume's
  // header and affine, intent "label". The extension picks the form: .nii, or .nii.gz compressed.
  void write_labels(const std::string& path, int axis, const std::vector<LabelImage>& slices) const;

 private:
  struct Data;
  std::shared_ptr<const Data> data_;
};

}  // namespace cryptounet::io
