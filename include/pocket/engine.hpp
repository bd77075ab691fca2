// The integer-only engine: compiles a quantized model (QModel) into a Plan of int8 layers that run
// on the C99 reference kernels of runtime/ (the specification; the generated C ships the same
// kernels), with one activation arena planned from tensor lifetimes.
//
// compile() does all the work and every check, once (a Prepare/Eval split):
//   - layouts are converted once: NCHW activations are stored NHWC, OIHW conv weights become OHWI,
//     and a Linear that reads a flattened NHWC tensor gets its weight columns permuted from the
//     float graph's (c, y, x) order to the engine's (y, x, c) order;
//   - every QuantGroup (quant_groups) becomes one integer layer:
//       Conv (+Relu/Clip..., clamp = intersection) (+MaxPool, fused) -> pocket_conv2d_s8
//       Linear (+act)                              -> pocket_fully_connected_s8
//       Add (+act)                                 -> pocket_add_s8
//       Softmax                                    -> pocket_softmax_s8
//       MaxPool / AveragePool / GlobalAveragePool  -> the pool kernels (same scale in and out)
//       Relu / Clip on their own                   -> pocket_clamp_s8
//       Flatten / Reshape (a flatten)              -> no layer: an alias of its input tensor
//     (a Conv+MaxPool group whose pool has padding, which the conv kernel's fused "valid" pool does
//     not cover, becomes two layers: the conv with its clamp, then a max pool);
//   - multipliers, shifts, clamp ranges, softmax tables and the folded input normalisation come from
//     pocket::qmath (the only float -> int parameter code);
//   - every kernel's *_check runs (shapes, zero points, multipliers, shifts, clamps, and the int32
//     accumulator range for the layer's fan-in and biases); an op or pattern the engine cannot run
//     (16-bit activations, weights wider than 8 bits, a Reshape that is not a flatten, an
//     AveragePool counting padding, dilation, ...) is an error naming the node and its op.
// Plan::run then only runs: no checks, no allocation (the arena is owned by the Plan or passed in).
//
// KERNELS. Conv2d and FullyConnected layers run on the fast host kernels of pocket/fastkernels.hpp
// (same bytes as the reference kernels): compile() calls their _plan and _pack once per layer and
// keeps the packed blobs in the Plan (shared read-only by copies of the Plan and by threads);
// Plan::run calls _run with a per-thread scratch of scratch_bytes(). MaxPool layers run on
// pocket_maxpool_s8_fast. CompileOptions::kernels chooses the variant (POCKET_FAST_SELECTED: the
// best the CPU supports, or POCKET_KERNELS=reference|portable|avx2|avx512); POCKET_FAST_REFERENCE
// runs the runtime's C99 kernels, the specification. The Layer fields are unchanged (code
// generation reads them; the generated C ships the reference kernels).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pocket/data.hpp"
#include "pocket/fastkernels.hpp"
#include "pocket/qmath.hpp"
#include "pocket/quant.hpp"
#include "pocket/train.hpp"
#include "pocket_runtime.h"

