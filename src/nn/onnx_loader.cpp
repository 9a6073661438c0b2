// ONNX -> Model. Walks the graph in its (topological) order, keeping a symbol table from tensor names to model
// nodes, constants, or a pending per-channel affine map s*y + t (the two halves of the exported quadratic
// Mul(Add(Mul(y, a), b), y) = a y^2 + b y). Batch norm is folded into the preceding conv; nodes that do not reach
// the output are dropped.
#include "nn/onnx_loader.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <variant>

namespace cryptounet::nn {

namespace {

struct Constant {
  std::vector<std::int64_t> dims;
  std::vector<double> values;
};

// s[c] * y + t[c] on node `source` (not a model node yet: only valid inside the quadratic pattern).
struct PendingAffine {
  int source = 0;
  std::vector<double> scale;
  std::vector<double> offset;
};

using Symbol = std::variant<int, Constant, PendingAffine>;  // int: index into the model's nodes

std::string describe(const onnx::NodeProto& node) {
  const std::string name = !node.name().empty() ? node.name() : node.output_size() ? node.output(0) : "?";
  return "ONNX node '" + name + "' (" + node.op_type() + ")";
}

[[noreturn]] void fail(const onnx::NodeProto& node, const std::string& what) {
  throw std::runtime_error(describe(node) + ": " + what);
}

template <class T>
void append_raw(const std::string& raw, std::vector<double>& out) {
  const std::size_t count = raw.size() / sizeof(T);
  for (std::size_t j = 0; j < count; ++j) {
    T v;
    std::memcpy(&v, raw.data() + j * sizeof(T), sizeof(T));  // ONNX raw_data is little-endian, as is x86-64
    out.push_back(static_cast<double>(v));
  }
}

Constant to_constant(const onnx::TensorProto& t) {
  if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
    throw std::runtime_error("ONNX initializer '" + t.name() + "': external data is not supported");
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
      if (raw) append_raw<std::int64_t>(t.raw_data(), c.values);
      else c.values.assign(t.int64_data().begin(), t.int64_data().end());
      break;
    case onnx::TensorProto_DataType_INT32:
      if (raw) append_raw<std::int32_t>(t.raw_data(), c.values);
      else c.values.assign(t.int32_data().begin(), t.int32_data().end());
      break;
    default:
      throw std::runtime_error("ONNX initializer '" + t.name() + "': unsupported data type " +
                               std::to_string(t.data_type()));
  }
  std::int64_t expected = 1;
  for (auto d : c.dims) expected *= d;
  if (static_cast<std::int64_t>(c.values.size()) != expected)
    throw std::runtime_error("ONNX initializer '" + t.name() + "': " + std::to_string(c.values.size()) +
                             " values for its shape");
  return c;
}

class Loader {
 public:
  Loader(const onnx::GraphProto& graph, std::string name) : graph_(graph) { model_.name = std::move(name); }

  Model run() {
    for (const auto& init : graph_.initializer()) symbols_[init.name()] = to_constant(init);
    add_input();
    for (const auto& node : graph_.node())
      for (const auto& in : node.input()) ++uses_[in];
    for (const auto& node : graph_.node()) add(node);
    if (graph_.output_size() != 1) throw std::runtime_error("ONNX graph: expected exactly one output");
    const std::string& out = graph_.output(0).name();
    auto it = symbols_.find(out);
    if (it == symbols_.end() || !std::holds_alternative<int>(it->second))
      throw std::runtime_error("ONNX graph output '" + out + "' is not produced by a supported layer");
    return prune(std::get<int>(it->second));
  }

