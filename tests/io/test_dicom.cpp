#include "io/dicom.h"
#include "io/png.h"
#include "dicom_files.h"
#include "temp_dir.h"

#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/dcmseg/segutils.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace cryptounet::io {
namespace {

using test::DicomSpec;
using test::dicom_stored;
using test::write_dicom;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(Dicom, SingleFrameSigned12BitWithRescale) {
  test::TempDir dir;
  const DicomSpec spec;
  write_dicom(dir.file("ct.dcm"), spec);
  EXPECT_TRUE(is_dicom_file(dir.file("ct.dcm")));
  const DicomFrames dicom = DicomFrames::read(dir.file("ct.dcm"));
  ASSERT_EQ(dicom.frame_count(), 1);
  ASSERT_EQ(dicom.width(), spec.columns);
  ASSERT_EQ(dicom.height(), spec.rows);
  const Plane plane = dicom.frame(0);
  for (int y = 0; y < spec.rows; ++y)
    for (int x = 0; x < spec.columns; ++x) EXPECT_DOUBLE_EQ(plane.at(y, x), dicom_stored(spec, 0, y, x) * 2.0 - 1024);
  EXPECT_LT(plane.at(0, 0), -1024);  // the negative stored value kept its sign
  const Image image = dicom.frame_image(0);
  EXPECT_EQ(image.bit_depth, 16);
  EXPECT_EQ(image.at(0, 0, 0), 0);
  EXPECT_EQ(image.at(spec.rows - 1, spec.columns - 1, 0), 65535);
  EXPECT_THROW(dicom.frame(1), std::out_of_range);
}

TEST(Dicom, MultiFrame8BitMonochrome1IsInverted) {
  test::TempDir dir;
  DicomSpec spec;
  spec.frames = 3;
  spec.bits_allocated = spec.bits_stored = 8;
  spec.is_signed = false;
  spec.photometric = "MONOCHROME1";
  spec.slope = "1";
  spec.intercept = "0";
  spec.syntax = EXS_LittleEndianImplicit;
  write_dicom(dir.file("stack.dcm"), spec);
  const DicomFrames dicom = DicomFrames::read(dir.file("stack.dcm"));
  ASSERT_EQ(dicom.frame_count(), 3);
  EXPECT_DOUBLE_EQ(dicom.frame(2).at(4, 3), dicom_stored(spec, 2, 4, 3));
  // One window for every frame: the object's lowest value (frame 0, pixel 0) is white, its highest black.
  EXPECT_EQ(dicom.frame_image(0).at(0, 0, 0), 65535);
  EXPECT_EQ(dicom.frame_image(2).at(spec.rows - 1, spec.columns - 1, 0), 0);
}

TEST(Dicom, EnhancedMultiFrameRescaleFromFunctionalGroups) {
  test::TempDir dir;
  DicomSpec spec;
  spec.frames = 2;
  spec.enhanced = true;
  spec.slope = "0.5";
  spec.intercept = "3";
  write_dicom(dir.file("mr.dcm"), spec);
  const DicomFrames dicom = DicomFrames::read(dir.file("mr.dcm"));
  ASSERT_EQ(dicom.frame_count(), 2);
  EXPECT_DOUBLE_EQ(dicom.frame(1).at(2, 1), dicom_stored(spec, 1, 2, 1) * 0.5 + 3);
}

TEST(Dicom, RefusesWhatItCannotRead) {
  test::TempDir dir;
  Image png;
  png.width = png.height = 2;
  png.channels = 1;
  png.samples = {0, 1, 2, 3};
  write_png(dir.file("fake.dcm"), png);
  EXPECT_FALSE(is_dicom_file(dir.file("fake.dcm")));
  const std::string not_dicom = error_of([&] { DicomFrames::read(dir.file("fake.dcm")); });
  EXPECT_NE(not_dicom.find("fake.dcm"), std::string::npos) << not_dicom;
  EXPECT_NE(not_dicom.find("not a DICOM file"), std::string::npos) << not_dicom;

  DicomSpec rgb;
  rgb.photometric = "RGB";
  write_dicom(dir.file("rgb.dcm"), rgb);
  EXPECT_NE(error_of([&] { DicomFrames::read(dir.file("rgb.dcm")); }).find("RGB"), std::string::npos);
}

// Frames × rows × columns is judged from the header, before the (here much shorter) pixel data is touched.
TEST(Dicom, RefusesOversizeFramesBeforeReadingPixels) {
  test::TempDir dir;
  write_dicom(dir.file("small.dcm"), DicomSpec{});
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(dir.file("small.dcm").c_str()).good());
  DcmDataset* d = file.getDataset();
  ASSERT_TRUE(d->putAndInsertUint16(DCM_Rows, 16384).good());
  ASSERT_TRUE(d->putAndInsertUint16(DCM_Columns, 16384).good());
  ASSERT_TRUE(d->putAndInsertString(DCM_NumberOfFrames, "2").good());
  ASSERT_TRUE(file.saveFile(dir.file("huge.dcm").c_str(), EXS_LittleEndianExplicit).good());
  const std::string huge = error_of([&] { DicomFrames::read(dir.file("huge.dcm")); });
  EXPECT_NE(huge.find("exceed the limits"), std::string::npos) << huge;

