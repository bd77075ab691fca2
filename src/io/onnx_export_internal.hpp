// The building blocks of ONNX export (src/io/onnx_export.cpp), shared with exporters that write
// other forms of the same float graph (src/quant/qdq.cpp writes it with QuantizeLinear /
// DequantizeLinear around the tensors). Internal to the project: it exposes protobuf types, so it
// is included only by files that link pocket_io.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "onnx_proto.hpp"
#include "pocket/graph.hpp"
#include "pocket/status.hpp"

namespace pocket::onnx_export {

inline constexpr int64_t kIrVersion = 8;  // what onnx 1.12's checker accepts with opset 13
inline constexpr int64_t kOpset = 13;

// Unique tensor names: ONNX requires every tensor name to be defined once.
class Names {
 public:
  void reserve(const std::string& name) { used_.insert(name); }
  bool used(const std::string& name) const { return used_.count(name) != 0; }
  // `wanted` if free, else `wanted_1`, `wanted_2`, ... (an empty name becomes "t").
  std::string take(const std::string& wanted);

 private:
  std::set<std::string> used_;
};

// Checks what export relies on: an input, an output, every id in range.
Status check_exportable(const Graph& graph);

// Fills the model header: IR version, opset 13, producer, every Graph::metadata entry and the
// normalisation as metadata_props, the graph name. Callers add initializers, nodes, inputs, outputs.
void begin_model(onnx::ModelProto& model, const Graph& graph);

// The ONNX tensor name of every value: "input" for the graph input, "output" for the graph output,
// the value's own name (made unique) for the rest. Reserves all of them in `names`.
std::vector<std::string> value_names(const Graph& graph, Names& names);

// Which values some node reads (unused parameters are not exported).
std::vector<bool> used_values(const Graph& graph);

// Tensor and value-info helpers (raw little-endian data).
void set_float_tensor(onnx::TensorProto* t, const std::string& name, const Shape& dims, const std::vector<float>& data);
void set_int64_tensor(onnx::TensorProto* t, const std::string& name, const std::vector<int64_t>& data);
void set_value_info(onnx::ValueInfoProto* vi, const std::string& name, const Shape& shape);  // float, batch "N"

// Appends the ONNX node for `node`, reading `inputs` (one ONNX name per node.inputs) and writing
// `output`. Auxiliary constants (Clip bounds, Reshape shape, Pad amounts and value) become
// initializers of `graph` named from `names`.
void emit_node(onnx::GraphProto* graph, const Node& node, const std::vector<std::string>& inputs,
               const std::string& output, Names& names);

// The float parameter `value` as an initializer named `name`; an error if its data does not match
// its shape.
Status emit_param(onnx::GraphProto* graph, const Value& value, const std::string& name);

}  // namespace pocket::onnx_export
