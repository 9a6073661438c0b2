#include "io/synth.h"

#include "io/image_file.h"
#include "io/png.h"
#include "io/prng.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <stdexcept>
#include <vector>

namespace cryptounet::io {

namespace {

struct Nucleus {
  double cx, cy;          // center
  double rx, ry;          // semi-axes
  double angle;           // orientation
  double brightness;      // peak intensity before illumination
  double harmonic[3][2];  // boundary perturbation r(t) = 1 + sum_k (c_k cos kt + s_k sin kt), k = 2..4
};

Nucleus random_nucleus(Xoshiro256& rng, const SynthParams& p, const std::vector<Nucleus>& placed) {
  Nucleus n;
  // Radii: more small than large nuclei (uniform in the square root).
  const double u = rng.uniform();
  n.rx = p.min_radius + (p.max_radius - p.min_radius) * u * u;
  n.ry = n.rx * rng.uniform(0.6, 1.0);
  n.angle = rng.uniform(0.0, std::numbers::pi);
  n.brightness = rng.uniform(0.35, 1.0);
  for (auto& h : n.harmonic) {
    h[0] = rng.uniform(-0.06, 0.06);
    h[1] = rng.uniform(-0.06, 0.06);
  }
  if (!placed.empty() && rng.uniform() < p.cluster_probability) {
    // Touching or overlapping: the centers are 0.7-1.1 times the sum of the radii apart.
    const Nucleus& other = placed[rng.integer(0, static_cast<int>(placed.size()) - 1)];
    const double direction = rng.uniform(0.0, 2.0 * std::numbers::pi);
    const double distance = (other.rx + n.rx) * rng.uniform(0.7, 1.1) * 0.85;
    n.cx = other.cx + distance * std::cos(direction);
    n.cy = other.cy + distance * std::sin(direction);
  } else {
    n.cx = rng.uniform(0.0, p.width);
    n.cy = rng.uniform(0.0, p.height);
  }
  return n;
}

// Normalized radius of (x, y) in the nucleus frame: < 1 inside.
double radial(const Nucleus& n, double x, double y) {
  const double dx = x - n.cx, dy = y - n.cy;
  const double c = std::cos(n.angle), s = std::sin(n.angle);
  const double u = (c * dx + s * dy) / n.rx, v = (-s * dx + c * dy) / n.ry;
  const double r = std::sqrt(u * u + v * v);
  if (r == 0) return 0;
  const double t = std::atan2(v, u);
  double boundary = 1;
  for (int k = 0; k < 3; ++k)
    boundary += n.harmonic[k][0] * std::cos((k + 2) * t) + n.harmonic[k][1] * std::sin((k + 2) * t);
  return r / boundary;
}

// Smooth value noise: a random lattice every `cell` pixels, bilinear with smoothstep weights.
Plane value_noise(Xoshiro256& rng, int width, int height, double cell) {
  const int gw = static_cast<int>(width / cell) + 2, gh = static_cast<int>(height / cell) + 2;
  std::vector<double> lattice(static_cast<std::size_t>(gw) * gh);
  for (double& v : lattice) v = rng.uniform(-1.0, 1.0);
  Plane noise(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const double fx = x / cell, fy = y / cell;
      const int ix = static_cast<int>(fx), iy = static_cast<int>(fy);
      double tx = fx - ix, ty = fy - iy;
      tx = tx * tx * (3 - 2 * tx);
      ty = ty * ty * (3 - 2 * ty);
      auto at = [&](int gx, int gy) { return lattice[static_cast<std::size_t>(gy) * gw + gx]; };
      const double top = at(ix, iy) * (1 - tx) + at(ix + 1, iy) * tx;
      const double bottom = at(ix, iy + 1) * (1 - tx) + at(ix + 1, iy + 1) * tx;
      noise.at(y, x) = top * (1 - ty) + bottom * ty;
    }
  return noise;
}

// Separable Gaussian blur with edge clamping.
Plane gaussian_blur(const Plane& in, double sigma) {
  const int radius = static_cast<int>(std::ceil(3 * sigma));
  std::vector<double> kernel(2 * radius + 1);
  double sum = 0;
  for (int k = -radius; k <= radius; ++k) sum += kernel[k + radius] = std::exp(-0.5 * k * k / (sigma * sigma));
  for (double& k : kernel) k /= sum;
  Plane tmp(in.width, in.height), out(in.width, in.height);
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x) {
      double acc = 0;
      for (int k = -radius; k <= radius; ++k) acc += kernel[k + radius] * in.at(y, std::clamp(x + k, 0, in.width - 1));
      tmp.at(y, x) = acc;
    }
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x) {
      double acc = 0;
      for (int k = -radius; k <= radius; ++k)
        acc += kernel[k + radius] * tmp.at(std::clamp(y + k, 0, in.height - 1), x);
      out.at(y, x) = acc;
    }
  return out;
}

// Poisson(lambda): Knuth's product method for small lambda, the normal approximation above 30.
int poisson(Xoshiro256& rng, double lambda) {
  if (lambda <= 0) return 0;
  if (lambda > 30) return std::max(0, static_cast<int>(std::lround(lambda + std::sqrt(lambda) * rng.normal())));
  const double limit = std::exp(-lambda);
  int k = 0;
  for (double product = rng.uniform(); product > limit; product *= rng.uniform()) ++k;
  return k;
}

}  // namespace