  ASSERT_TRUE(d->putAndInsertUint16(DCM_Rows, 600).good());
  ASSERT_TRUE(d->putAndInsertUint16(DCM_Columns, 600).good());
  ASSERT_TRUE(file.saveFile(dir.file("short.dcm").c_str(), EXS_LittleEndianExplicit).good());
  const std::string short_data = error_of([&] { DicomFrames::read(dir.file("short.dcm")); });
  EXPECT_NE(short_data.find("pixel data holds 60 bytes"), std::string::npos) << short_data;
}

std::string attribute(DcmItem& item, const DcmTagKey& tag) {
  OFString value;
  item.findAndGetOFStringArray(tag, value);
  return value.c_str();
}

std::vector<Mask> diagonal_masks(const DicomSpec& spec) {
  std::vector<Mask> masks;
  for (int f = 0; f < spec.frames; ++f) {
    Mask mask(spec.columns, spec.rows);
    for (int y = 0; y < spec.rows; ++y)
      for (int x = 0; x < spec.columns; ++x) mask.at(y, x) = (x + y + f) % 3 == 0;
    masks.push_back(std::move(mask));
  }
  return masks;
}

// The standard's encoding of binary frames: one bit stream, least significant bit first, no padding between frames.
void expect_bit_stream(DcmDataset& seg, const DicomSpec& spec, const std::vector<Mask>& masks) {
  const Uint8* bits = nullptr;
  unsigned long bytes = 0;
  ASSERT_TRUE(seg.findAndGetUint8Array(DCM_PixelData, bits, &bytes).good());
  const std::size_t frame_pixels = static_cast<std::size_t>(spec.rows) * spec.columns;
  ASSERT_EQ(bytes, (frame_pixels * spec.frames + 7) / 8 + ((frame_pixels * spec.frames + 7) / 8) % 2);
  for (int f = 0; f < spec.frames; ++f)
    for (std::size_t j = 0; j < frame_pixels; ++j) {
      const std::size_t bit = f * frame_pixels + j;
      EXPECT_EQ((bits[bit / 8] >> (bit % 8)) & 1, masks[f].pixels[j]) << "frame " << f << " pixel " << j;
    }
}

// The segmentation of an enhanced multi-frame object, read back with DCMTK's own Segmentation reader and as a
// plain dataset: its frames, pixels, segment and every reference to the source. Frames of 8 columns: DCMTK 3.6.7
// reads (and writes) a binary frame whose pixel count is not a multiple of 8 shifted; the bit stream check below
// holds for any size (SegmentationOfOddSizedFrames).
TEST(Dicom, SegmentationReferencesItsSource) {
  test::TempDir dir;
  DicomSpec spec;
  spec.frames = 3;
  spec.columns = 8;
  spec.enhanced = true;
  write_dicom(dir.file("mr.dcm"), spec);
  const std::vector<Mask> masks = diagonal_masks(spec);
  DicomFrames::read(dir.file("mr.dcm")).write_segmentation(dir.file("seg.dcm"), masks, "Nucleus");

  DcmSegmentation* loaded = nullptr;
  ASSERT_TRUE(DcmSegmentation::loadFile(dir.file("seg.dcm").c_str(), loaded).good());
  const std::unique_ptr<DcmSegmentation> seg(loaded);
  EXPECT_EQ(seg->getSegmentationType(), DcmSegTypes::ST_BINARY);
  ASSERT_EQ(seg->getNumberOfSegments(), 1u);
  OFString label;
  seg->getSegment(1)->getSegmentLabel(label);
  EXPECT_EQ(label, "Nucleus");
  ASSERT_EQ(seg->getNumberOfFrames(), 3u);
  for (int f = 0; f < spec.frames; ++f) {
    const std::unique_ptr<DcmIODTypes::Frame> frame(DcmSegUtils::unpackBinaryFrame(
        seg->getFrame(f), static_cast<Uint16>(spec.rows), static_cast<Uint16>(spec.columns)));
    ASSERT_NE(frame, nullptr);
    ASSERT_EQ(frame->length, masks[f].pixels.size());
    for (std::size_t j = 0; j < frame->length; ++j)
      EXPECT_EQ(frame->pixData[j] != 0, masks[f].pixels[j] == 1) << "frame " << f << " pixel " << j;
  }

  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(dir.file("seg.dcm").c_str()).good());
  DcmDataset& d = *file.getDataset();
  EXPECT_EQ(attribute(d, DCM_SOPClassUID), UID_SegmentationStorage);
  EXPECT_EQ(attribute(d, DCM_StudyInstanceUID), test::kStudyUid);
  EXPECT_EQ(attribute(d, DCM_PatientID), "P-0042");
  EXPECT_EQ(attribute(d, DCM_PatientName), "Doe^Jane");
  EXPECT_EQ(attribute(d, DCM_FrameOfReferenceUID), test::kFrameOfReferenceUid);
  EXPECT_NE(attribute(d, DCM_SeriesInstanceUID), test::kSeriesUid);  // a series of its own
  DcmItem* series = nullptr;
  ASSERT_TRUE(d.findAndGetSequenceItem(DCM_ReferencedSeriesSequence, series, 0).good());
  EXPECT_EQ(attribute(*series, DCM_SeriesInstanceUID), test::kSeriesUid);
  DcmItem* instance = nullptr;
  ASSERT_TRUE(series->findAndGetSequenceItem(DCM_ReferencedInstanceSequence, instance, 0).good());
  EXPECT_EQ(attribute(*instance, DCM_ReferencedSOPInstanceUID), test::kInstanceUid);
  expect_bit_stream(d, spec, masks);
  for (int f = 0; f < spec.frames; ++f) {
    DcmItem* groups = nullptr;
    DcmItem* derivation = nullptr;
    DcmItem* source = nullptr;
    DcmItem* position = nullptr;
    ASSERT_TRUE(d.findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, groups, f).good());
    ASSERT_TRUE(groups->findAndGetSequenceItem(DCM_DerivationImageSequence, derivation, 0).good());
    ASSERT_TRUE(derivation->findAndGetSequenceItem(DCM_SourceImageSequence, source, 0).good());
    EXPECT_EQ(attribute(*source, DCM_ReferencedSOPInstanceUID), test::kInstanceUid);
    EXPECT_EQ(attribute(*source, DCM_ReferencedFrameNumber), std::to_string(f + 1));
    ASSERT_TRUE(groups->findAndGetSequenceItem(DCM_PlanePositionSequence, position, 0).good());
    EXPECT_EQ(attribute(*position, DCM_ImagePositionPatient), "-10\\20\\" + std::to_string(3 * f));
  }
}

