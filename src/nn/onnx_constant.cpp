#include "nn/onnx_constant.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <set>
#include <stdexcept>

namespace cryptounet::nn::onnx_import {

namespace {

template <class T>
void append_raw(const std::string& raw, std::vector<double>& out) {
  const std::size_t count = raw.size() / sizeof(T);
  out.reserve(count);
  for (std::size_t j = 0; j < count; ++j) {
    T v;
    std::memcpy(&v, raw.data() + j * sizeof(T), sizeof(T));  // ONNX raw_data is little-endian, as is x86-64
    out.push_back(static_cast<double>(v));
  }
}

// Constants computed here (shape arithmetic, broadcasts) are small; a file must not make them allocate gigabytes.
constexpr std::int64_t kMaxComputedElements = std::int64_t{1} << 24;

std::int64_t element_count(const std::vector<std::int64_t>& dims, std::int64_t limit = std::int64_t{1} << 40) {
  std::int64_t n = 1;
  for (auto d : dims) {
    if (d < 0 || (d > 0 && n > limit / d)) throw std::runtime_error("tensor shape out of range");
    n *= d;
  }
  return n;
}

std::vector<std::int64_t> attribute_ints(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return {a.ints().begin(), a.ints().end()};
  return {};
}

std::int64_t attribute_int(const onnx::NodeProto& node, const std::string& name, std::int64_t fallback) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

bool has_attribute(const onnx::NodeProto& node, const std::string& name) {
  return std::any_of(node.attribute().begin(), node.attribute().end(),
                     [&](const auto& a) { return a.name() == name; });
}

std::vector<std::int64_t> as_ints(const Constant& c) {
  std::vector<std::int64_t> out;
  for (double v : c.values) out.push_back(static_cast<std::int64_t>(v));
  return out;
}

Constant integer_vector(const std::vector<std::int64_t>& v) {
  Constant c;
  c.dims = {static_cast<std::int64_t>(v.size())};
  c.values.assign(v.begin(), v.end());
  c.integer = true;
  return c;
}

std::int64_t normalize_axis(std::int64_t axis, std::size_t rank) {
  const auto r = static_cast<std::int64_t>(rank);
  if (axis < -r || axis >= r) throw std::runtime_error("axis " + std::to_string(axis) + " out of range");
  return axis < 0 ? axis + r : axis;
}

// Row-major strides of `dims`.
std::vector<std::int64_t> strides_of(const std::vector<std::int64_t>& dims) {
  std::vector<std::int64_t> s(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

// Numpy (multidirectional) broadcasting.
Constant broadcast(const Constant& a, const Constant& b, const std::function<double(double, double)>& f) {
  const std::size_t rank = std::max(a.dims.size(), b.dims.size());
  auto padded = [&](const std::vector<std::int64_t>& d) {
    std::vector<std::int64_t> p(rank - d.size(), 1);
    p.insert(p.end(), d.begin(), d.end());
    return p;
  };
  const auto da = padded(a.dims), db = padded(b.dims);
  Constant out;
  out.integer = a.integer && b.integer;
  for (std::size_t i = 0; i < rank; ++i) {
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1) throw std::runtime_error("shapes do not broadcast");
    out.dims.push_back(da[i] == 1 ? db[i] : da[i]);
  }
  const auto sa = strides_of(da), sb = strides_of(db), so = strides_of(out.dims);
  const std::int64_t n = element_count(out.dims, kMaxComputedElements);
  out.values.resize(static_cast<std::size_t>(n));
  for (std::int64_t j = 0; j < n; ++j) {
    std::int64_t ia = 0, ib = 0, rest = j;
    for (std::size_t i = 0; i < rank; ++i) {
      const std::int64_t k = rest / so[i];
      rest %= so[i];
      if (da[i] != 1) ia += k * sa[i];
      if (db[i] != 1) ib += k * sb[i];
    }
    out.values[static_cast<std::size_t>(j)] = f(a.values[static_cast<std::size_t>(ia)], b.values[static_cast<std::size_t>(ib)]);
  }
  return out;
}

Constant map_values(Constant c, const std::function<double(double)>& f) {
  for (double& v : c.values) v = f(v);
  return c;
}

const Constant& input(const std::vector<const Constant*>& inputs, std::size_t k) {
  if (k >= inputs.size() || !inputs[k]) throw std::runtime_error("missing input " + std::to_string(k));
  return *inputs[k];
}

// Axes from the input (opset >= 13) or the attribute (older opsets).
std::vector<std::int64_t> axes_of(const onnx::NodeProto& node, const std::vector<const Constant*>& inputs) {
  if (inputs.size() > 1 && inputs[1]) return as_ints(*inputs[1]);
  return attribute_ints(node, "axes");
}

Constant unsqueeze(const onnx::NodeProto& node, const std::vector<const Constant*>& inputs) {
  Constant c = input(inputs, 0);
  auto axes = axes_of(node, inputs);
  const std::size_t rank = c.dims.size() + axes.size();
  for (auto& a : axes) a = normalize_axis(a, rank);
  std::sort(axes.begin(), axes.end());
  for (auto a : axes) c.dims.insert(c.dims.begin() + a, 1);
  return c;
}

Constant squeeze(const onnx::NodeProto& node, const std::vector<const Constant*>& inputs) {
  Constant c = input(inputs, 0);
  auto axes = axes_of(node, inputs);
  std::vector<std::int64_t> dims;
  for (std::size_t i = 0; i < c.dims.size(); ++i) {
    const bool listed = std::any_of(axes.begin(), axes.end(), [&](std::int64_t a) {
      return normalize_axis(a, c.dims.size()) == static_cast<std::int64_t>(i);
    });
    if ((axes.empty() && c.dims[i] == 1) || listed) {
      if (c.dims[i] != 1) throw std::runtime_error("squeezing a dimension that is not 1");
      continue;
    }
    dims.push_back(c.dims[i]);
  }
  c.dims = dims;
  return c;
}

Constant gather(const onnx::NodeProto& node, const std::vector<const Constant*>& inputs) {
  const Constant& data = input(inputs, 0);
  const Constant& indices = input(inputs, 1);
  if (data.dims.empty()) throw std::runtime_error("Gather on a scalar");
  const auto axis = normalize_axis(attribute_int(node, "axis", 0), data.dims.size());
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t i = 0; i < axis; ++i) outer *= data.dims[i];
  for (std::size_t i = axis + 1; i < data.dims.size(); ++i) inner *= data.dims[i];
  const std::int64_t extent = data.dims[axis];
  Constant out;
  out.integer = data.integer;
  out.dims.assign(data.dims.begin(), data.dims.begin() + axis);
  out.dims.insert(out.dims.end(), indices.dims.begin(), indices.dims.end());
  out.dims.insert(out.dims.end(), data.dims.begin() + axis + 1, data.dims.end());
  element_count(out.dims, kMaxComputedElements);
  for (std::int64_t o = 0; o < outer; ++o)
    for (double index : indices.values) {
      auto k = static_cast<std::int64_t>(index);
      if (k < 0) k += extent;
      if (k < 0 || k >= extent) throw std::runtime_error("Gather index out of range");
      const auto begin = data.values.begin() + (o * extent + k) * inner;
      out.values.insert(out.values.end(), begin, begin + inner);
    }
  return out;
}

Constant concat(const onnx::NodeProto& node, const std::vector<const Constant*>& inputs) {
  const Constant& first = input(inputs, 0);
  if (first.dims.empty()) throw std::runtime_error("Concat of scalars");
  const auto axis = normalize_axis(attribute_int(node, "axis", 0), first.dims.size());
  std::int64_t outer = 1;
  for (std::int64_t i = 0; i < axis; ++i) outer *= first.dims[i];
  Constant out;
  out.integer = true;
  out.dims = first.dims;
  out.dims[axis] = 0;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Constant& c = input(inputs, k);
    if (c.dims.size() != first.dims.size()) throw std::runtime_error("Concat inputs differ in rank");
    for (std::size_t i = 0; i < c.dims.size(); ++i)
      if (static_cast<std::int64_t>(i) != axis && c.dims[i] != first.dims[i])
        throw std::runtime_error("Concat inputs differ in shape");
    out.dims[axis] += c.dims[axis];
    out.integer = out.integer && c.integer;
  }
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      const Constant& c = *inputs[k];
      const std::int64_t block = static_cast<std::int64_t>(c.size()) / std::max<std::int64_t>(outer, 1);
      out.values.insert(out.values.end(), c.values.begin() + o * block, c.values.begin() + (o + 1) * block);
    }
  return out;
}

