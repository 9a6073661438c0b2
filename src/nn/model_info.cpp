#include "nn/model_info.h"

#include <nlohmann/json.hpp>

#include "io/json_number.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cryptounet::nn {
namespace {

// Generous bounds: a tile is a square image of at most 2^14 pixels a side, and no CKKS set we can
// build holds more than a few dozen levels.
constexpr int kMaxTile = 1 << 14;
constexpr int kMaxLevels = 1024;
constexpr int kMaxClasses = 256;

OutputKind parse_output_kind(const std::string& text) {
  if (text == "mask") return OutputKind::Mask;
  if (text == "classes") return OutputKind::Classes;
  if (text == "mask+contour") return OutputKind::MaskContour;
  if (text == "mask+core") return OutputKind::MaskCore;
  throw std::runtime_error("unsupported output '" + text + "' (mask, classes, mask+contour or mask+core)");
}

// The instance split channel 1 of an output kind drives, if any.
InstanceMethod default_instance_method(OutputKind kind) {
  switch (kind) {
    case OutputKind::MaskContour: return InstanceMethod::Contour;
    case OutputKind::MaskCore: return InstanceMethod::Core;
    case OutputKind::Mask:
    case OutputKind::Classes: return InstanceMethod::Watershed;
  }
  return InstanceMethod::Watershed;
}

// A finite number in [lo, hi] at object[key], or `fallback` when the key is absent.
double finite_in_or(const nlohmann::json& object, const std::string& key, double fallback, double lo, double hi) {
  const double v = io::json_finite_or(object, key, fallback);
  if (v < lo || v > hi)
    throw std::runtime_error("'" + key + "' must lie in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

// The sidecar's threshold key for a seeded split: a boundary probability seeds below it, a core probability above.
const char* seed_key(InstanceMethod method) { return method == InstanceMethod::Contour ? "seed_below" : "seed_above"; }

InstanceOptions parse_instances(const nlohmann::json& j, OutputKind output) {
  InstanceOptions o;
  o.method = default_instance_method(output);
  if (!j.is_object()) throw std::runtime_error("'instances' must be an object");
  if (j.contains("method")) {
    if (!j.at("method").is_string()) throw std::runtime_error("instances.method must be a string");
    try {
      o.method = parse_instance_method(j.at("method").get<std::string>());
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string("instances: ") + e.what());
    }
  }
  if (uses_instance_channel(o.method) && o.method != default_instance_method(output))
    throw std::runtime_error(std::string("instances.method '") + instance_method_name(o.method) +
                             "' does not fit output '" + output_kind_name(output) + "'");
  // The channel's threshold, also when the sidecar prefers a mask-only split: `--instances core` then uses it.
  const InstanceMethod channel_split = default_instance_method(output);
  if (uses_instance_channel(channel_split))
    o.seed_threshold = finite_in_or(j, seed_key(channel_split), o.seed_threshold, 0.0, 1.0);
  o.min_area = io::json_integer_or(j, "min_area", o.min_area, 0, 1 << 28);
  o.h = finite_in_or(j, "marker_height", o.h, 0.0, 1000.0);
  return o;
}

// The channel count an output kind implies, 0 when the sidecar must give it.
int implied_channels(OutputKind kind) {
  switch (kind) {
    case OutputKind::Mask: return 1;
    case OutputKind::MaskContour:
    case OutputKind::MaskCore: return 2;
    case OutputKind::Classes: return 0;
  }
  return 0;
}

}  // namespace

const char* output_kind_name(OutputKind kind) {
  switch (kind) {
    case OutputKind::Mask: return "mask";
    case OutputKind::Classes: return "classes";
    case OutputKind::MaskContour: return "mask+contour";
    case OutputKind::MaskCore: return "mask+core";
  }
  return "?";
}

ModelInfo ModelInfo::parse(const std::string& json_text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("model sidecar: invalid JSON: ") + e.what());
  }
  try {
    if (!j.is_object()) throw std::runtime_error("expected a JSON object");
    const int version = io::json_integer_or(j, "format_version", 1);
    if (version != 1) throw std::runtime_error("unsupported format_version " + std::to_string(version));
    ModelInfo info;
    info.name = j.value("name", std::string());
    info.tile = io::json_integer_or(j, "tile", 128, 1, kMaxTile);
    if (j.contains("normalization")) info.normalization = io::Normalization::from_json(j.at("normalization"));
    info.threshold_logit = io::json_finite_or(j, "threshold_logit", 0.0);
    info.levels = io::json_integer_or(j, "levels", 0, 0, kMaxLevels);
    if (j.contains("output")) {
      if (!j.at("output").is_string()) throw std::runtime_error("'output' must be a string");
      info.output = parse_output_kind(j.at("output").get<std::string>());
    }
    const int implied = implied_channels(info.output);
    if (implied == 0) {
      if (!j.contains("output_channels")) throw std::runtime_error("output 'classes' needs 'output_channels'");
      info.output_channels = io::json_integer<int>(j.at("output_channels"), "output_channels", 2, kMaxClasses);
    } else {
      info.output_channels = io::json_integer_or(j, "output_channels", implied, implied, implied);
    }
    info.instances.method = default_instance_method(info.output);
    if (j.contains("instances")) info.instances = parse_instances(j.at("instances"), info.output);
    if (j.contains("architecture")) {
      const auto& arch = j.at("architecture");
      info.activation = arch.value("activation", std::string());
      info.pool = arch.value("pool", std::string());
    }
    if (j.contains("activation_ranges"))
      for (const auto& [tensor, range] : j.at("activation_ranges").items()) {
        if (!range.is_array() || range.size() != 2)
          throw std::runtime_error("activation_ranges['" + tensor + "'] must be [min, max]");
        const std::string field = "activation_ranges['" + tensor + "']";
        const double lo = io::json_finite(range[0], field), hi = io::json_finite(range[1], field);
        if (lo > hi) throw std::runtime_error(field + " has min > max");
        info.activation_ranges[tensor] = {lo, hi};
      }
    return info;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("model sidecar: ") + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("model sidecar: ") + e.what());
  }
}

