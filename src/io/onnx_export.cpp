// Float graph → ONNX (opset 13, IR version 8). Every OpKind maps to one ONNX node; Linear becomes
// Gemm(transB=1) so W keeps its [out, in] layout and the bits of every parameter survive a round trip.
// The building blocks (model header, tensor names, one node per op) are declared in
// onnx_export_internal.hpp, so that the QDQ exporter (src/quant/qdq.cpp) writes the same nodes.
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "onnx_export_internal.hpp"
#include "pocket/onnx.hpp"

#ifndef POCKET_IO_VERSION
#define POCKET_IO_VERSION "dev"
#endif

namespace pocket {
namespace onnx_export {
namespace {

constexpr const char* kNormalizationKey = "pocket.normalization";

void append_le32(std::string& out, uint32_t u) {
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((u >> (8 * b)) & 0xffu));
}

}  // namespace

void set_float_tensor(onnx::TensorProto* t, const std::string& name, const Shape& dims, const std::vector<float>& data) {
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  std::string raw;
  raw.reserve(4 * data.size());
  for (float v : data) {
    uint32_t u = 0;
    std::memcpy(&u, &v, 4);
    append_le32(raw, u);
  }
  t->set_raw_data(std::move(raw));
}

void set_int64_tensor(onnx::TensorProto* t, const std::string& name, const std::vector<int64_t>& data) {
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_INT64);
  t->add_dims(static_cast<int64_t>(data.size()));
  std::string raw;
  raw.reserve(8 * data.size());
  for (int64_t v : data) {
    const auto u = static_cast<uint64_t>(v);
    append_le32(raw, static_cast<uint32_t>(u & 0xffffffffu));
    append_le32(raw, static_cast<uint32_t>(u >> 32));
  }
  t->set_raw_data(std::move(raw));
}

void set_value_info(onnx::ValueInfoProto* vi, const std::string& name, const Shape& shape) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  auto* s = tt->mutable_shape();
  for (size_t i = 0; i < shape.size(); ++i) {
    auto* d = s->add_dim();
    if (i == 0) {
      d->set_dim_param("N");  // any batch size
    } else {
      d->set_dim_value(shape[i]);
    }
  }
}

std::string Names::take(const std::string& wanted) {
  const std::string base = wanted.empty() ? "t" : wanted;
  std::string name = base;
  for (int k = 1; used_.count(name) != 0; ++k) name = base + "_" + std::to_string(k);
  used_.insert(name);
  return name;
}

namespace {

void add_ints(onnx::NodeProto* n, const char* name, std::initializer_list<int64_t> values) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (int64_t v : values) a->add_ints(v);
}

void add_int(onnx::NodeProto* n, const char* name, int64_t value) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(value);
}

void add_float(onnx::NodeProto* n, const char* name, float value) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
  a->set_f(value);
}

void add_string(onnx::NodeProto* n, const char* name, const std::string& value) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_STRING);
  a->set_s(value);
}

void emit_pool_attrs(onnx::NodeProto* n, const Attrs& a) {
  add_ints(n, "kernel_shape", {a.kernel[0], a.kernel[1]});
  add_ints(n, "strides", {a.stride[0], a.stride[1]});
  add_ints(n, "pads", {a.pads[0], a.pads[1], a.pads[2], a.pads[3]});
}

}  // namespace

Status check_exportable(const Graph& g) {
  const auto nv = static_cast<int>(g.values.size());
  if (g.input < 0 || g.input >= nv || g.values[static_cast<size_t>(g.input)].kind != ValueKind::Input) {
    return Error{"cannot export: the graph has no input"};
  }
  if (g.output < 0 || g.output >= nv || g.output == g.input) return Error{"cannot export: the graph has no output"};
  for (const Node& n : g.nodes) {
    for (int id : n.inputs) {
      if (id < 0 || id >= nv) return Error{"cannot export: node '" + n.name + "' has an input id out of range"};
    }
    if (n.output < 0 || n.output >= nv) return Error{"cannot export: node '" + n.name + "' has a bad output"};
  }
  return Status::ok();
}

void begin_model(onnx::ModelProto& model, const Graph& g) {
  model.set_ir_version(kIrVersion);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  model.set_producer_name("pocket");
  model.set_producer_version(POCKET_IO_VERSION);
  for (const auto& [key, value] : g.metadata) {
    if (key == kNormalizationKey) continue;  // written from g.normalization below
    auto* p = model.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  }
  if (g.normalization.known()) {
    auto* p = model.add_metadata_props();
    p->set_key(kNormalizationKey);
    p->set_value(g.normalization.spec());
  }
  const auto model_name = g.metadata.find("pocket.model");
  model.mutable_graph()->set_name(model_name != g.metadata.end() ? model_name->second : "pocket");
}

std::vector<std::string> value_names(const Graph& g, Names& names) {
  // "input" and "output" are fixed, the rest keep their names (made unique).
  names.reserve("input");
  names.reserve("output");
  std::vector<std::string> out(g.values.size());
  for (size_t i = 0; i < g.values.size(); ++i) {
    if (static_cast<int>(i) == g.input) {
      out[i] = "input";
    } else if (static_cast<int>(i) == g.output) {
      out[i] = "output";
    } else {
      out[i] = names.take(g.values[i].name);
    }
  }
  return out;
}

std::vector<bool> used_values(const Graph& g) {
  std::vector<bool> used(g.values.size(), false);
  for (const Node& n : g.nodes) {
    for (int id : n.inputs) used[static_cast<size_t>(id)] = true;
  }
  return used;
}

