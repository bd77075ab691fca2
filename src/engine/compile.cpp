// compile(): QModel -> Plan. Layout conversion, one integer layer per QuantGroup, every check, and
// the arena plan. Nothing here runs a kernel; Plan::run (plan.cpp) only runs.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "pocket/engine.hpp"

namespace pocket::engine {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string where(const Node& n) { return std::string("node '") + n.name + "' (" + op_name(n.kind) + ")"; }

const char* status_text(pocket_status s) {
  switch (s) {
    case POCKET_OK: return "ok";
    case POCKET_ERR_NULL_POINTER: return "a required pointer is null";
    case POCKET_ERR_BAD_SHAPE: return "shape out of range or inconsistent";
    case POCKET_ERR_BAD_QUANT: return "zero point, multiplier, shift or clamp range out of range";
    case POCKET_ERR_ACC_RANGE: return "the int32 accumulator could overflow for this fan-in and bias";
  }
  return "unknown status";
}

std::string dims_str(int64_t a, int64_t b, int64_t c) {
  std::string s = std::to_string(a);
  s += "x";
  s += std::to_string(b);
  s += "x";
  s += std::to_string(c);
  return s;
}

bool fits_int32(int64_t v) { return v >= 0 && v <= std::numeric_limits<int32_t>::max(); }

// What compile() puts into the Plan.
struct PlanParts {
  std::vector<Layer> layers;
  std::vector<PlanTensor> tensors;
  int input = -1, output = -1;
  ArenaPlan arena;
  qmath::InputQuantization pixel_input;
};

class Builder {
 public:
  explicit Builder(const QModel& model) : m_(model), g_(model.graph), tensor_of_(g_.values.size(), -1) {}

  Result<PlanParts> build(const CompileOptions& options);

 private:
  // Quantization of the activation `value` as used by `user` (for messages).
  Result<ActQuant> act_quant(int value, const std::string& user) const;
  // A new tensor for `value` (shape from the graph) with stored order `chw` for rank 2.
  Result<int> add_tensor(int value, const std::string& user, std::vector<int64_t> rank2_chw);
  Result<int> input_tensor(const Node& node, size_t which) const;
  Result<qmath::ActivationRange> clamp_for(const std::vector<int>& group_nodes, size_t first, const ActQuant& q,
                                           const Node& anchor) const;
  Status conv(const QuantGroup& grp);
  Status linear(const QuantGroup& grp);
  Status add(const QuantGroup& grp);
  Status softmax(const QuantGroup& grp);
  Status pool(const QuantGroup& grp);
  Status clamp(const QuantGroup& grp);
  Status alias(const QuantGroup& grp);
  // Weights of a Conv/Linear node: checks, per-channel scales, integer bias.
  struct WeightData {
    const std::vector<int8_t>* q = nullptr;
    std::vector<double> scale;  // per output channel
    std::vector<int32_t> bias;  // empty: none
  };
  Result<WeightData> weight_data(const Node& node, int64_t out_channels) const;
  Layer start_layer(LayerKind kind, const QuantGroup& grp) const;
  Status same_quant(const Node& node, const ActQuant& in, const ActQuant& out) const;