 private:
  void add_input() {
    const onnx::ValueInfoProto* input = nullptr;
    for (const auto& in : graph_.input()) {
      if (symbols_.count(in.name())) continue;  // older exporters list initializers as inputs
      if (input) throw std::runtime_error("ONNX graph: more than one input ('" + input->name() + "', '" + in.name() + "')");
      input = &in;
    }
    if (!input) throw std::runtime_error("ONNX graph: no input");
    Node n;
    n.op = Op::Input;
    n.name = input->name();
    n.channels = 1;
    const auto& type = input->type();
    if (type.has_tensor_type() && type.tensor_type().has_shape()) {
      const auto& shape = type.tensor_type().shape();
      if (shape.dim_size() != 4)
        throw std::runtime_error("ONNX input '" + n.name + "': expected rank 4 [N, C, H, W]");
      if (shape.dim(1).has_dim_value()) n.channels = static_cast<int>(shape.dim(1).dim_value());
    }
    const std::string name = n.name;
    symbols_[name] = push(std::move(n));
  }

  int push(Node n) {
    model_.nodes.push_back(std::move(n));
    return static_cast<int>(model_.nodes.size()) - 1;
  }

  const Symbol& symbol(const onnx::NodeProto& node, int k) {
    if (k >= node.input_size() || node.input(k).empty()) fail(node, "missing input " + std::to_string(k));
    auto it = symbols_.find(node.input(k));
    if (it == symbols_.end()) fail(node, "unknown input tensor '" + node.input(k) + "'");
    return it->second;
  }
  int node_input(const onnx::NodeProto& node, int k) {
    const Symbol& s = symbol(node, k);
    if (!std::holds_alternative<int>(s))
      fail(node, "input '" + node.input(k) + "' must be a layer output, not a constant or a partial pattern");
    return std::get<int>(s);
  }
  const Constant& constant_input(const onnx::NodeProto& node, int k) {
    const Symbol& s = symbol(node, k);
    if (!std::holds_alternative<Constant>(s)) fail(node, "input '" + node.input(k) + "' must be an initializer");
    return std::get<Constant>(s);
  }
  void define(const onnx::NodeProto& node, Symbol s) {
    if (node.output_size() != 1) fail(node, "expected exactly one output");
    symbols_[node.output(0)] = std::move(s);
  }
  void define_node(const onnx::NodeProto& node, Node n) {
    n.name = node.output(0);
    define(node, push(std::move(n)));
  }
  int channels_of(int index) const { return model_.nodes[index].channels; }

  // Attributes: only the listed ones may appear, each with the value our layers implement.
  std::map<std::string, const onnx::AttributeProto*> attributes(const onnx::NodeProto& node,
                                                                const std::set<std::string>& allowed) {
    std::map<std::string, const onnx::AttributeProto*> out;
    for (const auto& a : node.attribute()) {
      if (!allowed.count(a.name())) fail(node, "unsupported attribute '" + a.name() + "'");
      out[a.name()] = &a;
    }
    return out;
  }
  static std::vector<std::int64_t> ints(const std::map<std::string, const onnx::AttributeProto*>& attrs,
                                        const std::string& key, std::vector<std::int64_t> fallback) {
    auto it = attrs.find(key);
    if (it == attrs.end()) return fallback;
    return {it->second->ints().begin(), it->second->ints().end()};
  }
  static std::int64_t integer(const std::map<std::string, const onnx::AttributeProto*>& attrs, const std::string& key,
                              std::int64_t fallback) {
    auto it = attrs.find(key);
    return it == attrs.end() ? fallback : it->second->i();
  }
  void require(const onnx::NodeProto& node, bool ok, const std::string& what) {
    if (!ok) fail(node, what);
  }
  void check_auto_pad(const onnx::NodeProto& node, const std::map<std::string, const onnx::AttributeProto*>& attrs) {
    auto it = attrs.find("auto_pad");
    if (it != attrs.end() && it->second->s() != "NOTSET") fail(node, "auto_pad '" + it->second->s() + "' not supported");
  }