TEST(Dicom, SegmentationOfOddSizedFrames) {
  test::TempDir dir;
  DicomSpec spec;
  spec.frames = 3;  // 6 x 5: frames start in the middle of a byte
  write_dicom(dir.file("ct.dcm"), spec);
  const std::vector<Mask> masks = diagonal_masks(spec);
  DicomFrames::read(dir.file("ct.dcm")).write_segmentation(dir.file("seg.dcm"), masks, "Nucleus");
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(dir.file("seg.dcm").c_str()).good());
  expect_bit_stream(*file.getDataset(), spec, masks);
}

TEST(Dicom, SegmentationInAFrameOfReferenceNeedsTheSourceGeometry) {
  test::TempDir dir;
  const DicomSpec spec;
  write_dicom(dir.file("ct.dcm"), spec);
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(dir.file("ct.dcm").c_str()).good());
  file.getDataset()->findAndDeleteElement(DCM_PixelSpacing);
  ASSERT_TRUE(file.saveFile(dir.file("flat.dcm").c_str(), EXS_LittleEndianExplicit).good());
  const std::string error = error_of(
      [&] { DicomFrames::read(dir.file("flat.dcm")).write_segmentation(dir.file("seg.dcm"), diagonal_masks(spec), "N"); });
  EXPECT_NE(error.find("no Pixel Spacing"), std::string::npos) << error;
}

// DCMTK's command-line dump (package dcmtk) reads the object too and sees the same references.
TEST(Dicom, SegmentationReadsWithDcmdump) {
  test::TempDir dir;
  const DicomSpec spec;
  write_dicom(dir.file("ct.dcm"), spec);
  DicomFrames::read(dir.file("ct.dcm")).write_segmentation(dir.file("seg.dcm"), diagonal_masks(spec), "Nucleus");
  const std::string command = "dcmdump -q +P 0008,0016 +P 0020,000d +P 0028,0008 +P 0008,1155 +P 0062,0005 " +
                              dir.file("seg.dcm") + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  ASSERT_NE(pipe, nullptr);
  std::string dump;
  char chunk[512];
  while (const std::size_t got = std::fread(chunk, 1, sizeof chunk, pipe.get())) dump.append(chunk, got);
  ASSERT_EQ(pclose(pipe.release()), 0) << "dcmdump (package dcmtk) failed: " << dump;
  EXPECT_NE(dump.find("=SegmentationStorage"), std::string::npos) << dump;
  EXPECT_NE(dump.find(std::string("[") + test::kStudyUid + "]"), std::string::npos) << dump;
  EXPECT_NE(dump.find(std::string("[") + test::kInstanceUid + "]"), std::string::npos) << dump;
  EXPECT_NE(dump.find("[1]"), std::string::npos) << dump;  // one frame
  EXPECT_NE(dump.find("[Nucleus]"), std::string::npos) << dump;
}

}  // namespace
}  // namespace cryptounet::io