Status emit_param(onnx::GraphProto* gp, const Value& v, const std::string& name) {
  if (numel(v.shape) != v.init.numel()) {
    return Error{"cannot export: parameter '" + v.name + "' has data that does not match its shape " + shape_str(v.shape)};
  }
  set_float_tensor(gp->add_initializer(), name, v.shape, v.init.data);
  return Status::ok();
}

void emit_node(onnx::GraphProto* gp, const Node& n, const std::vector<std::string>& inputs, const std::string& output,
               Names& names) {
  auto* on = gp->add_node();
  on->set_name(n.name);
  for (const std::string& in : inputs) on->add_input(in);
  on->add_output(output);
  const Attrs& a = n.attrs;
  switch (n.kind) {
    case OpKind::Conv:
      on->set_op_type("Conv");
      emit_pool_attrs(on, a);
      add_ints(on, "dilations", {a.dilation[0], a.dilation[1]});
      add_int(on, "group", a.groups);
      break;
    case OpKind::MaxPool:
      on->set_op_type("MaxPool");
      emit_pool_attrs(on, a);
      if (a.dilation != std::array<int, 2>{1, 1}) add_ints(on, "dilations", {a.dilation[0], a.dilation[1]});
      break;
    case OpKind::AveragePool:
      on->set_op_type("AveragePool");
      emit_pool_attrs(on, a);
      add_int(on, "count_include_pad", a.count_include_pad ? 1 : 0);
      break;
    case OpKind::GlobalAveragePool:
      on->set_op_type("GlobalAveragePool");
      break;
    case OpKind::Relu:
      on->set_op_type("Relu");
      break;
    case OpKind::Clip: {
      // Opset 13: min and max are optional scalar inputs; an infinite bound is left out.
      on->set_op_type("Clip");
      const bool has_min = !(std::isinf(a.clip_min) && a.clip_min < 0);
      const bool has_max = !(std::isinf(a.clip_max) && a.clip_max > 0);
      if (has_min || has_max) {
        std::string min_name;
        if (has_min) {
          min_name = names.take(n.name + ".min");
          set_float_tensor(gp->add_initializer(), min_name, {}, {a.clip_min});
        }
        on->add_input(min_name);
      }
      if (has_max) {
        const std::string max_name = names.take(n.name + ".max");
        set_float_tensor(gp->add_initializer(), max_name, {}, {a.clip_max});
        on->add_input(max_name);
      }
      break;
    }
    case OpKind::Add:
      on->set_op_type("Add");
      break;
    case OpKind::Linear:
      on->set_op_type("Gemm");
      add_int(on, "transB", 1);
      break;
    case OpKind::Flatten:
      on->set_op_type("Flatten");
      add_int(on, "axis", a.axis);
      break;
    case OpKind::Reshape: {
      on->set_op_type("Reshape");
      // pocket keeps dim 0 as the batch, and a leading 1 means "the batch" (see shape_ops.cpp); ONNX
      // needs 0 ("copy the input dim") for that to hold at the declared dynamic batch N.
      std::vector<int64_t> target = a.target_shape;
      if (!target.empty() && target[0] == 1) target[0] = 0;
      const std::string shape_name = names.take(n.name + ".shape");
      set_int64_tensor(gp->add_initializer(), shape_name, target);
      on->add_input(shape_name);
      break;
    }
    case OpKind::BatchNorm:
      on->set_op_type("BatchNormalization");
      add_float(on, "epsilon", a.epsilon);
      break;
    case OpKind::Softmax:
      on->set_op_type("Softmax");
      add_int(on, "axis", a.axis);
      break;
    case OpKind::Pad: {
      on->set_op_type("Pad");
      add_string(on, "mode", "constant");
      const std::string pads_name = names.take(n.name + ".pads");
      set_int64_tensor(gp->add_initializer(), pads_name, a.pad_amounts);
      on->add_input(pads_name);
      const std::string value_name = names.take(n.name + ".value");
      set_float_tensor(gp->add_initializer(), value_name, {}, {a.pad_value});
      on->add_input(value_name);
      break;
    }
  }
}

}  // namespace onnx_export

Result<std::string> serialize_onnx(const Graph& g) {
  using namespace onnx_export;
  POCKET_TRY(check_exportable(g));
  onnx::ModelProto model;
  begin_model(model, g);
  onnx::GraphProto* gp = model.mutable_graph();

  Names names;
  const std::vector<std::string> tensor = value_names(g, names);
  const std::vector<bool> used = used_values(g);
  set_value_info(gp->add_input(), "input", g.input_shape());
  set_value_info(gp->add_output(), "output", g.output_shape());
  for (size_t i = 0; i < g.values.size(); ++i) {
    if (g.values[i].kind != ValueKind::Param || !used[i]) continue;
    POCKET_TRY(emit_param(gp, g.values[i], tensor[i]));
  }
  for (const Node& n : g.nodes) {
    std::vector<std::string> inputs;
    inputs.reserve(n.inputs.size());
    for (int id : n.inputs) inputs.push_back(tensor[static_cast<size_t>(id)]);
    emit_node(gp, n, inputs, tensor[static_cast<size_t>(n.output)], names);
  }

  std::string bytes;
  if (!model.SerializeToString(&bytes)) return Error{"cannot export: protobuf serialization failed (model over 2 GiB?)"};
  return bytes;
}

}  // namespace pocket