namespace pocket::engine {

enum class LayerKind : uint8_t {
  Conv2d,             // pocket_conv2d_s8 (incl. depthwise/grouped, fused clamp and max pool)
  FullyConnected,     // pocket_fully_connected_s8
  Add,                // pocket_add_s8
  Softmax,            // pocket_softmax_s8
  MaxPool,            // pocket_maxpool_s8
  AveragePool,        // pocket_avgpool_s8
  GlobalAveragePool,  // pocket_global_avgpool_s8
  Clamp,              // pocket_clamp_s8
};
const char* layer_kind_name(LayerKind kind);  // "conv2d", "fully_connected", ...
const char* kernel_name(LayerKind kind);      // "pocket_conv2d_s8", ...

// real = scale * (q - zero_point), int8.
struct ActQuant {
  double scale = 1.0;
  int32_t zero_point = 0;
  bool symmetric = false;  // int8 range [-127, 127] instead of [-128, 127]
};

// One int8 activation tensor of the arena.
struct PlanTensor {
  std::string name;           // the float graph value that defines it (a group output or the input)
  int value = -1;             // its id in QModel::graph (-1: an engine-internal intermediate)
  std::vector<int> aliases;   // Flatten/Reshape outputs that share this tensor's bytes (value ids)
  Shape shape;                // the float graph's shape of `value` (batch 1): [1, C, H, W] or [1, F]
  Shape stored_shape;         // the engine's: [1, H, W, C] (NHWC) or [1, F]
  // Non-empty {C, H, W}: the elements are stored in (y, x, c) order of this C x H x W volume (an
  // NHWC tensor, or a rank-2 tensor computed from a flattened NHWC tensor). Empty: stored in the
  // float graph's order.
  std::vector<int64_t> chw;
  int64_t bytes = 0;
  ActQuant quant;
  int64_t offset = 0;         // in the arena
  int first_step = 0;         // the layer that writes it (0 for the input, written before layer 0)
  int last_step = 0;          // the last layer that reads it (the last layer for the output)
};

// One integer layer. Plain data: code generation reads it.
struct Layer {
  LayerKind kind = LayerKind::Conv2d;
  std::string name;                // the anchor node's name
  std::vector<std::string> nodes;  // names of the fused float nodes, in order ("conv1", "relu1", "pool1")
  std::vector<std::string> ops;    // their ops ("Conv", "Relu", "MaxPool")
  std::vector<int> inputs;         // tensor ids (Add: two)
  int output = -1;                 // tensor id
  // The float graph value whose result this layer's output is (the group output), or -1 (the
  // first half of a split Conv+padded MaxPool group).
  int float_value = -1;
  int64_t macs = 0;          // multiply-accumulates (Conv: of the convolution before pooling; FC)
  int64_t weight_bytes = 0;  // int8 weights
  int64_t bias_bytes = 0;    // int32 biases
  int64_t param_bytes = 0;   // int32 multipliers and shifts, the softmax table (uint16)

  // Quantization. Input and output scales/zero points: tensors()[inputs[i]].quant, [output].quant.
  std::vector<double> weight_scale;     // Conv/FC: per output channel (repeated when per tensor)
  std::vector<double> real_multiplier;  // Conv/FC: s_in * s_w[c] / s_out per channel; Add: s1/s_out, s2/s_out
  std::vector<int32_t> multiplier;      // real_multiplier quantized (Add: input1, input2)
  std::vector<int32_t> shift;           // right shifts (Add: one shared shift, repeated)
  int32_t act_min = -128, act_max = 127;
  std::vector<int8_t> weights;          // Conv: OHWI; FC: [out][in], columns in stored (y, x, c) order
  std::vector<int32_t> bias;            // empty: no bias
  qmath::SoftmaxExpTable exp_table{};   // Softmax

  // The kernel's parameters (only the member for `kind` is filled). Their pointer fields
  // (output_multiplier, output_shift, exp_table) are left null here: they point into the vectors
  // above and are bound when the layer runs.
  pocket_conv2d_params conv{};
  pocket_fully_connected_params fc{};
  pocket_pool_params pool{};
  pocket_global_pool_params global_pool{};
  pocket_add_params add{};
  pocket_softmax_params softmax{};
  pocket_clamp_params clamp{};
};

struct CompileOptions {
  int64_t arena_alignment = 1;  // every tensor offset (and size) is a multiple of this
  // The kernel variant of Conv2d / FullyConnected / MaxPool layers (resolved at compile time: a
  // later pocket_fast_select() does not change a compiled Plan). POCKET_FAST_REFERENCE: the
  // runtime's reference kernels. An unsupported variant is a compile error.
  pocket_fast_variant kernels = POCKET_FAST_SELECTED;
};

// ---------------------------------------------------------------------------------------------
// Arena planning (exposed for tests and code generation)
// ---------------------------------------------------------------------------------------------

struct ArenaRequest {
  int64_t bytes = 0;
  int first_step = 0, last_step = 0;  // live during steps first_step..last_step (inclusive)
};
struct ArenaPlan {
  std::vector<int64_t> offsets;  // per request
  int64_t bytes = 0;             // the arena size
  // max over steps of the sum of the (aligned) sizes of the requests live at that step: no
  // placement can need less.
  int64_t lower_bound = 0;
  std::string method;            // which greedy order won
};
// Places every request at an offset such that requests with overlapping lifetimes never share a
// byte. Tries greedy placement (lowest free offset) in two orders, by size (largest first) and by
// first step, and keeps the smaller arena.
ArenaPlan plan_arena(std::span<const ArenaRequest> requests, int64_t alignment = 1);

// ---------------------------------------------------------------------------------------------
// The plan
// ---------------------------------------------------------------------------------------------

class Plan {
 public:
  // Called after every layer with its index and its int8 output (in stored order).
  using LayerCallback = std::function<void(size_t layer, std::span<const int8_t> output)>;

