#include "io/nifti.h"
#include "nifti_files.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <nifti2_io.h>

#include <filesystem>
#include <stdexcept>

namespace cryptounet::io {
namespace {

constexpr int kNx = 7, kNy = 5, kNz = 4;

double stored(int i, int j, int k) { return i + 10 * j + 100 * k - 50; }

// A 16-bit signed volume with scaling, anisotropic voxels and an oblique sform, written with nifti2_io itself.
void write_volume(const std::string& path, int frames = 1) {
  const double sform[4][4] = {{0.0, -0.9, 0.0, 12.5}, {0.8, 0.0, 0.0, -40.0}, {0.0, 0.0, 2.5, 7.25}, {0, 0, 0, 1}};
  test::write_nifti(path, {kNx, kNy, kNz, frames}, DT_INT16, sform, [&](nifti_image* nim) {
    auto* data = static_cast<std::int16_t*>(nim->data);
    for (int t = 0; t < frames; ++t)
      for (int k = 0; k < kNz; ++k)
        for (int j = 0; j < kNy; ++j)
          for (int i = 0; i < kNx; ++i)
            data[((t * kNz + k) * kNy + j) * kNx + i] = static_cast<std::int16_t>(stored(i, j, k));
    nim->scl_slope = 0.5;
    nim->scl_inter = 10;
    nim->dx = nim->pixdim[1] = 0.8;
    nim->dy = nim->pixdim[2] = 0.9;
    nim->dz = nim->pixdim[3] = 2.5;
  });
}

TEST(Nifti, SlicesAlongEachAxisWithScaling) {
  test::TempDir dir;
  write_volume(dir.file("t1.nii"));
  const NiftiVolume volume = NiftiVolume::read(dir.file("t1.nii"));
  EXPECT_EQ(volume.size(0), kNx);
  EXPECT_EQ(volume.size(1), kNy);
  EXPECT_EQ(volume.size(2), kNz);
  const Plane axial = volume.slice(2, 3);  // width i, height j
  ASSERT_EQ(axial.width, kNx);
  ASSERT_EQ(axial.height, kNy);
  EXPECT_DOUBLE_EQ(axial.at(4, 6), stored(6, 4, 3) * 0.5 + 10);
  const Plane coronal = volume.slice(1, 2);  // width i, height k
  ASSERT_EQ(coronal.height, kNz);
  EXPECT_DOUBLE_EQ(coronal.at(1, 5), stored(5, 2, 1) * 0.5 + 10);
  const Plane sagittal = volume.slice(0, 6);  // width j, height k
  ASSERT_EQ(sagittal.width, kNy);
  EXPECT_DOUBLE_EQ(sagittal.at(3, 4), stored(6, 4, 3) * 0.5 + 10);
  EXPECT_THROW(volume.slice(2, kNz), std::out_of_range);
  EXPECT_THROW(volume.slice(3, 0), std::invalid_argument);
  // The 16-bit view spans the whole volume's range: the lowest voxel is 0, the highest 65535.
  EXPECT_EQ(volume.slice_image(2, 0).at(0, 0, 0), 0);
  EXPECT_EQ(volume.slice_image(2, kNz - 1).at(kNy - 1, kNx - 1, 0), 65535);
}

TEST(Nifti, LabelVolumeKeepsTheInputGridAndAffine) {
  test::TempDir dir;
  write_volume(dir.file("t1.nii.gz"));
  const NiftiVolume volume = NiftiVolume::read(dir.file("t1.nii.gz"));
  std::vector<LabelImage> slices;
  for (int j = 0; j < kNy; ++j) {  // coronal slices: width i, height k
    LabelImage s(kNx, kNz);
    s.at(kNz - 1, 2) = static_cast<std::uint16_t>(1000 + j);
    slices.push_back(s);
  }
  volume.write_labels(dir.file("labels.nii.gz"), 1, slices);

  nifti_image* back = nifti_image_read(dir.file("labels.nii.gz").c_str(), 1);
  ASSERT_NE(back, nullptr);
  nifti_image* input = nifti_image_read(dir.file("t1.nii.gz").c_str(), 0);
  EXPECT_EQ(back->datatype, DT_UINT16);
  EXPECT_EQ(back->intent_code, NIFTI_INTENT_LABEL);
  EXPECT_EQ(back->nx, kNx);
  EXPECT_EQ(back->ny, kNy);
  EXPECT_EQ(back->nz, kNz);
  EXPECT_EQ(back->scl_slope, 0.0);
  EXPECT_EQ(back->sform_code, input->sform_code);
  EXPECT_EQ(back->qform_code, input->qform_code);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      EXPECT_DOUBLE_EQ(back->sto_xyz.m[r][c], input->sto_xyz.m[r][c]) << r << c;
      EXPECT_DOUBLE_EQ(back->qto_xyz.m[r][c], input->qto_xyz.m[r][c]) << r << c;
    }
  for (int d = 1; d <= 3; ++d) EXPECT_DOUBLE_EQ(back->pixdim[d], input->pixdim[d]);
  const auto* labels = static_cast<const std::uint16_t*>(back->data);
  for (int k = 0; k < kNz; ++k)
    for (int j = 0; j < kNy; ++j)
      for (int i = 0; i < kNx; ++i)
        EXPECT_EQ(labels[(k * kNy + j) * kNx + i], i == 2 && k == kNz - 1 ? 1000 + j : 0) << i << j << k;
  nifti_image_free(back);
  nifti_image_free(input);

  EXPECT_THROW(volume.write_labels(dir.file("few.nii"), 1, {slices[0]}), std::invalid_argument);
  EXPECT_THROW(volume.write_labels(dir.file("shape.nii"), 2, std::vector<LabelImage>(kNz, LabelImage(kNx, kNz))),
               std::invalid_argument);
}

TEST(Nifti, FourDimensionalAndMissingFilesThrowNamingTheFile) {
  test::TempDir dir;
  write_volume(dir.file("bold.nii"), 3);
  for (const char* name : {"bold.nii", "missing.nii"}) {
    try {
      NiftiVolume::read(dir.file(name));
      ADD_FAILURE() << name << ": expected an exception";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
}

// A header whose voxel data the file does not hold is refused before the voxel buffer is allocated.
TEST(Nifti, TruncatedVoxelDataIsRefused) {
  test::TempDir dir;
  write_volume(dir.file("t1.nii"));
  std::filesystem::resize_file(dir.file("t1.nii"), 352 + 10);
  try {
    NiftiVolume::read(dir.file("t1.nii"));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("more voxel data than the file holds"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cryptounet::io
