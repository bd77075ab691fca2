// ONNX import and export of the float graph.
//
// Import (load_onnx / parse_onnx) takes what PyTorch's exporter writes for the small CNNs of the lab:
//   Conv, MaxPool, AveragePool, GlobalAveragePool, Relu, Clip, Add, Gemm, MatMul, Flatten, Reshape,
//   BatchNormalization, Softmax, Pad, Constant, Dropout, Identity (default domain, any opset >= 7).
// Gemm and MatMul become OpKind::Linear with W stored [out, in] (alpha/beta folded into W/B; a MatMul
// followed by the Add of a constant vector becomes one Linear with a bias); Constant nodes and
// initializers become parameters; Dropout and Identity are removed. The single graph input becomes the
// Input, with a symbolic batch dimension recorded as 1. Every error names the file and, where it
// applies, the node and its ONNX op: "model.onnx: node 'x' (LSTM): unsupported op; supported: ...".
// All checks happen at load time: a model that loads has passed infer_shapes().
//
// Normalisation travels in metadata_props["pocket.normalization"] (Normalization::spec(); absent
// means Kind::Unknown). Every other metadata_props entry is kept in Graph::metadata and written back.
//
// Export (save_onnx) writes opset 13, IR version 8: input "input" [N, C, H, W] (N symbolic), output
// "output", Linear as Gemm(transB=1), parameters as raw little-endian float initializers,
// producer_name "pocket". Loading what save_onnx wrote gives back the same graph: the same nodes, ops,
// attributes and bit-identical parameters.
#pragma once

#include <cstddef>
#include <string>

#include "pocket/graph.hpp"
#include "pocket/status.hpp"

namespace pocket {

// Reads and imports an ONNX file. Errors start with `path`.
Result<Graph> load_onnx(const std::string& path);

// Imports a serialized ModelProto held in memory; `name_for_errors` starts every error message.
Result<Graph> parse_onnx(const void* bytes, size_t size, const std::string& name_for_errors);

// Serializes `graph` (which must have passed infer_shapes()) to ONNX bytes.
Result<std::string> serialize_onnx(const Graph& graph);

// Writes `graph` to `path` atomically (temporary file + rename).
Status save_onnx(const Graph& graph, const std::string& path);

// The ONNX op types import accepts, comma-separated (for help texts and error messages).
const char* onnx_supported_ops();

}  // namespace pocket