  const QModel& m_;
  const Graph& g_;
  std::vector<int> tensor_of_;  // value id -> tensor id
  std::vector<PlanTensor> tensors_;
  std::vector<Layer> layers_;
};

Result<ActQuant> Builder::act_quant(int value, const std::string& user) const {
  const std::string& name = g_.values[static_cast<size_t>(value)].name;
  const TensorQuant* t = m_.activation_quant(value);
  if (!t) {
    return Error{user + ": activation '" + name +
                 "' has no quantization parameters (a weight-only model cannot run on the integer engine: "
                 "quantize activations too)"};
  }
  if (t->bits != 8) {
    return Error{user + ": activation '" + name + "' is quantized to " + std::to_string(t->bits) +
                 " bits; the integer engine runs int8 activations only (quantize with --act-bits 8)"};
  }
  if (t->scale.size() != 1 || t->zero_point.size() != 1) {
    return Error{user + ": activation '" + name + "' must have one scale and zero point (per tensor)"};
  }
  const double s = t->scale[0];
  const int32_t zp = t->zero_point[0];
  if (!std::isfinite(s) || !(s > 0.0)) {
    return Error{user + ": activation '" + name + "' has scale " + std::to_string(s) + ": it must be finite and > 0"};
  }
  const qmath::QuantType type{8, t->symmetric};
  if (zp < type.qmin() || zp > type.qmax() || (t->symmetric && zp != 0)) {
    return Error{user + ": activation '" + name + "' has zero point " + std::to_string(zp) + " outside [" +
                 std::to_string(type.qmin()) + ", " + std::to_string(type.qmax()) + "]" +
                 (t->symmetric ? std::string(" or not 0 (symmetric)") : std::string())};
  }
  return ActQuant{s, zp, t->symmetric};
}

Result<int> Builder::add_tensor(int value, const std::string& user, std::vector<int64_t> rank2_chw) {
  const Value& v = g_.values[static_cast<size_t>(value)];
  PlanTensor t;
  t.name = v.name;
  t.value = value;
  t.shape = v.shape;
  if (v.shape.empty() || v.shape[0] != 1) {
    return Error{user + ": tensor '" + v.name + "' has shape " + shape_str(v.shape) + ": batch 1 expected"};
  }
  if (v.shape.size() == 4) {
    t.stored_shape = {1, v.shape[2], v.shape[3], v.shape[1]};
    t.chw = {v.shape[1], v.shape[2], v.shape[3]};
  } else if (v.shape.size() == 2) {
    t.stored_shape = v.shape;
    t.chw = std::move(rank2_chw);
    if (!t.chw.empty() && t.chw[0] * t.chw[1] * t.chw[2] != v.shape[1]) {
      return Error{user + ": internal: feature order of '" + v.name + "' does not match its size"};
    }
    // A 1x1 volume stores features in channel order, which is the float graph's order too.
    if (!t.chw.empty() && t.chw[1] * t.chw[2] == 1) t.chw.clear();
  } else {
    return Error{user + ": tensor '" + v.name + "' has rank " + std::to_string(v.shape.size()) + " " +
                 shape_str(v.shape) + "; the integer engine handles [N, C, H, W] and [N, F] activations"};
  }
  t.bytes = numel(v.shape);
  if (!fits_int32(t.bytes)) return Error{user + ": tensor '" + v.name + "' is too large for the int8 kernels"};
  POCKET_ASSIGN_OR_RETURN(t.quant, act_quant(value, user));
  tensors_.push_back(std::move(t));
  const int id = static_cast<int>(tensors_.size()) - 1;
  tensor_of_[static_cast<size_t>(value)] = id;
  return id;
}

Result<int> Builder::input_tensor(const Node& node, size_t which) const {
  if (which >= node.inputs.size()) return Error{where(node) + ": missing input " + std::to_string(which)};
  const int v = node.inputs[which];
  const int t = tensor_of_[static_cast<size_t>(v)];
  if (t < 0) {
    const Value& val = g_.values[static_cast<size_t>(v)];
    return Error{where(node) + ": input '" + val.name + "' is " +
                 (val.kind == ValueKind::Param ? std::string("a constant")
                                               : std::string("not an activation the engine computes")) +
                 "; the integer engine needs int8 activations here"};
  }
  return t;
}

// The clamp of the activations among group_nodes[first..] (Relu: [0, inf), Clip: [min, max]),
// intersected (a chain of clamps with overlapping ranges is the clamp of the intersection).
Result<qmath::ActivationRange> Builder::clamp_for(const std::vector<int>& group_nodes, size_t first,
                                                  const ActQuant& q, const Node& anchor) const {
  double lo = -kInf, hi = kInf;
  for (size_t i = first; i < group_nodes.size(); ++i) {
    const Node& n = g_.nodes[static_cast<size_t>(group_nodes[i])];
    double a = -kInf, b = kInf;
    if (n.kind == OpKind::Relu) {
      a = 0.0;
    } else if (n.kind == OpKind::Clip) {
      a = static_cast<double>(n.attrs.clip_min);
      b = static_cast<double>(n.attrs.clip_max);
      if (std::isnan(a) || std::isnan(b) || a > b) return Error{where(n) + ": clip range [" + std::to_string(a) + ", " + std::to_string(b) + "] is empty"};
    } else {
      continue;
    }
    if (a > hi || b < lo) {
      return Error{where(n) + ": its range does not overlap the activations fused before it into " + where(anchor) +
                   " (the output would be a constant)"};
    }
    lo = std::max(lo, a);
    hi = std::min(hi, b);
  }
  auto r = qmath::activation_range(qmath::QuantParams{q.scale, q.zero_point}, lo, hi, qmath::QuantType{8, q.symmetric});
  if (!r) return Error{where(anchor) + ": fused activation: " + r.message()};
  return *r;
}

Result<Builder::WeightData> Builder::weight_data(const Node& node, int64_t out_channels) const {
  WeightData d;
  const Value& wv = g_.values[static_cast<size_t>(node.inputs[1])];
  const auto wt = m_.weights.find(wv.name);
  const auto wq = m_.qweights.find(wv.name);
  if (wt == m_.weights.end() || wq == m_.qweights.end()) {
    return Error{where(node) + ": weight '" + wv.name + "' has no integer values in the quantized model"};
  }
  const TensorQuant& t = wt->second;
  if (t.bits > 8 || t.bits < 2) {
    return Error{where(node) + ": weight '" + wv.name + "' has " + std::to_string(t.bits) +
                 " bits; the int8 kernels take weights of 2 to 8 bits"};
  }
  if (static_cast<int64_t>(wq->second.size()) != wv.init.numel()) {
    return Error{where(node) + ": weight '" + wv.name + "' has " + std::to_string(wq->second.size()) +
                 " integer values for " + std::to_string(wv.init.numel()) + " weights"};
  }
  if (t.scale.size() != 1 && static_cast<int64_t>(t.scale.size()) != out_channels) {
    return Error{where(node) + ": weight '" + wv.name + "' has " + std::to_string(t.scale.size()) +
                 " scales for " + std::to_string(out_channels) + " output channels"};
  }
  for (size_t c = 0; c < t.scale.size(); ++c) {
    if (!std::isfinite(t.scale[c]) || !(t.scale[c] > 0.0)) {
      return Error{where(node) + ": weight '" + wv.name + "' channel " + std::to_string(c) + " has scale " +
                   std::to_string(t.scale[c]) + ": it must be finite and > 0"};
    }
    if (c < t.zero_point.size() && t.zero_point[c] != 0) {
      return Error{where(node) + ": weight '" + wv.name + "' has a non-zero zero point; the kernels take symmetric weights"};
    }
  }
  for (int8_t q : wq->second) {
    if (q < -127) return Error{where(node) + ": weight '" + wv.name + "' holds -128; symmetric weights are in [-127, 127]"};
  }
  d.q = &wq->second;
  d.scale.resize(static_cast<size_t>(out_channels));
  for (int64_t c = 0; c < out_channels; ++c) d.scale[static_cast<size_t>(c)] = t.scale[t.scale.size() == 1 ? 0 : static_cast<size_t>(c)];
  if (node.inputs.size() > 2) {
    const Value& bv = g_.values[static_cast<size_t>(node.inputs[2])];
    const auto qb = m_.qbiases.find(bv.name);
    if (qb == m_.qbiases.end()) {
      return Error{where(node) + ": bias '" + bv.name + "' has no int32 values (a weight-only model keeps float biases)"};
    }
    if (static_cast<int64_t>(qb->second.size()) != out_channels) {
      return Error{where(node) + ": bias '" + bv.name + "' has " + std::to_string(qb->second.size()) + " values for " +
                   std::to_string(out_channels) + " output channels"};
    }
    d.bias = qb->second;
  }
  return d;
}

Layer Builder::start_layer(LayerKind kind, const QuantGroup& grp) const {
  Layer l;
  l.kind = kind;
  l.name = g_.nodes[static_cast<size_t>(grp.nodes[0])].name;
  for (int n : grp.nodes) {
    l.nodes.push_back(g_.nodes[static_cast<size_t>(n)].name);
    l.ops.push_back(op_name(g_.nodes[static_cast<size_t>(n)].kind));
  }
  l.float_value = grp.output;
  return l;
}

Status Builder::same_quant(const Node& node, const ActQuant& in, const ActQuant& out) const {
  if (in.scale != out.scale || in.zero_point != out.zero_point) {
    return Error{where(node) + ": input and output quantization differ (scale " + std::to_string(in.scale) + " vs " +
                 std::to_string(out.scale) + "); this layer keeps its input's scale and zero point"};
  }
  return Status::ok();
}

Status Builder::conv(const QuantGroup& grp) {
  const Node& n = g_.nodes[static_cast<size_t>(grp.nodes[0])];
  const Attrs& a = n.attrs;
  if (a.dilation[0] != 1 || a.dilation[1] != 1) {
    return Error{where(n) + ": dilation " + std::to_string(a.dilation[0]) + "x" + std::to_string(a.dilation[1]) +
                 " is not supported by pocket_conv2d_s8 (dilation 1 only)"};
  }
  POCKET_ASSIGN_OR_RETURN(const int in, input_tensor(n, 0));
  const PlanTensor x = tensors_[static_cast<size_t>(in)];
  if (x.shape.size() != 4) return Error{where(n) + ": input must be [N, C, H, W], got " + shape_str(x.shape)};
  const Tensor& w = g_.values[static_cast<size_t>(n.inputs[1])].init;
  if (w.shape.size() != 4) return Error{where(n) + ": weight must be [O, C/groups, kh, kw], got " + shape_str(w.shape)};
  const int64_t out_c = w.shape[0], group_c = w.shape[1], kh = w.shape[2], kw = w.shape[3];
  const int64_t in_c = x.shape[1];
  if (a.groups < 1 || in_c != group_c * a.groups) {
    return Error{where(n) + ": " + std::to_string(in_c) + " input channels do not match weight " + shape_str(w.shape) +
                 " with " + std::to_string(a.groups) + " groups"};
  }
  POCKET_ASSIGN_OR_RETURN(WeightData wd, weight_data(n, out_c));

  // The fused MaxPool (if any) and where it sits in the group.
  const Node* pool = nullptr;
  for (size_t i = 1; i < grp.nodes.size(); ++i) {
    const Node& f = g_.nodes[static_cast<size_t>(grp.nodes[i])];
    if (f.kind == OpKind::MaxPool) pool = &f;
  }
  bool split = false;
  if (pool) {
    const Attrs& p = pool->attrs;
    if (p.dilation[0] != 1 || p.dilation[1] != 1) {
      return Error{where(*pool) + ": dilation is not supported by the integer pools (dilation 1 only)"};
    }
    // The conv kernel's fused pool is "valid" (no padding); a padded pool runs as its own layer.
    split = p.pads[0] || p.pads[1] || p.pads[2] || p.pads[3];
  }

  POCKET_ASSIGN_OR_RETURN(const ActQuant out_q, act_quant(grp.output, where(n)));
  POCKET_ASSIGN_OR_RETURN(const qmath::ActivationRange act, clamp_for(grp.nodes, 1, out_q, n));
  auto mult = qmath::requantization_multipliers(x.quant.scale, wd.scale, out_q.scale);
  if (!mult) return Error{where(n) + ": requantization multiplier: " + mult.message()};

  Layer l = start_layer(LayerKind::Conv2d, grp);
  l.inputs = {in};
  // OIHW -> OHWI.
  l.weights.resize(wd.q->size());
  for (int64_t o = 0; o < out_c; ++o)
    for (int64_t i = 0; i < group_c; ++i)
      for (int64_t fy = 0; fy < kh; ++fy)
        for (int64_t fx = 0; fx < kw; ++fx) {
          l.weights[static_cast<size_t>(((o * kh + fy) * kw + fx) * group_c + i)] =
              (*wd.q)[static_cast<size_t>(((o * group_c + i) * kh + fy) * kw + fx)];
        }
  l.bias = std::move(wd.bias);
  l.weight_scale = std::move(wd.scale);
  for (double sw : l.weight_scale) l.real_multiplier.push_back(x.quant.scale * sw / out_q.scale);
  l.multiplier = std::move(mult->multiplier);
  l.shift = std::move(mult->shift);
  l.act_min = act.act_min;
  l.act_max = act.act_max;

  for (int64_t d : {x.shape[2], x.shape[3], in_c, out_c, kh, kw}) {
    if (!fits_int32(d)) return Error{where(n) + ": a dimension does not fit the kernels' int32 parameters"};
  }
  pocket_conv2d_params& p = l.conv;
  p.batches = 1;
  p.input_height = static_cast<int32_t>(x.shape[2]);
  p.input_width = static_cast<int32_t>(x.shape[3]);
  p.input_channels = static_cast<int32_t>(in_c);
  p.output_channels = static_cast<int32_t>(out_c);
  p.filter_height = static_cast<int32_t>(kh);
  p.filter_width = static_cast<int32_t>(kw);
  p.stride_height = a.stride[0];
  p.stride_width = a.stride[1];
  p.pad_top = a.pads[0];
  p.pad_left = a.pads[1];
  p.pad_bottom = a.pads[2];
  p.pad_right = a.pads[3];
  p.groups = a.groups;
  p.input_zero_point = x.quant.zero_point;
  p.output_zero_point = out_q.zero_point;
  p.act_min = act.act_min;
  p.act_max = act.act_max;
  p.pool.kind = POCKET_POOL_NONE;
  int32_t conv_h = 0, conv_w = 0;
  if (const pocket_status st = pocket_conv2d_output_shape(&p, &conv_h, &conv_w); st != POCKET_OK) {
    return Error{where(n) + ": pocket_conv2d_s8: " + status_text(st) + " (input " + dims_str(x.shape[2], x.shape[3], in_c) +
                 ", kernel " + std::to_string(kh) + "x" + std::to_string(kw) + ")"};
  }
  if (pool && !split) {
    p.pool.kind = POCKET_POOL_MAX;
    p.pool.filter_height = pool->attrs.kernel[0];
    p.pool.filter_width = pool->attrs.kernel[1];
    p.pool.stride_height = pool->attrs.stride[0];
    p.pool.stride_width = pool->attrs.stride[1];
  }
  pocket_conv2d_params bound = p;
  bound.output_multiplier = l.multiplier.data();
  bound.output_shift = l.shift.data();
  if (const pocket_status st = pocket_conv2d_s8_check(&bound, l.bias.empty() ? nullptr : l.bias.data()); st != POCKET_OK) {
    return Error{where(n) + ": pocket_conv2d_s8_check: " + status_text(st) + " (fan-in " +
                 std::to_string(kh * kw * group_c) + ", input zero point " + std::to_string(x.quant.zero_point) + ")"};
  }
  int32_t out_h = 0, out_w = 0;
  if (const pocket_status st = pocket_conv2d_output_shape(&p, &out_h, &out_w); st != POCKET_OK) {
    return Error{where(pool ? *pool : n) + ": fused pool: " + status_text(st)};
  }
  l.macs = int64_t{conv_h} * conv_w * out_c * kh * kw * group_c;
  l.weight_bytes = static_cast<int64_t>(l.weights.size());
  l.bias_bytes = 4 * static_cast<int64_t>(l.bias.size());
  l.param_bytes = 8 * out_c;

  if (!split) {
    POCKET_ASSIGN_OR_RETURN(l.output, add_tensor(grp.output, where(n), {}));
    const PlanTensor& y = tensors_[static_cast<size_t>(l.output)];
    if (y.stored_shape != Shape{1, out_h, out_w, out_c}) {
      return Error{where(n) + ": the kernel computes " + dims_str(out_h, out_w, out_c) + ", the float graph " +
                   shape_str(y.shape)};
    }
    layers_.push_back(std::move(l));
    return Status::ok();
  }

  // Split: the conv (with the group's clamp) writes an intermediate tensor with the group's
  // quantization; a max pool reads it. Max and clamp commute with the monotonic requantization,
  // so this equals the fused group.
  PlanTensor mid;
  mid.name = n.name + ":before_pool";
  mid.value = -1;
  mid.shape = {1, out_c, conv_h, conv_w};
  mid.stored_shape = {1, conv_h, conv_w, out_c};
  mid.chw = {out_c, conv_h, conv_w};
  mid.bytes = numel(mid.shape);
  mid.quant = out_q;
  tensors_.push_back(std::move(mid));
  l.output = static_cast<int>(tensors_.size()) - 1;
  l.float_value = -1;
  l.nodes.clear();
  l.ops.clear();
  for (int id : grp.nodes) {
    const Node& f = g_.nodes[static_cast<size_t>(id)];
    if (&f == pool) continue;
    l.nodes.push_back(f.name);
    l.ops.push_back(op_name(f.kind));
  }
  const int mid_id = l.output;
  layers_.push_back(std::move(l));

  Layer pl;
  pl.kind = LayerKind::MaxPool;
  pl.name = pool->name;
  pl.nodes = {pool->name};
  pl.ops = {op_name(pool->kind)};
  pl.float_value = grp.output;
  pl.inputs = {mid_id};
  pl.act_min = act.act_min;
  pl.act_max = act.act_max;
  pocket_pool_params& pp = pl.pool;
  pp.batches = 1;
  pp.input_height = conv_h;
  pp.input_width = conv_w;
  pp.channels = static_cast<int32_t>(out_c);
  pp.filter_height = pool->attrs.kernel[0];
  pp.filter_width = pool->attrs.kernel[1];
  pp.stride_height = pool->attrs.stride[0];
  pp.stride_width = pool->attrs.stride[1];
  pp.pad_top = pool->attrs.pads[0];
  pp.pad_left = pool->attrs.pads[1];
  pp.pad_bottom = pool->attrs.pads[2];
  pp.pad_right = pool->attrs.pads[3];
  pp.act_min = act.act_min;
  pp.act_max = act.act_max;
  if (const pocket_status st = pocket_pool_output_shape(&pp, &out_h, &out_w); st != POCKET_OK) {
    return Error{where(*pool) + ": pocket_pool_check: " + status_text(st)};
  }
  POCKET_ASSIGN_OR_RETURN(pl.output, add_tensor(grp.output, where(*pool), {}));
  const PlanTensor& y = tensors_[static_cast<size_t>(pl.output)];
  if (y.stored_shape != Shape{1, out_h, out_w, out_c}) {
    return Error{where(*pool) + ": the kernel computes " + dims_str(out_h, out_w, out_c) + ", the float graph " +
                 shape_str(y.shape)};
  }
  layers_.push_back(std::move(pl));
  return Status::ok();
}

// The order in which a tensor's elements are stored, as seen by an elementwise consumer: {C, H, W}
// when stored (y, x, c) with H * W > 1, else empty (the float graph's order).
std::vector<int64_t> effective_order(const PlanTensor& t) {
  if (t.chw.empty() || t.chw[1] * t.chw[2] == 1) return {};
  return t.chw;
}

Status Builder::linear(const QuantGroup& grp) {
  const Node& n = g_.nodes[static_cast<size_t>(grp.nodes[0])];
  POCKET_ASSIGN_OR_RETURN(const int in, input_tensor(n, 0));
  const PlanTensor x = tensors_[static_cast<size_t>(in)];
  const Shape& xs = g_.values[static_cast<size_t>(n.inputs[0])].shape;  // the Linear's view (after a flatten)
  const Tensor& w = g_.values[static_cast<size_t>(n.inputs[1])].init;
  if (xs.size() != 2 || w.shape.size() != 2 || w.shape[1] != xs[1] || x.bytes != xs[1]) {
    return Error{where(n) + ": input " + shape_str(xs) + " and weight " + shape_str(w.shape) + " do not match"};
  }
  const int64_t out_f = w.shape[0], in_f = w.shape[1];
  if (!fits_int32(out_f) || !fits_int32(in_f)) return Error{where(n) + ": too large for the int32 kernel parameters"};
  POCKET_ASSIGN_OR_RETURN(WeightData wd, weight_data(n, out_f));
  POCKET_ASSIGN_OR_RETURN(const ActQuant out_q, act_quant(grp.output, where(n)));
  POCKET_ASSIGN_OR_RETURN(const qmath::ActivationRange act, clamp_for(grp.nodes, 1, out_q, n));
  auto mult = qmath::requantization_multipliers(x.quant.scale, wd.scale, out_q.scale);
  if (!mult) return Error{where(n) + ": requantization multiplier: " + mult.message()};

  Layer l = start_layer(LayerKind::FullyConnected, grp);
  l.inputs = {in};
  const std::vector<int64_t> order = effective_order(x);
  if (order.empty()) {
    l.weights = *wd.q;
  } else {
    // The input was flattened from an NHWC tensor: feature (y, x, c) is stored at (y*W + x)*C + c,
    // where the float graph has it at (c*H + y)*W + x. Permute the weight columns once.
    const int64_t C = order[0], H = order[1], W = order[2];
    l.weights.resize(wd.q->size());
    for (int64_t o = 0; o < out_f; ++o)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t y = 0; y < H; ++y)
          for (int64_t xx = 0; xx < W; ++xx) {
            l.weights[static_cast<size_t>(o * in_f + (y * W + xx) * C + c)] =
                (*wd.q)[static_cast<size_t>(o * in_f + (c * H + y) * W + xx)];
          }
  }
  l.bias = std::move(wd.bias);
  l.weight_scale = std::move(wd.scale);
  for (double sw : l.weight_scale) l.real_multiplier.push_back(x.quant.scale * sw / out_q.scale);
  l.multiplier = std::move(mult->multiplier);
  l.shift = std::move(mult->shift);
  l.act_min = act.act_min;
  l.act_max = act.act_max;
  pocket_fully_connected_params& p = l.fc;
  p.batches = 1;
  p.input_features = static_cast<int32_t>(in_f);
  p.output_features = static_cast<int32_t>(out_f);
  p.input_zero_point = x.quant.zero_point;
  p.output_zero_point = out_q.zero_point;
  p.act_min = act.act_min;
  p.act_max = act.act_max;
  pocket_fully_connected_params bound = p;
  bound.output_multiplier = l.multiplier.data();
  bound.output_shift = l.shift.data();
  if (const pocket_status st = pocket_fully_connected_s8_check(&bound, l.bias.empty() ? nullptr : l.bias.data());
      st != POCKET_OK) {
    return Error{where(n) + ": pocket_fully_connected_s8_check: " + status_text(st) + " (fan-in " + std::to_string(in_f) +
                 ", input zero point " + std::to_string(x.quant.zero_point) + ")"};
  }
  l.macs = in_f * out_f;
  l.weight_bytes = static_cast<int64_t>(l.weights.size());
  l.bias_bytes = 4 * static_cast<int64_t>(l.bias.size());
  l.param_bytes = 8 * out_f;
  POCKET_ASSIGN_OR_RETURN(l.output, add_tensor(grp.output, where(n), {}));
  if (tensors_[static_cast<size_t>(l.output)].stored_shape != Shape{1, out_f}) {
    return Error{where(n) + ": output shape " + shape_str(tensors_[static_cast<size_t>(l.output)].shape) +
                 " is not [1, " + std::to_string(out_f) + "]"};
  }
  layers_.push_back(std::move(l));
  return Status::ok();
}

