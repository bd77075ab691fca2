// ONNX → float graph. One Importer walks the ONNX nodes in order (ONNX requires topological order),
// turns each into at most one graph node, and computes its shape at once, so that every error can
// name the file, the node and its ONNX op. Constants (initializers and Constant nodes) are kept aside
// and become parameters only where a node uses them as weights.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "onnx_proto.hpp"
#include "pocket/onnx.hpp"
#include "pocket/ops.hpp"

namespace pocket {

namespace {

constexpr int64_t kMinOpset = 7;
constexpr const char* kNormalizationKey = "pocket.normalization";

std::string dims_str(const std::vector<int64_t>& dims) { return shape_str(dims); }

std::string data_type_name(int32_t t) {
  if (onnx::TensorProto_DataType_IsValid(t)) {
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(t));
  }
  return "type " + std::to_string(t);
}

// Little-endian decoding, independent of the host's byte order.
uint32_t load_le32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t load_le64(const unsigned char* p) {
  return static_cast<uint64_t>(load_le32(p)) | (static_cast<uint64_t>(load_le32(p + 4)) << 32);
}

// A tensor known at import time: an initializer or the value of a Constant node.
struct ConstTensor {
  std::string name;
  Shape dims;
  int32_t data_type = 0;
  std::vector<float> floats;   // FLOAT
  std::vector<int64_t> ints;   // INT64, INT32
  bool is_float() const { return data_type == onnx::TensorProto_DataType_FLOAT; }
  bool is_int() const {
    return data_type == onnx::TensorProto_DataType_INT64 || data_type == onnx::TensorProto_DataType_INT32;
  }
};

// Decodes a TensorProto. `what` names it in errors ("initializer 'w'", "Constant 'c'").
Result<ConstTensor> decode_tensor(const onnx::TensorProto& t, const std::string& name, const std::string& what) {
  ConstTensor c;
  c.name = name;
  c.data_type = t.data_type();
  if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL || t.external_data_size() > 0) {
    return Error{what + " keeps its data in an external file (external data is not supported); save the model "
                        "with the weights inside, e.g. onnx.save(model, path, save_as_external_data=False)"};
  }
  if (t.has_segment()) return Error{what + " is segmented; segmented tensors are not supported"};
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) return Error{what + " has a negative dimension in " + dims_str({t.dims().begin(), t.dims().end()})};
    if (d > 0 && count > std::numeric_limits<int32_t>::max() / d) return Error{what + " is too large"};
    count *= d;
    c.dims.push_back(d);
  }
  const auto n = static_cast<size_t>(count);
  const std::string& raw = t.raw_data();
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  const auto bad_size = [&](size_t have, const char* unit) {
    return Error{what + ": " + std::to_string(have) + " " + unit + " of data for shape " + shape_str(c.dims) + " (" +
                 std::to_string(n) + " elements of " + data_type_name(c.data_type) +
                 "): inconsistent, the file is damaged"};
  };
  switch (c.data_type) {
    case onnx::TensorProto_DataType_FLOAT:
      if (t.has_raw_data()) {
        if (raw.size() != 4 * n) return bad_size(raw.size(), "bytes");
        c.floats.resize(n);
        for (size_t i = 0; i < n; ++i) {
          const uint32_t u = load_le32(bytes + 4 * i);
          std::memcpy(&c.floats[i], &u, 4);
        }
      } else {
        if (static_cast<size_t>(t.float_data_size()) != n) return bad_size(static_cast<size_t>(t.float_data_size()), "floats");
        c.floats.assign(t.float_data().begin(), t.float_data().end());
      }
      break;
    case onnx::TensorProto_DataType_INT64:
      if (t.has_raw_data()) {
        if (raw.size() != 8 * n) return bad_size(raw.size(), "bytes");
        c.ints.resize(n);
        for (size_t i = 0; i < n; ++i) c.ints[i] = static_cast<int64_t>(load_le64(bytes + 8 * i));
      } else {
        if (static_cast<size_t>(t.int64_data_size()) != n) return bad_size(static_cast<size_t>(t.int64_data_size()), "int64s");
        c.ints.assign(t.int64_data().begin(), t.int64_data().end());
      }
      break;
    case onnx::TensorProto_DataType_INT32:
      if (t.has_raw_data()) {
        if (raw.size() != 4 * n) return bad_size(raw.size(), "bytes");
        c.ints.resize(n);
        for (size_t i = 0; i < n; ++i) c.ints[i] = static_cast<int32_t>(load_le32(bytes + 4 * i));
      } else {
        if (static_cast<size_t>(t.int32_data_size()) != n) return bad_size(static_cast<size_t>(t.int32_data_size()), "int32s");
        c.ints.assign(t.int32_data().begin(), t.int32_data().end());
      }
      break;
    default:
      break;  // kept without data: an error names it if a node needs its values
  }
  return c;
}

Result<int> narrow_int(int64_t v, const std::string& what) {
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    return Error{what + " = " + std::to_string(v) + " is out of range"};
  }
  return static_cast<int>(v);
}

class Importer {
 public:
  Importer(const onnx::ModelProto& model, std::string file) : model_(model), file_(std::move(file)) {}

  Result<Graph> run();

 private:
  using Handler = Status (Importer::*)();

  // ---- errors ----
  Error fail(const std::string& msg) const {
    if (node_ == nullptr) return Error{file_ + ": " + msg};
    return Error{file_ + ": node '" + node_name_ + "' (" + node_->op_type() + "): " + msg};
  }

  // ---- inputs of the current node ----
  size_t num_inputs() const { return static_cast<size_t>(node_->input_size()); }
  bool has_input(size_t i) const { return i < num_inputs() && !node_->input(static_cast<int>(i)).empty(); }
  const std::string& input_name(size_t i) const { return node_->input(static_cast<int>(i)); }
  Status expect_inputs(size_t min, size_t max) const;
  Status expect_single_output() const;
  Error missing(const std::string& name) const {
    return fail("input '" + name + "' is missing: it is not an initializer, a Constant, the graph input, nor the "
                "output of an earlier node");
  }
  Result<int> activation(size_t i) const;
  Result<const ConstTensor*> constant(size_t i) const;
  Result<const ConstTensor*> float_constant(size_t i) const;
  // A parameter from constant input i; `variant` distinguishes transformed copies of one tensor.
  Result<int> param(size_t i) { return param_from(i, nullptr, ""); }
  Result<int> param_from(size_t i, const Tensor* data, const std::string& variant);
  const Shape& shape_of(int value) const { return g_.values[static_cast<size_t>(value)].shape; }

