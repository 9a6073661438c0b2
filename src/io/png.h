// PNG reading and writing with libpng. Malformed or unsupported files (or sides above 16384) throw
// std::runtime_error naming the file.
#pragma once

#include "io/image.h"

#include <string>

namespace cryptounet::io {

// Reads 8- or 16-bit gray, gray+alpha, RGB or RGBA (palette and low-bit gray are expanded to 8 bits).
Image read_png(const std::string& path);

// Writes 8-bit samples (bit_depth 8) or 16-bit samples (bit_depth 16), channels 1..4.
void write_png(const std::string& path, const Image& image);

// A mask file: pixel value > 127 (of 255; > 32767 of 65535) in the first channel is foreground.
Mask read_mask(const std::string& path);
// Writes a mask as 8-bit gray, 0 or 255.
void write_mask(const std::string& path, const Mask& mask);

}  // namespace cryptounet::io