  // Per-channel coefficients from a constant of shape [C], [1,C,1,1], [C,1,1] or a scalar (broadcast).
  std::vector<double> per_channel(const onnx::NodeProto& node, const Constant& c, int channels) {
    std::int64_t non_unit = 0;
    for (auto d : c.dims)
      if (d != 1) ++non_unit;
    if (c.values.size() == 1) return std::vector<double>(channels, c.values[0]);
    const bool channel_axis_ok = c.dims.size() <= 3 ? c.dims.size() >= 1 && c.dims[0] == channels
                                                    : c.dims.size() == 4 && c.dims[1] == channels;
    if (non_unit != 1 || static_cast<int>(c.values.size()) != channels || !channel_axis_ok)
      fail(node, "constant operand is not per-channel for " + std::to_string(channels) + " channels");
    return c.values;
  }

  void add(const onnx::NodeProto& node) {
    const std::string& op = node.op_type();
    if (!node.domain().empty() && node.domain() != "ai.onnx") fail(node, "unsupported domain '" + node.domain() + "'");
    if (op == "Conv") return conv(node);
    if (op == "ConvTranspose") return conv_transpose(node);
    if (op == "AveragePool" || op == "MaxPool") return pool(node);
    if (op == "BatchNormalization") return batch_norm(node);
    if (op == "Mul") return mul(node);
    if (op == "Add") return add_op(node);
    if (op == "Pow") return pow(node);
    if (op == "Concat") return concat(node);
    if (op == "Relu") {
      attributes(node, {});
      Node n;
      n.op = Op::Relu;
      n.inputs = {node_input(node, 0)};
      n.channels = channels_of(n.inputs[0]);
      return define_node(node, std::move(n));
    }
    if (op == "Identity") return define(node, symbol(node, 0));
    if (op == "Constant") {
      auto attrs = attributes(node, {"value"});
      if (!attrs.count("value")) fail(node, "only tensor-valued Constant is supported");
      return define(node, to_constant(attrs.at("value")->t()));
    }
    fail(node, "unsupported op");
  }

  void conv(const onnx::NodeProto& node) {
    auto attrs = attributes(node, {"kernel_shape", "pads", "strides", "dilations", "group", "auto_pad"});
    check_auto_pad(node, attrs);
    const int x = node_input(node, 0);
    const Constant& w = constant_input(node, 1);
    require(node, w.dims.size() == 4 && w.dims[2] == w.dims[3], "weight must be [out, in, k, k]");
    const int k = static_cast<int>(w.dims[2]);
    require(node, k == 1 || k == 3, "kernel " + std::to_string(k) + " (only 1x1 and 3x3 are supported)");
    require(node, ints(attrs, "kernel_shape", {k, k}) == std::vector<std::int64_t>{k, k}, "kernel_shape mismatch");
    require(node, ints(attrs, "strides", {1, 1}) == std::vector<std::int64_t>{1, 1}, "stride must be 1");
    require(node, ints(attrs, "dilations", {1, 1}) == std::vector<std::int64_t>{1, 1}, "dilation must be 1");
    require(node, integer(attrs, "group", 1) == 1, "grouped convolution is not supported");
    const std::int64_t p = k / 2;
    require(node, ints(attrs, "pads", {0, 0, 0, 0}) == std::vector<std::int64_t>{p, p, p, p},
            "pads must be " + std::to_string(p) + " on every side (same padding)");
    define_conv(node, Op::Conv2d, x, w, static_cast<int>(w.dims[1]), static_cast<int>(w.dims[0]), k);
  }

  // What Conv and ConvTranspose share: the channel check, the weights and the (optional) bias input.
  void define_conv(const onnx::NodeProto& node, Op op, int x, const Constant& w, int in_channels, int out_channels,
                   int kernel) {
    require(node, in_channels == channels_of(x), "weight expects " + std::to_string(in_channels) +
                                                     " input channels, input has " + std::to_string(channels_of(x)));
    Node n;
    n.op = op;
    n.inputs = {x};
    n.in_channels = in_channels;
    n.channels = out_channels;
    n.kernel = kernel;
    n.padding = op == Op::Conv2d ? kernel / 2 : 0;
    n.weight = w.values;
    if (node.input_size() < 3 || node.input(2).empty()) {
      n.bias.assign(out_channels, 0.0);
    } else {
      n.bias = constant_input(node, 2).values;
      require(node, n.bias.size() == static_cast<std::size_t>(out_channels), "bias size mismatch");
    }
    define_node(node, std::move(n));
  }