  const std::vector<Layer>& layers() const { return layers_; }
  const std::vector<PlanTensor>& tensors() const { return tensors_; }
  int input_tensor() const { return input_; }
  int output_tensor() const { return output_; }
  const PlanTensor& input() const { return tensors_[static_cast<size_t>(input_)]; }
  const PlanTensor& output() const { return tensors_[static_cast<size_t>(output_)]; }
  int64_t arena_bytes() const { return arena_.bytes; }
  int64_t arena_lower_bound() const { return arena_.lower_bound; }
  const ArenaPlan& arena_plan() const { return arena_; }
  int64_t total_macs() const;
  int64_t total_weight_bytes() const;  // weights + biases + parameters of every layer

  // The kernel variant the plan was compiled for (never POCKET_FAST_SELECTED) and its name.
  pocket_fast_variant kernels() const { return kernels_; }
  const char* kernels_name() const { return pocket_fast_variant_name(kernels_); }
  // The variant each layer's packed kernel actually runs (POCKET_FAST_SELECTED for a layer without
  // a packed kernel; a layer too large for a variant is packed as the reference).
  pocket_fast_variant layer_kernels(size_t index) const;
  // Scratch bytes one thread needs to run the plan (the largest over its layers; may be 0).
  int64_t scratch_bytes() const { return scratch_bytes_; }

  // Runs one image: `input_nhwc` holds input().bytes int8 values (stored order), `output` receives
  // output().bytes. The first form uses the Plan's own arena and scratch (not thread-safe); the
  // others an arena of at least arena_bytes() bytes and a scratch of at least scratch_bytes()
  // bytes, one of each per thread (the forms without a scratch use a thread_local one, allocated
  // at a thread's first call).
  void run(const int8_t* input_nhwc, int8_t* output);
  void run(const int8_t* input_nhwc, int8_t* output, std::span<int8_t> arena,
           const LayerCallback& after_layer = {}) const;
  void run(const int8_t* input_nhwc, int8_t* output, std::span<int8_t> arena, std::span<uint8_t> scratch,
           const LayerCallback& after_layer = {}) const;
  // Runs only layer `index` on whatever its input tensors hold in `arena` (for per-layer analysis).
  void run_layer(size_t index, std::span<int8_t> arena) const;
  void run_layer(size_t index, std::span<int8_t> arena, std::span<uint8_t> scratch) const;
  // The bytes of tensor `tensor` inside `arena`.
  std::span<int8_t> tensor_data(std::span<int8_t> arena, int tensor) const;

