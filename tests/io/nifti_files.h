// NIfTI volumes written with nifti2_io itself, as an MRI converter would deliver them, for the io tests.
#pragma once

#include <gtest/gtest.h>
#include <nifti2_io.h>

#include <cstdint>
#include <string>

namespace cryptounet::io::test {

// Writes a volume of size {nx, ny, nz, frames} and the given datatype with the given sform (voxel (i, j, k) ->
// scanner mm); fill(nim) stores the voxels (x fastest) and may set scaling and voxel sizes.
template <typename Fill>
void write_nifti(const std::string& path, const std::int64_t (&size)[4], int datatype, const double (&sform)[4][4],
                 Fill fill) {
  const std::int64_t dims[8] = {size[3] > 1 ? 4 : 3, size[0], size[1], size[2], size[3], 1, 1, 1};
  nifti_image* nim = nifti_make_new_nim(dims, datatype, 1);
  ASSERT_NE(nim, nullptr);
  fill(nim);
  nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) nim->sto_xyz.m[r][c] = sform[r][c];
  nim->sto_ijk = nifti_dmat44_inverse(nim->sto_xyz);
  ASSERT_EQ(nifti_set_filenames(nim, path.c_str(), 0, 1), 0);
  nifti_image_write(nim);
  nifti_image_free(nim);
}

}  // namespace cryptounet::io::test