  void conv_transpose(const onnx::NodeProto& node) {
    auto attrs = attributes(node, {"kernel_shape", "pads", "strides", "dilations", "group", "auto_pad",
                                   "output_padding"});
    check_auto_pad(node, attrs);
    const int x = node_input(node, 0);
    const Constant& w = constant_input(node, 1);
    require(node, w.dims.size() == 4 && w.dims[2] == 2 && w.dims[3] == 2, "weight must be [in, out, 2, 2]");
    require(node, ints(attrs, "kernel_shape", {2, 2}) == std::vector<std::int64_t>{2, 2}, "kernel must be 2x2");
    require(node, ints(attrs, "strides", {1, 1}) == std::vector<std::int64_t>{2, 2}, "stride must be 2");
    require(node, ints(attrs, "dilations", {1, 1}) == std::vector<std::int64_t>{1, 1}, "dilation must be 1");
    require(node, ints(attrs, "pads", {0, 0, 0, 0}) == std::vector<std::int64_t>{0, 0, 0, 0}, "pads must be 0");
    require(node, ints(attrs, "output_padding", {0, 0}) == std::vector<std::int64_t>{0, 0},
            "output_padding must be 0");
    require(node, integer(attrs, "group", 1) == 1, "grouped convolution is not supported");
    define_conv(node, Op::ConvTranspose2d, x, w, static_cast<int>(w.dims[0]), static_cast<int>(w.dims[1]), 2);
  }

  void pool(const onnx::NodeProto& node) {
    auto attrs = attributes(node, {"kernel_shape", "pads", "strides", "ceil_mode", "count_include_pad", "auto_pad",
                                   "dilations", "storage_order"});
    check_auto_pad(node, attrs);
    require(node, ints(attrs, "kernel_shape", {}) == std::vector<std::int64_t>{2, 2}, "kernel must be 2x2");
    require(node, ints(attrs, "strides", {1, 1}) == std::vector<std::int64_t>{2, 2}, "stride must be 2");
    require(node, ints(attrs, "pads", {0, 0, 0, 0}) == std::vector<std::int64_t>{0, 0, 0, 0}, "pads must be 0");
    require(node, ints(attrs, "dilations", {1, 1}) == std::vector<std::int64_t>{1, 1}, "dilation must be 1");
    require(node, integer(attrs, "ceil_mode", 0) == 0, "ceil_mode must be 0");
    require(node, integer(attrs, "storage_order", 0) == 0, "storage_order must be 0");
    if (node.output_size() > 1) fail(node, "MaxPool indices output is not supported");
    Node n;
    n.op = node.op_type() == "AveragePool" ? Op::AvgPool2x2 : Op::MaxPool2x2;
    n.inputs = {node_input(node, 0)};
    n.channels = channels_of(n.inputs[0]);
    define_node(node, std::move(n));
  }

