#include "nn/instances.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <queue>
#include <stdexcept>
#include <tuple>

namespace cryptounet::nn {

namespace {

// Visits the in-image neighbours of pixel (y, x).
template <class F>
void for_each_neighbour(int y, int x, int width, int height, Connectivity c, F&& visit) {
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx) {
      if ((dy == 0 && dx == 0) || (c == Connectivity::Four && dy != 0 && dx != 0)) continue;
      const int ny = y + dy, nx = x + dx;
      if (ny >= 0 && ny < height && nx >= 0 && nx < width) visit(static_cast<std::size_t>(ny) * width + nx);
    }
}

// Squared distance transform of a sampled function in one dimension (Felzenszwalb and Huttenlocher, 2012):
// d[q] = min_p (q - p)^2 + f[p], in O(n) with the lower envelope of parabolas.
void squared_distance_1d(const std::vector<double>& f, std::vector<double>& d, std::vector<int>& v,
                         std::vector<double>& z) {
  const int n = static_cast<int>(f.size());
  int k = 0;
  v[0] = 0;
  z[0] = -std::numeric_limits<double>::infinity();
  z[1] = std::numeric_limits<double>::infinity();
  auto intersection = [&](int q, int p) {
    return ((f[q] + double(q) * q) - (f[p] + double(p) * p)) / (2.0 * (q - p));
  };
  for (int q = 1; q < n; ++q) {
    double s = intersection(q, v[k]);
    while (s <= z[k]) s = intersection(q, v[--k]);  // z[0] = -inf stops it
    ++k;
    v[k] = q;
    z[k] = s;
    z[k + 1] = std::numeric_limits<double>::infinity();
  }
  k = 0;
  for (int q = 0; q < n; ++q) {
    while (z[k + 1] < q) ++k;
    d[q] = double(q - v[k]) * (q - v[k]) + f[v[k]];
  }
}

// Connected components of the foreground, labelled 1..K in raster order (0 background).
std::vector<std::uint32_t> connected_components(const io::Mask& mask, Connectivity c) {
  std::vector<std::uint32_t> labels(mask.pixels.size(), 0);
  std::vector<std::size_t> stack;
  std::uint32_t next = 0;
  for (std::size_t start = 0; start < labels.size(); ++start) {
    if (!mask.pixels[start] || labels[start]) continue;
    labels[start] = ++next;
    stack.push_back(start);
    while (!stack.empty()) {
      const std::size_t p = stack.back();
      stack.pop_back();
      for_each_neighbour(static_cast<int>(p / mask.width), static_cast<int>(p % mask.width), mask.width, mask.height,
                         c, [&](std::size_t n) {
                           if (mask.pixels[n] && !labels[n]) {
                             labels[n] = next;
                             stack.push_back(n);
                           }
                         });
    }
  }
  return labels;
}

// Markers for the watershed: the regional maxima of the morphological reconstruction by dilation of (D - h) under
// D, i.e. the h-maxima of D. A maximum whose dynamic is below h merges with a higher neighbour and yields no marker.
std::vector<std::uint32_t> h_maxima_markers(const io::Mask& mask, const io::Plane& distance, double h,
                                            Connectivity c) {
  const int w = mask.width, ht = mask.height;
  const auto& d = distance.pixels;
  // Reconstruction: R(x) = max over y of min(D(y) - h, the lowest D on a path from y to x), a max-min path problem
  // solved like Dijkstra from the highest values down.
  std::vector<double> r(d.size(), -std::numeric_limits<double>::infinity());
  using Entry = std::pair<double, std::size_t>;
  std::priority_queue<Entry> queue;
  for (std::size_t p = 0; p < d.size(); ++p)
    if (mask.pixels[p]) {
      r[p] = d[p] - h;
      queue.emplace(r[p], p);
    }
  while (!queue.empty()) {
    const double value = queue.top().first;  // not a structured binding: the lambda below captures it
    const std::size_t p = queue.top().second;
    queue.pop();
    if (value < r[p]) continue;  // superseded
    for_each_neighbour(static_cast<int>(p / w), static_cast<int>(p % w), w, ht, c, [&](std::size_t n) {
      if (!mask.pixels[n]) return;
      const double candidate = std::min(value, d[n]);
      if (candidate > r[n]) {
        r[n] = candidate;
        queue.emplace(candidate, n);
      }
    });
  }
  // Regional maxima of R: connected plateaus of equal value (values are exact copies, so == is sound) with no
  // higher neighbour.
  std::vector<std::uint32_t> markers(d.size(), 0);
  std::vector<std::uint8_t> visited(d.size(), 0);
  std::vector<std::size_t> plateau, stack;
  std::uint32_t next = 0;
  for (std::size_t start = 0; start < d.size(); ++start) {
    if (!mask.pixels[start] || visited[start]) continue;
    const double level = r[start];
    bool maximum = true;
    plateau.clear();
    stack.push_back(start);
    visited[start] = 1;
    while (!stack.empty()) {
      const std::size_t p = stack.back();
      stack.pop_back();
      plateau.push_back(p);
      for_each_neighbour(static_cast<int>(p / w), static_cast<int>(p % w), w, ht, c, [&](std::size_t n) {
        if (!mask.pixels[n]) return;
        if (r[n] > level) maximum = false;
        if (r[n] == level && !visited[n]) {
          visited[n] = 1;
          stack.push_back(n);
        }
      });
    }
    if (maximum) {
      ++next;
      for (std::size_t p : plateau) markers[p] = next;
    }
  }
  return markers;
}

// Seeded watershed restricted to the mask (priority flood, Meyer 1991): pixels join the marker that reaches them
// first when flooding from the highest priority down; ties go first-come first-served, so the result is
// deterministic. Mask pixels that no marker reaches stay 0.
std::vector<std::uint32_t> flood(const io::Mask& mask, const io::Plane& priority, std::vector<std::uint32_t> labels,
                                 Connectivity c) {
  const int w = mask.width, ht = mask.height;
  using Entry = std::tuple<double, std::int64_t, std::size_t>;  // distance, -arrival order, pixel
  std::priority_queue<Entry> queue;
  std::int64_t arrival = 0;
  for (std::size_t p = 0; p < labels.size(); ++p)
    if (labels[p]) queue.emplace(priority.pixels[p], -arrival++, p);
  while (!queue.empty()) {
    const std::size_t p = std::get<2>(queue.top());
    queue.pop();
    for_each_neighbour(static_cast<int>(p / w), static_cast<int>(p % w), w, ht, c, [&](std::size_t n) {
      if (mask.pixels[n] && !labels[n]) {
        labels[n] = labels[p];
        queue.emplace(priority.pixels[n], -arrival++, n);
      }
    });
  }
  return labels;
}

void check_mask(const io::Mask& mask) {
  if (mask.pixels.size() != static_cast<std::size_t>(mask.width) * mask.height)
    throw std::invalid_argument("label_instances: inconsistent mask");
}

// Drops objects under `min_area` pixels and renumbers the rest 1..K in raster order of their first pixel.
io::LabelImage renumber(const std::vector<std::uint32_t>& labels, int width, int height, int min_area) {
  std::vector<long> area;
  for (std::uint32_t l : labels) {
    if (l >= area.size()) area.resize(l + 1, 0);
    ++area[l];
  }
  std::vector<std::uint32_t> renumbered(area.size(), 0);
  std::uint32_t count = 0;
  io::LabelImage out(width, height);
  for (std::size_t p = 0; p < labels.size(); ++p) {
    const std::uint32_t l = labels[p];
    if (l == 0 || area[l] < min_area) continue;
    if (!renumbered[l]) {
      if (count == std::numeric_limits<std::uint16_t>::max())
        throw std::length_error("label_instances: more than " + std::to_string(count) + " objects");
      renumbered[l] = ++count;
    }
    out.pixels[p] = static_cast<std::uint16_t>(renumbered[l]);
  }
  return out;
}

}  // namespace