Status Builder::add(const QuantGroup& grp) {
  const Node& n = g_.nodes[static_cast<size_t>(grp.nodes[0])];
  POCKET_ASSIGN_OR_RETURN(const int ia, input_tensor(n, 0));
  POCKET_ASSIGN_OR_RETURN(const int ib, input_tensor(n, 1));
  const PlanTensor a = tensors_[static_cast<size_t>(ia)];
  const PlanTensor b = tensors_[static_cast<size_t>(ib)];
  const Shape& as = g_.values[static_cast<size_t>(n.inputs[0])].shape;
  const Shape& bs = g_.values[static_cast<size_t>(n.inputs[1])].shape;
  if (as != bs) {
    return Error{where(n) + ": inputs " + shape_str(as) + " and " + shape_str(bs) +
                 " differ; pocket_add_s8 adds tensors of the same shape (no broadcasting)"};
  }
  if (effective_order(a) != effective_order(b)) {
    return Error{where(n) + ": its inputs are stored in different element orders (one flattened from NHWC)"};
  }
  POCKET_ASSIGN_OR_RETURN(const ActQuant out_q, act_quant(grp.output, where(n)));
  POCKET_ASSIGN_OR_RETURN(const qmath::ActivationRange act, clamp_for(grp.nodes, 1, out_q, n));
  const double r1 = a.quant.scale / out_q.scale, r2 = b.quant.scale / out_q.scale;
  auto pair = qmath::quantize_multiplier_pair(r1, r2);
  if (!pair) return Error{where(n) + ": input/output scale ratios: " + pair.message()};
  Layer l = start_layer(LayerKind::Add, grp);
  l.inputs = {ia, ib};
  l.real_multiplier = {r1, r2};
  l.multiplier = {pair->multiplier1, pair->multiplier2};
  l.shift = {pair->shift, pair->shift};
  l.act_min = act.act_min;
  l.act_max = act.act_max;
  pocket_add_params& p = l.add;
  p.element_count = static_cast<int32_t>(a.bytes);
  p.input1_zero_point = a.quant.zero_point;
  p.input2_zero_point = b.quant.zero_point;
  p.output_zero_point = out_q.zero_point;
  p.input1_multiplier = pair->multiplier1;
  p.input2_multiplier = pair->multiplier2;
  p.shift = pair->shift;
  p.act_min = act.act_min;
  p.act_max = act.act_max;
  if (const pocket_status st = pocket_add_check(&p); st != POCKET_OK) {
    return Error{where(n) + ": pocket_add_check: " + status_text(st)};
  }
  l.param_bytes = 12;
  POCKET_ASSIGN_OR_RETURN(l.output, add_tensor(grp.output, where(n), effective_order(a)));
  layers_.push_back(std::move(l));
  return Status::ok();
}