SynthSample synthesize(std::uint64_t seed, const SynthParams& p) {
  if (p.width < 8 || p.height < 8 || p.width > 8192 || p.height > 8192)
    throw std::invalid_argument("synthesize: image size must be within 8..8192");
  Xoshiro256 rng(seed);
  const double area_factor = static_cast<double>(p.width) * p.height / (128.0 * 128.0);
  const int count = std::max(
      1, static_cast<int>(std::lround(rng.uniform(p.nuclei_per_128x128_min, p.nuclei_per_128x128_max) * area_factor)));
  std::vector<Nucleus> nuclei;
  for (int i = 0; i < count; ++i) nuclei.push_back(random_nucleus(rng, p, nuclei));

  SynthSample out;
  out.nuclei = count;
  out.mask = Mask(p.width, p.height);
  out.labels.width = p.width;
  out.labels.height = p.height;
  out.labels.channels = 1;
  out.labels.bit_depth = 16;
  out.labels.samples.assign(static_cast<std::size_t>(p.width) * p.height, 0);

  // Nuclear texture (chromatin): fine value noise modulating each nucleus' intensity.
  const Plane texture = value_noise(rng, p.width, p.height, rng.uniform(2.5, 4.5));
  Plane signal(p.width, p.height);
  for (int i = 0; i < count; ++i) {
    const Nucleus& n = nuclei[i];
    const double reach = 1.3 * n.rx + 2;
    const int x0 = std::max(0, static_cast<int>(n.cx - reach)), x1 = std::min(p.width - 1, static_cast<int>(n.cx + reach));
    const int y0 = std::max(0, static_cast<int>(n.cy - reach)), y1 = std::min(p.height - 1, static_cast<int>(n.cy + reach));
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const double r = radial(n, x + 0.5, y + 0.5);  // pixel centers
        if (r >= 1) continue;
        out.mask.at(y, x) = 1;
        out.labels.samples[static_cast<std::size_t>(y) * p.width + x] = static_cast<std::uint16_t>(i + 1);
        // Dome profile (brighter center) with texture; overlapping nuclei add up, as fluorescence does.
        const double profile = 0.75 + 0.25 * (1 - r * r);
        signal.at(y, x) += n.brightness * profile * (1 + 0.22 * texture.at(y, x));
      }
  }

  // Optics: blur; uneven illumination (smooth multiplicative field) and a smooth additive background.
  const Plane blurred = gaussian_blur(signal, rng.uniform(0.7, 1.4));
  const Plane illumination = value_noise(rng, p.width, p.height, rng.uniform(60.0, 120.0));
  const Plane background_shape = value_noise(rng, p.width, p.height, rng.uniform(40.0, 90.0));
  const double illumination_strength = rng.uniform(0.1, 0.3);
  const double background_level = rng.uniform(0.02, 0.08), background_variation = rng.uniform(0.0, 0.04);
  const double photons = rng.uniform(60.0, 400.0);  // photons at intensity 1: lower = noisier
  const double read_noise = rng.uniform(0.004, 0.015);

  out.image.width = p.width;
  out.image.height = p.height;
  out.image.channels = 1;
  out.image.bit_depth = 8;
  out.image.samples.resize(static_cast<std::size_t>(p.width) * p.height);
  for (int y = 0; y < p.height; ++y)
    for (int x = 0; x < p.width; ++x) {
      const double light = 1 + illumination_strength * illumination.at(y, x);
      const double intensity = std::max(
          0.0, light * blurred.at(y, x) + background_level + background_variation * background_shape.at(y, x));
      const double noisy = poisson(rng, intensity * photons) / photons + read_noise * rng.normal();
      out.image.samples[static_cast<std::size_t>(y) * p.width + x] =
          static_cast<std::uint16_t>(std::clamp(std::lround(noisy * 255.0), 0L, 255L));
    }
  return out;
}

std::uint64_t synth_image_seed(std::uint64_t seed, int index) {
  std::uint64_t state = seed ^ (0xD1B54A32D192ED03ULL * static_cast<std::uint64_t>(index + 1));
  return splitmix64(state);
}

void write_synthetic_dataset(const std::string& dir, int count, std::uint64_t seed, const SynthParams& params) {
  if (count <= 0) throw std::invalid_argument("write_synthetic_dataset: count must be positive");
  namespace fs = std::filesystem;
  for (const char* sub : {"images", "masks", "labels"}) fs::create_directories(fs::path(dir) / sub);
  for (int i = 0; i < count; ++i) {
    const SynthSample s = synthesize(synth_image_seed(seed, i), params);
    char id[32];
    std::snprintf(id, sizeof id, "synth_%04d.png", i);
    write_png((fs::path(dir) / "images" / id).string(), s.image);
    write_mask((fs::path(dir) / "masks" / id).string(), s.mask);
    write_png((fs::path(dir) / "labels" / id).string(), s.labels);
  }
}

std::uint64_t image_hash(const Image& image) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  auto mix = [&h](std::uint64_t v) {
    h ^= v;
    h *= 0x100000001B3ULL;
  };
  mix(static_cast<std::uint64_t>(image.width));
  mix(static_cast<std::uint64_t>(image.height));
  mix(static_cast<std::uint64_t>(image.channels));
  for (std::uint16_t s : image.samples) mix(s);
  return h;
}

}  // namespace cryptounet::io