  // y = gamma (x - mean) / sqrt(var + eps) + beta, folded into the conv that produces x (its only consumer).
  void batch_norm(const onnx::NodeProto& node) {
    auto attrs = attributes(node, {"epsilon", "momentum", "training_mode", "spatial"});
    require(node, integer(attrs, "training_mode", 0) == 0, "training_mode must be 0");
    if (node.output_size() != 1) fail(node, "training-mode outputs are not supported");
    const double eps = attrs.count("epsilon") ? attrs.at("epsilon")->f() : 1e-5;
    const int x = node_input(node, 0);
    Node& conv = model_.nodes[x];
    require(node, conv.op == Op::Conv2d || conv.op == Op::ConvTranspose2d,
            "can only be folded into a preceding Conv/ConvTranspose");
    require(node, uses_[node.input(0)] == 1 && graph_output_names().count(node.input(0)) == 0,
            "the preceding conv output has other consumers, cannot fold");
    const int c = conv.channels;
    const auto gamma = per_channel(node, constant_input(node, 1), c);
    const auto beta = per_channel(node, constant_input(node, 2), c);
    const auto mean = per_channel(node, constant_input(node, 3), c);
    const auto var = per_channel(node, constant_input(node, 4), c);
    const std::size_t taps = static_cast<std::size_t>(conv.kernel) * conv.kernel;
    for (int o = 0; o < c; ++o) {
      const double s = gamma[o] / std::sqrt(var[o] + eps);
      if (conv.op == Op::Conv2d) {
        for (std::size_t j = 0; j < static_cast<std::size_t>(conv.in_channels) * taps; ++j)
          conv.weight[o * conv.in_channels * taps + j] *= s;
      } else {
        for (int i = 0; i < conv.in_channels; ++i)
          for (std::size_t j = 0; j < taps; ++j) conv.weight[(static_cast<std::size_t>(i) * c + o) * taps + j] *= s;
      }
      conv.bias[o] = (conv.bias[o] - mean[o]) * s + beta[o];
    }
    conv.name = node.output(0);
    define(node, x);
  }

  std::set<std::string> graph_output_names() const {
    std::set<std::string> names;
    for (const auto& o : graph_.output()) names.insert(o.name());
    return names;
  }

  void quadratic(const onnx::NodeProto& node, int source, std::vector<double> a, std::vector<double> b) {
    Node n;
    n.op = Op::Quadratic;
    n.inputs = {source};
    n.channels = channels_of(source);
    n.a = std::move(a);
    n.b = std::move(b);
    define_node(node, std::move(n));
  }

  void mul(const onnx::NodeProto& node) {
    attributes(node, {});
    const Symbol& l = symbol(node, 0);
    const Symbol& r = symbol(node, 1);
    // Mul(y, y): pure square.
    if (std::holds_alternative<int>(l) && std::holds_alternative<int>(r)) {
      require(node, std::get<int>(l) == std::get<int>(r), "product of two different tensors is not supported");
      const int y = std::get<int>(l);
      return quadratic(node, y, std::vector<double>(channels_of(y), 1.0), std::vector<double>(channels_of(y), 0.0));
    }
    // Mul(s*y + t, y) = s y^2 + t y: the end of the quadratic pattern.
    for (int side = 0; side < 2; ++side) {
      const Symbol& p = side == 0 ? l : r;
      const Symbol& q = side == 0 ? r : l;
      if (std::holds_alternative<PendingAffine>(p) && std::holds_alternative<int>(q)) {
        const auto& affine = std::get<PendingAffine>(p);
        require(node, affine.source == std::get<int>(q), "quadratic pattern multiplies by a different tensor");
        return quadratic(node, affine.source, affine.scale, affine.offset);
      }
    }
    // Mul(y, a) with per-channel constant a: the start of the pattern.
    for (int side = 0; side < 2; ++side) {
      const Symbol& p = side == 0 ? l : r;
      const Symbol& q = side == 0 ? r : l;
      if (std::holds_alternative<int>(p) && std::holds_alternative<Constant>(q)) {
        const int y = std::get<int>(p);
        return define(node, PendingAffine{y, per_channel(node, std::get<Constant>(q), channels_of(y)),
                                          std::vector<double>(channels_of(y), 0.0)});
      }
    }
    fail(node, "operands do not match y*y or the quadratic pattern Mul(Add(Mul(y, a), b), y)");
  }