Status Builder::softmax(const QuantGroup& grp) {
  const Node& n = g_.nodes[static_cast<size_t>(grp.nodes[0])];
  POCKET_ASSIGN_OR_RETURN(const int in, input_tensor(n, 0));
  const PlanTensor x = tensors_[static_cast<size_t>(in)];
  const Shape& xs = g_.values[static_cast<size_t>(n.inputs[0])].shape;
  const auto rank = static_cast<int>(xs.size());
  const int axis = n.attrs.axis < 0 ? n.attrs.axis + rank : n.attrs.axis;
  if (axis != 1 || (rank != 2 && rank != 4)) {
    return Error{where(n) + ": softmax over axis " + std::to_string(n.attrs.axis) + " of " + shape_str(xs) +
                 "; the integer engine takes the channel/feature axis (1) of [N, F] or [N, C, H, W]"};
  }
  POCKET_ASSIGN_OR_RETURN(const ActQuant out_q, act_quant(grp.output, where(n)));
  if (out_q.scale != std::ldexp(1.0, POCKET_SOFTMAX_OUTPUT_SCALE_LOG2) ||
      out_q.zero_point != POCKET_SOFTMAX_OUTPUT_ZERO_POINT || out_q.symmetric) {
    return Error{where(n) + ": its output is quantized with scale " + std::to_string(out_q.scale) + ", zero point " +
                 std::to_string(out_q.zero_point) +
                 "; pocket_softmax_s8 produces scale 1/256, zero point -128 (quantize with asymmetric activations)"};
  }
  auto table = qmath::softmax_exp_table(x.quant.scale);
  if (!table) return Error{where(n) + ": exp table: " + table.message()};
  Layer l = start_layer(LayerKind::Softmax, grp);
  l.inputs = {in};
  l.exp_table = *table;
  pocket_softmax_params& p = l.softmax;
  if (rank == 4) {
    p.rows = static_cast<int32_t>(xs[2] * xs[3]);
    p.depth = static_cast<int32_t>(xs[1]);
  } else {
    p.rows = 1;
    p.depth = static_cast<int32_t>(xs[1]);
  }
  pocket_softmax_params bound = p;
  bound.exp_table = l.exp_table.data();
  if (const pocket_status st = pocket_softmax_check(&bound); st != POCKET_OK) {
    return Error{where(n) + ": pocket_softmax_check: " + status_text(st)};
  }
  l.param_bytes = 2 * POCKET_SOFTMAX_EXP_TABLE_SIZE;
  POCKET_ASSIGN_OR_RETURN(l.output, add_tensor(grp.output, where(n), effective_order(x)));
  layers_.push_back(std::move(l));
  return Status::ok();
}

