// Internal interface of the float op kernels (src/nn/ops/). One file per op family, forward and
// backward side by side; dispatch.cpp switches over OpKind and calls the functions declared here.
//
// Contract of every op:
//  - <op>_infer validates arity, parameter shapes and attributes for the given input shapes (dim 0
//    is the batch) and returns the output shape; every error starts with "node '<name>' (<Op>): ".
//  - <op>_forward runs blind on inputs that passed <op>_infer (it recomputes the geometry for the
//    actual batch size) and resizes `out` with Tensor::reshape_to (buffer reused).
//  - <op>_backward ACCUMULATES (+=) into every non-null grad_inputs[i]. It reads the forward
//    inputs and dL/d(out), and only the SHAPE of the forward output: an executor output hook (fake
//    quantization) may have changed its values.
//
// Determinism: every float reduction has a fixed order that depends only on the shapes, never on
// the number of threads. Parallel loops (parallel_for, a small pool of helper threads; BLAS runs
// single-threaded inside them) split work whose results do not interact (images, planes, output
// channels, blocks); reductions over the batch go through a fixed number of partial sums that are
// added in a fixed order (see batch_groups()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pocket/graph.hpp"
#include "pocket/status.hpp"
#include "pocket/tensor.hpp"

namespace pocket::ops {

using Shapes = std::span<const Shape* const>;
using Inputs = std::span<const Tensor* const>;
using GradInputs = std::span<Tensor* const>;

// ---- errors -----------------------------------------------------------------------------------

// "node '<name>' (<Op>): <message>"
Error node_error(const Node& node, const std::string& message);
// Checks min <= inputs.size() <= max.
Status check_arity(const Node& node, size_t count, size_t min, size_t max);

// ---- 2-D window geometry (Conv, MaxPool, AveragePool) ----------------------------------------

struct Window2d {
  int64_t batch = 0, in_c = 0, in_h = 0, in_w = 0;
  int64_t out_c = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t groups = 1;

  int64_t in_plane() const { return in_h * in_w; }
  int64_t out_plane() const { return out_h * out_w; }
  // Rows of the im2col matrix of one group: (in_c / groups) * kernel_h * kernel_w.
  int64_t patch() const { return in_c / groups * kernel_h * kernel_w; }
  // 1x1 kernel, stride 1, no padding: the im2col matrix of an image is the image itself.
  bool is_pointwise() const;
};

// Output extent of one spatial dimension (floor mode); requires a padded input >= kernel extent.
inline int64_t window_out(int64_t in, int64_t pad_sum, int64_t kernel, int64_t stride, int64_t dilation) {
  return (in + pad_sum - ((kernel - 1) * dilation + 1)) / stride + 1;
}

// Validates stride/dilation/pads and that the (dilated) kernel fits in the padded input of the
// NCHW shape `x`; `what` names the kernel's origin in messages ("weight [6, 3, 5, 5]").
Status check_window(const Node& node, const Shape& x, int64_t kernel_h, int64_t kernel_w, const std::string& what);
// Geometry of `attrs` over input `x` (validated before); out_c = in_c and groups = 1.
Window2d make_window(const Attrs& attrs, const Shape& x, int64_t kernel_h, int64_t kernel_w);

// ---- kernels ----------------------------------------------------------------------------------

// Row-major C[m,n] = op(A)[m,k] * op(B)[k,n] + beta * C, op = transpose if trans_*; OpenBLAS,
// always single-threaded (parallelism is ours, around the calls). Handles empty sizes.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float beta, float* c, int64_t ldc);

// A per-thread scratch buffer of at least `count` floats (contents unspecified). Slots are
// independent buffers; a slot's pointer stays valid until the same thread asks that slot again.
enum class Scratch : uint8_t { Columns, ColumnGrads, Partials, Padded, PaddedGrads, Wide, Count };
float* scratch(Scratch slot, size_t count);

// The batch reductions of parameter gradients split the batch into batch_groups(n) contiguous
// groups of images, accumulate each group in order, then add the groups in order. Fixed by n.
int64_t batch_groups(int64_t batch);
inline int64_t group_begin(int64_t batch, int64_t groups, int64_t g) { return batch * g / groups; }

// ---- threads ------------------------------------------------------------------------------------

namespace detail {
using Body = void (*)(const void* ctx, int64_t index);
void parallel_run(int64_t count, Body body, const void* ctx);
}  // namespace detail

// Threads that run parallel_for bodies (the caller included): $POCKET_THREADS, else the first
// number of $OMP_NUM_THREADS, else the hardware's; read once.
int parallel_threads();

// Runs body(i) for every i in [0, count), on the calling thread and on idle helper threads
// (serially if !parallel, if nested inside another parallel_for, or with one thread). Which thread
// runs an index is unspecified, so the bodies must write disjoint outputs and not depend on the
// thread (per-thread scratch buffers are fine): results are then independent of the thread count.
template <class F>
void parallel_for(int64_t count, const F& body, bool parallel = true) {
  if (!parallel || count <= 1) {
    for (int64_t i = 0; i < count; ++i) body(i);
    return;
  }
  detail::parallel_run(
      count, [](const void* ctx, int64_t i) { (*static_cast<const F*>(ctx))(i); }, &body);
}

// Whether a loop of `work` scalar operations is worth sharing between threads. Memory-bound loops
// below this size gain little from a second core.
inline bool worth_parallel(int64_t work) { return work >= (int64_t{1} << 18); }

// body(begin, end) over [0, count) in fixed blocks, in parallel if worth it.
template <class F>
void parallel_blocks(int64_t count, const F& body) {
  constexpr int64_t kBlock = int64_t{1} << 15;
  const int64_t blocks = (count + kBlock - 1) / kBlock;
  parallel_for(
      blocks, [&](int64_t b) { body(b * kBlock, b + 1 == blocks ? count : (b + 1) * kBlock); }, worth_parallel(count));
}

// dst[i] += src[i]
void add_into(float* dst, const float* src, int64_t count);

// Sum of src[0..count) in double with a fixed order (8 interleaved partial sums, then combined
// pairwise): deterministic, and not bound by the latency of one long dependency chain.
double sum_fixed_order(const float* src, int64_t count);

// ---- ops --------------------------------------------------------------------------------------

#define POCKET_DECLARE_OP(op)                                      \
  Result<Shape> op##_infer(const Node& node, Shapes inputs);       \
  void op##_forward(const Node& node, Inputs inputs, Tensor& out); \
  void op##_backward(const Node& node, Inputs inputs, const Tensor& out, const Tensor& grad_out, GradInputs grad_inputs)

POCKET_DECLARE_OP(conv);
POCKET_DECLARE_OP(max_pool);
POCKET_DECLARE_OP(average_pool);
POCKET_DECLARE_OP(global_average_pool);
POCKET_DECLARE_OP(relu);
POCKET_DECLARE_OP(clip);
POCKET_DECLARE_OP(add);
POCKET_DECLARE_OP(linear);
POCKET_DECLARE_OP(flatten);
POCKET_DECLARE_OP(reshape);
POCKET_DECLARE_OP(softmax);
POCKET_DECLARE_OP(pad);

#undef POCKET_DECLARE_OP

// BatchNorm (inference form) has no backward.
Result<Shape> batch_norm_infer(const Node& node, Shapes inputs);
void batch_norm_forward(const Node& node, Inputs inputs, Tensor& out);

}  // namespace pocket::ops
