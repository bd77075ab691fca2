// QModel <-> ONNX QDQ (QuantizeLinear / DequantizeLinear), format described in pocket/qdq.hpp.
//
// Export writes the float graph with the float exporter's own node code (src/io/onnx_export_internal.hpp)
// and wraps its tensors in Q/DQ. Import strips the Q/DQ nodes again, turning every
// DequantizeLinear of an integer initializer into a float initializer, hands the resulting plain
// float model to the float importer (parse_onnx), and then rebuilds the QModel from the integer
// initializers and the pocket.qmodel metadata, checking that the two agree.
#include "pocket/qdq.hpp"
#include "pocket/quant_json.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "../io/onnx_export_internal.hpp"
#include "pocket/fileio.hpp"
#include "pocket/onnx.hpp"

namespace pocket {
namespace {

using nlohmann::json;
namespace ox = onnx_export;

constexpr const char* kFormatName = "pocket-qdq";

bool is_weight_layer(OpKind k) { return k == OpKind::Conv || k == OpKind::Linear; }

// ------------------------------------------------------------------------------------------------
// Metadata JSON
// ------------------------------------------------------------------------------------------------


// ------------------------------------------------------------------------------------------------
// Integer tensors
// ------------------------------------------------------------------------------------------------

void set_int8_tensor(onnx::TensorProto* t, const std::string& name, const Shape& dims, const std::vector<int8_t>& data) {
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_INT8);
  for (int64_t d : dims) t->add_dims(d);
  std::string raw(data.size(), '\0');
  if (!data.empty()) std::memcpy(raw.data(), data.data(), data.size());
  t->set_raw_data(std::move(raw));
}

void set_int32_tensor(onnx::TensorProto* t, const std::string& name, const Shape& dims, const std::vector<int32_t>& data) {
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_INT32);
  for (int64_t d : dims) t->add_dims(d);
  std::string raw;
  raw.reserve(4 * data.size());
  for (int32_t v : data) {
    const auto u = static_cast<uint32_t>(v);
    for (int b = 0; b < 4; ++b) raw.push_back(static_cast<char>((u >> (8 * b)) & 0xffu));
  }
  t->set_raw_data(std::move(raw));
}

// A scale tensor: a scalar, or a vector [n] (per axis).
Shape scale_dims(size_t n, bool per_axis) { return per_axis ? Shape{static_cast<int64_t>(n)} : Shape{}; }

// A decoded initializer: integers (INT8, INT32) or floats (FLOAT), with its dims.
struct Decoded {
  int32_t type = 0;
  Shape dims;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  size_t size() const { return type == onnx::TensorProto_DataType_FLOAT ? floats.size() : ints.size(); }
};