io::Plane distance_to_background(const io::Mask& mask) {
  // Padded by one background pixel on every side: outside the image is background.
  const int w = mask.width + 2, h = mask.height + 2;
  constexpr double kFar = 1e20;  // larger than any squared distance in an image of at most 2^31 pixels a side
  std::vector<double> grid(static_cast<std::size_t>(w) * h, 0.0);
  for (int y = 0; y < mask.height; ++y)
    for (int x = 0; x < mask.width; ++x)
      if (mask.at(y, x)) grid[static_cast<std::size_t>(y + 1) * w + x + 1] = kFar;
  const int longest = std::max(w, h);
  std::vector<double> f(longest), d(longest), z(longest + 1);
  std::vector<int> v(longest);
  f.resize(h), d.resize(h);
  for (int x = 0; x < w; ++x) {
    for (int y = 0; y < h; ++y) f[y] = grid[static_cast<std::size_t>(y) * w + x];
    squared_distance_1d(f, d, v, z);
    for (int y = 0; y < h; ++y) grid[static_cast<std::size_t>(y) * w + x] = d[y];
  }
  f.resize(w), d.resize(w);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) f[x] = grid[static_cast<std::size_t>(y) * w + x];
    squared_distance_1d(f, d, v, z);
    for (int x = 0; x < w; ++x) grid[static_cast<std::size_t>(y) * w + x] = d[x];
  }
  io::Plane out(mask.width, mask.height);
  for (int y = 0; y < mask.height; ++y)
    for (int x = 0; x < mask.width; ++x)
      out.at(y, x) = std::sqrt(grid[static_cast<std::size_t>(y + 1) * w + x + 1]);
  return out;
}

