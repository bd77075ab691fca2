// File-level entry points of ONNX import/export; the work is in onnx_import.cpp and onnx_export.cpp.
#include "pocket/onnx.hpp"

#include "pocket/fileio.hpp"

namespace pocket {

const char* onnx_supported_ops() {
  return "Conv, MaxPool, AveragePool, GlobalAveragePool, Relu, Clip, Add, Gemm, MatMul, Flatten, Reshape, "
         "BatchNormalization, Softmax, Pad, Constant, Dropout, Identity";
}

Result<Graph> load_onnx(const std::string& path) {
  POCKET_ASSIGN_OR_RETURN(auto bytes, read_file_bytes(path));
  return parse_onnx(bytes.data(), bytes.size(), path);
}

Status save_onnx(const Graph& graph, const std::string& path) {
  auto bytes = serialize_onnx(graph);
  if (!bytes) return Error{path + ": " + bytes.message()};
  return write_file_atomic(path, bytes->data(), bytes->size());
}

}  // namespace pocket