Result<Decoded> decode(const onnx::TensorProto& t) {
  Decoded d;
  d.type = t.data_type();
  for (int64_t x : t.dims()) {
    if (x < 0) return Error{"initializer '" + t.name() + "' has a negative dimension"};
    d.dims.push_back(x);
  }
  if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) {
    return Error{"initializer '" + t.name() + "' keeps its data in an external file; pocket needs it inside the model"};
  }
  const int64_t n = numel(d.dims);
  const std::string& raw = t.raw_data();
  const bool has_raw = t.has_raw_data();
  auto count_error = [&](int64_t have) {
    return Error{"initializer '" + t.name() + "' has " + std::to_string(have) + " values for shape " + shape_str(d.dims)};
  };
  switch (d.type) {
    case onnx::TensorProto_DataType_INT8: {
      if (has_raw) {
        if (static_cast<int64_t>(raw.size()) != n) return count_error(static_cast<int64_t>(raw.size()));
        for (char c : raw) d.ints.push_back(static_cast<int8_t>(c));
      } else {
        if (t.int32_data_size() != n) return count_error(t.int32_data_size());
        for (int32_t v : t.int32_data()) {
          if (v < -128 || v > 127) return Error{"initializer '" + t.name() + "' holds a value outside int8"};
          d.ints.push_back(v);
        }
      }
      return d;
    }
    case onnx::TensorProto_DataType_INT32: {
      if (has_raw) {
        if (static_cast<int64_t>(raw.size()) != 4 * n) return count_error(static_cast<int64_t>(raw.size() / 4));
        for (size_t i = 0; i < raw.size(); i += 4) {
          uint32_t u = 0;
          for (size_t b = 0; b < 4; ++b) u |= static_cast<uint32_t>(static_cast<uint8_t>(raw[i + b])) << (8 * b);
          d.ints.push_back(static_cast<int32_t>(u));
        }
      } else {
        if (t.int32_data_size() != n) return count_error(t.int32_data_size());
        for (int32_t v : t.int32_data()) d.ints.push_back(v);
      }
      return d;
    }
    case onnx::TensorProto_DataType_FLOAT: {
      if (has_raw) {
        if (static_cast<int64_t>(raw.size()) != 4 * n) return count_error(static_cast<int64_t>(raw.size() / 4));
        d.floats.resize(static_cast<size_t>(n));
        for (size_t i = 0; i < d.floats.size(); ++i) {
          uint32_t u = 0;
          for (size_t b = 0; b < 4; ++b) u |= static_cast<uint32_t>(static_cast<uint8_t>(raw[4 * i + b])) << (8 * b);
          std::memcpy(&d.floats[i], &u, 4);
        }
      } else {
        if (t.float_data_size() != n) return count_error(t.float_data_size());
        d.floats.assign(t.float_data().begin(), t.float_data().end());
      }
      return d;
    }
    default:
      return Error{"initializer '" + t.name() + "' has data type " +
                   (onnx::TensorProto_DataType_IsValid(d.type)
                        ? onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(d.type))
                        : std::to_string(d.type)) +
                   "; a QDQ model written by pocket uses INT8, INT32 and FLOAT"};
  }
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const char* name) {
  for (const auto& a : n.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

// float32 equality of a double parameter with the float32 the file holds.
bool same_f32(double exact, float stored) { return static_cast<float>(exact) == stored; }

}  // namespace

// ================================================================================================
// Export
// ================================================================================================

Result<std::string> serialize_qdq(const QModel& m) {
  const Graph& g = m.graph;
  const bool acts = !m.config.weight_only;
  if (acts && m.config.act_bits != 8) {
    return Error{"16-bit activations cannot be expressed in ONNX opset 13 QDQ (QuantizeLinear has no int16 output "
                 "before opset 21): export a model quantized with --act-bits 8, or a --weight-only one"};
  }
  if (m.config.weight_bits > 8) {
    return Error{std::to_string(m.config.weight_bits) + "-bit weights cannot be stored as int8"};
  }
  POCKET_TRY(ox::check_exportable(g));
  const size_t nv = g.values.size();
  const std::vector<int> src = activation_sources(g);

  // The quantization of every value the engine materialises (by value id; null: stays float).
  std::vector<const TensorQuant*> act(nv, nullptr);
  if (acts) {
    for (size_t v = 0; v < nv; ++v) {
      if (src[v] < 0) continue;
      const std::string& source = g.values[static_cast<size_t>(src[v])].name;
      const auto it = m.activations.find(source);
      if (it == m.activations.end()) {
        return Error{"cannot export: the quantized model has no parameters for activation '" + source + "'"};
      }
      const TensorQuant& t = it->second;
      if (t.bits != 8) {
        return Error{"activation '" + source + "' is " + std::to_string(t.bits) +
                     "-bit: 16-bit activations cannot be expressed in ONNX opset 13 QDQ"};
      }
      if (t.scale.size() != 1 || t.zero_point.size() != 1 || !(static_cast<float>(t.scale[0]) > 0.0f) ||
          !std::isfinite(static_cast<float>(t.scale[0])) || t.zero_point[0] < -128 || t.zero_point[0] > 127) {
        return Error{"cannot export: activation '" + source + "' has invalid quantization parameters"};
      }
      act[v] = &t;
    }
  }

  // Weight layers: which node each quantized bias belongs to.
  std::map<int, size_t> bias_node;  // bias value id -> node index
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!is_weight_layer(n.kind) || n.inputs.size() < 3) continue;
    const auto [it, fresh] = bias_node.emplace(n.inputs[2], i);
    if (!fresh && g.nodes[it->second].inputs[1] != n.inputs[1]) {
      return Error{"cannot export: bias '" + g.values[static_cast<size_t>(n.inputs[2])].name +
                   "' is shared by layers with different weights"};
    }
  }

  onnx::ModelProto model;
  ox::begin_model(model, g);
  onnx::GraphProto* gp = model.mutable_graph();
  ox::Names names;
  const std::vector<std::string> tensor = ox::value_names(g, names);
  const std::vector<bool> used = ox::used_values(g);
  ox::Names node_names;
  for (const Node& n : g.nodes) node_names.reserve(n.name);

  // Names: what the float op writes (pre) and what consumers read (post, the dequantized tensor).
  std::vector<std::string> pre = tensor, post = tensor;
  for (size_t v = 0; v < nv; ++v) {
    if (!act[v]) continue;
    if (static_cast<int>(v) == g.output) {
      pre[v] = names.take(tensor[v] + "_float");
    } else {
      post[v] = names.take(tensor[v] + "_dequantized");
    }
  }

  json meta;
  meta["format"] = kFormatName;
  meta["version"] = kQdqFormatVersion;
  meta["config"] = to_json(m.config);
  meta["provenance"] = m.provenance;
  meta["activations"] = json::object();
  meta["weights"] = json::object();
  meta["names"] = json::object();
  for (size_t v = 0; v < nv; ++v) {
    if (tensor[v] != g.values[v].name) meta["names"][tensor[v]] = g.values[v].name;
  }

  ox::set_value_info(gp->add_input(), "input", g.input_shape());
  ox::set_value_info(gp->add_output(), "output", g.output_shape());

  auto add_dq = [&](const std::string& x, const std::string& scale, const std::string& zp, const std::string& y,
                    bool per_axis) {
    auto* n = gp->add_node();
    n->set_op_type("DequantizeLinear");
    n->set_name(node_names.take(y + "_DequantizeLinear"));
    n->add_input(x);
    n->add_input(scale);
    n->add_input(zp);
    n->add_output(y);
    if (per_axis) {
      auto* a = n->add_attribute();
      a->set_name("axis");
      a->set_type(onnx::AttributeProto_AttributeType_INT);
      a->set_i(0);
    }
  };

  // Parameters: quantized weights and biases as integer initializers + DequantizeLinear writing the
  // name the op reads; everything else as float initializers.
  for (size_t v = 0; v < nv; ++v) {
    const Value& val = g.values[v];
    if (val.kind != ValueKind::Param || !used[v]) continue;
    const auto wq = m.weights.find(val.name);
    const auto qb = m.qbiases.find(val.name);
    if (wq != m.weights.end()) {
      const TensorQuant& t = wq->second;
      const auto q = m.qweights.find(val.name);
      if (q == m.qweights.end() || static_cast<int64_t>(q->second.size()) != val.init.numel() || val.shape.empty() ||
          numel(val.shape) != val.init.numel()) {
        return Error{"cannot export: weight '" + val.name + "' has no integer weights of its size"};
      }
      const auto out_c = static_cast<size_t>(val.shape[0]);
      const bool per_axis = m.config.per_channel;
      if (t.scale.size() != (per_axis ? out_c : 1u) || t.zero_point.size() != t.scale.size()) {
        return Error{"cannot export: weight '" + val.name + "' has " + std::to_string(t.scale.size()) +
                     " scales for " + std::to_string(out_c) + " output channels"};
      }
      std::vector<float> scales;
      std::vector<int8_t> zps;
      for (size_t c = 0; c < t.scale.size(); ++c) {
        const auto s = static_cast<float>(t.scale[c]);
        if (!(s > 0.0f) || !std::isfinite(s) || t.zero_point[c] != 0) {
          return Error{"cannot export: weight '" + val.name + "' channel " + std::to_string(c) +
                       " has a scale that is not a positive float32 or a zero point that is not 0"};
        }
        scales.push_back(s);
        zps.push_back(0);
      }
      const std::string qname = names.take(tensor[v] + "_quantized");
      const std::string sname = names.take(tensor[v] + "_scale");
      const std::string zname = names.take(tensor[v] + "_zero_point");
      set_int8_tensor(gp->add_initializer(), qname, val.shape, q->second);
      ox::set_float_tensor(gp->add_initializer(), sname, scale_dims(scales.size(), per_axis), scales);
      set_int8_tensor(gp->add_initializer(), zname, scale_dims(zps.size(), per_axis), zps);
      add_dq(qname, sname, zname, tensor[v], per_axis);
      meta["weights"][tensor[v]] = to_json(t);
    } else if (qb != m.qbiases.end()) {
      const auto bn = bias_node.find(static_cast<int>(v));
      if (bn == bias_node.end()) return Error{"cannot export: integer bias '" + val.name + "' is not a layer's bias"};
      const Node& n = g.nodes[bn->second];
      const std::string& wname = g.values[static_cast<size_t>(n.inputs[1])].name;
      const auto wt = m.weights.find(wname);
      const TensorQuant* in = acts ? act[static_cast<size_t>(n.inputs[0])] : nullptr;
      if (wt == m.weights.end() || !in) {
        return Error{"cannot export: integer bias '" + val.name + "' of node '" + n.name +
                     "' lacks the quantization of its weight or input"};
      }
      const std::vector<int32_t>& b = qb->second;
      if (static_cast<int64_t>(b.size()) != val.init.numel()) {
        return Error{"cannot export: integer bias '" + val.name + "' has the wrong size"};
      }
      const bool per_axis = wt->second.scale.size() > 1 || m.config.per_channel;
      if (per_axis && wt->second.scale.size() != b.size()) {
        return Error{"cannot export: bias '" + val.name + "' and weight '" + wname + "' disagree in channels"};
      }
      std::vector<float> scales;
      for (size_t c = 0; c < (per_axis ? b.size() : 1u); ++c) {
        const auto s = static_cast<float>(in->scale[0] * wt->second.scale[c]);
        if (!(s > 0.0f) || !std::isfinite(s)) {
          return Error{"cannot export: bias '" + val.name + "' scale s_in * s_w underflows float32"};
        }
        scales.push_back(s);
      }
      const std::string qname = names.take(tensor[v] + "_quantized");
      const std::string sname = names.take(tensor[v] + "_scale");
      const std::string zname = names.take(tensor[v] + "_zero_point");
      set_int32_tensor(gp->add_initializer(), qname, val.shape, b);
      ox::set_float_tensor(gp->add_initializer(), sname, scale_dims(scales.size(), per_axis), scales);
      set_int32_tensor(gp->add_initializer(), zname, scale_dims(scales.size(), per_axis),
                       std::vector<int32_t>(scales.size(), 0));
      add_dq(qname, sname, zname, tensor[v], per_axis);
    } else {
      if (acts && bias_node.count(static_cast<int>(v)) != 0) {
        return Error{"cannot export: bias '" + val.name + "' has no integer values (quantize the model again)"};
      }
      POCKET_TRY(ox::emit_param(gp, val, tensor[v]));
    }
  }

  // Activations: one scale / zero-point pair per quantization point, Q -> DQ after every value
  // that uses it.
  std::map<int, std::pair<std::string, std::string>> qparams;  // source value -> (scale, zero point)
  auto emit_qdq = [&](size_t v) {
    const int s = src[v];
    auto it = qparams.find(s);
    if (it == qparams.end()) {
      const TensorQuant& t = *act[v];
      const std::string& base = tensor[static_cast<size_t>(s)];
      const std::string sname = names.take(base + "_scale");
      const std::string zname = names.take(base + "_zero_point");
      ox::set_float_tensor(gp->add_initializer(), sname, {}, {static_cast<float>(t.scale[0])});
      set_int8_tensor(gp->add_initializer(), zname, {}, {static_cast<int8_t>(t.zero_point[0])});
      meta["activations"][base] = to_json(t);
      it = qparams.emplace(s, std::make_pair(sname, zname)).first;
    }
    const std::string qname = names.take(tensor[v] + "_quantized");
    auto* q = gp->add_node();
    q->set_op_type("QuantizeLinear");
    q->set_name(node_names.take(tensor[v] + "_QuantizeLinear"));
    q->add_input(pre[v]);
    q->add_input(it->second.first);
    q->add_input(it->second.second);
    q->add_output(qname);
    add_dq(qname, it->second.first, it->second.second, post[v], false);
  };

  if (act[static_cast<size_t>(g.input)]) emit_qdq(static_cast<size_t>(g.input));
  for (const Node& n : g.nodes) {
    std::vector<std::string> inputs;
    inputs.reserve(n.inputs.size());
    for (int id : n.inputs) inputs.push_back(post[static_cast<size_t>(id)]);
    ox::emit_node(gp, n, inputs, pre[static_cast<size_t>(n.output)], names);
    if (act[static_cast<size_t>(n.output)]) emit_qdq(static_cast<size_t>(n.output));
  }

  auto* p = model.add_metadata_props();
  p->set_key(kQdqMetadataKey);
  // Provenance comes from command lines and file names, which need not be UTF-8: replace bad bytes.
  p->set_value(meta.dump(-1, ' ', false, json::error_handler_t::replace));

  std::string bytes;
  if (!model.SerializeToString(&bytes)) return Error{"cannot export: protobuf serialization failed (model over 2 GiB?)"};
  return bytes;
}