Constant reshape(const std::vector<const Constant*>& inputs) {
  Constant c = input(inputs, 0);
  auto shape = as_ints(input(inputs, 1));
  std::int64_t known = 1, infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) {
      if (i >= c.dims.size()) throw std::runtime_error("Reshape copies a missing dimension");
      shape[i] = c.dims[i];
    }
    if (shape[i] == -1) {
      if (infer >= 0) throw std::runtime_error("Reshape infers more than one dimension");
      infer = static_cast<std::int64_t>(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) shape[infer] = known ? static_cast<std::int64_t>(c.size()) / known : 0;
  if (element_count(shape) != static_cast<std::int64_t>(c.size())) throw std::runtime_error("Reshape changes the size");
  c.dims = shape;
  return c;
}

// Slice (opset >= 10: starts, ends, axes, steps as inputs).
Constant slice(const std::vector<const Constant*>& inputs) {
  const Constant& data = input(inputs, 0);
  const auto starts = as_ints(input(inputs, 1)), ends = as_ints(input(inputs, 2));
  std::vector<std::int64_t> axes, steps;
  if (inputs.size() > 3 && inputs[3]) axes = as_ints(*inputs[3]);
  if (inputs.size() > 4 && inputs[4]) steps = as_ints(*inputs[4]);
  if (axes.empty())
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    throw std::runtime_error("Slice parameters differ in length");
  const std::size_t rank = data.dims.size();
  std::vector<std::int64_t> begin(rank, 0), step(rank, 1), count(data.dims);
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const auto a = normalize_axis(axes[k], rank);
    const std::int64_t dim = data.dims[a], s = steps[k];
    if (s == 0) throw std::runtime_error("Slice step 0");
    auto clamp = [&](std::int64_t v) {
      if (v < 0) v += dim;
      return s > 0 ? std::clamp<std::int64_t>(v, 0, dim) : std::clamp<std::int64_t>(v, -1, dim - 1);
    };
    const std::int64_t b = clamp(starts[k]), e = clamp(ends[k]);
    begin[a] = b;
    step[a] = s;
    count[a] = s > 0 ? std::max<std::int64_t>(0, (e - b + s - 1) / s) : std::max<std::int64_t>(0, (b - e - s - 1) / -s);
  }
  Constant out;
  out.integer = data.integer;
  out.dims = count;
  const auto in_strides = strides_of(data.dims), out_strides = strides_of(count);
  const std::int64_t n = element_count(count);
  for (std::int64_t j = 0; j < n; ++j) {
    std::int64_t src = 0, rest = j;
    for (std::size_t i = 0; i < rank; ++i) {
      const std::int64_t k = rest / out_strides[i];
      rest %= out_strides[i];
      src += (begin[i] + k * step[i]) * in_strides[i];
    }
    out.values.push_back(data.values[static_cast<std::size_t>(src)]);
  }
  return out;
}