Status Builder::pool(const QuantGroup& grp) {
  const Node& n = g_.nodes[static_cast<size_t>(grp.nodes[0])];
  POCKET_ASSIGN_OR_RETURN(const int in, input_tensor(n, 0));
  const PlanTensor x = tensors_[static_cast<size_t>(in)];
  const Shape& xs = g_.values[static_cast<size_t>(n.inputs[0])].shape;
  if (xs.size() != 4) return Error{where(n) + ": input must be [N, C, H, W], got " + shape_str(xs)};
  POCKET_ASSIGN_OR_RETURN(const ActQuant out_q, act_quant(grp.output, where(n)));
  POCKET_TRY(same_quant(n, x.quant, out_q));
  POCKET_ASSIGN_OR_RETURN(const qmath::ActivationRange act, clamp_for(grp.nodes, 1, out_q, n));
  const int64_t C = xs[1], H = xs[2], W = xs[3];
  Layer l;
  Shape expected;
  const Attrs& a = n.attrs;
  if (n.kind == OpKind::GlobalAveragePool) {
    l = start_layer(LayerKind::GlobalAveragePool, grp);
    pocket_global_pool_params& p = l.global_pool;
    p.batches = 1;
    p.height = static_cast<int32_t>(H);
    p.width = static_cast<int32_t>(W);
    p.channels = static_cast<int32_t>(C);
    p.act_min = act.act_min;
    p.act_max = act.act_max;
    if (const pocket_status st = pocket_global_avgpool_check(&p); st != POCKET_OK) {
      return Error{where(n) + ": pocket_global_avgpool_check: " + status_text(st)};
    }
    expected = {1, 1, 1, C};
  } else {
    if (a.dilation[0] != 1 || a.dilation[1] != 1) {
      return Error{where(n) + ": dilation is not supported by the integer pools (dilation 1 only)"};
    }
    const bool padded = a.pads[0] || a.pads[1] || a.pads[2] || a.pads[3];
    if (n.kind == OpKind::AveragePool && a.count_include_pad && padded) {
      return Error{where(n) + ": count_include_pad=1 with padding is not supported: pocket_avgpool_s8 averages only "
                              "the input elements of a window (count_include_pad=0)"};
    }
    l = start_layer(n.kind == OpKind::MaxPool ? LayerKind::MaxPool : LayerKind::AveragePool, grp);
    pocket_pool_params& p = l.pool;
    p.batches = 1;
    p.input_height = static_cast<int32_t>(H);
    p.input_width = static_cast<int32_t>(W);
    p.channels = static_cast<int32_t>(C);
    p.filter_height = a.kernel[0];
    p.filter_width = a.kernel[1];
    p.stride_height = a.stride[0];
    p.stride_width = a.stride[1];
    p.pad_top = a.pads[0];
    p.pad_left = a.pads[1];
    p.pad_bottom = a.pads[2];
    p.pad_right = a.pads[3];
    p.act_min = act.act_min;
    p.act_max = act.act_max;
    int32_t oh = 0, ow = 0;
    if (const pocket_status st = pocket_pool_output_shape(&p, &oh, &ow); st != POCKET_OK) {
      return Error{where(n) + ": pocket_pool_check: " + status_text(st)};
    }
    expected = {1, oh, ow, C};
  }
  l.inputs = {in};
  l.act_min = act.act_min;
  l.act_max = act.act_max;
  POCKET_ASSIGN_OR_RETURN(l.output, add_tensor(grp.output, where(n), {}));
  if (tensors_[static_cast<size_t>(l.output)].stored_shape != expected) {
    return Error{where(n) + ": the kernel computes " + shape_str(expected) + " (NHWC), the float graph " +
                 shape_str(tensors_[static_cast<size_t>(l.output)].shape)};
  }
  layers_.push_back(std::move(l));
  return Status::ok();
}