  // ---- attributes of the current node ----
  Status check_attributes(std::initializer_list<const char*> known) const;
  const onnx::AttributeProto* attr(const char* name) const;
  Result<int64_t> attr_int(const char* name, int64_t fallback) const;
  Result<float> attr_float(const char* name, float fallback) const;
  Result<std::string> attr_string(const char* name, const std::string& fallback) const;
  Result<std::vector<int64_t>> attr_ints(const char* name) const;  // empty if absent

  // Adds the graph node for the current ONNX node and computes its shape.
  Status emit(OpKind kind, std::vector<int> inputs, Attrs attrs);
  void alias(const std::string& onnx_name, int value) { values_[onnx_name] = value; }

  Status spatial_attrs(const Shape& x, std::array<int, 2> kernel, bool is_pool, Attrs& a) const;

  // ---- handlers, one per ONNX op ----
  Status conv();
  Status max_pool();
  Status average_pool();
  Status global_average_pool();
  Status relu();
  Status clip();
  Status add();
  Status gemm();
  Status matmul();
  Status flatten();
  Status reshape();
  Status batch_norm();
  Status softmax();
  Status pad();
  Status constant_node();
  Status passthrough();  // Dropout, Identity

  Status read_input();
  Status read_initializers();
  Status read_output();
  Status read_metadata();

  const onnx::ModelProto& model_;
  std::string file_;
  int64_t opset_ = 0;
  Graph g_;
  std::map<std::string, ConstTensor> consts_;
  std::map<std::string, int> values_;  // ONNX tensor name → graph value (input and activations)
  std::map<std::string, int> params_;  // constant name + variant → Param value
  std::map<std::string, int> uses_;    // ONNX tensor name → number of consumers (graph output counts)
  const onnx::NodeProto* node_ = nullptr;
  std::string node_name_;
};

Status Importer::expect_inputs(size_t min, size_t max) const {
  size_t n = num_inputs();
  while (n > 0 && input_name(n - 1).empty()) --n;  // trailing optional inputs may be written as ""
  if (n < min || n > max) {
    return fail("has " + std::to_string(n) + " inputs, expected " +
                (min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max)));
  }
  for (size_t i = 0; i < min; ++i) {
    if (input_name(i).empty()) return fail("required input " + std::to_string(i) + " is empty");
  }
  return Status::ok();
}

Status Importer::expect_single_output() const {
  if (node_->output_size() < 1 || node_->output(0).empty()) return fail("has no output");
  for (int i = 1; i < node_->output_size(); ++i) {
    const std::string& o = node_->output(i);
    if (!o.empty() && uses_.count(o) != 0) {
      return fail("its output " + std::to_string(i) + " ('" + o + "') is used, but only the first output is supported");
    }
  }
  return Status::ok();
}

Result<int> Importer::activation(size_t i) const {
  const std::string& name = input_name(i);
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  if (consts_.count(name) != 0) {
    return fail("input '" + name + "' is a constant; a computed tensor is expected here");
  }
  return missing(name);
}

Result<const ConstTensor*> Importer::constant(size_t i) const {
  const std::string& name = input_name(i);
  if (auto it = consts_.find(name); it != consts_.end()) return &it->second;
  if (values_.count(name) != 0) {
    return fail("input '" + name + "' is computed by the graph; it must be an initializer or a Constant");
  }
  return missing(name);
}

Result<const ConstTensor*> Importer::float_constant(size_t i) const {
  POCKET_ASSIGN_OR_RETURN(const ConstTensor* c, constant(i));
  if (!c->is_float()) {
    return fail("input '" + c->name + "' has data type " + data_type_name(c->data_type) +
                "; only float32 tensors are supported here");
  }
  return c;
}

Result<int> Importer::param_from(size_t i, const Tensor* data, const std::string& variant) {
  POCKET_ASSIGN_OR_RETURN(const ConstTensor* c, float_constant(i));
  const std::string key = c->name + "\x1f" + variant;
  if (auto it = params_.find(key); it != params_.end()) return it->second;
  const int id = data != nullptr ? g_.add_param(c->name, *data) : g_.add_param(c->name, Tensor(c->dims, c->floats));
  params_[key] = id;
  return id;
}

Status Importer::check_attributes(std::initializer_list<const char*> known) const {
  for (const auto& a : node_->attribute()) {
    const bool ok = std::any_of(known.begin(), known.end(), [&](const char* k) { return a.name() == k; });
    if (!ok) return fail("attribute '" + a.name() + "' is not supported");
  }
  return Status::ok();
}