Constant transpose(const onnx::NodeProto& node, const std::vector<const Constant*>& inputs) {
  const Constant& data = input(inputs, 0);
  const std::size_t rank = data.dims.size();
  auto perm = attribute_ints(node, "perm");
  if (perm.empty())
    for (std::size_t i = rank; i-- > 0;) perm.push_back(static_cast<std::int64_t>(i));
  if (perm.size() != rank) throw std::runtime_error("Transpose perm does not match the rank");
  for (auto& p : perm) p = normalize_axis(p, rank);
  if (std::set<std::int64_t>(perm.begin(), perm.end()).size() != rank)
    throw std::runtime_error("Transpose perm is not a permutation");
  Constant out;
  out.integer = data.integer;
  for (auto p : perm) out.dims.push_back(data.dims[p]);
  const auto in_strides = strides_of(data.dims), out_strides = strides_of(out.dims);
  out.values.resize(data.size());
  for (std::int64_t j = 0; j < static_cast<std::int64_t>(data.size()); ++j) {
    std::int64_t src = 0, rest = j;
    for (std::size_t i = 0; i < rank; ++i) {
      src += rest / out_strides[i] * in_strides[perm[i]];
      rest %= out_strides[i];
    }
    out.values[static_cast<std::size_t>(j)] = data.values[static_cast<std::size_t>(src)];
  }
  return out;
}

