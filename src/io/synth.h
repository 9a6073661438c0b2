// Synthetic fluorescence-nuclei images with exact masks, SIMCEP-style (Lehmussola et al., IEEE TMI 2007):
// nuclei are perturbed ellipses of varied size, brightness and orientation, some touching or overlapping, with
// smooth texture; an uneven illumination field and background; optical blur; Poisson photon noise plus Gaussian
// read noise. Deterministic for a seed on every platform (own PRNG, explicit formulas).
#pragma once

#include "io/image.h"

#include <cstdint>
#include <string>

namespace cryptounet::io {

struct SynthParams {
  int width = 128;
  int height = 128;
  double min_radius = 4.0;   // semi-major axis range in pixels: nuclei ~8-26 px across
  double max_radius = 13.0;
  double nuclei_per_128x128_min = 6;  // count scales with the image area
  double nuclei_per_128x128_max = 16;
  double cluster_probability = 0.35;  // a new nucleus is placed touching/overlapping an earlier one
};

struct SynthSample {
  Image image;   // 8-bit gray
  Mask mask;     // union of nuclei (before blur: the exact object support)
  Image labels;  // 16-bit instance labels, 0 background, 1..K (a later nucleus covers an earlier one)
  int nuclei = 0;
};

// One image; `seed` fully determines it.
SynthSample synthesize(std::uint64_t seed, const SynthParams& params = {});

// Image `index` of a set generated with `seed` (independent of how many images the set has).
std::uint64_t synth_image_seed(std::uint64_t seed, int index);

// Writes `count` images as a DSB-layout folder dir/{images,masks,labels}/<id>.png, ids "synth_0000"...
void write_synthetic_dataset(const std::string& dir, int count, std::uint64_t seed, const SynthParams& params = {});

// FNV-1a 64 over the samples of an image (for determinism checks).
std::uint64_t image_hash(const Image& image);

}  // namespace cryptounet::io