  void add_op(const onnx::NodeProto& node) {
    attributes(node, {});
    const Symbol& l = symbol(node, 0);
    const Symbol& r = symbol(node, 1);
    if (std::holds_alternative<int>(l) && std::holds_alternative<int>(r)) {
      Node n;
      n.op = Op::Add;
      n.inputs = {std::get<int>(l), std::get<int>(r)};
      require(node, channels_of(n.inputs[0]) == channels_of(n.inputs[1]), "inputs differ in channels");
      n.channels = channels_of(n.inputs[0]);
      return define_node(node, std::move(n));
    }
    for (int side = 0; side < 2; ++side) {
      const Symbol& p = side == 0 ? l : r;
      const Symbol& q = side == 0 ? r : l;
      if (std::holds_alternative<PendingAffine>(p) && std::holds_alternative<Constant>(q)) {
        PendingAffine affine = std::get<PendingAffine>(p);
        const auto t = per_channel(node, std::get<Constant>(q), channels_of(affine.source));
        for (std::size_t c = 0; c < t.size(); ++c) affine.offset[c] += t[c];
        return define(node, std::move(affine));
      }
    }
    fail(node, "operands do not match a tensor sum or the quadratic pattern Mul(Add(Mul(y, a), b), y)");
  }

  void pow(const onnx::NodeProto& node) {
    attributes(node, {});
    const int y = node_input(node, 0);
    const Constant& e = constant_input(node, 1);
    require(node, e.values.size() == 1 && e.values[0] == 2.0, "only the exponent 2 is supported");
    quadratic(node, y, std::vector<double>(channels_of(y), 1.0), std::vector<double>(channels_of(y), 0.0));
  }

  void concat(const onnx::NodeProto& node) {
    auto attrs = attributes(node, {"axis"});
    const std::int64_t axis = integer(attrs, "axis", 0);
    require(node, axis == 1 || axis == -3, "only channel concatenation (axis 1) is supported");
    require(node, node.input_size() == 2, "exactly two inputs are supported");
    Node n;
    n.op = Op::Concat;
    n.inputs = {node_input(node, 0), node_input(node, 1)};
    n.channels = channels_of(n.inputs[0]) + channels_of(n.inputs[1]);
    define_node(node, std::move(n));
  }

  // Keeps the ancestors of the output, in order, so the output is the last node.
  Model prune(int output) {
    std::vector<bool> keep(model_.nodes.size(), false);
    keep[output] = true;
    keep[0] = true;
    for (int i = output; i >= 0; --i)
      if (keep[i])
        for (int in : model_.nodes[i].inputs) keep[in] = true;
    std::vector<int> remap(model_.nodes.size(), -1);
    Model pruned;
    pruned.name = model_.name;
    for (int i = 0; i <= output; ++i) {
      if (!keep[i]) continue;
      Node n = std::move(model_.nodes[i]);
      for (int& in : n.inputs) in = remap[in];
      remap[i] = static_cast<int>(pruned.nodes.size());
      pruned.nodes.push_back(std::move(n));
    }
    pruned.validate();
    return pruned;
  }

  const onnx::GraphProto& graph_;
  Model model_;
  std::map<std::string, Symbol> symbols_;
  std::map<std::string, int> uses_;
};

std::string stem(const std::string& path) {
  const auto slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const auto dot = base.find_last_of('.');
  return dot == std::string::npos ? base : base.substr(0, dot);
}

}  // namespace

Model load_onnx_bytes(const std::string& bytes, const std::string& model_name) {
  onnx::ModelProto proto;
  if (!proto.ParseFromString(bytes))
    throw std::runtime_error("'" + model_name + "' is not a valid ONNX model (protobuf parse failed)");
  for (const auto& opset : proto.opset_import())
    if ((opset.domain().empty() || opset.domain() == "ai.onnx") && opset.version() > 17)
      throw std::runtime_error("'" + model_name + "': opset " + std::to_string(opset.version()) +
                               " is newer than supported (<= 17)");
  return Loader(proto.graph(), model_name).run();
}

Model load_onnx(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open ONNX model '" + path + "'");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  try {
    return load_onnx_bytes(bytes.str(), stem(path));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace cryptounet::nn