Status Builder::clamp(const QuantGroup& grp) {
  const Node& n = g_.nodes[static_cast<size_t>(grp.nodes[0])];
  POCKET_ASSIGN_OR_RETURN(const int in, input_tensor(n, 0));
  const PlanTensor x = tensors_[static_cast<size_t>(in)];
  POCKET_ASSIGN_OR_RETURN(const ActQuant out_q, act_quant(grp.output, where(n)));
  POCKET_TRY(same_quant(n, x.quant, out_q));
  POCKET_ASSIGN_OR_RETURN(const qmath::ActivationRange act, clamp_for(grp.nodes, 0, out_q, n));
  Layer l = start_layer(LayerKind::Clamp, grp);
  l.inputs = {in};
  l.act_min = act.act_min;
  l.act_max = act.act_max;
  l.clamp.element_count = static_cast<int32_t>(x.bytes);
  l.clamp.act_min = act.act_min;
  l.clamp.act_max = act.act_max;
  if (const pocket_status st = pocket_clamp_check(&l.clamp); st != POCKET_OK) {
    return Error{where(n) + ": pocket_clamp_check: " + status_text(st)};
  }
  POCKET_ASSIGN_OR_RETURN(l.output, add_tensor(grp.output, where(n), effective_order(x)));
  layers_.push_back(std::move(l));
  return Status::ok();
}

