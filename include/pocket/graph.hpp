// The float graph: typed ops in topological order over numbered values. Every stage switches
// exhaustively over OpKind (-Werror=switch), so adding an op fails to compile until every stage
// handles it. See docs/adding_an_op.md.
//
// Conventions
//  - Activations are NCHW float32; dimension 0 is the batch. Value shapes are recorded for batch 1.
//  - Every node has exactly one output value.
//  - Inputs per op (parameters are values with an initializer):
//      Conv        x [N,C,H,W], W [O, C/groups, kh, kw], optional B [O]
//      Linear      x [N, in], W [out, in], optional B [out]   (ONNX Gemm / MatMul)
//      BatchNorm   x, scale [C], bias [C], mean [C], var [C]  (inference form)
//      Add         a, b (same shape)
//      all others  x
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "pocket/normalization.hpp"
#include "pocket/status.hpp"
#include "pocket/tensor.hpp"

namespace pocket {

enum class OpKind : uint8_t {
  Conv,
  MaxPool,
  AveragePool,
  GlobalAveragePool,
  Relu,
  Clip,  // Clip(min, max); ReLU6 is Clip(0, 6)
  Add,
  Linear,
  Flatten,
  Reshape,
  BatchNorm,
  Softmax,
  Pad,
};
inline constexpr int kOpKindCount = 13;

const char* op_name(OpKind kind);  // "Conv", "MaxPool", ...

struct Attrs {
  // Conv and pools. pads are {top, left, bottom, right} (ONNX order: begins then ends).
  std::array<int, 2> kernel{0, 0};
  std::array<int, 2> stride{1, 1};
  std::array<int, 2> dilation{1, 1};
  std::array<int, 4> pads{0, 0, 0, 0};
  int groups = 1;
  bool count_include_pad = false;  // AveragePool
  // Clip
  float clip_min = -std::numeric_limits<float>::infinity();
  float clip_max = std::numeric_limits<float>::infinity();
  // BatchNorm
  float epsilon = 1e-5f;
  // Flatten (dims before axis form the first output dim) and Softmax (the reduced axis; -1 = last).
  int axis = 1;
  // Reshape: ONNX semantics (0 copies the input dim, -1 is inferred).
  std::vector<int64_t> target_shape;
  // Pad: ONNX order, begins for every dim then ends for every dim; constant mode only.
  std::vector<int64_t> pad_amounts;
  float pad_value = 0.0f;
};

enum class ValueKind : uint8_t { Input, Param, Activation };

struct Value {
  std::string name;
  ValueKind kind = ValueKind::Activation;
  Shape shape;  // for batch 1 (activations, input); the exact shape for parameters
  Tensor init;  // the data of a Param
};

struct Node {
  OpKind kind;
  std::string name;
  std::vector<int> inputs;  // value ids
  int output = -1;          // value id
  Attrs attrs;
};

struct Graph {
  std::vector<Value> values;
  std::vector<Node> nodes;  // topological order
  int input = -1;
  int output = -1;
  Normalization normalization;                 // Unknown for a model that does not record it
  std::map<std::string, std::string> metadata;  // provenance and free-form properties

  int find_value(const std::string& name) const;  // -1 if absent
  int add_input(const std::string& name, Shape shape);
  int add_param(const std::string& name, Tensor init);
  int add_activation(const std::string& name);
  // Appends a node producing a new activation named `name`; returns the output value id.
  int add_node(OpKind kind, const std::string& name, std::vector<int> inputs, Attrs attrs = {});

  const Tensor& param(int value) const;
  Tensor& param(int value);
  const Shape& input_shape() const { return values.at(static_cast<size_t>(input)).shape; }
  const Shape& output_shape() const { return values.at(static_cast<size_t>(output)).shape; }
  int64_t parameter_count() const;
};

// Checks structure (ids, topological order, arity, parameter presence) and infers the batch-1
// shape of every activation. Errors name the node and its op: "node 'conv2' (Conv): ...".
Status infer_shapes(Graph& graph);

// Human-readable one-line-per-node listing ("conv1  Conv  [1,3,32,32] -> [1,6,28,28]  k5 s1 ...").
std::string describe(const Graph& graph);

}  // namespace pocket