Status save_qdq(const QModel& model, const std::string& path) {
  auto bytes = serialize_qdq(model);
  if (!bytes) return Error{path + ": " + bytes.message()};
  return write_file_atomic(path, bytes->data(), bytes->size());
}

// ================================================================================================
// Import
// ================================================================================================

namespace {

// A DequantizeLinear of an integer initializer (a weight or a bias).
struct ConstDq {
  std::string node;
  Decoded q;
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int64_t axis = 1;
  bool per_axis = false;
};

// A QuantizeLinear -> DequantizeLinear pair on a float tensor.
struct ActQdq {
  std::string node;
  float scale = 0;
  int64_t zero_point = 0;
};

class QdqReader {
 public:
  QdqReader(const onnx::ModelProto& model, std::string file) : model_(model), file_(std::move(file)) {}
  Result<QModel> run();

 private:
  Error fail(const std::string& msg) const { return Error{file_ + ": " + msg}; }
  Error fail_node(const onnx::NodeProto& n, const std::string& msg) const {
    return fail("node '" + n.name() + "' (" + n.op_type() + "): " + msg);
  }
  Result<Decoded> init(const onnx::NodeProto& n, int input) const;
  Status read_qdq_nodes();
  Result<std::string> float_model() const;
  Status restore_activations(QModel& m) const;
  Status restore_weights(QModel& m) const;