Status Builder::alias(const QuantGroup& grp) {
  const Node& n = g_.nodes[static_cast<size_t>(grp.nodes[0])];
  POCKET_ASSIGN_OR_RETURN(const int in, input_tensor(n, 0));
  const Shape& xs = g_.values[static_cast<size_t>(n.inputs[0])].shape;
  const Shape& ys = g_.values[static_cast<size_t>(grp.output)].shape;
  const bool flatten = ys.size() == 2 && ys[0] == 1 && ys[1] == numel(xs);
  if (!flatten) {
    return Error{where(n) + ": reshaping " + shape_str(xs) + " to " + shape_str(ys) +
                 " is not a flatten to [N, C*H*W]; the integer engine only flattens (NHWC storage has no other "
                 "free reshape)"};
  }
  // The alias keeps its input's quantization (activation_sources); check it anyway.
  POCKET_ASSIGN_OR_RETURN(const ActQuant out_q, act_quant(grp.output, where(n)));
  POCKET_TRY(same_quant(n, tensors_[static_cast<size_t>(in)].quant, out_q));
  tensor_of_[static_cast<size_t>(grp.output)] = in;
  tensors_[static_cast<size_t>(in)].aliases.push_back(grp.output);
  return Status::ok();
}

Result<PlanParts> Builder::build(const CompileOptions& options) {
  if (m_.config.weight_only) {
    return Error{"the model is quantized weight-only (activations stay float): the integer engine needs quantized "
                 "activations (quantize without --weight-only)"};
  }
  if (options.arena_alignment < 1) return Error{"arena alignment must be at least 1"};
  if (g_.input < 0 || g_.output < 0) return Error{"the model has no input or output"};
  const std::string input_name = "input '" + g_.values[static_cast<size_t>(g_.input)].name + "'";
  POCKET_ASSIGN_OR_RETURN(const int in, add_tensor(g_.input, input_name, {}));
  for (const QuantGroup& grp : quant_groups(g_)) {
    const Node& anchor = g_.nodes[static_cast<size_t>(grp.nodes[0])];
    Status st;
    switch (anchor.kind) {
      case OpKind::Conv: st = conv(grp); break;
      case OpKind::Linear: st = linear(grp); break;
      case OpKind::Add: st = add(grp); break;
      case OpKind::Softmax: st = softmax(grp); break;
      case OpKind::MaxPool:
      case OpKind::AveragePool:
      case OpKind::GlobalAveragePool: st = pool(grp); break;
      case OpKind::Relu:
      case OpKind::Clip: st = clamp(grp); break;
      case OpKind::Flatten:
      case OpKind::Reshape: st = alias(grp); break;
      case OpKind::BatchNorm:
        st = Error{where(anchor) + ": a BatchNormalization that does not directly follow a Conv (with no other "
                                   "consumer) cannot be folded, and the integer engine has no kernel for it"};
        break;
      case OpKind::Pad:
        st = Error{where(anchor) + ": a Pad that cannot be folded into the following Conv (non-zero value, "
                                   "non-spatial, or other consumers) has no integer kernel"};
        break;
    }
    POCKET_TRY(st);
  }
  const int out = tensor_of_[static_cast<size_t>(g_.output)];
  if (out < 0) return Error{"the model output is not computed by the integer engine"};
  if (layers_.empty() || out == in) return Error{"the model has no integer layer"};

  // Lifetimes: a tensor is live from the layer that writes it (the input: from layer 0) to the last
  // layer that reads it; the output stays live to the end (it is read after the last layer).
  const int last = static_cast<int>(layers_.size()) - 1;
  for (PlanTensor& t : tensors_) t.first_step = t.last_step = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    PlanTensor& y = tensors_[static_cast<size_t>(layers_[i].output)];
    y.first_step = y.last_step = static_cast<int>(i);
  }
  for (size_t i = 0; i < layers_.size(); ++i) {
    for (int t : layers_[i].inputs) {
      PlanTensor& x = tensors_[static_cast<size_t>(t)];
      x.last_step = std::max(x.last_step, static_cast<int>(i));
    }
  }
  tensors_[static_cast<size_t>(out)].last_step = last;
  std::vector<ArenaRequest> requests;
  for (const PlanTensor& t : tensors_) requests.push_back({t.bytes, t.first_step, t.last_step});

  PlanParts plan;
  plan.arena = plan_arena(requests, options.arena_alignment);
  for (size_t i = 0; i < tensors_.size(); ++i) tensors_[i].offset = plan.arena.offsets[i];

  // The folded input normalisation (uint8 pixels -> int8 model input).
  const PlanTensor& x = tensors_[static_cast<size_t>(in)];
  if (g_.normalization.known() && x.shape.size() == 4 && x.shape[1] >= 1 && x.shape[1] <= 3) {
    auto fold = qmath::fold_input_normalization(g_.normalization, static_cast<int>(x.shape[1]),
                                                qmath::QuantParams{x.quant.scale, x.quant.zero_point});
    if (!fold) return Error{input_name + ": folding the input normalisation " + g_.normalization.spec() + ": " + fold.message()};
    pocket_quantize_input_params p{};
    p.batches = 1;
    p.height = static_cast<int32_t>(x.shape[2]);
    p.width = static_cast<int32_t>(x.shape[3]);
    p.channels = static_cast<int32_t>(x.shape[1]);
    p.layout = POCKET_PIXELS_CHW;
    p.multiplier = fold->multiplier.data();
    p.shift = fold->shift.data();
    p.offset = fold->offset.data();
    p.output_zero_point = fold->zero_point;
    if (const pocket_status st = pocket_quantize_input_check(&p); st != POCKET_OK) {
      return Error{input_name + ": pocket_quantize_input_check: " + status_text(st)};
    }
    plan.pixel_input = std::move(*fold);
  }
  plan.layers = std::move(layers_);
  plan.tensors = std::move(tensors_);
  plan.input = in;
  plan.output = out;
  return plan;
}

}  // namespace