Constant constant_of_shape(const onnx::NodeProto& node, const std::vector<const Constant*>& inputs) {
  Constant out;
  out.dims = as_ints(input(inputs, 0));
  double fill = 0.0;
  out.integer = false;
  for (const auto& a : node.attribute())
    if (a.name() == "value") {
      const Constant v = to_constant(a.t(), "ConstantOfShape value");
      if (v.size() != 1) throw std::runtime_error("ConstantOfShape value must hold one element");
      fill = v.values[0];
      out.integer = v.integer;
    }
  out.values.assign(static_cast<std::size_t>(element_count(out.dims, kMaxComputedElements)), fill);
  return out;
}

Constant cast(const onnx::NodeProto& node, const std::vector<const Constant*>& inputs) {
  Constant c = input(inputs, 0);
  const auto to = attribute_int(node, "to", 0);
  const bool to_integer = to == onnx::TensorProto_DataType_INT64 || to == onnx::TensorProto_DataType_INT32;
  if (!to_integer && to != onnx::TensorProto_DataType_FLOAT && to != onnx::TensorProto_DataType_DOUBLE)
    throw std::runtime_error("Cast to data type " + std::to_string(to));
  if (to_integer && !c.integer) c = map_values(std::move(c), [](double v) { return std::trunc(v); });
  if (to == onnx::TensorProto_DataType_FLOAT)
    c = map_values(std::move(c), [](double v) { return static_cast<double>(static_cast<float>(v)); });
  c.integer = to_integer;
  return c;
}

Constant arithmetic(const std::string& op, const std::vector<const Constant*>& inputs) {
  const Constant& a = input(inputs, 0);
  const Constant& b = input(inputs, 1);
  const bool integer = a.integer && b.integer;
  if (op == "Add") return broadcast(a, b, std::plus<>());
  if (op == "Sub") return broadcast(a, b, std::minus<>());
  if (op == "Mul") return broadcast(a, b, std::multiplies<>());
  if (op == "Div")
    return broadcast(a, b, [integer](double x, double y) {
      if (integer && y == 0) throw std::runtime_error("integer division by zero");
      return integer ? std::trunc(x / y) : x / y;
    });
  Constant out = broadcast(a, b, [](double x, double y) { return std::pow(x, y); });
  out.integer = a.integer;
  return out;
}

}  // namespace

