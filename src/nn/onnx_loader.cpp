// ONNX -> Model. Walks the graph in its (topological) order with a symbol table from tensor names to model nodes,
// constants, or pending per-channel polynomials of one layer output (onnx_polynomial.h). Element-wise chains on a
// layer output stay symbolic until a layer consumes them, so the quadratic activation loads in any term order and
// an affine map (BatchNormalization, scaling) folds into the conv or quadratic before it when that node has no
// other consumer. Subgraphs on constants are evaluated (onnx_constant.h); zero-size Pad and Identity are aliases.
// Nodes that do not reach the output are dropped.
#include "nn/onnx_loader.h"

#include "nn/onnx_constant.h"
#include "nn/onnx_node.h"
#include "nn/onnx_polynomial.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <variant>

namespace cryptounet::nn {

namespace {

using onnx_import::Attributes;
using onnx_import::Constant;
using onnx_import::Polynomial;
using onnx_import::attributes;
using onnx_import::check_auto_pad;
using onnx_import::fail;
using onnx_import::integer;
using onnx_import::ints;
using onnx_import::per_channel;
using onnx_import::require;
using Symbol = std::variant<int, Constant, Polynomial>;  // int: index into the model's nodes
using Shape = std::array<std::int64_t, 4>;  // N, C, H, W; -1 where only known at run time

// Ops that cannot be evaluated on ciphertexts without bootstrapping, with what an HE-friendly network uses instead.
// (Relu and MaxPool load, for the plaintext standard reference model; the encrypted planner refuses them.)
struct Refusal {
  const char* op;
  const char* advice;
};
constexpr const char* kPolynomialActivation = "replace it with x*x or a learnable quadratic a*x^2 + b*x";
constexpr Refusal kRefused[] = {
    {"Sigmoid", "drop it: the model outputs logits and the client thresholds them after decryption"},
    {"Softmax", "drop it: the model outputs logits and the client thresholds them after decryption"},
    {"LogSoftmax", "drop it: the model outputs logits and the client thresholds them after decryption"},
    {"Resize", "replace the upsampling with ConvTranspose2d(kernel_size=2, stride=2)"},
    {"Upsample", "replace the upsampling with ConvTranspose2d(kernel_size=2, stride=2)"},
    {"GlobalMaxPool", "replace it with AvgPool2d(2) stages"},
    {"Tanh", kPolynomialActivation},
    {"Elu", kPolynomialActivation},
    {"Selu", kPolynomialActivation},
    {"Celu", kPolynomialActivation},
    {"LeakyRelu", kPolynomialActivation},
    {"PRelu", kPolynomialActivation},
    {"Gelu", kPolynomialActivation},
    {"Erf", kPolynomialActivation},
    {"HardSigmoid", kPolynomialActivation},
    {"HardSwish", kPolynomialActivation},
    {"Softplus", kPolynomialActivation},
    {"Softsign", kPolynomialActivation},
    {"Mish", kPolynomialActivation},
    {"Clip", kPolynomialActivation},
    {"Abs", kPolynomialActivation},
    {"Exp", kPolynomialActivation},
    {"Log", kPolynomialActivation},
};

const char* refusal_advice(const std::string& op) {
  for (const auto& r : kRefused)
    if (op == r.op) return r.advice;
  return nullptr;
}

// Identity and (zero-size) Pad forward their first input unchanged.
bool is_alias(const std::string& op) { return op == "Identity" || op == "Pad"; }

class Loader {
 public:
  Loader(const onnx::GraphProto& graph, std::string name) : graph_(graph) { model_.name = std::move(name); }

  Model run() {
    for (const auto& init : graph_.initializer())
      symbols_[init.name()] = onnx_import::to_constant(init, "ONNX initializer '" + init.name() + "'");
    count_uses();
    add_input();
    for (const auto& node : graph_.node()) add(node);
    if (graph_.output_size() != 1) throw std::runtime_error("ONNX graph: expected exactly one output");
    const std::string& out = graph_.output(0).name();
    auto it = symbols_.find(out);
    if (it == symbols_.end() || std::holds_alternative<Constant>(it->second))
      throw std::runtime_error("ONNX graph output '" + out + "' is not produced by a supported layer");
    return prune(materialize(out, it->second));
  }

