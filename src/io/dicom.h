// DICOM images with DCMTK: a grayscale object (single- or multi-frame; CT, MR, microscopy, ...) is read frame by
// frame, and its segmentation is written back as a DICOM Segmentation object (binary, one segment, one frame per
// source frame) that references the source instance, series, study, patient and frame of reference, so a PACS or
// viewer shows it over the source.
#pragma once

#include "io/image.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cryptounet::io {

// Whether the file is a DICOM Part 10 file: a 128-byte preamble followed by "DICM".
bool is_dicom_file(const std::string& path);

class DicomFrames {
 public:
  // Refused before any pixel buffer is allocated: frames × rows × columns above kMaxPixels (1 GiB as stored values,
  // held frame by frame), a side above kMaxSide (a frame of 256 MiB; larger slides come tiled, one tile a frame).
  static constexpr std::int64_t kMaxPixels = std::int64_t{1} << 28;
  static constexpr int kMaxSide = 8192;
  static constexpr int kMaxFrames = 65535;  // frame numbers in references are 16-bit

  // A Part 10 file holding one-sample grayscale pixels: MONOCHROME1 or MONOCHROME2, 8 or 16 bits allocated,
  // unsigned or signed, uncompressed or RLE/JPEG/JPEG-LS compressed. Throws std::runtime_error naming the file when
  // it is not DICOM, is not such an image (colour, palette, float pixels), or exceeds the limits above.
  static DicomFrames read(const std::string& path);

  int frame_count() const;
  int width() const;   // Columns
  int height() const;  // Rows

  // Frame `index` (0-based) in modality values: stored values with Rescale Slope and Intercept applied (per frame
  // where an enhanced object gives them per frame).
  Plane frame(int index) const;
  // The same frame as a 16-bit gray image, brighter meaning higher: the object's whole modality range mapped onto
  // 0..65535 (one window for every frame, so frames stay comparable), MONOCHROME1 inverted.
  Image frame_image(int index) const;

  // Writes a binary DICOM Segmentation: one segment labelled `label` (a cell nucleus by its SNOMED CT code), frame k
  // the mask of source frame k, derived from and referencing this object, in a new series of the source's study,
  // with the source's frame of reference and, when it has one, its plane geometry (Pixel Spacing, Image Orientation
  // and Position (Patient), at the top level or in functional groups), without which it throws.
  void write_segmentation(const std::string& path, const std::vector<Mask>& masks, const std::string& label) const;

 private:
  struct Data;
  std::shared_ptr<const Data> data_;
};

}  // namespace cryptounet::io
