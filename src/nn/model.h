// The model representation every layer codes against (docs/CONTRACTS.md, "src/nn"): a topologically ordered list
// of nodes; node 0 is the input (C channels: 1 gray, 3 RGB), the last node the K-channel logit map (K >= 1; what the
// channels mean is the sidecar's "output", nn/model_info.h).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cryptounet::nn {

enum class Op {
  Input,            // the normalized image, C channels
  Conv2d,           // same-padding conv, odd kernel k, BN folded; weight [out][in][k][k], bias [out]
  ConvTranspose2d,  // kernel 2, stride 2; weight [in][out][2][2] (PyTorch layout), bias [out]
  StridedConv2x2,   // kernel 2, stride 2, no padding (learned downsampling); weight [out][in][2][2], bias [out]
  AvgPool2x2,       // mean of each 2x2 block, stride 2
  Quadratic,        // y -> a[c] y^2 + b[c] y + c[c] per channel (pure square: a = 1, b = 0, c empty = 0)
  Concat,           // channel concatenation of inputs[0], inputs[1] (in that order)
  Add,              // elementwise sum of inputs[0] and inputs[1] (same shape)
  Relu,             // standard (non-HE) reference model only
  MaxPool2x2,       // standard (non-HE) reference model only
};

const char* op_name(Op op);
// Whether a node of this op halves the spatial size (poolings, the strided convolution) or doubles it (the
// transposed convolution).
bool halves_resolution(Op op);
bool doubles_resolution(Op op);

struct Node {
  Op op = Op::Input;
  std::string name;         // the ONNX tensor this node produces (keys of ModelInfo::activation_ranges)
  std::vector<int> inputs;  // indices of earlier nodes
  int channels = 0;         // output channels
  int in_channels = 0;      // Conv2d / StridedConv2x2 / ConvTranspose2d: input channels
  int kernel = 0;           // Conv2d: odd; StridedConv2x2, ConvTranspose2d: 2
  int padding = 0;          // Conv2d: kernel / 2; the others 0
  std::vector<double> weight;
  std::vector<double> bias;
  std::vector<double> a;    // Quadratic
  std::vector<double> b;    // Quadratic
  std::vector<double> c;    // Quadratic constant term; empty when zero

  // Conv2d and StridedConv2x2 weight w[o][i][ky][kx]; ConvTranspose2d weight w[i][o][ky][kx].
  double conv_weight(int o, int i, int ky, int kx) const {
    return weight[((static_cast<std::size_t>(o) * in_channels + i) * kernel + ky) * kernel + kx];
  }
  double conv_transpose_weight(int i, int o, int ky, int kx) const {
    return weight[((static_cast<std::size_t>(i) * channels + o) * kernel + ky) * kernel + kx];
  }
};

struct Model {
  std::string name;
  std::vector<Node> nodes;

  const Node& input() const { return nodes.front(); }
  const Node& output() const { return nodes.back(); }
  int index_of(const std::string& node_name) const;  // -1 if absent
  // Checks the invariants above (topological order, shapes of weights, channel counts); throws naming the node.
  void validate() const;
  // Number of downsampling steps (poolings, strided convolutions) along the deepest path (the input side must be
  // divisible by 2^depth).
  int pooling_depth() const;
};

}  // namespace cryptounet::nn