  const onnx::ModelProto& model_;
  std::string file_;
  std::map<std::string, const onnx::TensorProto*> inits_;
  std::map<std::string, ConstDq> const_dq_;      // by DQ output (the float parameter's name)
  std::map<std::string, std::string> alias_;     // DQ output of a Q/DQ pair -> the float tensor
  std::map<std::string, std::string> rename_;    // float tensor -> graph output name (quantized output)
  std::map<std::string, ActQdq> act_;            // by float tensor name (after rename_)
  std::vector<const onnx::NodeProto*> kept_;     // the float ops
};

Result<Decoded> QdqReader::init(const onnx::NodeProto& n, int input) const {
  if (n.input_size() <= input || n.input(input).empty()) {
    return fail_node(n, "input " + std::to_string(input) + " is missing");
  }
  const auto it = inits_.find(n.input(input));
  if (it == inits_.end()) return fail_node(n, "input '" + n.input(input) + "' must be an initializer");
  auto d = decode(*it->second);
  if (!d) return fail_node(n, d.message());
  return d;
}

Status QdqReader::read_qdq_nodes() {
  const onnx::GraphProto& gp = model_.graph();
  for (const auto& t : gp.initializer()) inits_[t.name()] = &t;
  std::map<std::string, int> uses;
  for (const auto& n : gp.node()) {
    for (const auto& in : n.input()) ++uses[in];
  }
  for (const auto& o : gp.output()) ++uses[o.name()];

  struct PendingQ {
    const onnx::NodeProto* node;
    float scale;
    int64_t zero_point;
  };
  std::map<std::string, PendingQ> pending;  // Q output -> Q
  for (const auto& n : gp.node()) {
    const bool q = n.op_type() == "QuantizeLinear", dq = n.op_type() == "DequantizeLinear";
    if (!(n.domain().empty() || n.domain() == "ai.onnx") || (!q && !dq)) {
      kept_.push_back(&n);
      continue;
    }
    if (n.output_size() != 1 || n.input_size() < 2) return fail_node(n, "expects 2 or 3 inputs and 1 output");
    POCKET_ASSIGN_OR_RETURN(const Decoded scale, init(n, 1));
    if (scale.type != onnx::TensorProto_DataType_FLOAT || scale.floats.empty() || scale.dims.size() > 1) {
      return fail_node(n, "the scale must be a float32 scalar or vector");
    }
    for (float s : scale.floats) {
      if (!(s > 0.0f) || !std::isfinite(s)) return fail_node(n, "a scale is not positive");
    }
    Decoded zp;
    if (n.input_size() > 2 && !n.input(2).empty()) {
      POCKET_ASSIGN_OR_RETURN(zp, init(n, 2));
      if (zp.size() != scale.size()) return fail_node(n, "the zero point and the scale differ in size");
    }
    const auto* axis_attr = find_attr(n, "axis");
    const int64_t axis = axis_attr ? axis_attr->i() : 1;
    if (q) {
      if (zp.type != onnx::TensorProto_DataType_INT8) {
        return fail_node(n, "the zero point must be int8 (uint8 and a missing zero point are not what pocket writes)");
      }
      if (scale.size() != 1 || !scale.dims.empty()) return fail_node(n, "activations must have a scalar scale");
      if (inits_.count(n.input(0)) != 0) return fail_node(n, "quantizes a constant; pocket quantizes computed tensors");
      if (uses[n.output(0)] != 1) return fail_node(n, "its output must feed exactly one DequantizeLinear");
      pending[n.output(0)] = PendingQ{&n, scale.floats[0], zp.ints[0]};
      continue;
    }
    const std::string& x = n.input(0);
    if (const auto p = pending.find(x); p != pending.end()) {
      if (scale.size() != 1 || zp.type != onnx::TensorProto_DataType_INT8 || scale.floats[0] != p->second.scale ||
          zp.ints[0] != p->second.zero_point) {
        return fail_node(n, "its scale and zero point differ from those of the QuantizeLinear '" +
                                p->second.node->name() + "' it reads");
      }
      const std::string& fx = p->second.node->input(0);
      if (const auto a = act_.find(fx); a != act_.end()) {
        if (a->second.scale != p->second.scale || a->second.zero_point != p->second.zero_point) {
          return fail_node(n, "tensor '" + fx + "' is quantized twice with different parameters");
        }
      }
      act_[fx] = ActQdq{n.name(), p->second.scale, p->second.zero_point};
      alias_[n.output(0)] = fx;
      pending.erase(p);
      continue;
    }
    if (inits_.count(x) == 0) {
      return fail_node(n, "reads '" + x + "', which is neither an integer initializer nor the output of a QuantizeLinear");
    }
    POCKET_ASSIGN_OR_RETURN(Decoded xq, init(n, 0));
    if (xq.type != onnx::TensorProto_DataType_INT8 && xq.type != onnx::TensorProto_DataType_INT32) {
      return fail_node(n, "dequantizes a tensor that is neither int8 nor int32");
    }
    ConstDq c;
    c.node = n.name();
    c.per_axis = !scale.dims.empty();
    c.axis = axis < 0 ? axis + static_cast<int64_t>(xq.dims.size()) : axis;
    if (c.per_axis && (c.axis < 0 || c.axis >= static_cast<int64_t>(xq.dims.size()) ||
                       xq.dims[static_cast<size_t>(c.axis)] != static_cast<int64_t>(scale.size()))) {
      return fail_node(n, "the per-axis scale has " + std::to_string(scale.size()) + " values, which does not match axis " +
                              std::to_string(axis) + " of " + shape_str(xq.dims));
    }
    if (!zp.dims.empty() || zp.size() != 0) {
      if (zp.type != xq.type) return fail_node(n, "the zero point's type differs from the tensor's");
      c.zero_point = zp.ints;
    } else {
      c.zero_point.assign(scale.size(), 0);
    }
    c.q = std::move(xq);
    c.scale = scale.floats;
    const auto [it, fresh] = const_dq_.emplace(n.output(0), std::move(c));
    if (!fresh) return fail_node(n, "tensor '" + n.output(0) + "' is produced twice");
  }
  if (!pending.empty()) {
    return fail_node(*pending.begin()->second.node, "its output is not read by a DequantizeLinear");
  }
  if (gp.output_size() == 1) {
    const auto a = alias_.find(gp.output(0).name());
    if (a != alias_.end()) {
      // The declared output is a dequantized tensor: the float op writes it under the output's name.
      rename_[a->second] = gp.output(0).name();
      auto node = act_.extract(a->second);
      if (!node.empty()) {
        node.key() = gp.output(0).name();
        act_.insert(std::move(node));
      }
      alias_.erase(a);
    }
  }
  return Status::ok();
}

// The plain float model: the kept ops reading float tensors, every integer DequantizeLinear
// replaced by a float initializer (provisionally (q - zp) * scale in float32; restore_weights then
// sets the QModel's exact values).
Result<std::string> QdqReader::float_model() const {
  auto resolve = [&](const std::string& name) {
    std::string r = name;
    if (const auto a = alias_.find(r); a != alias_.end()) r = a->second;
    if (const auto o = rename_.find(r); o != rename_.end()) r = o->second;
    return r;
  };
  onnx::ModelProto fm;
  fm.set_ir_version(model_.ir_version());
  *fm.mutable_opset_import() = model_.opset_import();
  fm.set_producer_name(model_.producer_name());
  fm.set_producer_version(model_.producer_version());
  for (const auto& p : model_.metadata_props()) {
    if (p.key() != kQdqMetadataKey) *fm.add_metadata_props() = p;
  }
  const onnx::GraphProto& gp = model_.graph();
  onnx::GraphProto* fg = fm.mutable_graph();
  fg->set_name(gp.name());
  *fg->mutable_input() = gp.input();
  *fg->mutable_output() = gp.output();
  std::set<std::string> read;
  for (const onnx::NodeProto* n : kept_) {
    auto* c = fg->add_node();
    *c = *n;
    for (int i = 0; i < c->input_size(); ++i) {
      if (c->input(i).empty()) continue;
      c->set_input(i, resolve(c->input(i)));
      read.insert(c->input(i));
    }
    for (int i = 0; i < c->output_size(); ++i) c->set_output(i, resolve(c->output(i)));
  }
  for (const auto& t : gp.initializer()) {
    if (read.count(t.name()) != 0) *fg->add_initializer() = t;
  }
  for (const auto& [name, c] : const_dq_) {
    if (read.count(name) == 0) continue;
    std::vector<float> f(c.q.ints.size());
    int64_t inner = 1;
    if (c.per_axis) {
      for (size_t d = static_cast<size_t>(c.axis) + 1; d < c.q.dims.size(); ++d) inner *= c.q.dims[d];
    }
    const auto channels = static_cast<int64_t>(c.scale.size());
    for (size_t k = 0; k < f.size(); ++k) {
      const auto ch = c.per_axis ? static_cast<size_t>((static_cast<int64_t>(k) / inner) % channels) : 0u;
      f[k] = static_cast<float>(c.q.ints[k] - c.zero_point[ch]) * c.scale[ch];
    }
    ox::set_float_tensor(fg->add_initializer(), name, c.q.dims, f);
  }
  std::string bytes;
  if (!fm.SerializeToString(&bytes)) return fail("protobuf serialization of the float model failed");
  return bytes;
}

Status QdqReader::restore_activations(QModel& m) const {
  const Graph& g = m.graph;
  const std::vector<int> src = activation_sources(g);
  std::set<std::string> seen;
  for (size_t v = 0; v < g.values.size(); ++v) {
    const std::string& name = g.values[v].name;
    const auto a = act_.find(name);
    if (a == act_.end()) {
      if (!m.config.weight_only && src[v] >= 0) {
        return fail("tensor '" + name + "' is computed by the integer engine but not followed by QuantizeLinear -> "
                    "DequantizeLinear");
      }
      continue;
    }
    seen.insert(name);
    if (m.config.weight_only) return fail("tensor '" + name + "' is quantized in a weight-only model");
    if (src[v] < 0) {
      return fail("tensor '" + name + "' is quantized, but it lies inside a fused group (never materialised)");
    }
    const std::string& source = g.values[static_cast<size_t>(src[v])].name;
    const auto t = m.activations.find(source);
    if (t == m.activations.end()) return fail("activation '" + source + "' is missing from the pocket.qmodel metadata");
    if (!same_f32(t->second.scale[0], a->second.scale) || t->second.zero_point[0] != a->second.zero_point) {
      return fail("tensor '" + name + "': the scale / zero point of '" + a->second.node +
                  "' differ from those of its quantization point '" + source + "' in the pocket.qmodel metadata");
    }
  }
  for (const auto& [name, a] : act_) {
    if (seen.count(name) == 0) return fail("'" + a.node + "' dequantizes '" + name + "', which is not a tensor of the model");
  }
  for (const auto& [name, t] : m.activations) {
    const int v = g.find_value(name);
    if (v < 0 || src[static_cast<size_t>(v)] != v) {
      return fail("the pocket.qmodel metadata quantizes '" + name + "', which is not a quantization point of the model");
    }
  }
  return Status::ok();
}

Status QdqReader::restore_weights(QModel& m) const {
  Graph& g = m.graph;
  std::set<std::string> done;
  // Weights: integers from the file, exact scales from the metadata (checked against the file).
  for (const auto& [name, t] : m.weights) {
    const int v = g.find_value(name);
    const auto c = const_dq_.find(name);
    if (v < 0 || g.values[static_cast<size_t>(v)].kind != ValueKind::Param || c == const_dq_.end()) {
      return fail("weight '" + name + "' of the pocket.qmodel metadata is not a dequantized parameter of the model");
    }
    Value& wv = g.values[static_cast<size_t>(v)];
    const ConstDq& dq = c->second;
    if (dq.q.type != onnx::TensorProto_DataType_INT8 || static_cast<int64_t>(dq.q.ints.size()) != wv.init.numel()) {
      return fail("weight '" + name + "' must be an int8 tensor of " + std::to_string(wv.init.numel()) + " values");
    }
    if (t.scale.empty() || dq.scale.size() != t.scale.size() || t.zero_point.size() != t.scale.size() ||
        (dq.per_axis && dq.axis != 0) || wv.init.numel() % static_cast<int64_t>(t.scale.size()) != 0) {
      return fail("weight '" + name + "': '" + dq.node + "' has " + std::to_string(dq.scale.size()) +
                  " scales, the metadata " + std::to_string(t.scale.size()));
    }
    if (t.bits < 2 || t.bits > 8) return fail("weight '" + name + "' is " + std::to_string(t.bits) + "-bit; 2 to 8 bits expected");
    const int32_t qmax = (1 << (t.bits - 1)) - 1;
    for (size_t ch = 0; ch < t.scale.size(); ++ch) {
      if (!same_f32(t.scale[ch], dq.scale[ch]) || t.zero_point[ch] != dq.zero_point[ch] || !(t.scale[ch] > 0.0)) {
        return fail("weight '" + name + "' channel " + std::to_string(ch) + ": the scale / zero point of '" + dq.node +
                    "' differ from the pocket.qmodel metadata");
      }
    }
    std::vector<int8_t> q(dq.q.ints.size());
    const auto chunk = static_cast<size_t>(wv.init.numel() / static_cast<int64_t>(t.scale.size()));
    for (size_t k = 0; k < q.size(); ++k) {
      if (dq.q.ints[k] < -qmax || dq.q.ints[k] > qmax) {
        return fail("weight '" + name + "' holds " + std::to_string(dq.q.ints[k]) + ", outside the " +
                    std::to_string(t.bits) + "-bit symmetric range");
      }
      q[k] = static_cast<int8_t>(dq.q.ints[k]);
      // As make_fake_quant dequantizes: the graph holds exactly the weights the integers stand for.
      wv.init.data[k] = static_cast<float>(t.scale[k / chunk] * q[k]);
    }
    m.qweights[name] = std::move(q);
    done.insert(name);
  }
  // Every Conv / Linear weight is quantized; biases are int32 unless the model is weight-only.
  for (const Node& n : g.nodes) {
    if (!is_weight_layer(n.kind)) continue;
    const std::string& wname = g.values[static_cast<size_t>(n.inputs[1])].name;
    if (m.weights.count(wname) == 0) return fail("node '" + n.name + "': weight '" + wname + "' is not quantized");
    if (n.inputs.size() < 3) continue;
    Value& bv = g.values[static_cast<size_t>(n.inputs[2])];
    const auto c = const_dq_.find(bv.name);
    if (c == const_dq_.end()) {
      if (!m.config.weight_only) return fail("node '" + n.name + "': bias '" + bv.name + "' is not an int32 tensor");
      continue;
    }
    if (m.config.weight_only) return fail("bias '" + bv.name + "' is quantized in a weight-only model");
    if (done.count(bv.name) != 0) continue;  // shared
    const ConstDq& dq = c->second;
    const TensorQuant& wt = m.weights.at(wname);
    const TensorQuant* in = m.activation_quant(n.inputs[0]);
    if (!in) return fail("node '" + n.name + "': its input has no quantization parameters");
    const size_t out_c = static_cast<size_t>(bv.init.numel());
    const size_t scales = wt.scale.size() == 1 && !m.config.per_channel ? 1u : out_c;
    if (dq.q.type != onnx::TensorProto_DataType_INT32 || dq.q.ints.size() != out_c || dq.scale.size() != scales ||
        wt.scale.size() != scales || (dq.per_axis && dq.axis != 0)) {
      return fail("bias '" + bv.name + "' must be an int32 tensor of " + std::to_string(out_c) + " values with " +
                  std::to_string(scales) + " scale(s)");
    }
    std::vector<int32_t> qb(out_c);
    for (size_t ch = 0; ch < out_c; ++ch) {
      const size_t s = scales == 1 ? 0 : ch;
      if (!same_f32(in->scale[0] * wt.scale[s], dq.scale[s]) || dq.zero_point[s] != 0) {
        return fail("bias '" + bv.name + "' channel " + std::to_string(ch) + ": '" + dq.node +
                    "' does not have scale s_in * s_w and zero point 0");
      }
      qb[ch] = static_cast<int32_t>(dq.q.ints[ch]);
      bv.init.data[ch] = static_cast<float>(static_cast<double>(qb[ch]) * in->scale[0] * wt.scale[s]);
    }
    m.qbiases[bv.name] = std::move(qb);
    done.insert(bv.name);
  }
  for (const auto& [name, dq] : const_dq_) {
    if (done.count(name) == 0) {
      return fail("'" + dq.node + "' dequantizes '" + name + "', which is neither a quantized weight nor a bias");
    }
  }
  return Status::ok();
}

Result<QModel> QdqReader::run() {
  std::string meta_text;
  bool has_meta = false;
  for (const auto& p : model_.metadata_props()) {
    if (p.key() == kQdqMetadataKey) {
      meta_text = p.value();
      has_meta = true;
    }
  }
  if (!has_meta) {
    return fail(std::string("no ") + kQdqMetadataKey +
                " metadata: pocket reads back the QDQ models `pocket export` writes; for another tool's QDQ model, "
                "import its float model and quantize it with `pocket quantize`");
  }
  QModel m;
  json h;
  std::map<std::string, std::string> names;
  try {
    h = json::parse(meta_text);
    if (h.at("format").get<std::string>() != kFormatName) return fail(std::string(kQdqMetadataKey) + ": unknown format");
    const int version = h.at("version").get<int>();
    if (version != kQdqFormatVersion) {
      return fail(std::string(kQdqMetadataKey) + " version " + std::to_string(version) + ", this pocket reads version " +
                  std::to_string(kQdqFormatVersion) + ": export the model again");
    }
    auto c = quant_config_from_json(h.at("config"));
    if (!c) return fail(c.message());
    m.config = *c;
    m.provenance = h.at("provenance").get<std::map<std::string, std::string>>();
    for (const auto& [name, t] : h.at("activations").items()) m.activations[name] = tensor_quant_from_json(t);
    for (const auto& [name, t] : h.at("weights").items()) m.weights[name] = tensor_quant_from_json(t);
    names = h.at("names").get<std::map<std::string, std::string>>();
  } catch (const json::exception& e) {
    return fail(std::string("malformed ") + kQdqMetadataKey + " metadata: " + e.what());
  }
  for (const auto& [name, t] : m.activations) {
    if (t.bits != 8 || t.scale.size() != 1 || t.zero_point.size() != 1 || !(t.scale[0] > 0.0) ||
        !std::isfinite(t.scale[0])) {
      return fail("activation '" + name + "' has invalid quantization parameters in the metadata");
    }
  }
  if (m.config.weight_only != m.activations.empty()) {
    return fail("the metadata's activations do not match its weight-only setting");
  }
  POCKET_TRY(read_qdq_nodes());
  POCKET_ASSIGN_OR_RETURN(const std::string bytes, float_model());
  auto graph = parse_onnx(bytes.data(), bytes.size(), file_);
  if (!graph) return Error{graph.message()};
  m.graph = std::move(*graph);
  POCKET_TRY(restore_activations(m));
  POCKET_TRY(restore_weights(m));

  // Back to the QModel's value names where the ONNX names differ ("input", "output", made unique).
  auto rekey = [&](auto& map) {
    for (const auto& [from, to] : names) {
      auto node = map.extract(from);
      if (!node.empty()) {
        node.key() = to;
        map.insert(std::move(node));
      }
    }
  };
  std::map<std::string, int> ids;
  for (size_t v = 0; v < m.graph.values.size(); ++v) ids.emplace(m.graph.values[v].name, static_cast<int>(v));
  for (const auto& [from, to] : names) {
    if (const auto it = ids.find(from); it != ids.end()) m.graph.values[static_cast<size_t>(it->second)].name = to;
  }
  rekey(m.activations);
  rekey(m.weights);
  rekey(m.qweights);
  rekey(m.qbiases);
  return m;
}

}  // namespace

