#include "io/dataset.h"
#include "io/image_file.h"
#include "io/nifti.h"
#include "io/png.h"
#include "io/volume_masks.h"
#include "dicom_files.h"
#include "nifti_files.h"
#include "temp_dir.h"
#include "test_images.h"

#include <dcmtk/dcmseg/segdoc.h>
#include <gtest/gtest.h>
#include <nifti2_io.h>

#include <filesystem>
#include <memory>
#include <stdexcept>

namespace cryptounet::io {
namespace {

namespace fs = std::filesystem;

constexpr int kNx = 6, kNy = 3, kNz = 4;

// A volume whose voxel axis j runs inferior to superior (coronal acquisition): its axial slices are along j.
void write_coronal_volume(const std::string& path) {
  const double sform[4][4] = {{1.0, 0, 0, -3}, {0, 0, 1.5, 2}, {0, 2.0, 0, 9}, {0, 0, 0, 1}};
  test::write_nifti(path, {kNx, kNy, kNz, 1}, DT_UINT8, sform, [](nifti_image* nim) {
    auto* data = static_cast<std::uint8_t*>(nim->data);
    for (int j = 0; j < kNx * kNy * kNz; ++j) data[j] = static_cast<std::uint8_t>(j);
  });
}

TEST(ImageFile, DicomAndNiftiAreRecognisedByContent) {
  test::TempDir dir;
  write_coronal_volume(dir.file("scan.nii.gz"));
  fs::copy_file(dir.file("scan.nii.gz"), dir.file("scan.bin"));
  test::DicomSpec spec;
  spec.frames = 2;
  test::write_dicom(dir.file("ct.img"), spec);
  EXPECT_EQ(detect_image_format(dir.file("ct.img")), ImageFormat::Dicom);
  EXPECT_EQ(detect_image_format(dir.file("scan.nii.gz")), ImageFormat::Nifti);
  EXPECT_EQ(detect_image_format(dir.file("scan.bin")), ImageFormat::Nifti);
  EXPECT_EQ(image_page_count(dir.file("ct.img")), 2);
  EXPECT_EQ(read_image(dir.file("ct.img"), 1).width, spec.columns);
  EXPECT_EQ(NiftiVolume::read(dir.file("scan.nii.gz")).axial_axis(), 1);
  EXPECT_EQ(image_page_count(dir.file("scan.nii.gz")), kNy);  // axial: along j
  EXPECT_EQ(image_page_count(dir.file("scan.nii.gz"), 2), kNz);
  const Image axial = read_image(dir.file("scan.nii.gz"), 2);
  EXPECT_EQ(axial.width, kNx);
  EXPECT_EQ(axial.height, kNz);
  EXPECT_EQ(image_stem("a/b/scan.nii.gz"), "scan");
  EXPECT_EQ(image_stem("a/ct.dcm"), "ct");
  EXPECT_EQ(page_id("scan", 2, 3), "scan_p2");
  EXPECT_EQ(page_id("one", 0, 1), "one");
}

// A NIfTI volume segmented slice by slice, as predict and decrypt do: the mask volume has the input's grid and affine.
TEST(VolumeMasks, NiftiSlicesBecomeAMaskVolumeWithTheInputHeader) {
  test::TempDir dir;
  write_coronal_volume(dir.file("scan.nii.gz"));
  test::write_dicom(dir.file("ct.dcm"), test::DicomSpec{});
  write_png(dir.file("cells.png"), test::make_image(4, 4, 1, 8));
  const std::vector<std::string> inputs = {dir.file("scan.nii.gz"), dir.file("cells.png")};
  VolumeMasks volumes(inputs);
  const auto samples = samples_from_files(inputs);
  ASSERT_EQ(samples.size(), static_cast<std::size_t>(kNy + 1));
  EXPECT_EQ(samples[1].id, "scan_p1");
  for (const Sample& s : samples) {
    const Image image = read_image(s.image_path, s.page);
    Mask mask(image.width, image.height);
    for (int x = 0; x < image.width; ++x) mask.at(s.page % image.height, x) = 1;  // row = slice index
    EXPECT_EQ(volumes.add(s.id, mask), s.id != "cells") << s.id;
  }
  const auto written = volumes.write(dir.path().string());
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(fs::path(written[0]).filename(), "scan_mask.nii.gz");

  nifti_image* out = nifti_image_read(written[0].c_str(), 1);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->nx, kNx);
  EXPECT_EQ(out->ny, kNy);
  EXPECT_EQ(out->nz, kNz);
  EXPECT_EQ(out->sform_code, NIFTI_XFORM_SCANNER_ANAT);
  EXPECT_DOUBLE_EQ(out->sto_xyz.m[2][1], 2.0);
  const auto* labels = static_cast<const std::uint16_t*>(out->data);
  for (int k = 0; k < kNz; ++k)
    for (int j = 0; j < kNy; ++j)
      for (int i = 0; i < kNx; ++i) EXPECT_EQ(labels[(k * kNy + j) * kNx + i], k == j % kNz ? 1 : 0);
  nifti_image_free(out);
}

TEST(VolumeMasks, DicomFramesBecomeASegmentationAndGapsAreRefused) {
  test::TempDir dir;
  test::DicomSpec spec;
  spec.frames = 2;
  spec.columns = 8;
  test::write_dicom(dir.file("ct.dcm"), spec);
  VolumeMasks volumes({dir.file("ct.dcm")});
  EXPECT_FALSE(volumes.empty());
  EXPECT_TRUE(volumes.add("ct_p0", Mask(spec.columns, spec.rows)));
  const std::string missing = [&] {
    try {
      volumes.write(dir.path().string());
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  EXPECT_NE(missing.find("no mask for page 1"), std::string::npos) << missing;
  Mask full(spec.columns, spec.rows);
  std::fill(full.pixels.begin(), full.pixels.end(), 1);
  EXPECT_TRUE(volumes.add("ct_p1", full));
  const auto written = volumes.write(dir.path().string());
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(fs::path(written[0]).filename(), "ct_seg.dcm");
  DcmSegmentation* loaded = nullptr;
  ASSERT_TRUE(DcmSegmentation::loadFile(written[0].c_str(), loaded).good());
  const std::unique_ptr<DcmSegmentation> seg(loaded);
  EXPECT_EQ(seg->getNumberOfFrames(), 2u);
}

TEST(VolumeMasks, TwoInputsWithOneStemAreRefused) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "a");
  test::write_dicom(dir.file("ct.dcm"), test::DicomSpec{});
  test::write_dicom((dir.path() / "a" / "ct.dcm").string(), test::DicomSpec{});
  EXPECT_THROW(VolumeMasks({dir.file("ct.dcm"), (dir.path() / "a" / "ct.dcm").string()}), std::invalid_argument);
}

}  // namespace
}  // namespace cryptounet::io