  // Input quantization. Pixels: uint8, planar [C][H][W] (CIFAR-10 order), through
  // pocket_quantize_input_u8 with the model's normalisation folded (needs has_pixel_input()).
  bool has_pixel_input() const { return !pixel_input_.multiplier.empty(); }
  const qmath::InputQuantization& pixel_input() const { return pixel_input_; }
  void quantize_pixels(const uint8_t* chw_planar_pixels, int8_t* out) const;
  // Float model input (NCHW, already normalised, as `pocket infer` takes it), quantized as the
  // fake-quantized model does (qmath::quantize_value) and stored NHWC.
  void quantize_float_input(const float* nchw, int8_t* out) const;
  // Any tensor: float graph order <-> stored order, with the tensor's quantization.
  void quantize_tensor(int tensor, const float* float_order, int8_t* stored) const;
  void dequantize_tensor(int tensor, const int8_t* stored, float* float_order) const;

  // A table: one line per layer (kind, fused nodes, shapes, MACs, bytes, arena offsets, quantization).
  std::string describe() const;

 private:
  friend Result<Plan> compile(const QModel& model, const CompileOptions& options);
  std::vector<Layer> layers_;
  std::vector<PlanTensor> tensors_;
  int input_ = -1, output_ = -1;
  ArenaPlan arena_;
  qmath::InputQuantization pixel_input_;
  std::vector<int8_t> own_arena_;
  std::vector<uint8_t> own_scratch_;
  pocket_fast_variant kernels_ = POCKET_FAST_REFERENCE;
  // Per layer: the packed fast kernel (Conv2d / FullyConnected), null otherwise. Never moved or
  // copied byte-wise after packing (the blob aligns itself inside); Plan copies share it.
  std::vector<std::shared_ptr<const uint8_t[]>> packed_;
  int64_t scratch_bytes_ = 0;
};

Result<Plan> compile(const QModel& model, const CompileOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Evaluation and per-layer error
// ---------------------------------------------------------------------------------------------

// Top-1 of the integer engine on every image of `data` (pixels quantized by quantize_pixels), in
// parallel over images (OpenMP, one arena per thread). The output must have 1 x classes elements.
Result<EvalResult> evaluate_int8(const Plan& plan, const Dataset& data);

// Percent of images with the same top-1.
double agreement(const std::vector<int>& a, const std::vector<int>& b);

// SQNR (dB) = 10 log10(sum f^2 / sum (f - d)^2) and cosine similarity between the float model's
// value of a layer's output (f) and the integer engine's dequantized output (d), summed over all
// images and elements.
struct ErrorStats {
  double signal = 0, noise = 0;  // sum f^2, sum (f - d)^2
  double dot = 0, dequant = 0;   // sum f*d, sum d^2
  int64_t count = 0;
  void add(std::span<const float> reference, std::span<const float> dequantized);
  double sqnr_db() const;  // +inf when noise is 0
  double cosine() const;   // 1 when both are all zero
};

struct LayerError {
  size_t layer = 0;       // index in Plan::layers()
  std::string name;       // the layer's name
  std::string ops;        // "Conv+Relu+MaxPool"
  LayerKind kind = LayerKind::Conv2d;
  // Cumulative: the whole integer network up to and including this layer.
  ErrorStats cumulative;
  // Isolated: only this layer quantized. Its inputs are the float model's values of its input
  // tensors, quantized with their parameters; its weights and output are the integer layer's.
  ErrorStats isolated;
};
struct QuantErrorReport {
  std::vector<LayerError> layers;  // network order; layers without a float value are left out
  // Indices into `layers`, worst first. Sort key: the isolated SQNR (ascending), because it
  // attributes error to the layer that causes it (cumulative SQNR only falls along the network);
  // ties by cumulative SQNR.
  std::vector<size_t> ranking;
  int64_t images = 0;
  std::string sort_key = "isolated SQNR, ascending (worst first)";
};
// The float reference is `model.graph` run on the same images (normalised with its normalisation);
// the integer network starts from the pixels (Plan::quantize_pixels).
Result<QuantErrorReport> quantization_error(const QModel& model, const Plan& plan, const Dataset& images);
// The same on float inputs ([N, ...] NCHW, already normalised), quantized by Plan::quantize_float_input.
Result<QuantErrorReport> quantization_error(const QModel& model, const Plan& plan, const Tensor& inputs);

}  // namespace pocket::engine
