// TIFF reading and writing with libtiff: microscope stacks in, masks and label images out (Fiji and napari open
// them). Malformed or unsupported files (or sides above 16384) throw std::runtime_error naming the file.
#pragma once

#include "io/image.h"

#include <string>
#include <vector>

namespace cryptounet::io {

// Pages (image file directories) in the file; a multi-page stack holds one image per page. An OME-TIFF (OME-XML in
// the first page's ImageDescription) reads as its first series only: SizeZ x SizeC x SizeT pages, page
// z + SizeZ * (c + SizeC * t) being plane (z, c, t) wherever its TiffData puts it; other series, and series that
// continue in other files, are not read.
int tiff_page_count(const std::string& path);

// Page `page` (0-based; of an OME-TIFF's first series, as above): 8- or 16-bit unsigned gray (min-is-black or min-is-white, the latter inverted), gray+alpha,
// RGB or RGBA, chunky or planar, stripped or tiled; palette, float and other bit depths are rejected.
Image read_tiff(const std::string& path, int page = 0);

// One page per image (8- or 16-bit, 1 to 4 channels), deflate-compressed.
void write_tiff(const std::string& path, const std::vector<Image>& pages);

}  // namespace cryptounet::io
