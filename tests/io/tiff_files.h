// The header fields of a TIFF page written with libtiff itself, for the io tests.
#pragma once

#include <tiffio.h>

#include <cstdint>

namespace cryptounet::io::test {

struct TiffPage {
  std::uint32_t width = 0, height = 0;
  std::uint16_t bits = 8, samples = 1;
  std::uint16_t photometric = PHOTOMETRIC_MINISBLACK;
  std::uint16_t planar = PLANARCONFIG_CONTIG;
};

inline void set_page_fields(TIFF* tif, const TiffPage& page) {
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, page.width);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, page.height);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, page.bits);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, page.samples);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, page.photometric);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, page.planar);
}

}  // namespace cryptounet::io::test
