// Builds small ONNX graphs in memory for loader tests.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

namespace cryptounet::nn::test {

class OnnxBuilder {
 public:
  OnnxBuilder() {
    model_.set_ir_version(8);
    auto* opset = model_.add_opset_import();
    opset->set_domain("");
    opset->set_version(13);
    auto* in = graph()->add_input();
    in->set_name("image");
    auto* shape = in->mutable_type()->mutable_tensor_type()->mutable_shape();
    in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    shape->add_dim()->set_dim_param("N");
    shape->add_dim()->set_dim_value(1);
    shape->add_dim()->set_dim_param("H");
    shape->add_dim()->set_dim_param("W");
  }

  onnx::GraphProto* graph() { return model_.mutable_graph(); }

  void initializer(const std::string& name, const std::vector<std::int64_t>& dims, const std::vector<float>& values) {
    auto* t = graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (float v : values) t->add_float_data(v);
  }

  onnx::NodeProto* node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                        const std::string& output) {
    auto* n = graph()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(output);
    return n;
  }

  static void ints(onnx::NodeProto* n, const std::string& name, const std::vector<std::int64_t>& values) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (auto v : values) a->add_ints(v);
  }
  static void real(onnx::NodeProto* n, const std::string& name, float value) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
    a->set_f(value);
  }

  std::string bytes(const std::string& output) {
    graph()->add_output()->set_name(output);
    return model_.SerializeAsString();
  }

 private:
  onnx::ModelProto model_;
};

}  // namespace cryptounet::nn::test
