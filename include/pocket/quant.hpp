// Post-training quantization of a float graph: graph passes, the grouping that decides which
// tensors are quantized, calibration, the quantized model (QModel) and its file format, and
// fake-quantized (simulated) evaluation. The scheme is specified in docs/quantization.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pocket/data.hpp"
#include "pocket/executor.hpp"
#include "pocket/graph.hpp"
#include "pocket/ranges.hpp"
#include "pocket/status.hpp"
#include "pocket/train.hpp"

namespace pocket {

// ---------------------------------------------------------------------------------------------
// Graph passes on the float graph (each keeps the graph's function; each is tested on its own)
// ---------------------------------------------------------------------------------------------

// Folds every BatchNorm whose input is a Conv output with no other consumer into that Conv's
// weights and bias (adding a bias if the Conv had none). Returns the number folded.
Result<int> fold_batchnorm(Graph& graph);
// Folds a constant-zero Pad of the two spatial dims into the following Conv's pads (when the
// Pad's output feeds only that Conv). Returns the number folded.
Result<int> fold_pad_into_conv(Graph& graph);
// Removes nodes and values no longer used and renumbers values (after the folds above).
void remove_dead_values(Graph& graph);

// ---------------------------------------------------------------------------------------------
// Which tensors are quantized
// ---------------------------------------------------------------------------------------------

// Integer layers are groups of float nodes: an anchor (Conv, Linear, Add, Softmax) followed by
// fused followers: for Conv an activation (Relu, Clip) and a MaxPool in either order; for Linear
// and Add an activation. Every other node (pools, Relu, Clip, Flatten, Reshape, Pad) is a layer of
// its own whose output keeps its input's quantization.
struct QuantGroup {
  std::vector<int> nodes;  // node indices, in order; nodes[0] is the anchor
  int output = -1;         // value id of the group's output
  bool own_params = false; // true: the output is a quantization point with its own scale
};
std::vector<QuantGroup> quant_groups(const Graph& graph);

// For every value id: the quantization point whose parameters it uses (the graph input and every
// group output with own_params are their own source), or -1 for parameters and values inside a
// fused group (never materialised by the integer engine, so never quantized).
std::vector<int> activation_sources(const Graph& graph);

// ---------------------------------------------------------------------------------------------
// Configuration and the quantized model
// ---------------------------------------------------------------------------------------------

struct QuantConfig {
  int weight_bits = 8;           // 8, 4 or 2; symmetric
  bool per_channel = true;       // weights per output channel (else per tensor)
  RangeSpec weight_range{RangeMethod::MinMax, 0.0};
  int act_bits = 8;              // 8 or 16
  bool act_symmetric = false;    // asymmetric (default) or symmetric, per tensor
  RangeSpec act_range{RangeMethod::Percentile, 99.99};
  bool weight_only = false;      // activations stay float (the lab's first stage)
  int64_t calib_images = 500;    // stratified from the training split
  uint64_t calib_seed = 1;
  std::string calib_dir;         // PNG folder instead of the training split
  std::string describe() const;  // "w8 per-channel minmax, a8 asym percentile:99.99, 500 calib"
};

// Quantization of one tensor: real = scale * (q - zero_point). One entry per tensor, or one per
// output channel (axis 0) for per-channel weights.
struct TensorQuant {
  int bits = 8;
  bool symmetric = false;
  std::vector<double> scale;
  std::vector<int32_t> zero_point;
  std::vector<double> range_lo, range_hi;  // the chosen clipping range(s)
  std::string method;                      // RangeSpec::str()
  int64_t clipped = 0;                     // values outside the range (weights: exact count)
  int64_t count = 0;                       // values observed
};

struct QModel {
  static constexpr int kFormatVersion = 1;
  Graph graph;  // the float graph after the passes (NCHW, BatchNorm folded)
  QuantConfig config;
  std::map<std::string, TensorQuant> activations;  // by value name: every quantization point
  std::map<std::string, TensorQuant> weights;      // by parameter name: Conv and Linear weights
  std::map<std::string, std::vector<int8_t>> qweights;  // integer weights (bits <= 8), same layout
  std::map<std::string, std::vector<int32_t>> qbiases;  // int32 biases at s_in * s_w[c] (not weight-only)
  std::map<std::string, std::string> provenance;        // source model, its sha256, command, tool

  // The activation quantization used by value `value` (via activation_sources), or null.
  const TensorQuant* activation_quant(int value) const;
};

// Calibration: the float graph's activations at every quantization point over the calibration
// images (reusable across configurations that differ only in weights or range method).
struct Calibration {
  std::map<int, Observer> observers;  // by value id
  int64_t images = 0;
  std::vector<int64_t> per_class;     // images per class (empty for an image folder)
  std::string description;            // "500 images, stratified (50 per class) from ..., seed 1"
};
Result<Calibration> calibrate(const Graph& graph, const Dataset& images, const std::string& description);

// The calibration images: `count` images stratified by class (seeded) from the training split in
// `data_dir`, or every PNG of `image_dir` if that is not empty. `description` says which.
struct CalibrationSource {
  std::string data_dir;
  int64_t count = 500;
  uint64_t seed = 1;
  std::string image_dir;
};
Result<Dataset> load_calibration_images(const CalibrationSource& source, std::string* description);

// Quantizes `graph` (which must have had the passes applied, see prepare_for_quantization) with
// `config`, using `calibration` for activations (may be null in weight-only mode).
Result<QModel> quantize(const Graph& graph, const QuantConfig& config, const Calibration* calibration);

// Applies the passes to a copy of `graph` and checks that every weight is finite.
Result<Graph> prepare_for_quantization(const Graph& graph);

// The float graph whose parameters are the dequantized integer weights and biases, and the
// executor hook that quantizes and dequantizes every quantization point: together they simulate
// the integer model in float.
struct FakeQuant {
  Graph graph;
  Executor::OutputHook hook;
};
FakeQuant make_fake_quant(const QModel& model);

// Evaluates the fake-quantized model; `float_predictions` (if not empty) gives the float model's
// top-1 per image, and agreement is reported against it.
struct QuantEvalResult {
  EvalResult eval;
  double agreement = -1.0;  // percent of images with the same top-1 as the float model; -1 if unknown
};
Result<QuantEvalResult> evaluate_fake_quant(const QModel& model, const Dataset& data,
                                            const std::vector<int>& float_predictions = {});

// File format (.pqm), see docs/quantization.md: magic "PQM1", a JSON header (format version,
// config, provenance, every TensorQuant), the float graph as embedded ONNX, the integer tensors.
Status save_qmodel(const QModel& model, const std::string& path);
Result<QModel> load_qmodel(const std::string& path);
bool is_qmodel_file(const std::string& path);  // by magic

// ---------------------------------------------------------------------------------------------
// Memory footprint
// ---------------------------------------------------------------------------------------------
struct Footprint {
  int64_t weight_count = 0, bias_count = 0;
  int64_t float_weight_bytes = 0, float_bias_bytes = 0;  // float32 storage
  int64_t quant_weight_bytes = 0;   // packed at weight_bits (int8: 1 byte each)
  int64_t quant_bias_bytes = 0;     // int32
  int64_t quant_param_bytes = 0;    // scales (float32) and zero points (int32) of every tensor
  int64_t float_total() const { return float_weight_bytes + float_bias_bytes; }
  int64_t quant_total() const { return quant_weight_bytes + quant_bias_bytes + quant_param_bytes; }
};
Footprint footprint(const QModel& model);
Footprint footprint(const Graph& float_graph);  // float only (quantized fields 0)

}  // namespace pocket