Constant to_constant(const onnx::TensorProto& t, const std::string& what) {
  if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
    throw std::runtime_error(what + ": external data is not supported");
  Constant c;
  c.dims.assign(t.dims().begin(), t.dims().end());
  const bool raw = t.has_raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto_DataType_FLOAT:
      if (raw) append_raw<float>(t.raw_data(), c.values);
      else c.values.assign(t.float_data().begin(), t.float_data().end());
      break;
    case onnx::TensorProto_DataType_DOUBLE:
      if (raw) append_raw<double>(t.raw_data(), c.values);
      else c.values.assign(t.double_data().begin(), t.double_data().end());
      break;
    case onnx::TensorProto_DataType_INT64:
      c.integer = true;
      if (raw) append_raw<std::int64_t>(t.raw_data(), c.values);
      else c.values.assign(t.int64_data().begin(), t.int64_data().end());
      break;
    case onnx::TensorProto_DataType_INT32:
      c.integer = true;
      if (raw) append_raw<std::int32_t>(t.raw_data(), c.values);
      else c.values.assign(t.int32_data().begin(), t.int32_data().end());
      break;
    default:
      throw std::runtime_error(what + ": unsupported data type " + std::to_string(t.data_type()));
  }
  if (static_cast<std::int64_t>(c.values.size()) != element_count(c.dims))
    throw std::runtime_error(what + ": " + std::to_string(c.values.size()) + " values for its shape");
  return c;
}

Constant constant_node_value(const onnx::NodeProto& node) {
  const std::string what = "Constant '" + (node.output_size() ? node.output(0) : std::string("?")) + "'";
  if (node.attribute_size() != 1) throw std::runtime_error(what + ": expected exactly one value attribute");
  const auto& a = node.attribute(0);
  Constant c;
  if (a.name() == "value") return to_constant(a.t(), what);
  if (a.name() == "value_float") {
    c.values = {a.f()};
  } else if (a.name() == "value_int") {
    c.values = {static_cast<double>(a.i())};
    c.integer = true;
  } else if (a.name() == "value_floats") {
    c.values.assign(a.floats().begin(), a.floats().end());
    c.dims = {static_cast<std::int64_t>(c.values.size())};
  } else if (a.name() == "value_ints") {
    return integer_vector({a.ints().begin(), a.ints().end()});
  } else {
    throw std::runtime_error(what + ": unsupported attribute '" + a.name() + "'");
  }
  return c;
}

bool is_foldable(const std::string& op) {
  static const char* const ops[] = {"Identity", "Cast",      "Shape", "Gather", "Unsqueeze", "Squeeze",
                                    "Concat",   "Reshape",   "Slice", "Add",    "Sub",       "Mul",
                                    "Div",      "Pow",       "Neg",   "Sqrt",   "Reciprocal", "Transpose",
                                    "ConstantOfShape"};
  return std::find(std::begin(ops), std::end(ops), op) != std::end(ops);
}

Constant fold(const onnx::NodeProto& node, const std::vector<const Constant*>& inputs) {
  const std::string& op = node.op_type();
  if (op == "Identity") return input(inputs, 0);
  if (op == "Cast") return cast(node, inputs);
  if (op == "Shape") {
    if (has_attribute(node, "start") || has_attribute(node, "end")) throw std::runtime_error("Shape start/end");
    return integer_vector(input(inputs, 0).dims);
  }
  if (op == "Gather") return gather(node, inputs);
  if (op == "Unsqueeze") return unsqueeze(node, inputs);
  if (op == "Squeeze") return squeeze(node, inputs);
  if (op == "Concat") return concat(node, inputs);
  if (op == "Reshape") return reshape(inputs);
  if (op == "Slice") return slice(inputs);
  if (op == "Transpose") return transpose(node, inputs);
  if (op == "ConstantOfShape") return constant_of_shape(node, inputs);
  if (op == "Neg") return map_values(input(inputs, 0), [](double v) { return -v; });
  if (op == "Sqrt") return map_values(input(inputs, 0), [](double v) { return std::sqrt(v); });
  if (op == "Reciprocal") return map_values(input(inputs, 0), [](double v) { return 1.0 / v; });
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow") return arithmetic(op, inputs);
  throw std::runtime_error("cannot evaluate " + op + " on constants");
}

}  // namespace cryptounet::nn::onnx_import