ModelInfo ModelInfo::load(const std::string& json_path) {
  std::ifstream in(json_path);
  if (!in) throw std::runtime_error("cannot open model sidecar '" + json_path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return parse(text.str());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(json_path + ": " + e.what());
  }
}

ModelInfo ModelInfo::load_or_defaults(const std::string& onnx_path) {
  const std::string sidecar = sidecar_path(onnx_path);
  if (std::filesystem::exists(sidecar)) return load(sidecar);
  ModelInfo info;
  info.name = std::filesystem::path(onnx_path).stem().string();
  return info;
}

nlohmann::json ModelInfo::to_json() const {
  nlohmann::json j = {{"name", name},
                      {"format_version", 1},
                      {"tile", tile},
                      {"normalization", normalization.to_json()},
                      {"threshold_logit", threshold_logit},
                      {"output", output_kind_name(output)},
                      {"output_channels", output_channels}};
  j["instances"] = {{"method", instance_method_name(instances.method)},
                    {"min_area", instances.min_area},
                    {"marker_height", instances.h}};
  const InstanceMethod channel_split = default_instance_method(output);
  if (uses_instance_channel(channel_split)) j["instances"][seed_key(channel_split)] = instances.seed_threshold;
  if (levels > 0) j["levels"] = levels;
  if (!activation.empty()) j["architecture"]["activation"] = activation;
  if (!pool.empty()) j["architecture"]["pool"] = pool;
  nlohmann::json ranges = nlohmann::json::object();
  for (const auto& [tensor, range] : activation_ranges) ranges[tensor] = {range.first, range.second};
  j["activation_ranges"] = std::move(ranges);
  return j;
}

void ModelInfo::adopt_channels(int input_channels, int model_output_channels) {
  normalization.color = input_channels == 3 ? io::Normalization::Color::Rgb : io::Normalization::Color::Gray;
  output = model_output_channels == 1 ? OutputKind::Mask : OutputKind::Classes;
  output_channels = model_output_channels;
  instances.method = default_instance_method(output);
}

void ModelInfo::check_channels(int input_channels, int model_output_channels) const {
  if (input_channels != normalization.channels())
    throw std::runtime_error("model '" + name + "' takes " + std::to_string(input_channels) +
                             " input channels, its sidecar's normalization gives " +
                             std::to_string(normalization.channels()) + " (color gray: 1, rgb: 3)");
  if (model_output_channels != output_channels)
    throw std::runtime_error("model '" + name + "' has " + std::to_string(model_output_channels) +
                             " output channels, its sidecar's output '" + output_kind_name(output) + "' has " +
                             std::to_string(output_channels));
}

std::string ModelInfo::sidecar_path(const std::string& onnx_path) {
  const auto slash = onnx_path.find_last_of('/');
  const auto dot = onnx_path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return onnx_path + ".json";
  return onnx_path.substr(0, dot) + ".json";
}

}  // namespace cryptounet::nn
