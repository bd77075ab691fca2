// A quantized model (QModel) as a standard ONNX QDQ model: the float graph of the QModel with
// QuantizeLinear / DequantizeLinear nodes carrying its scales and zero points, so that ONNX tools
// (onnx.checker, ONNX Runtime, Netron) read the quantization pocket chose. Loading the file back
// gives the same QModel: every scale, zero point, integer weight and integer bias bit-identical.
//
// Format (ONNX opset 13, IR version 8; per-axis DequantizeLinear needs opset >= 13):
//  - Quantized weights (Conv, Gemm): an int8 initializer "<w>_quantized" holding the QModel's
//    integer weights (4- and 2-bit weights too: their values fit int8), then DequantizeLinear with
//    scale "<w>_scale" (float32 [O] with axis=0 per channel, a scalar per tensor) and int8 zero point
//    0 of the same shape, writing "<w>", the tensor the Conv / Gemm reads.
//  - Integer biases: an int32 initializer "<b>_quantized", DequantizeLinear with scale
//    float32(s_in * s_w[c]) (per channel: [O], axis=0) and int32 zero point 0, writing "<b>".
//    Weight-only models keep float biases (a plain float initializer).
//  - Activations: every value the integer engine materialises (activation_sources()[v] >= 0: the
//    graph input, every quantization point, and the outputs of layers that keep their input's
//    quantization, e.g. MaxPool, Flatten, AveragePool) is followed by QuantizeLinear ->
//    DequantizeLinear with the scalar float32 scale and int8 zero point of its quantization point
//    (one shared pair of initializers per point). This is exactly where make_fake_quant()'s hook
//    quantizes, so the QDQ model computes what fake-quantized evaluation computes. Values inside a
//    fused group stay float, as in the integer engine. Weight-only models have no activation Q/DQ.
//  - Tensor names are those of the float export (serialize_onnx: "input", "output", the rest keep
//    their names); a quantized graph output is computed as "output_float" so that the declared
//    output "output" is the dequantized tensor.
//  - metadata_props["pocket.qmodel"]: JSON {format "pocket-qdq", version, config, provenance,
//    activations and weights (every TensorQuant, with scales as exact doubles, ranges, method,
//    clipped, count; keyed by ONNX tensor name), names (ONNX name -> QModel value name where they
//    differ)}. The float32 scales of the ONNX tensors must equal the metadata's doubles rounded to
//    float32; loading checks that, and every zero point.
//
// What the file does not hold: the original float weights and biases. After load_qdq, QModel.graph's
// quantized weights are the dequantized integer weights (float(scale[c] * q), as make_fake_quant
// computes them) and its integer biases are dequantized the same way (float(q * s_in * s_w[c])).
// Quantizing those again gives the same integers, and fake-quantized evaluation of the loaded
// model is identical to the original's; but float-vs-quantized comparisons (agreement, per-layer
// error) on a loaded model compare against the dequantized weights, not the original float model.
//
// Not expressible, refused by serialize_qdq: 16-bit activations (QuantizeLinear has no int16 before
// opset 21). Numerical caveats of ONNX runtimes (not of the file): QuantizeLinear rounds ties to even
// where pocket rounds ties away from zero, and saturates int8 to [-128, 127] where symmetric
// activations in pocket use [-127, 127].
#pragma once

#include <cstddef>
#include <string>

#include "pocket/quant.hpp"
#include "pocket/status.hpp"

namespace pocket {

inline constexpr int kQdqFormatVersion = 1;
inline constexpr const char* kQdqMetadataKey = "pocket.qmodel";

// Serializes `model` as an ONNX QDQ model (see above).
Result<std::string> serialize_qdq(const QModel& model);

// Writes serialize_qdq(model) to `path` atomically (temporary file + rename).
Status save_qdq(const QModel& model, const std::string& path);

// Reads a QDQ model written by serialize_qdq. Errors start with `name_for_errors` / `path`.
Result<QModel> parse_qdq(const void* bytes, size_t size, const std::string& name_for_errors);
Result<QModel> load_qdq(const std::string& path);

// True if `bytes` / the file at `path` is an ONNX model with QuantizeLinear or DequantizeLinear
// nodes or pocket.qmodel metadata (something to read with load_qdq, not load_onnx).
bool is_qdq_model(const void* bytes, size_t size);
bool is_qdq_file(const std::string& path);

}  // namespace pocket