 private:
  using Handler = void (Loader::*)(const onnx::NodeProto&);

  // The op pattern table: every ONNX op a layer tensor may flow through.
  static const std::map<std::string, Handler>& handlers() {
    static const std::map<std::string, Handler> table = {
        {"Conv", &Loader::conv},
        {"ConvTranspose", &Loader::conv_transpose},
        {"AveragePool", &Loader::pool},
        {"MaxPool", &Loader::pool},
        {"Concat", &Loader::concat},
        {"Relu", &Loader::relu},
        {"BatchNormalization", &Loader::batch_norm},
        {"Mul", &Loader::elementwise},
        {"Add", &Loader::elementwise},
        {"Sub", &Loader::elementwise},
        {"Div", &Loader::elementwise},
        {"Pow", &Loader::elementwise},
        {"Neg", &Loader::elementwise},
        {"Identity", &Loader::identity},
        {"Pad", &Loader::pad},
        {"Shape", &Loader::shape},
    };
    return table;
  }

  void add(const onnx::NodeProto& node) {
    const std::string& op = node.op_type();
    if (!node.domain().empty() && node.domain() != "ai.onnx") fail(node, "unsupported domain '" + node.domain() + "'");
    if (const char* advice = refusal_advice(op)) fail(node, "not HE-friendly: " + std::string(advice));
    if (op == "Constant") return define(node, onnx_import::constant_node_value(node));
    if (onnx_import::is_foldable(op) && all_inputs_constant(node)) {
      std::vector<const Constant*> inputs;
      for (int k = 0; k < node.input_size(); ++k)
        inputs.push_back(node.input(k).empty() ? nullptr : &std::get<Constant>(symbol(node, k)));
      try {
        return define(node, onnx_import::fold(node, inputs));
      } catch (const std::runtime_error& e) {
        fail(node, std::string("cannot evaluate on constants: ") + e.what());
      }
    }
    auto it = handlers().find(op);
    if (it == handlers().end())
      fail(node, "unsupported op (HE-friendly networks use Conv, ConvTranspose 2x2/2, AveragePool 2x2, Concat, Add, "
                 "BatchNormalization and quadratic activations)");
    (this->*(it->second))(node);
  }

  // Uses of every tensor, counted at the tensor an alias chain starts from (an alias is not a use).
  void count_uses() {
    for (const auto& node : graph_.node()) {
      for (int k = 0; k < node.input_size(); ++k)
        if (!(k == 0 && is_alias(node.op_type()))) ++uses_[root(node.input(k))];
      if (is_alias(node.op_type()) && node.input_size() > 0 && node.output_size() == 1)
        alias_of_[node.output(0)] = root(node.input(0));
    }
    for (const auto& out : graph_.output()) ++uses_[root(out.name())];
  }
  std::string root(const std::string& tensor) const {
    auto it = alias_of_.find(tensor);
    return it == alias_of_.end() ? tensor : it->second;
  }

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
    Shape shape{-1, 1, -1, -1};
    const auto& type = input->type();
    if (type.has_tensor_type() && type.tensor_type().has_shape()) {
      const auto& dims = type.tensor_type().shape();
      if (dims.dim_size() != 4) throw std::runtime_error("ONNX input '" + n.name + "': expected rank 4 [N, C, H, W]");
      for (int k = 0; k < 4; ++k) shape[k] = dims.dim(k).has_dim_value() ? dims.dim(k).dim_value() : -1;
      if (shape[1] > 0) n.channels = static_cast<int>(shape[1]);
    }
    input_shape_ = shape;
    const std::string name = n.name;
    bind(name, push(std::move(n)));
  }

  int push(Node n) {
    shapes_.push_back(shape_of(n));
    model_.nodes.push_back(std::move(n));
    return static_cast<int>(model_.nodes.size()) - 1;
  }
  Shape shape_of(const Node& n) const {
    if (n.op == Op::Input) return input_shape_;
    Shape s = shapes_[n.inputs[0]];
    s[1] = n.channels;
    for (int k = 2; k < 4; ++k) {
      if (s[k] <= 0) continue;
      if (halves_resolution(n.op)) s[k] /= 2;
      if (doubles_resolution(n.op)) s[k] *= 2;
    }
    return s;
  }

