// PNG reading and writing with libpng. Malformed or unsupported files (or sides above 16384) throw
// std::runtime_error naming the file. Tools go through io/image_file.h, which also reads TIFF.
#pragma once

#include "io/image.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cryptounet::io {

// Reads 8- or 16-bit gray, gray+alpha, RGB or RGBA (palette and low-bit gray are expanded to 8 bits).
Image read_png(const std::string& path);

// Writes 8-bit samples (bit_depth 8) or 16-bit samples (bit_depth 16), channels 1..4.
void write_png(const std::string& path, const Image& image);

// The same PNG file, in memory (for embedding, e.g. as a data URI).
std::vector<std::uint8_t> encode_png(const Image& image);

}  // namespace cryptounet::io