const onnx::AttributeProto* Importer::attr(const char* name) const {
  for (const auto& a : node_->attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

Result<int64_t> Importer::attr_int(const char* name, int64_t fallback) const {
  const auto* a = attr(name);
  if (a == nullptr) return fallback;
  if (a->type() != onnx::AttributeProto_AttributeType_INT) return fail(std::string("attribute '") + name + "' must be an int");
  return a->i();
}

Result<float> Importer::attr_float(const char* name, float fallback) const {
  const auto* a = attr(name);
  if (a == nullptr) return fallback;
  if (a->type() != onnx::AttributeProto_AttributeType_FLOAT) return fail(std::string("attribute '") + name + "' must be a float");
  return a->f();
}

Result<std::string> Importer::attr_string(const char* name, const std::string& fallback) const {
  const auto* a = attr(name);
  if (a == nullptr) return fallback;
  if (a->type() != onnx::AttributeProto_AttributeType_STRING) return fail(std::string("attribute '") + name + "' must be a string");
  return a->s();
}

Result<std::vector<int64_t>> Importer::attr_ints(const char* name) const {
  const auto* a = attr(name);
  if (a == nullptr) return std::vector<int64_t>{};
  if (a->type() != onnx::AttributeProto_AttributeType_INTS) return fail(std::string("attribute '") + name + "' must be a list of ints");
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

Status Importer::emit(OpKind kind, std::vector<int> inputs, Attrs attrs) {
  const int out = g_.add_node(kind, node_name_, std::move(inputs), std::move(attrs));
  const std::string& out_name = node_->output(0);
  g_.values[static_cast<size_t>(out)].name = out_name;
  const Node& n = g_.nodes.back();
  std::vector<const Shape*> shapes;
  for (int id : n.inputs) shapes.push_back(&g_.values[static_cast<size_t>(id)].shape);
  auto shape = infer_output_shape(n, shapes);
  if (!shape) {
    const std::string& m = shape.message();
    if (m.rfind("node '", 0) == 0) return Error{file_ + ": " + m + " [ONNX op " + node_->op_type() + "]"};
    return fail(m);
  }
  g_.values[static_cast<size_t>(out)].shape = std::move(*shape);
  if (values_.count(out_name) != 0 || consts_.count(out_name) != 0) {
    return fail("output '" + out_name + "' is produced twice");
  }
  values_[out_name] = out;
  return Status::ok();
}

// kernel/strides/pads/dilations/auto_pad of Conv and the pools, for a 4-D input x.
Status Importer::spatial_attrs(const Shape& x, std::array<int, 2> kernel, bool is_pool, Attrs& a) const {
  if (x.size() != 4) {
    return fail("input has shape " + shape_str(x) + "; only 2-D spatial ops on NCHW tensors are supported");
  }
  POCKET_ASSIGN_OR_RETURN(auto ks, attr_ints("kernel_shape"));
  if (is_pool && ks.empty()) return fail("attribute 'kernel_shape' is required");
  if (!ks.empty()) {
    if (ks.size() != 2) return fail("kernel_shape " + dims_str(ks) + " is not 2-D");
    if (!is_pool && (ks[0] != kernel[0] || ks[1] != kernel[1])) {
      return fail("kernel_shape " + dims_str(ks) + " does not match the weight's spatial size " +
                  std::to_string(kernel[0]) + "x" + std::to_string(kernel[1]));
    }
    for (size_t i = 0; i < 2; ++i) {
      if (ks[i] < 1) return fail("kernel_shape " + dims_str(ks) + " must be positive");
      POCKET_ASSIGN_OR_RETURN(kernel[i], narrow_int(ks[i], "kernel_shape"));
    }
  }
  a.kernel = kernel;
  POCKET_ASSIGN_OR_RETURN(auto strides, attr_ints("strides"));
  if (!strides.empty()) {
    if (strides.size() != 2) return fail("strides " + dims_str(strides) + " is not 2-D");
    for (size_t i = 0; i < 2; ++i) {
      if (strides[i] < 1) return fail("strides " + dims_str(strides) + " must be positive");
      POCKET_ASSIGN_OR_RETURN(a.stride[i], narrow_int(strides[i], "strides"));
    }
  }
  POCKET_ASSIGN_OR_RETURN(auto dil, attr_ints("dilations"));
  if (!dil.empty()) {
    if (dil.size() != 2) return fail("dilations " + dims_str(dil) + " is not 2-D");
    for (size_t i = 0; i < 2; ++i) {
      if (dil[i] < 1) return fail("dilations " + dims_str(dil) + " must be positive");
      POCKET_ASSIGN_OR_RETURN(a.dilation[i], narrow_int(dil[i], "dilations"));
    }
  }
  POCKET_ASSIGN_OR_RETURN(auto pads, attr_ints("pads"));
  POCKET_ASSIGN_OR_RETURN(auto auto_pad, attr_string("auto_pad", "NOTSET"));
  if (auto_pad == "NOTSET") {
    if (!pads.empty()) {
      if (pads.size() != 4) return fail("pads " + dims_str(pads) + " must have 4 entries (top, left, bottom, right)");
      for (size_t i = 0; i < 4; ++i) {
        if (pads[i] < 0) return fail("negative pads " + dims_str(pads) + " are not supported");
        POCKET_ASSIGN_OR_RETURN(a.pads[i], narrow_int(pads[i], "pads"));
      }
    }
  } else if (auto_pad == "VALID") {
    a.pads = {0, 0, 0, 0};
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    // Output = ceil(in / stride); the total padding is split evenly, the odd pixel at the end (UPPER)
    // or at the beginning (LOWER).
    for (size_t i = 0; i < 2; ++i) {
      const int64_t in = x[2 + i];
      const int64_t out = (in + a.stride[i] - 1) / a.stride[i];
      const int64_t span = static_cast<int64_t>(a.dilation[i]) * (a.kernel[i] - 1) + 1;
      const int64_t total = std::max<int64_t>(0, (out - 1) * a.stride[i] + span - in);
      const int64_t small = total / 2;
      const int64_t large = total - small;
      const bool upper = auto_pad == "SAME_UPPER";
      a.pads[i] = static_cast<int>(upper ? small : large);
      a.pads[i + 2] = static_cast<int>(upper ? large : small);
    }
  } else {
    return fail("auto_pad '" + auto_pad + "' is not supported (NOTSET, VALID, SAME_UPPER, SAME_LOWER)");
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Handlers

Status Importer::conv() {
  POCKET_TRY(check_attributes({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}));
  POCKET_TRY(expect_inputs(2, 3));
  POCKET_TRY(expect_single_output());
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  POCKET_ASSIGN_OR_RETURN(const int w, param(1));
  const Shape xs = shape_of(x);
  const Shape ws = shape_of(w);
  if (ws.size() != 4) {
    return fail("weight '" + input_name(1) + "' has shape " + shape_str(ws) +
                "; only 2-D convolution (weight [O, C/group, kH, kW]) is supported");
  }
  Attrs a;
  POCKET_ASSIGN_OR_RETURN(const int64_t group, attr_int("group", 1));
  if (group < 1) return fail("group " + std::to_string(group) + " must be positive");
  POCKET_ASSIGN_OR_RETURN(a.groups, narrow_int(group, "group"));
  POCKET_ASSIGN_OR_RETURN(const int kh, narrow_int(ws[2], "kernel height"));
  POCKET_ASSIGN_OR_RETURN(const int kw, narrow_int(ws[3], "kernel width"));
  POCKET_TRY(spatial_attrs(xs, {kh, kw}, false, a));
  if (xs[1] != ws[1] * group) {
    return fail("inconsistent shapes: the input " + shape_str(xs) + " has " + std::to_string(xs[1]) +
                " channels, the weight '" + input_name(1) + "' " + shape_str(ws) + " with group " +
                std::to_string(group) + " expects " + std::to_string(ws[1] * group));
  }
  if (ws[0] % group != 0) {
    return fail("inconsistent shapes: " + std::to_string(ws[0]) + " output channels are not divisible by group " +
                std::to_string(group));
  }
  std::vector<int> ins{x, w};
  if (has_input(2)) {
    POCKET_ASSIGN_OR_RETURN(const int b, param(2));
    if (shape_of(b) != Shape{ws[0]}) {
      return fail("inconsistent shapes: bias '" + input_name(2) + "' has shape " + shape_str(shape_of(b)) + ", expected [" +
                  std::to_string(ws[0]) + "]");
    }
    ins.push_back(b);
  }
  return emit(OpKind::Conv, std::move(ins), a);
}

Status Importer::max_pool() {
  POCKET_TRY(check_attributes({"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"}));
  POCKET_TRY(expect_inputs(1, 1));
  POCKET_TRY(expect_single_output());
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  POCKET_ASSIGN_OR_RETURN(const int64_t ceil_mode, attr_int("ceil_mode", 0));
  if (ceil_mode != 0) return fail("ceil_mode=1 is not supported; re-export the model with ceil_mode=False");
  POCKET_ASSIGN_OR_RETURN(const int64_t storage_order, attr_int("storage_order", 0));
  if (storage_order != 0) return fail("storage_order=1 (column-major indices) is not supported");
  Attrs a;
  POCKET_TRY(spatial_attrs(shape_of(x), {0, 0}, true, a));
  if (a.dilation != std::array<int, 2>{1, 1}) {
    return fail("dilations " + std::to_string(a.dilation[0]) + "x" + std::to_string(a.dilation[1]) +
                " are not supported for MaxPool; only 1");
  }
  return emit(OpKind::MaxPool, {x}, a);
}

Status Importer::average_pool() {
  POCKET_TRY(check_attributes({"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"}));
  POCKET_TRY(expect_inputs(1, 1));
  POCKET_TRY(expect_single_output());
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  POCKET_ASSIGN_OR_RETURN(const int64_t ceil_mode, attr_int("ceil_mode", 0));
  if (ceil_mode != 0) return fail("ceil_mode=1 is not supported; re-export the model with ceil_mode=False");
  POCKET_ASSIGN_OR_RETURN(const int64_t include_pad, attr_int("count_include_pad", 0));
  Attrs a;
  a.count_include_pad = include_pad != 0;
  POCKET_TRY(spatial_attrs(shape_of(x), {0, 0}, true, a));
  if (a.dilation != std::array<int, 2>{1, 1}) return fail("dilations are not supported for AveragePool; only 1");
  return emit(OpKind::AveragePool, {x}, a);
}

Status Importer::global_average_pool() {
  POCKET_TRY(check_attributes({}));
  POCKET_TRY(expect_inputs(1, 1));
  POCKET_TRY(expect_single_output());
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  if (shape_of(x).size() != 4) return fail("input has shape " + shape_str(shape_of(x)) + "; NCHW expected");
  return emit(OpKind::GlobalAveragePool, {x}, {});
}

Status Importer::relu() {
  POCKET_TRY(check_attributes({}));
  POCKET_TRY(expect_inputs(1, 1));
  POCKET_TRY(expect_single_output());
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  return emit(OpKind::Relu, {x}, {});
}

Status Importer::clip() {
  Attrs a;
  if (opset_ < 11) {
    POCKET_TRY(check_attributes({"min", "max"}));
    POCKET_TRY(expect_inputs(1, 1));
    POCKET_ASSIGN_OR_RETURN(a.clip_min, attr_float("min", -std::numeric_limits<float>::infinity()));
    POCKET_ASSIGN_OR_RETURN(a.clip_max, attr_float("max", std::numeric_limits<float>::infinity()));
  } else {
    POCKET_TRY(check_attributes({}));
    POCKET_TRY(expect_inputs(1, 3));
    for (size_t i = 1; i <= 2; ++i) {
      if (!has_input(i)) continue;
      POCKET_ASSIGN_OR_RETURN(const ConstTensor* c, float_constant(i));
      if (c->floats.size() != 1) {
        return fail(std::string(i == 1 ? "min" : "max") + " '" + c->name + "' has shape " + shape_str(c->dims) +
                    "; a scalar is expected");
      }
      (i == 1 ? a.clip_min : a.clip_max) = c->floats[0];
    }
  }
  POCKET_TRY(expect_single_output());
  if (a.clip_min > a.clip_max) {
    return fail("min " + std::to_string(a.clip_min) + " is greater than max " + std::to_string(a.clip_max));
  }
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  return emit(OpKind::Clip, {x}, a);
}

Status Importer::add() {
  POCKET_TRY(check_attributes({}));
  POCKET_TRY(expect_inputs(2, 2));
  POCKET_TRY(expect_single_output());
  const bool c0 = consts_.count(input_name(0)) != 0;
  const bool c1 = consts_.count(input_name(1)) != 0;
  if (!c0 && !c1) {
    POCKET_ASSIGN_OR_RETURN(const int a, activation(0));
    POCKET_ASSIGN_OR_RETURN(const int b, activation(1));
    if (shape_of(a) != shape_of(b)) {
      return fail("inconsistent shapes: " + shape_str(shape_of(a)) + " + " + shape_str(shape_of(b)) +
                  "; only Add of two tensors of the same shape is supported (no broadcasting)");
    }
    return emit(OpKind::Add, {a, b}, {});
  }
  if (c0 && c1) return fail("both inputs are constants; constant folding is not supported");
  // x + constant: only as the bias of a preceding bias-less Linear (PyTorch's MatMul + Add).
  const size_t xi = c0 ? 1 : 0;
  const size_t ci = c0 ? 0 : 1;
  POCKET_ASSIGN_OR_RETURN(const int x, activation(xi));
  POCKET_ASSIGN_OR_RETURN(const ConstTensor* c, float_constant(ci));
  const auto producer = std::find_if(g_.nodes.begin(), g_.nodes.end(), [&](const Node& n) { return n.output == x; });
  const std::string& x_name = input_name(xi);
  const std::string& linear_name = g_.values[static_cast<size_t>(x)].name;
  const bool single_use = uses_[x_name] == 1 && uses_[linear_name] == 1;
  if (producer == g_.nodes.end() || producer->kind != OpKind::Linear || producer->inputs.size() != 2 || !single_use) {
    return fail("adding the constant '" + c->name +
                "' is only supported as the bias of a preceding MatMul whose output is used only here");
  }
  const int64_t out = shape_of(producer->inputs[1])[0];
  const bool vector_like = c->dims == Shape{out} || c->dims == Shape{1, out};
  if (!vector_like) {
    return fail("inconsistent shapes: constant '" + c->name + "' " + shape_str(c->dims) + " cannot be the bias of '" +
                producer->name + "' with " + std::to_string(out) + " outputs");
  }
  const Tensor bias({out}, c->floats);
  POCKET_ASSIGN_OR_RETURN(const int b, param_from(ci, &bias, "bias"));
  producer->inputs.push_back(b);
  g_.values[static_cast<size_t>(x)].name = node_->output(0);
  alias(node_->output(0), x);
  return Status::ok();
}

Status Importer::gemm() {
  POCKET_TRY(check_attributes({"alpha", "beta", "transA", "transB", "broadcast"}));
  POCKET_TRY(expect_inputs(2, 3));
  POCKET_TRY(expect_single_output());
  POCKET_ASSIGN_OR_RETURN(const int64_t trans_a, attr_int("transA", 0));
  if (trans_a != 0) return fail("transA=1 is not supported");
  POCKET_ASSIGN_OR_RETURN(const int64_t trans_b, attr_int("transB", 0));
  POCKET_ASSIGN_OR_RETURN(const float alpha, attr_float("alpha", 1.0f));
  POCKET_ASSIGN_OR_RETURN(const float beta, attr_float("beta", 1.0f));
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  POCKET_ASSIGN_OR_RETURN(const ConstTensor* bt, float_constant(1));
  const Shape& xs = shape_of(x);
  if (xs.size() != 2) return fail("input has shape " + shape_str(xs) + "; Gemm needs a 2-D [N, in] input");
  if (bt->dims.size() != 2) return fail("weight '" + bt->name + "' has shape " + shape_str(bt->dims) + "; 2-D expected");
  const int64_t out_f = trans_b != 0 ? bt->dims[0] : bt->dims[1];
  const int64_t in_f = trans_b != 0 ? bt->dims[1] : bt->dims[0];
  if (in_f != xs[1]) {
    return fail("inconsistent shapes: the input " + shape_str(xs) + " has " + std::to_string(xs[1]) +
                " features, the weight '" + bt->name + "' " + shape_str(bt->dims) + (trans_b != 0 ? " (transB=1)" : "") +
                " expects " + std::to_string(in_f));
  }
  // W is stored [out, in]: B itself when transB=1, its transpose otherwise; alpha is folded in.
  Tensor w({out_f, in_f});
  for (int64_t o = 0; o < out_f; ++o) {
    for (int64_t i = 0; i < in_f; ++i) {
      const float v = trans_b != 0 ? bt->floats[static_cast<size_t>(o * in_f + i)] : bt->floats[static_cast<size_t>(i * out_f + o)];
      w.data[static_cast<size_t>(o * in_f + i)] = alpha == 1.0f ? v : alpha * v;
    }
  }
  const std::string variant = (trans_b != 0 ? "" : "T") + (alpha == 1.0f ? std::string() : "*" + std::to_string(alpha));
  POCKET_ASSIGN_OR_RETURN(const int wid, param_from(1, &w, variant));
  std::vector<int> ins{x, wid};
  if (has_input(2) && beta != 0.0f) {
    POCKET_ASSIGN_OR_RETURN(const ConstTensor* c, float_constant(2));
    const bool vector_like = c->dims == Shape{out_f} || c->dims == Shape{1, out_f};
    const bool scalar_like = c->floats.size() == 1;
    if (!vector_like && !scalar_like) {
      return fail("inconsistent shapes: bias '" + c->name + "' " + shape_str(c->dims) + " does not broadcast to [N, " +
                  std::to_string(out_f) + "]");
    }
    Tensor b({out_f});
    for (size_t o = 0; o < b.data.size(); ++o) {
      const float v = scalar_like ? c->floats[0] : c->floats[o];
      b.data[o] = beta == 1.0f ? v : beta * v;
    }
    const std::string bvariant = (scalar_like && out_f != 1 ? "bcast" + std::to_string(out_f) : std::string()) +
                                 (beta == 1.0f ? std::string() : "*" + std::to_string(beta));
    POCKET_ASSIGN_OR_RETURN(const int bid, param_from(2, &b, "bias" + bvariant));
    ins.push_back(bid);
  }
  return emit(OpKind::Linear, std::move(ins), {});
}

Status Importer::matmul() {
  POCKET_TRY(check_attributes({}));
  POCKET_TRY(expect_inputs(2, 2));
  POCKET_TRY(expect_single_output());
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  if (values_.count(input_name(1)) != 0) {
    return fail("the right operand '" + input_name(1) + "' is computed; only MatMul by a constant 2-D weight is supported");
  }
  POCKET_ASSIGN_OR_RETURN(const ConstTensor* bt, float_constant(1));
  const Shape& xs = shape_of(x);
  if (xs.size() != 2) return fail("input has shape " + shape_str(xs) + "; MatMul needs a 2-D [N, in] input");
  if (bt->dims.size() != 2) return fail("weight '" + bt->name + "' has shape " + shape_str(bt->dims) + "; 2-D [in, out] expected");
  const int64_t in_f = bt->dims[0];
  const int64_t out_f = bt->dims[1];
  if (in_f != xs[1]) {
    return fail("inconsistent shapes: the input " + shape_str(xs) + " has " + std::to_string(xs[1]) +
                " features, the weight '" + bt->name + "' " + shape_str(bt->dims) + " expects " + std::to_string(in_f));
  }
  Tensor w({out_f, in_f});
  for (int64_t o = 0; o < out_f; ++o) {
    for (int64_t i = 0; i < in_f; ++i) w.data[static_cast<size_t>(o * in_f + i)] = bt->floats[static_cast<size_t>(i * out_f + o)];
  }
  POCKET_ASSIGN_OR_RETURN(const int wid, param_from(1, &w, "T"));
  return emit(OpKind::Linear, {x, wid}, {});
}

Status Importer::flatten() {
  POCKET_TRY(check_attributes({"axis"}));
  POCKET_TRY(expect_inputs(1, 1));
  POCKET_TRY(expect_single_output());
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  const auto rank = static_cast<int64_t>(shape_of(x).size());
  POCKET_ASSIGN_OR_RETURN(int64_t axis, attr_int("axis", 1));
  if (axis < -rank || axis > rank) return fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  if (axis == 0) return fail("axis 0 would fold the batch dimension into the features; not supported");
  Attrs a;
  a.axis = static_cast<int>(axis);
  return emit(OpKind::Flatten, {x}, a);
}

Status Importer::reshape() {
  POCKET_TRY(check_attributes({"allowzero"}));
  POCKET_TRY(expect_inputs(opset_ < 5 ? 1 : 2, opset_ < 5 ? 1 : 2));
  POCKET_TRY(expect_single_output());
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  POCKET_ASSIGN_OR_RETURN(const ConstTensor* s, constant(1));
  if (!s->is_int() || s->dims.size() != 1) {
    return fail("shape '" + s->name + "' must be a 1-D int64 tensor, got " + data_type_name(s->data_type) + " " +
                shape_str(s->dims));
  }
  POCKET_ASSIGN_OR_RETURN(const int64_t allowzero, attr_int("allowzero", 0));
  Attrs a;
  a.target_shape = s->ints;
  if (allowzero != 0 && std::find(a.target_shape.begin(), a.target_shape.end(), 0) != a.target_shape.end()) {
    return fail("allowzero=1 with a 0 in the shape (an empty tensor) is not supported");
  }
  // Shapes are recorded for batch 1, so an exporter's baked-in batch size shows up as a leading 1
  // (PyTorch: x.view(1, -1) or x.reshape(x.size(0), -1) traced at batch 1). Store it as 0, "copy the
  // batch dimension": identical at batch 1, and the model then runs at any batch size.
  if (!a.target_shape.empty() && a.target_shape[0] == 1 && !shape_of(x).empty() && shape_of(x)[0] == 1) {
    a.target_shape[0] = 0;
  }
  return emit(OpKind::Reshape, {x}, a);
}

Status Importer::batch_norm() {
  POCKET_TRY(check_attributes({"epsilon", "momentum", "training_mode", "spatial", "is_test", "consumed_inputs"}));
  POCKET_TRY(expect_inputs(5, 5));
  POCKET_TRY(expect_single_output());
  POCKET_ASSIGN_OR_RETURN(const int64_t training, attr_int("training_mode", 0));
  if (training != 0) return fail("training_mode=1 is not supported; export the model in eval mode");
  POCKET_ASSIGN_OR_RETURN(const int64_t spatial, attr_int("spatial", 1));
  if (spatial != 1) return fail("spatial=0 (per-activation statistics) is not supported");
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  const Shape xs = shape_of(x);
  if (xs.size() < 2) return fail("input has shape " + shape_str(xs) + "; [N, C, ...] expected");
  Attrs a;
  POCKET_ASSIGN_OR_RETURN(a.epsilon, attr_float("epsilon", 1e-5f));
  std::vector<int> ins{x};
  static constexpr std::array<const char*, 4> kRoles{"scale", "bias", "mean", "var"};
  for (size_t i = 1; i <= 4; ++i) {
    POCKET_ASSIGN_OR_RETURN(const int p, param(i));
    if (shape_of(p) != Shape{xs[1]}) {
      return fail(std::string("inconsistent shapes: ") + kRoles[i - 1] + " '" + input_name(i) + "' has shape " +
                  shape_str(shape_of(p)) + ", the input " + shape_str(xs) + " has " + std::to_string(xs[1]) + " channels");
    }
    ins.push_back(p);
  }
  return emit(OpKind::BatchNorm, std::move(ins), a);
}

Status Importer::softmax() {
  POCKET_TRY(check_attributes({"axis"}));
  POCKET_TRY(expect_inputs(1, 1));
  POCKET_TRY(expect_single_output());
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  const auto rank = static_cast<int64_t>(shape_of(x).size());
  POCKET_ASSIGN_OR_RETURN(const int64_t axis, attr_int("axis", opset_ < 13 ? 1 : -1));
  if (axis < -rank || axis >= rank) return fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  const int64_t norm = axis < 0 ? axis + rank : axis;
  if (norm == 0) return fail("softmax over the batch dimension (axis 0) is not supported");
  if (opset_ < 13 && norm != rank - 1) {
    return fail("Softmax before opset 13 flattens the input from axis " + std::to_string(axis) +
                "; only the last axis is supported");
  }
  Attrs a;
  a.axis = axis == -1 ? -1 : static_cast<int>(norm);
  return emit(OpKind::Softmax, {x}, a);
}

Status Importer::pad() {
  Attrs a;
  POCKET_ASSIGN_OR_RETURN(const std::string mode, attr_string("mode", "constant"));
  if (mode != "constant") return fail("mode '" + mode + "' is not supported; only constant");
  if (opset_ < 11) {
    POCKET_TRY(check_attributes({"mode", "pads", "paddings", "value"}));
    POCKET_TRY(expect_inputs(1, 1));
    POCKET_ASSIGN_OR_RETURN(a.pad_amounts, attr_ints(attr("pads") != nullptr ? "pads" : "paddings"));
    POCKET_ASSIGN_OR_RETURN(a.pad_value, attr_float("value", 0.0f));
  } else {
    POCKET_TRY(check_attributes({"mode"}));
    POCKET_TRY(expect_inputs(2, 3));
    if (has_input(3)) return fail("the axes input is not supported; pad every axis");
    POCKET_ASSIGN_OR_RETURN(const ConstTensor* p, constant(1));
    if (!p->is_int() || p->dims.size() != 1) {
      return fail("pads '" + p->name + "' must be a 1-D int64 tensor, got " + data_type_name(p->data_type) + " " +
                  shape_str(p->dims));
    }
    a.pad_amounts = p->ints;
    if (has_input(2)) {
      POCKET_ASSIGN_OR_RETURN(const ConstTensor* v, float_constant(2));
      if (v->floats.size() != 1) return fail("constant_value '" + v->name + "' must be a scalar");
      a.pad_value = v->floats[0];
    }
  }
  POCKET_TRY(expect_single_output());
  POCKET_ASSIGN_OR_RETURN(const int x, activation(0));
  const size_t rank = shape_of(x).size();
  if (a.pad_amounts.size() != 2 * rank) {
    return fail("inconsistent shapes: pads " + dims_str(a.pad_amounts) + " has " + std::to_string(a.pad_amounts.size()) +
                " entries, the input " + shape_str(shape_of(x)) + " needs " + std::to_string(2 * rank));
  }
  for (int64_t v : a.pad_amounts) {
    if (v < 0) return fail("negative pads " + dims_str(a.pad_amounts) + " (cropping) are not supported");
  }
  if (rank > 0 && (a.pad_amounts[0] != 0 || a.pad_amounts[rank] != 0)) {
    return fail("padding the batch dimension is not supported (pads " + dims_str(a.pad_amounts) + ")");
  }
  return emit(OpKind::Pad, {x}, a);
}

Status Importer::constant_node() {
  POCKET_TRY(expect_inputs(0, 0));
  if (node_->attribute_size() != 1) return fail("expected exactly one value attribute");
  POCKET_TRY(expect_single_output());
  const auto& at = node_->attribute(0);
  const std::string& out = node_->output(0);
  ConstTensor c;
  if (at.name() == "value" && at.type() == onnx::AttributeProto_AttributeType_TENSOR) {
    auto r = decode_tensor(at.t(), out, "value of Constant '" + out + "'");
    if (!r) return fail(r.message());
    c = std::move(*r);
  } else if (at.name() == "value_float" && at.type() == onnx::AttributeProto_AttributeType_FLOAT) {
    c.data_type = onnx::TensorProto_DataType_FLOAT;
    c.floats = {at.f()};
  } else if (at.name() == "value_floats" && at.type() == onnx::AttributeProto_AttributeType_FLOATS) {
    c.data_type = onnx::TensorProto_DataType_FLOAT;
    c.floats.assign(at.floats().begin(), at.floats().end());
    c.dims = {static_cast<int64_t>(c.floats.size())};
  } else if (at.name() == "value_int" && at.type() == onnx::AttributeProto_AttributeType_INT) {
    c.data_type = onnx::TensorProto_DataType_INT64;
    c.ints = {at.i()};
  } else if (at.name() == "value_ints" && at.type() == onnx::AttributeProto_AttributeType_INTS) {
    c.data_type = onnx::TensorProto_DataType_INT64;
    c.ints.assign(at.ints().begin(), at.ints().end());
    c.dims = {static_cast<int64_t>(c.ints.size())};
  } else {
    return fail("attribute '" + at.name() + "' is not supported (value, value_float(s), value_int(s))");
  }
  c.name = out;
  if (values_.count(out) != 0 || consts_.count(out) != 0) return fail("output '" + out + "' is produced twice");
  consts_[out] = std::move(c);
  return Status::ok();
}

Status Importer::passthrough() {
  // Identity, and Dropout at inference: the output is the input. A Dropout's mask output must be unused.
  POCKET_TRY(check_attributes({"ratio", "seed", "is_test"}));
  POCKET_TRY(expect_inputs(1, 3));
  POCKET_TRY(expect_single_output());
  const std::string& in = input_name(0);
  const std::string& out = node_->output(0);
  if (values_.count(out) != 0 || consts_.count(out) != 0) return fail("output '" + out + "' is produced twice");
  if (auto it = values_.find(in); it != values_.end()) {
    alias(out, it->second);
    // The alias' consumers become the value's consumers (minus this node, which disappears).
    uses_[g_.values[static_cast<size_t>(it->second)].name] += uses_[out] - 1;
    return Status::ok();
  }
  if (auto it = consts_.find(in); it != consts_.end()) {
    ConstTensor c = it->second;
    c.name = out;
    consts_[out] = std::move(c);
    return Status::ok();
  }
  return missing(in);
}

// ---------------------------------------------------------------------------------------------
// Graph-level

Status Importer::read_initializers() {
  if (model_.graph().sparse_initializer_size() > 0) return fail("sparse initializers are not supported");
  for (const auto& t : model_.graph().initializer()) {
    if (t.name().empty()) return fail("an initializer has no name");
    if (consts_.count(t.name()) != 0) return fail("initializer '" + t.name() + "' is defined twice");
    auto c = decode_tensor(t, t.name(), "initializer '" + t.name() + "'");
    if (!c) return fail(c.message());
    consts_[t.name()] = std::move(*c);
  }
  return Status::ok();
}

Status Importer::read_input() {
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& in : model_.graph().input()) {
    if (consts_.count(in.name()) == 0) inputs.push_back(&in);
  }
  if (inputs.empty()) return fail("the graph has no input (every input is an initializer)");
  if (inputs.size() > 1) {
    std::string names;
    for (const auto* in : inputs) names += (names.empty() ? "'" : ", '") + in->name() + "'";
    return fail("the graph has " + std::to_string(inputs.size()) + " inputs (" + names + "); only one is supported");
  }
  const onnx::ValueInfoProto& in = *inputs[0];
  const std::string what = "graph input '" + in.name() + "'";
  if (!in.type().has_tensor_type()) return fail(what + " is not a tensor");
  const auto& tt = in.type().tensor_type();
  if (tt.elem_type() != onnx::TensorProto_DataType_FLOAT) {
    return fail(what + " has data type " + data_type_name(tt.elem_type()) + "; only float32 inputs are supported");
  }
  if (!tt.has_shape() || tt.shape().dim_size() < 2) return fail(what + " has no shape or rank < 2; [N, C, H, W] expected");
  Shape shape;
  for (int i = 0; i < tt.shape().dim_size(); ++i) {
    const auto& d = tt.shape().dim(i);
    if (i == 0) {
      // A symbolic (or absent) batch is recorded as 1; a fixed batch must already be 1.
      if (d.has_dim_value() && d.dim_value() != 1) {
        return fail(what + " has a fixed batch size of " + std::to_string(d.dim_value()) +
                    "; re-export with batch 1 or a dynamic batch axis");
      }
      shape.push_back(1);
      continue;
    }
    if (!d.has_dim_value() || d.dim_value() < 1) {
      return fail(what + ": dimension " + std::to_string(i) + " is symbolic ('" + d.dim_param() +
                  "'); only the batch dimension may be");
    }
    shape.push_back(d.dim_value());
  }
  values_[in.name()] = g_.add_input(in.name(), shape);
  return Status::ok();
}

// Compares a declared ONNX shape with the computed one (batch dimension excepted).
Status check_declared(const onnx::ValueInfoProto& vi, const Shape& have, const std::string& where_) {
  if (!vi.type().has_tensor_type()) return Status::ok();
  const auto& tt = vi.type().tensor_type();
  if (tt.elem_type() != 0 && tt.elem_type() != onnx::TensorProto_DataType_FLOAT) {
    return Error{where_ + " is declared as " + data_type_name(tt.elem_type()) + "; only float32 is supported"};
  }
  if (!tt.has_shape()) return Status::ok();
  const auto& s = tt.shape();
  bool same = static_cast<size_t>(s.dim_size()) == have.size();
  std::string declared = "[";
  for (int i = 0; i < s.dim_size(); ++i) {
    const auto& d = s.dim(i);
    declared += (i ? ", " : "") + (d.has_dim_value() ? std::to_string(d.dim_value()) : (d.dim_param().empty() ? "?" : d.dim_param()));
    if (same && i > 0 && d.has_dim_value() && d.dim_value() != have[static_cast<size_t>(i)]) same = false;
  }
  declared += "]";
  if (!same) {
    return Error{"inconsistent shapes: " + where_ + " is declared as " + declared + " but computes to " + shape_str(have) +
                 " (at batch 1)"};
  }
  return Status::ok();
}

Status Importer::read_output() {
  const auto& outs = model_.graph().output();
  if (outs.size() != 1) {
    return fail("the graph has " + std::to_string(outs.size()) + " outputs; exactly one is supported");
  }
  const std::string& name = outs[0].name();
  auto it = values_.find(name);
  if (it == values_.end()) {
    if (consts_.count(name) != 0) return fail("the graph output '" + name + "' is a constant");
    return fail("the graph output '" + name + "' is not produced by any node");
  }
  if (it->second == g_.input) return fail("the graph output '" + name + "' is the input itself: the model computes nothing");
  g_.output = it->second;
  g_.values[static_cast<size_t>(g_.output)].name = name;
  const Status st = check_declared(outs[0], g_.output_shape(), "the graph output '" + name + "'");
  if (!st) return fail(st.message());
  return Status::ok();
}

Status Importer::read_metadata() {
  for (const auto& p : model_.metadata_props()) {
    if (p.key() == kNormalizationKey) {
      auto n = Normalization::parse(p.value());
      if (!n) return fail("metadata " + std::string(kNormalizationKey) + ": " + n.message());
      g_.normalization = *n;
    } else {
      g_.metadata[p.key()] = p.value();
    }
  }
  return Status::ok();
}

Result<Graph> Importer::run() {
  opset_ = -1;
  for (const auto& o : model_.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
  }
  if (opset_ < 0) return fail("the model imports no ai.onnx opset");
  if (opset_ < kMinOpset) {
    return fail("opset " + std::to_string(opset_) + " is too old; the oldest supported is " + std::to_string(kMinOpset));
  }
  const onnx::GraphProto& graph = model_.graph();
  for (const auto& n : graph.node()) {
    for (const auto& in : n.input()) {
      if (!in.empty()) ++uses_[in];
    }
  }
  for (const auto& o : graph.output()) ++uses_[o.name()];

  POCKET_TRY(read_metadata());
  POCKET_TRY(read_initializers());
  POCKET_TRY(read_input());

  static const std::map<std::string, Handler> kHandlers{
      {"Conv", &Importer::conv},
      {"MaxPool", &Importer::max_pool},
      {"AveragePool", &Importer::average_pool},
      {"GlobalAveragePool", &Importer::global_average_pool},
      {"Relu", &Importer::relu},
      {"Clip", &Importer::clip},
      {"Add", &Importer::add},
      {"Gemm", &Importer::gemm},
      {"MatMul", &Importer::matmul},
      {"Flatten", &Importer::flatten},
      {"Reshape", &Importer::reshape},
      {"BatchNormalization", &Importer::batch_norm},
      {"Softmax", &Importer::softmax},
      {"Pad", &Importer::pad},
      {"Constant", &Importer::constant_node},
      {"Dropout", &Importer::passthrough},
      {"Identity", &Importer::passthrough},
  };
  for (int i = 0; i < graph.node_size(); ++i) {
    node_ = &graph.node(i);
    node_name_ = !node_->name().empty()          ? node_->name()
                 : (node_->output_size() > 0 && !node_->output(0).empty()) ? node_->output(0)
                                                                            : node_->op_type() + "_" + std::to_string(i);
    if (!node_->domain().empty() && node_->domain() != "ai.onnx") {
      return fail("unsupported op from domain '" + node_->domain() + "'; supported (default domain): " +
                  onnx_supported_ops());
    }
    const auto h = kHandlers.find(node_->op_type());
    if (h == kHandlers.end()) return fail(std::string("unsupported op; supported: ") + onnx_supported_ops());
    POCKET_TRY((this->*(h->second))());
  }
  node_ = nullptr;
  if (g_.nodes.empty()) return fail("the graph has no computing nodes");
  POCKET_TRY(read_output());
  for (const auto& vi : graph.value_info()) {
    auto it = values_.find(vi.name());
    if (it == values_.end() || it->second == g_.input) continue;
    const Status st = check_declared(vi, shape_of(it->second), "tensor '" + vi.name() + "'");
    if (!st) return fail(st.message());
  }
  const Status shapes = infer_shapes(g_);
  if (!shapes) return fail(shapes.message());
  return std::move(g_);
}

}  // namespace

Result<Graph> parse_onnx(const void* bytes, size_t size, const std::string& name_for_errors) {
  const std::string invalid = name_for_errors + ": not a valid ONNX model";
  if (size == 0) return Error{invalid + " (the file is empty)"};
  if (size > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Error{invalid + " (larger than 2 GiB; protobuf cannot hold it)"};
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes, static_cast<int>(size))) {
    return Error{invalid + " (protobuf parse failed: the file is truncated, damaged or not ONNX)"};
  }
  if (model.ir_version() <= 0 || !model.has_graph()) {
    return Error{invalid + " (no IR version or no graph: the file is truncated, damaged or not ONNX)"};
  }
  return Importer(model, name_for_errors).run();
}

}  // namespace pocket