  const Symbol& symbol(const onnx::NodeProto& node, int k) {
    if (k >= node.input_size() || node.input(k).empty()) fail(node, "missing input " + std::to_string(k));
    auto it = symbols_.find(node.input(k));
    if (it == symbols_.end()) fail(node, "unknown input tensor '" + node.input(k) + "'");
    return it->second;
  }
  bool all_inputs_constant(const onnx::NodeProto& node) {
    for (int k = 0; k < node.input_size(); ++k)
      if (!node.input(k).empty() && !std::holds_alternative<Constant>(symbol(node, k))) return false;
    return node.input_size() > 0;
  }
  // A layer input: a node, or a pending polynomial that becomes one now.
  int node_input(const onnx::NodeProto& node, int k) {
    const Symbol& s = symbol(node, k);
    if (std::holds_alternative<Constant>(s)) fail(node, "input '" + node.input(k) + "' must be a layer output, not a constant");
    return materialize(node.input(k), s);
  }
  const Constant& constant_input(const onnx::NodeProto& node, int k) {
    const Symbol& s = symbol(node, k);
    if (!std::holds_alternative<Constant>(s)) fail(node, "input '" + node.input(k) + "' must be a constant");
    return std::get<Constant>(s);
  }
  Polynomial polynomial_of(const Symbol& s) const {
    if (std::holds_alternative<Polynomial>(s)) return std::get<Polynomial>(s);
    const int index = std::get<int>(s);
    return Polynomial::identity(index, model_.nodes[index].channels);
  }

  // Binds a tensor name to a node, counting the references the node gains through it (an alias adds none: its
  // uses are counted at its root).
  void bind(const std::string& tensor, int index) {
    symbols_[tensor] = index;
    if (root(tensor) == tensor) references_[index] += uses_[tensor];
  }
  void define(const onnx::NodeProto& node, Symbol s) {
    if (node.output_size() != 1) fail(node, "expected exactly one output");
    if (std::holds_alternative<int>(s)) return bind(node.output(0), std::get<int>(s));
    symbols_[node.output(0)] = std::move(s);
  }
  void define_node(const onnx::NodeProto& node, Node n) {
    n.name = node.output(0);
    define(node, push(std::move(n)));
  }
  int channels_of(int index) const { return model_.nodes[index].channels; }

  // One node per polynomial, however many aliases (Identity, zero Pad) its consumers read it through.
  int materialize(const std::string& tensor, const Symbol& s) {
    if (std::holds_alternative<int>(s)) return std::get<int>(s);
    const std::string key = root(tensor);
    if (auto it = symbols_.find(key); it != symbols_.end() && std::holds_alternative<int>(it->second)) {
      const int index = std::get<int>(it->second);
      symbols_[tensor] = index;
      return index;
    }
    const Polynomial p = std::get<Polynomial>(s);
    if (p.is_identity()) return p.source;
    Node n;
    n.op = Op::Quadratic;
    n.name = key;
    n.inputs = {p.source};
    n.channels = p.channels();
    n.a = p.c2;
    n.b = p.c1;
    if (std::any_of(p.c0.begin(), p.c0.end(), [](double v) { return v != 0.0; })) n.c = p.c0;
    const int index = push(std::move(n));
    bind(key, index);
    if (tensor != key) bind(tensor, index);
    return index;
  }

  // Defines the node's output as p. An affine p of a conv or quadratic that nothing else reads folds into it.
  void define_polynomial(const onnx::NodeProto& node, const Symbol& operand, const Polynomial& p) {
    if (p.is_identity()) return define(node, p.source);
    if (std::holds_alternative<int>(operand) && p.is_affine() && references_[p.source] == 1) {
      Node& target = model_.nodes[p.source];
      if (target.op == Op::Conv2d || target.op == Op::StridedConv2x2 || target.op == Op::ConvTranspose2d ||
          target.op == Op::Quadratic) {
        fold_affine(target, p.c1, p.c0);
        target.name = node.output(0);
        return define(node, p.source);
      }
    }
    define(node, p);
  }