const char* instance_method_name(InstanceMethod method) {
  switch (method) {
    case InstanceMethod::Components: return "components";
    case InstanceMethod::Watershed: return "watershed";
    case InstanceMethod::Contour: return "contour";
    case InstanceMethod::Core: return "core";
  }
  return "?";
}

InstanceMethod parse_instance_method(const std::string& name) {
  for (InstanceMethod m : {InstanceMethod::Components, InstanceMethod::Watershed, InstanceMethod::Contour,
                           InstanceMethod::Core})
    if (name == instance_method_name(m)) return m;
  throw std::invalid_argument("unknown instance method '" + name + "' (components, watershed, contour or core)");
}

bool uses_instance_channel(InstanceMethod method) {
  return method == InstanceMethod::Contour || method == InstanceMethod::Core;
}

io::LabelImage label_instances(const io::Mask& mask, const InstanceOptions& options) {
  check_mask(mask);
  if (uses_instance_channel(options.method))
    throw std::invalid_argument(std::string("label_instances: method '") + instance_method_name(options.method) +
                                "' needs the model's instance channel");
  std::vector<std::uint32_t> labels;
  if (options.method == InstanceMethod::Watershed) {
    const io::Plane distance = distance_to_background(mask);
    labels = flood(mask, distance, h_maxima_markers(mask, distance, options.h, options.connectivity),
                   options.connectivity);
  } else {
    labels = connected_components(mask, options.connectivity);
  }
  return renumber(labels, mask.width, mask.height, options.min_area);
}

io::LabelImage label_instances(const io::Mask& mask, const io::Plane& channel_probability,
                               const InstanceOptions& options) {
  if (!uses_instance_channel(options.method)) return label_instances(mask, options);
  check_mask(mask);
  if (channel_probability.width != mask.width || channel_probability.height != mask.height ||
      channel_probability.pixels.size() != mask.pixels.size())
    throw std::invalid_argument("label_instances: channel probability " + std::to_string(channel_probability.width) +
                                "x" + std::to_string(channel_probability.height) + " vs mask " +
                                std::to_string(mask.width) + "x" + std::to_string(mask.height));
  // One seeded split for both channels: interior = -boundary probability or core probability, seeds strictly above
  // the threshold mapped the same way, so "boundary < t" and "core > t" hold exactly.
  const bool contour = options.method == InstanceMethod::Contour;
  const double seed_above = contour ? -options.seed_threshold : options.seed_threshold;
  io::Mask seeds(mask.width, mask.height);
  io::Plane interior(mask.width, mask.height);  // flooded from the highest down
  for (std::size_t p = 0; p < mask.pixels.size(); ++p) {
    const double q = channel_probability.pixels[p];
    const double score = std::isnan(q) ? -std::numeric_limits<double>::infinity() : (contour ? -q : q);
    seeds.pixels[p] = mask.pixels[p] && score > seed_above;
    interior.pixels[p] = score;
  }
  std::vector<std::uint32_t> labels =
      flood(mask, interior, connected_components(seeds, options.connectivity), options.connectivity);

  // What no seed reached is a part of the mask without a seed: each such part is one object.
  io::Mask unreached(mask.width, mask.height);
  std::uint32_t seed_count = 0;
  for (std::size_t p = 0; p < labels.size(); ++p) {
    unreached.pixels[p] = mask.pixels[p] && !labels[p];
    seed_count = std::max(seed_count, labels[p]);
  }
  const std::vector<std::uint32_t> rest = connected_components(unreached, options.connectivity);
  for (std::size_t p = 0; p < labels.size(); ++p)
    if (rest[p]) labels[p] = seed_count + rest[p];
  return renumber(labels, mask.width, mask.height, options.min_area);
}

std::vector<Instance> measure_instances(const io::LabelImage& labels) {
  std::vector<Instance> by_label(std::numeric_limits<std::uint16_t>::max() + 1);
  for (int y = 0; y < labels.height; ++y)
    for (int x = 0; x < labels.width; ++x) {
      Instance& i = by_label[labels.at(y, x)];
      ++i.area;
      i.centroid_x += x;
      i.centroid_y += y;
    }
  std::vector<Instance> out;
  for (std::size_t l = 1; l < by_label.size(); ++l) {
    Instance i = by_label[l];
    if (i.area == 0) continue;
    i.label = static_cast<int>(l);
    i.centroid_x /= static_cast<double>(i.area);
    i.centroid_y /= static_cast<double>(i.area);
    out.push_back(i);
  }
  return out;
}

std::string instances_csv(const std::vector<Instance>& instances) {
  std::string csv = "label,area,centroid_x,centroid_y\n";
  char row[96];
  for (const Instance& i : instances) {
    std::snprintf(row, sizeof row, "%d,%ld,%.3f,%.3f\n", i.label, i.area, i.centroid_x, i.centroid_y);
    csv += row;
  }
  return csv;
}

}  // namespace cryptounet::nn
