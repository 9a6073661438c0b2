// DICOM files written with DCMTK itself, as a scanner or PACS would deliver them, for the io tests.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cryptounet::io::test {

struct DicomSpec {
  int rows = 6, columns = 5, frames = 1;
  int bits_allocated = 16, bits_stored = 12;
  bool is_signed = true;
  std::string photometric = "MONOCHROME2";
  std::string slope = "2", intercept = "-1024";
  bool enhanced = false;  // geometry and rescale in functional groups (enhanced multi-frame) instead of top level
  E_TransferSyntax syntax = EXS_LittleEndianExplicit;
};

constexpr const char* kStudyUid = "1.2.826.0.1.3680043.8.498.1";
constexpr const char* kSeriesUid = "1.2.826.0.1.3680043.8.498.2";
constexpr const char* kInstanceUid = "1.2.826.0.1.3680043.8.498.3";
constexpr const char* kFrameOfReferenceUid = "1.2.826.0.1.3680043.8.498.4";

// The stored value of pixel (y, x) of frame f: distinct everywhere, inside the stored bits and the sign.
inline std::int32_t dicom_stored(const DicomSpec& s, int f, int y, int x) {
  const std::int32_t v = f * 37 + y * 7 + x * 3;
  return s.is_signed ? v - 20 : v;
}

inline void write_dicom(const std::string& path, const DicomSpec& s) {
  DcmFileFormat file;
  DcmDataset* d = file.getDataset();
  const auto put = [&](const DcmTagKey& tag, const std::string& value) {
    ASSERT_TRUE(d->putAndInsertString(tag, value.c_str()).good());
  };
  put(DCM_SOPClassUID, s.enhanced ? UID_EnhancedMRImageStorage : UID_CTImageStorage);
  put(DCM_SOPInstanceUID, kInstanceUid);
  put(DCM_StudyInstanceUID, kStudyUid);
  put(DCM_SeriesInstanceUID, kSeriesUid);
  put(DCM_FrameOfReferenceUID, kFrameOfReferenceUid);
  put(DCM_PatientName, "Doe^Jane");
  put(DCM_PatientID, "P-0042");
  put(DCM_StudyID, "7");
  put(DCM_Modality, s.enhanced ? "MR" : "CT");
  put(DCM_SeriesNumber, "3");
  put(DCM_InstanceNumber, "1");
  put(DCM_PhotometricInterpretation, s.photometric);
  ASSERT_TRUE(d->putAndInsertUint16(DCM_SamplesPerPixel, 1).good());
  ASSERT_TRUE(d->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(s.rows)).good());
  ASSERT_TRUE(d->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(s.columns)).good());
  ASSERT_TRUE(d->putAndInsertUint16(DCM_BitsAllocated, static_cast<Uint16>(s.bits_allocated)).good());
  ASSERT_TRUE(d->putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(s.bits_stored)).good());
  ASSERT_TRUE(d->putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(s.bits_stored - 1)).good());
  ASSERT_TRUE(d->putAndInsertUint16(DCM_PixelRepresentation, s.is_signed ? 1 : 0).good());
  if (s.frames > 1 || s.enhanced) put(DCM_NumberOfFrames, std::to_string(s.frames));
  if (s.enhanced) {
    DcmItem* shared = nullptr;
    ASSERT_TRUE(d->findOrCreateSequenceItem(DCM_SharedFunctionalGroupsSequence, shared).good());
    DcmItem* item = nullptr;
    ASSERT_TRUE(shared->findOrCreateSequenceItem(DCM_PixelMeasuresSequence, item).good());
    item->putAndInsertString(DCM_PixelSpacing, "0.5\\0.25");
    item->putAndInsertString(DCM_SliceThickness, "3");
    ASSERT_TRUE(shared->findOrCreateSequenceItem(DCM_PlaneOrientationSequence, item).good());
    item->putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
    ASSERT_TRUE(shared->findOrCreateSequenceItem(DCM_PixelValueTransformationSequence, item).good());
    item->putAndInsertString(DCM_RescaleSlope, s.slope.c_str());
    item->putAndInsertString(DCM_RescaleIntercept, s.intercept.c_str());
    for (int f = 0; f < s.frames; ++f) {
      DcmItem* per_frame = nullptr;
      ASSERT_TRUE(d->findOrCreateSequenceItem(DCM_PerFrameFunctionalGroupsSequence, per_frame, f).good());
      ASSERT_TRUE(per_frame->findOrCreateSequenceItem(DCM_PlanePositionSequence, item).good());
      item->putAndInsertString(DCM_ImagePositionPatient, ("-10\\20\\" + std::to_string(3 * f)).c_str());
    }
  } else {
    put(DCM_PixelSpacing, "0.5\\0.25");
    put(DCM_SliceThickness, "3");
    put(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
    put(DCM_ImagePositionPatient, "-10\\20\\0");
    put(DCM_RescaleSlope, s.slope);
    put(DCM_RescaleIntercept, s.intercept);
  }
  const std::size_t count = static_cast<std::size_t>(s.frames) * s.rows * s.columns;
  if (s.bits_allocated == 8) {
    std::vector<Uint8> pixels(count);
    for (int f = 0, j = 0; f < s.frames; ++f)
      for (int y = 0; y < s.rows; ++y)
        for (int x = 0; x < s.columns; ++x) pixels[j++] = static_cast<Uint8>(dicom_stored(s, f, y, x));
    ASSERT_TRUE(d->putAndInsertUint8Array(DCM_PixelData, pixels.data(), pixels.size()).good());
  } else {
    std::vector<Uint16> pixels(count);
    for (int f = 0, j = 0; f < s.frames; ++f)
      for (int y = 0; y < s.rows; ++y)
        for (int x = 0; x < s.columns; ++x) pixels[j++] = static_cast<Uint16>(dicom_stored(s, f, y, x));
    ASSERT_TRUE(d->putAndInsertUint16Array(DCM_PixelData, pixels.data(), pixels.size()).good());
  }
  ASSERT_TRUE(file.saveFile(path.c_str(), s.syntax).good());
}

}  // namespace cryptounet::io::test