  // target <- s * target + t per output channel.
  static void fold_affine(Node& target, const std::vector<double>& s, const std::vector<double>& t) {
    const int channels = target.channels;
    if (target.op == Op::Quadratic) {
      if (target.c.empty()) target.c.assign(channels, 0.0);
      for (int o = 0; o < channels; ++o) {
        target.a[o] *= s[o];
        target.b[o] *= s[o];
        target.c[o] = target.c[o] * s[o] + t[o];
      }
      if (std::all_of(target.c.begin(), target.c.end(), [](double v) { return v == 0.0; })) target.c.clear();
      return;
    }
    const std::size_t taps = static_cast<std::size_t>(target.kernel) * target.kernel;
    for (int o = 0; o < channels; ++o) {
      if (target.op != Op::ConvTranspose2d) {  // weight [out][in][k][k]
        for (std::size_t j = 0; j < static_cast<std::size_t>(target.in_channels) * taps; ++j)
          target.weight[o * target.in_channels * taps + j] *= s[o];
      } else {
        for (int i = 0; i < target.in_channels; ++i)
          for (std::size_t j = 0; j < taps; ++j) target.weight[(static_cast<std::size_t>(i) * channels + o) * taps + j] *= s[o];
      }
      target.bias[o] = target.bias[o] * s[o] + t[o];
    }
  }

