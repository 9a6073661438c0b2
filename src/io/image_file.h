// Image files of any supported format, chosen by the file's content when reading (PNG, TIFF, DICOM, NIfTI) and by
// the extension when writing (PNG, TIFF). Every tool loads and saves images through here. A file holds one image or
// a stack of them, its pages: the pages of a TIFF, the frames of a DICOM object, the slices of a NIfTI volume.
#pragma once

#include "io/image.h"

#include <string>

namespace cryptounet::io {

enum class ImageFormat { Png, Tiff, Dicom, Nifti };

// The format of an existing file by its first bytes (a NIfTI header also inside gzip). Throws std::runtime_error
// naming the file (and what its extension claims) when it is none of them.
ImageFormat detect_image_format(const std::string& path);

// Whether a file name has an image extension the tools accept in a folder: .png, .tif, .tiff, .dcm (any case).
bool has_image_extension(const std::string& path);

// The file name without folder and extension(s): "a/scan.nii.gz" -> "scan". Tools name a file's images after it:
// "<stem>" for a one-image file, "<stem>_p<k>" for page k of a stack.
std::string image_stem(const std::string& path);
std::string page_id(const std::string& stem, int page, int pages);

// A NIfTI volume's pages are its slices perpendicular to an axis (0, 1, 2), by default its axial axis
// (NiftiVolume::axial_axis).
inline constexpr int kAxialAxis = -1;

// Images in the file: the pages of a TIFF stack, the frames of a DICOM object, the slices of a NIfTI volume along
// `axis`, 1 for a PNG.
int image_page_count(const std::string& path, int axis = kAxialAxis);

// Page `page` of the file (PNG: only page 0). DICOM frames and NIfTI slices come as 16-bit gray, the whole
// object's range mapped onto 0..65535 (DicomFrames::frame_image, NiftiVolume::slice_image).
Image read_image(const std::string& path, int page = 0, int axis = kAxialAxis);

// A mask: first-channel value above half the range (> 127 of 255; > 32767 of 65535) is foreground.
Mask read_mask(const std::string& path, int page = 0);
// Instance labels from a one-channel 8- or 16-bit image.
LabelImage read_labels(const std::string& path, int page = 0);

// Format by extension: .tif/.tiff TIFF, .png PNG; anything else throws std::invalid_argument.
void write_image(const std::string& path, const Image& image);
// A mask as 8-bit gray, 0 or 255.
void write_mask(const std::string& path, const Mask& mask);
// Labels as 16-bit gray.
void write_labels(const std::string& path, const LabelImage& labels);

}  // namespace cryptounet::io