Result<QModel> parse_qdq(const void* bytes, size_t size, const std::string& name_for_errors) {
  const std::string invalid = name_for_errors + ": not a valid ONNX model";
  if (size == 0) return Error{invalid + " (the file is empty)"};
  if (size > static_cast<size_t>(std::numeric_limits<int>::max())) return Error{invalid + " (larger than 2 GiB)"};
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes, static_cast<int>(size)) || model.ir_version() <= 0 || !model.has_graph()) {
    return Error{invalid + " (protobuf parse failed: the file is truncated, damaged or not ONNX)"};
  }
  return QdqReader(model, name_for_errors).run();
}

Result<QModel> load_qdq(const std::string& path) {
  POCKET_ASSIGN_OR_RETURN(auto bytes, read_file_bytes(path));
  return parse_qdq(bytes.data(), bytes.size(), path);
}

bool is_qdq_model(const void* bytes, size_t size) {
  if (size == 0 || size > static_cast<size_t>(std::numeric_limits<int>::max())) return false;
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes, static_cast<int>(size)) || !model.has_graph()) return false;
  for (const auto& p : model.metadata_props()) {
    if (p.key() == kQdqMetadataKey) return true;
  }
  for (const auto& n : model.graph().node()) {
    if (n.op_type() == "QuantizeLinear" || n.op_type() == "DequantizeLinear") return true;
  }
  return false;
}

bool is_qdq_file(const std::string& path) {
  auto bytes = read_file_bytes(path);
  return bytes && is_qdq_model(bytes->data(), bytes->size());
}

}  // namespace pocket