  // Conv: an odd kernel with same padding at stride 1, or the 2x2 kernel at stride 2 without padding (learned
  // downsampling).
  void conv(const onnx::NodeProto& node) {
    auto attrs = attributes(node, {"kernel_shape", "pads", "strides", "dilations", "group", "auto_pad"});
    check_auto_pad(node, attrs);
    const int x = node_input(node, 0);
    const Constant& w = constant_input(node, 1);
    require(node, w.dims.size() == 4 && w.dims[2] == w.dims[3], "weight must be [out, in, k, k]");
    const int k = static_cast<int>(w.dims[2]);
    const bool strided = k == 2;
    require(node, k % 2 == 1 || strided,
            "kernel " + std::to_string(k) + " (odd kernels keep same padding exact; 2x2 at stride 2 downsamples)");
    require(node, ints(attrs, "kernel_shape", {k, k}) == std::vector<std::int64_t>{k, k}, "kernel_shape mismatch");
    require(node, ints(attrs, "dilations", {1, 1}) == std::vector<std::int64_t>{1, 1}, "dilation must be 1");
    require(node, integer(attrs, "group", 1) == 1, "grouped convolution is not supported");
    if (strided) {
      require(node, ints(attrs, "strides", {1, 1}) == std::vector<std::int64_t>{2, 2},
              "a 2x2 kernel needs stride 2 (Conv2d(kernel_size=2, stride=2) downsamples)");
      require(node, ints(attrs, "pads", {0, 0, 0, 0}) == std::vector<std::int64_t>{0, 0, 0, 0},
              "a 2x2 kernel at stride 2 takes no padding");
    } else {
      require(node, ints(attrs, "strides", {1, 1}) == std::vector<std::int64_t>{1, 1},
              "stride must be 1 (downsample with AvgPool2d(2) or Conv2d(kernel_size=2, stride=2))");
      const std::int64_t p = k / 2;
      require(node, ints(attrs, "pads", {0, 0, 0, 0}) == std::vector<std::int64_t>{p, p, p, p},
              "pads must be " + std::to_string(p) + " on every side (same padding)");
    }
    define_conv(node, strided ? Op::StridedConv2x2 : Op::Conv2d, x, w, static_cast<int>(w.dims[1]),
                static_cast<int>(w.dims[0]), k);
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

  // 2x2 windows, stride 2, no padding: count_include_pad cannot matter.
  void pool(const onnx::NodeProto& node) {
    auto attrs = attributes(node, {"kernel_shape", "pads", "strides", "ceil_mode", "count_include_pad", "auto_pad",
                                   "dilations", "storage_order"});
    const std::string use = " (use AvgPool2d(2))";
    check_auto_pad(node, attrs);
    require(node, ints(attrs, "kernel_shape", {}) == std::vector<std::int64_t>{2, 2}, "kernel must be 2x2" + use);
    require(node, ints(attrs, "strides", {1, 1}) == std::vector<std::int64_t>{2, 2}, "stride must be 2" + use);
    require(node, ints(attrs, "pads", {0, 0, 0, 0}) == std::vector<std::int64_t>{0, 0, 0, 0}, "pads must be 0" + use);
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

  void relu(const onnx::NodeProto& node) {
    attributes(node, {});
    Node n;
    n.op = Op::Relu;
    n.inputs = {node_input(node, 0)};
    n.channels = channels_of(n.inputs[0]);
    define_node(node, std::move(n));
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

  // Inference-mode batch norm: the per-channel affine map gamma (x - mean) / sqrt(var + eps) + beta.
  void batch_norm(const onnx::NodeProto& node) {
    auto attrs = attributes(node, {"epsilon", "momentum", "training_mode", "spatial"});
    require(node, integer(attrs, "training_mode", 0) == 0, "training_mode must be 0 (export the model in eval mode)");
    require(node, node.output_size() == 1, "training-mode outputs are not supported (export in eval mode)");
    const double eps = attrs.count("epsilon") ? attrs.at("epsilon")->f() : 1e-5;
    const Symbol& x = symbol(node, 0);
    if (std::holds_alternative<Constant>(x)) fail(node, "input must be a layer output");
    const Polynomial p = polynomial_of(x);
    const int c = p.channels();
    const auto gamma = per_channel(node, constant_input(node, 1), c);
    const auto beta = per_channel(node, constant_input(node, 2), c);
    const auto mean = per_channel(node, constant_input(node, 3), c);
    const auto var = per_channel(node, constant_input(node, 4), c);
    std::vector<double> s(c), t(c);
    for (int o = 0; o < c; ++o) {
      require(node, var[o] + eps > 0, "non-positive variance");
      s[o] = gamma[o] / std::sqrt(var[o] + eps);
      t[o] = beta[o] - mean[o] * s[o];
    }
    define_polynomial(node, x, p.affine(s, t));
  }

  // Mul, Add, Sub, Div, Pow, Neg on layer outputs and constants: a polynomial of one layer output, or the sum of two
  // layer outputs (a residual connection).
  void elementwise(const onnx::NodeProto& node) {
    attributes(node, {});
    const std::string& op = node.op_type();
    if (op == "Neg") {
      const Symbol& x = symbol(node, 0);
      const Polynomial p = polynomial_of(x);
      return define_polynomial(node, x, p.affine(std::vector<double>(p.channels(), -1.0),
                                                 std::vector<double>(p.channels(), 0.0)));
    }
    const Symbol& l = symbol(node, 0);
    const Symbol& r = symbol(node, 1);
    const bool l_const = std::holds_alternative<Constant>(l), r_const = std::holds_alternative<Constant>(r);
    if (l_const || r_const) {
      const Symbol& x = l_const ? r : l;
      const Polynomial p = polynomial_of(x);
      const int channels = p.channels();
      const auto k = per_channel(node, std::get<Constant>(l_const ? l : r), channels);
      const std::vector<double> zero(channels, 0.0), one(channels, 1.0);
      std::vector<double> negated(k), inverse(k);
      for (int c = 0; c < channels; ++c) negated[c] = -k[c], inverse[c] = 1.0 / k[c];
      if (op == "Mul") return define_polynomial(node, x, p.affine(k, zero));
      if (op == "Add") return define_polynomial(node, x, p.affine(one, k));
      if (op == "Sub")
        return define_polynomial(node, x, r_const ? p.affine(one, negated) : p.affine(std::vector<double>(channels, -1.0), k));
      require(node, r_const, "division or power with a tensor operand on the right is not polynomial");
      if (op == "Div") {
        require(node, std::all_of(k.begin(), k.end(), [](double v) { return v != 0.0; }), "division by zero");
        return define_polynomial(node, x, p.affine(inverse, zero));
      }
      const Constant& exponent = std::get<Constant>(r);
      require(node, exponent.size() == 1 && (exponent.values[0] == 1.0 || exponent.values[0] == 2.0),
              "only the exponents 1 and 2 are supported (" + std::string(kPolynomialActivation) + ")");
      if (exponent.values[0] == 1.0) return define(node, x);
      return define_polynomial(node, x, square(node, p, p));
    }
    const Polynomial pl = polynomial_of(l), pr = polynomial_of(r);
    if (pl.source == pr.source) {
      if (op == "Add") return define_polynomial(node, l, pl.plus(pr));
      if (op == "Sub") return define_polynomial(node, l, pl.plus(pr, -1.0));
      if (op == "Mul") return define_polynomial(node, l, square(node, pl, pr));
      fail(node, "division by a tensor is not HE-friendly");
    }
    require(node, op == "Add" || op == "Sub",
            "product or quotient of two different tensors (only the square of one tensor is supported: " +
                std::string(kPolynomialActivation) + ")");
    Node n;
    n.op = Op::Add;
    n.inputs = {node_input(node, 0), node_input(node, 1)};
    if (op == "Sub") {
      const int index = n.inputs[1];
      Polynomial negated = Polynomial::identity(index, channels_of(index));
      negated = negated.affine(std::vector<double>(negated.channels(), -1.0), std::vector<double>(negated.channels(), 0.0));
      n.inputs[1] = materialize(node.output(0) + ".negated", negated);
    }
    require(node, channels_of(n.inputs[0]) == channels_of(n.inputs[1]), "inputs differ in channels");
    n.channels = channels_of(n.inputs[0]);
    define_node(node, std::move(n));
  }

  Polynomial square(const onnx::NodeProto& node, const Polynomial& p, const Polynomial& q) {
    auto product = p.times(q);
    if (!product) fail(node, "polynomial of degree above 2 (" + std::string(kPolynomialActivation) + ")");
    return *product;
  }

  void identity(const onnx::NodeProto& node) { define(node, symbol(node, 0)); }

  // Pad is accepted only with zero size (torch writes one before every AvgPool2d), where it is the identity.
  void pad(const onnx::NodeProto& node) {
    auto attrs = attributes(node, {"mode", "pads", "value"});
    std::vector<std::int64_t> pads = ints(attrs, "pads", {});
    if (node.input_size() > 1 && !node.input(1).empty())
      for (double v : constant_input(node, 1).values) pads.push_back(static_cast<std::int64_t>(v));
    require(node, std::all_of(pads.begin(), pads.end(), [](std::int64_t v) { return v == 0; }),
            "non-zero padding (use same-padding convolutions and AvgPool2d(2) without padding)");
    define(node, symbol(node, 0));
  }

  // The shape of a layer output, if the input size is fixed (then the size arithmetic after it folds).
  void shape(const onnx::NodeProto& node) {
    attributes(node, {});
    const Symbol& x = symbol(node, 0);
    const Shape s = shapes_[polynomial_of(x).source];
    require(node, std::all_of(s.begin(), s.end(), [](std::int64_t d) { return d > 0; }),
            "size of a tensor known only at run time: export with a fixed input size (no dynamic_axes) or "
            "remove the size arithmetic");
    Constant c;
    c.dims = {4};
    c.values.assign(s.begin(), s.end());
    c.integer = true;
    define(node, std::move(c));
  }

  // Keeps the ancestors of the output so that the output is the last node, in graph order except that each
  // quadratic comes right after the node it reads, as exporters write it (polynomials become nodes only when a
  // layer reads them).
  Model prune(int output) {
    const int count = output + 1;
    std::vector<bool> keep(count, false);
    keep[output] = true;
    keep[0] = true;
    for (int i = output; i >= 0; --i)
      if (keep[i])
        for (int in : model_.nodes[i].inputs) keep[in] = true;
    std::vector<int> order;
    std::vector<bool> placed(count, false);
    auto place = [&](int i) {
      order.push_back(i);
      placed[i] = true;
    };
    for (int i = 0; i < count; ++i) {
      if (!keep[i] || placed[i]) continue;
      place(i);
      for (int j = i + 1; j < output; ++j)
        if (keep[j] && model_.nodes[j].op == Op::Quadratic && model_.nodes[j].inputs[0] == i) place(j);
    }
    std::vector<int> remap(count, -1);
    Model pruned;
    pruned.name = model_.name;
    for (int i : order) {
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
  std::vector<Shape> shapes_;  // per model node
  Shape input_shape_{-1, 1, -1, -1};
  std::map<std::string, Symbol> symbols_;
  std::map<std::string, int> uses_;               // per alias root
  std::map<std::string, std::string> alias_of_;   // Identity / Pad output -> the tensor it forwards
  std::map<int, int> references_;                 // model node -> uses of every tensor bound to it
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
