// Softmax along one axis (ONNX opset 13; -1 = last), numerically stable (the maximum is subtracted):
//   y[.., i, ..] = exp(x_i - max_j x_j) / sum_j exp(x_j - max_j x_j)
// Backward: dx_i += y_i * (dy_i - sum_j dy_j * y_j).
// The reduced axis must not be the batch (dim 0). Independent rows run in parallel.
#include <algorithm>
#include <cmath>
#include <string>

#include "ops_internal.hpp"

namespace pocket::ops {
namespace {

struct Rows {
  int64_t outer = 1, length = 1, inner = 1;  // x viewed as [outer, length, inner], softmax over length
};

Rows softmax_rows(const Node& node, const Shape& x) {
  const auto rank = static_cast<int64_t>(x.size());
  const int64_t axis = node.attrs.axis < 0 ? node.attrs.axis + rank : node.attrs.axis;
  Rows r;
  for (int64_t d = 0; d < axis; ++d) r.outer *= x[static_cast<size_t>(d)];
  r.length = x[static_cast<size_t>(axis)];
  for (int64_t d = axis + 1; d < rank; ++d) r.inner *= x[static_cast<size_t>(d)];
  return r;
}

}  // namespace

Result<Shape> softmax_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 1, 1));
  const Shape& x = *inputs[0];
  const auto rank = static_cast<int64_t>(x.size());
  const int64_t axis = node.attrs.axis < 0 ? node.attrs.axis + rank : node.attrs.axis;
  if (axis < 0 || axis >= rank) {
    return node_error(node, "axis " + std::to_string(node.attrs.axis) + " is out of range for input " + shape_str(x));
  }
  if (axis == 0) {
    return node_error(node, "axis " + std::to_string(node.attrs.axis) + " on input " + shape_str(x) +
                                " is the batch dimension: softmax must run within a sample");
  }
  return x;
}

namespace {

// ys[i * inner] = softmax of xs[i * inner] over i in [0, length).
void softmax_row(const float* xs, const Rows& r, float* ys) {
  float max = xs[0];
  for (int64_t i = 1; i < r.length; ++i) max = std::max(max, xs[i * r.inner]);
  float sum = 0.0f;
  for (int64_t i = 0; i < r.length; ++i) {
    const float e = std::exp(xs[i * r.inner] - max);
    ys[i * r.inner] = e;
    sum += e;
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < r.length; ++i) ys[i * r.inner] *= inv;
}

int64_t row_base(const Rows& r, int64_t row) { return (row / r.inner) * r.length * r.inner + row % r.inner; }

}  // namespace

void softmax_forward(const Node& node, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  out.reshape_to(x.shape);
  const Rows r = softmax_rows(node, x.shape);
  const float* x_data = x.ptr();
  float* y_data = out.ptr();
  const int64_t rows = r.outer * r.inner;
  parallel_for(
      rows,
      [&](int64_t row) {
        const int64_t base = row_base(r, row);
        softmax_row(x_data + base, r, y_data + base);
      },
      worth_parallel(x.numel() * 8));
}

// The softmax is recomputed from x (not read from `out`, which an executor hook may have changed).
void softmax_backward(const Node& node, Inputs inputs, const Tensor& /*out*/, const Tensor& grad_out,
                      GradInputs grad_inputs) {
  Tensor* dx = grad_inputs[0];
  if (dx == nullptr) return;
  const Tensor& x = *inputs[0];
  const Rows r = softmax_rows(node, x.shape);
  const float* x_data = x.ptr();
  const float* dy_data = grad_out.ptr();
  float* dx_data = dx->ptr();
  const int64_t rows = r.outer * r.inner;
  parallel_for(
      rows,
      [&](int64_t row) {
        const int64_t base = row_base(r, row);
        Rows contiguous = r;
        contiguous.inner = 1;
        float* y = scratch(Scratch::Columns, static_cast<size_t>(r.length));
        const float* xs = x_data + base;
        for (int64_t i = 0; i < r.length; ++i) y[i] = xs[i * r.inner];
        softmax_row(y, contiguous, y);
        float dot = 0.0f;
        for (int64_t i = 0; i < r.length; ++i) dot += dy_data[base + i * r.inner] * y[i];
        for (int64_t i = 0; i < r.length; ++i) {
          const int64_t at = base + i * r.inner;
          dx_data[at] += y[i] * (dy_data[at] - dot);
        }
      },
      worth_parallel(x.numel() * 8));
}

}  // namespace pocket::ops
