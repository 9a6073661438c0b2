// Image files of any supported format (PNG, TIFF), chosen by the file's content when reading and by the extension
// when writing. Every tool loads and saves images through here.
#pragma once

#include "io/image.h"

#include <string>

namespace cryptounet::io {

enum class ImageFormat { Png, Tiff };

// The format of an existing file by its first bytes. Throws std::runtime_error naming the file (and what its
// extension claims) when it is neither a PNG nor a TIFF.
ImageFormat detect_image_format(const std::string& path);

// Whether a file name has an image extension the tools accept: .png, .tif, .tiff (any case).
bool has_image_extension(const std::string& path);

// Images in the file: the pages of a TIFF stack, 1 for a PNG.
int image_page_count(const std::string& path);

// Page `page` of the file (PNG: only page 0).
Image read_image(const std::string& path, int page = 0);

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
