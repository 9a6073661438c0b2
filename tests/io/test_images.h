// Deterministic test images for the file-format round trips.
#pragma once

#include "io/image.h"

namespace cryptounet::io::test {

// Every sample distinct-ish and spanning the whole range of its bit depth.
inline Image make_image(int w, int h, int channels, int depth) {
  Image im;
  im.width = w;
  im.height = h;
  im.channels = channels;
  im.bit_depth = depth;
  const unsigned modulus = depth == 8 ? 256 : 65536;
  for (std::size_t j = 0; j < im.pixel_count() * channels; ++j)
    im.samples.push_back(static_cast<std::uint16_t>((j * 7919 + 13) % modulus));
  return im;
}

}  // namespace cryptounet::io::test