const char* layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::Conv2d: return "conv2d";
    case LayerKind::FullyConnected: return "fully_connected";
    case LayerKind::Add: return "add";
    case LayerKind::Softmax: return "softmax";
    case LayerKind::MaxPool: return "maxpool";
    case LayerKind::AveragePool: return "avgpool";
    case LayerKind::GlobalAveragePool: return "global_avgpool";
    case LayerKind::Clamp: return "clamp";
  }
  return "?";
}

const char* kernel_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::Conv2d: return "pocket_conv2d_s8";
    case LayerKind::FullyConnected: return "pocket_fully_connected_s8";
    case LayerKind::Add: return "pocket_add_s8";
    case LayerKind::Softmax: return "pocket_softmax_s8";
    case LayerKind::MaxPool: return "pocket_maxpool_s8";
    case LayerKind::AveragePool: return "pocket_avgpool_s8";
    case LayerKind::GlobalAveragePool: return "pocket_global_avgpool_s8";
    case LayerKind::Clamp: return "pocket_clamp_s8";
  }
  return "?";
}

Result<Plan> compile(const QModel& model, const CompileOptions& options) {
  Builder b(model);
  auto parts = b.build(options);
  if (!parts) return Error{parts.message()};
  Plan plan;
  plan.layers_ = std::move(parts->layers);
  plan.tensors_ = std::move(parts->tensors);
  plan.input_ = parts->input;
  plan.output_ = parts->output;
  plan.arena_ = std::move(parts->arena);
  plan.pixel_input_ = std::move(parts->pixel_input);
  plan.own_arena_.assign(static_cast<size_t>(plan.arena_.bytes), 0);

  // The fast kernels: plan and pack every Conv2d / FullyConnected layer once, for one variant
  // resolved now (a later pocket_fast_select() does not change this Plan).
  if (!pocket_fast_variant_supported(options.kernels)) {
    return Error{"kernel variant " + std::to_string(static_cast<int>(options.kernels)) +
                 " is not supported by this build or CPU"};
  }
  plan.kernels_ = options.kernels == POCKET_FAST_SELECTED ? pocket_fast_selected() : options.kernels;
  plan.packed_.assign(plan.layers_.size(), nullptr);
  for (size_t i = 0; i < plan.layers_.size(); ++i) {
    const Layer& l = plan.layers_[i];
    if (l.kind != LayerKind::Conv2d && l.kind != LayerKind::FullyConnected) continue;
    const int32_t* bias = l.bias.empty() ? nullptr : l.bias.data();
    int64_t packed_bytes = 0, scratch_bytes = 0;
    pocket_status st = POCKET_OK;
    if (l.kind == LayerKind::Conv2d) {
      pocket_conv2d_params p = l.conv;
      p.output_multiplier = l.multiplier.data();
      p.output_shift = l.shift.data();
      st = pocket_conv2d_s8_fast_plan(plan.kernels_, &p, bias, &packed_bytes, &scratch_bytes);
    } else {
      pocket_fully_connected_params p = l.fc;
      p.output_multiplier = l.multiplier.data();
      p.output_shift = l.shift.data();
      st = pocket_fully_connected_s8_fast_plan(plan.kernels_, &p, bias, &packed_bytes, &scratch_bytes);
    }
    if (st != POCKET_OK || packed_bytes <= 0) {
      return Error{"layer '" + l.name + "': the " + plan.kernels_name() + " fast kernel refused its parameters (" +
                   "status " + std::to_string(static_cast<int>(st)) + ")"};
    }
    std::shared_ptr<uint8_t[]> blob(new uint8_t[static_cast<size_t>(packed_bytes)]());
    if (l.kind == LayerKind::Conv2d) {
      pocket_conv2d_params p = l.conv;
      p.output_multiplier = l.multiplier.data();
      p.output_shift = l.shift.data();
      st = pocket_conv2d_s8_fast_pack(plan.kernels_, &p, l.weights.data(), bias, blob.get(), packed_bytes);
    } else {
      pocket_fully_connected_params p = l.fc;
      p.output_multiplier = l.multiplier.data();
      p.output_shift = l.shift.data();
      st = pocket_fully_connected_s8_fast_pack(plan.kernels_, &p, l.weights.data(), bias, blob.get(), packed_bytes);
    }
    if (st != POCKET_OK) {
      return Error{"layer '" + l.name + "': packing for the " + plan.kernels_name() + " fast kernel failed (" +
                   "status " + std::to_string(static_cast<int>(st)) + ")"};
    }
    plan.packed_[i] = std::move(blob);
    plan.scratch_bytes_ = std::max(plan.scratch_bytes_, scratch_bytes);
  }
  plan.own_scratch_.assign(static_cast<size_t>(plan.scratch_bytes_), 0);
  return plan;
}

}  // namespace pocket::engine
