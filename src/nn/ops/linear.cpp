// Linear (ONNX Gemm with transB = 1): y [N, out] = x [N, in] * W [out, in]^T + B [out].
// Backward: dx += dy * W,  dW += dy^T * x (summed over the batch by one GEMM),  dB[o] += sum_n dy[n, o].
// Large batches are cut into fixed blocks of rows (independent of the thread count) run in parallel.
#include <algorithm>
#include <string>

#include "ops_internal.hpp"

namespace pocket::ops {
namespace {

constexpr int64_t kRowBlock = 64;

int64_t row_blocks(int64_t rows) { return (rows + kRowBlock - 1) / kRowBlock; }

}  // namespace

Result<Shape> linear_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 2, 3));
  const Shape& x = *inputs[0];
  const Shape& w = *inputs[1];
  if (x.size() != 2) {
    return node_error(node, "input must be [N, in_features] (rank 2), got " + shape_str(x) +
                                (x.size() > 2 ? ": add a Flatten before it" : ""));
  }
  if (w.size() != 2) return node_error(node, "weight must be [out_features, in_features], got " + shape_str(w));
  if (w[1] != x[1]) {
    return node_error(node, "weight " + shape_str(w) + " expects " + std::to_string(w[1]) +
                                " input features, but input " + shape_str(x) + " has " + std::to_string(x[1]));
  }
  if (inputs.size() == 3 && *inputs[2] != Shape{w[0]}) {
    return node_error(node, "bias " + shape_str(*inputs[2]) + " must be [" + std::to_string(w[0]) +
                                "] (one per output feature of weight " + shape_str(w) + ")");
  }
  return Shape{x[0], w[0]};
}

void linear_forward(const Node& /*node*/, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  const Tensor& w = *inputs[1];
  const Tensor* bias = inputs.size() > 2 ? inputs[2] : nullptr;
  const int64_t batch = x.dim(0), in = x.dim(1), outs = w.dim(0);
  out.reshape_to({batch, outs});
  const float* x_data = x.ptr();
  const float* w_data = w.ptr();
  float* y_data = out.ptr();
  const int64_t blocks = row_blocks(batch);
  parallel_for(
      blocks,
      [&](int64_t blk) {
        const int64_t r0 = blk * kRowBlock;
        const int64_t rows = std::min(kRowBlock, batch - r0);
        float beta = 0.0f;
        if (bias != nullptr) {
          for (int64_t r = r0; r < r0 + rows; ++r) std::copy(bias->data.begin(), bias->data.end(), y_data + r * outs);
          beta = 1.0f;
        }
        sgemm(false, true, rows, outs, in, x_data + r0 * in, in, w_data, in, beta, y_data + r0 * outs, outs);
      },
      blocks > 1);
}

void linear_backward(const Node& /*node*/, Inputs inputs, const Tensor& /*out*/, const Tensor& grad_out,
                     GradInputs grad_inputs) {
  const Tensor& x = *inputs[0];
  const Tensor& w = *inputs[1];
  const int64_t batch = x.dim(0), in = x.dim(1), outs = w.dim(0);
  const float* dy_data = grad_out.ptr();
  Tensor* dx = grad_inputs[0];
  Tensor* dw = grad_inputs[1];
  const int64_t blocks = row_blocks(batch);
  auto input_grad_block = [&](int64_t blk) {
    const int64_t r0 = blk * kRowBlock;
    const int64_t rows = std::min(kRowBlock, batch - r0);
    sgemm(false, false, rows, in, outs, dy_data + r0 * outs, outs, w.ptr(), in, 1.0f, dx->ptr() + r0 * in, in);
  };
  auto weight_grad = [&] { sgemm(true, false, outs, in, batch, dy_data, outs, x.ptr(), in, 1.0f, dw->ptr(), in); };
  if (dx != nullptr && dw != nullptr) {
    // Two independent GEMMs, one per thread.
    parallel_for(
        2,
        [&](int64_t which) {
          if (which == 0) {
            for (int64_t blk = 0; blk < blocks; ++blk) input_grad_block(blk);
          } else {
            weight_grad();
          }
        },
        worth_parallel(batch * in * outs));
  } else if (dx != nullptr) {
    parallel_for(blocks, input_grad_block);
  } else if (dw != nullptr) {
    weight_grad();
  }
  if (grad_inputs.size() > 2 && grad_inputs[2] != nullptr) {
    float* db_data = grad_inputs[2]->ptr();
    for (int64_t o = 0; o < outs; ++o) {
      double sum = 0.0;
      for (int64_t n = 0; n < batch; ++n) sum += static_cast<double>(dy_data[n * outs + o]);
      db_data[o] += static_cast<float>(sum);
    }
  }
}

}  // namespace pocket::ops
