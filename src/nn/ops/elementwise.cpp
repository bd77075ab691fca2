// Relu, Clip and Add.
//
//   Relu  y = x > 0 ? x : 0                 dx += x > 0 ? dy : 0
//   Clip  y = min(max(x, lo), hi)           dx += lo < x < hi ? dy : 0   (ReLU6 is Clip(0, 6); like
//                                                                           Relu, no gradient at a bound)
//   Add   y = a + b with NumPy broadcasting (equal shapes, or e.g. a [N, C, H, W] with b [C, 1, 1],
//         [1, C, 1, 1] or [W]); the gradient of a broadcast operand is summed over the broadcast
//         dimensions in the order of the output elements.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ops_internal.hpp"

namespace pocket::ops {

// ---- Relu ---------------------------------------------------------------------------------------

Result<Shape> relu_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 1, 1));
  return *inputs[0];
}

void relu_forward(const Node& /*node*/, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  out.reshape_to(x.shape);
  const int64_t count = x.numel();
  const float* x_data = x.ptr();
  float* y_data = out.ptr();
  parallel_blocks(count, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y_data[i] = x_data[i] > 0.0f ? x_data[i] : 0.0f;
  });
}

void relu_backward(const Node& /*node*/, Inputs inputs, const Tensor& /*out*/, const Tensor& grad_out,
                   GradInputs grad_inputs) {
  Tensor* dx = grad_inputs[0];
  if (dx == nullptr) return;
  const Tensor& x = *inputs[0];
  const int64_t count = x.numel();
  const float* x_data = x.ptr();
  const float* dy_data = grad_out.ptr();
  float* dx_data = dx->ptr();
  parallel_blocks(count, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float dy = dy_data[i];  // loaded unconditionally, so the loop vectorises
      dx_data[i] += x_data[i] > 0.0f ? dy : 0.0f;
    }
  });
}

// ---- Clip ---------------------------------------------------------------------------------------

Result<Shape> clip_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 1, 1));
  const Attrs& a = node.attrs;
  if (!(a.clip_min <= a.clip_max)) {
    return node_error(node, "min " + std::to_string(a.clip_min) + " must not exceed max " + std::to_string(a.clip_max));
  }
  return *inputs[0];
}

void clip_forward(const Node& node, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  out.reshape_to(x.shape);
  const float lo = node.attrs.clip_min;
  const float hi = node.attrs.clip_max;
  const int64_t count = x.numel();
  const float* x_data = x.ptr();
  float* y_data = out.ptr();
  parallel_blocks(count, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float v = x_data[i];
      y_data[i] = v < lo ? lo : (v > hi ? hi : v);
    }
  });
}

void clip_backward(const Node& node, Inputs inputs, const Tensor& /*out*/, const Tensor& grad_out,
                   GradInputs grad_inputs) {
  Tensor* dx = grad_inputs[0];
  if (dx == nullptr) return;
  const Tensor& x = *inputs[0];
  const float lo = node.attrs.clip_min;
  const float hi = node.attrs.clip_max;
  const int64_t count = x.numel();
  const float* x_data = x.ptr();
  const float* dy_data = grad_out.ptr();
  float* dx_data = dx->ptr();
  parallel_blocks(count, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float v = x_data[i];
      const float dy = dy_data[i];
      dx_data[i] += v > lo && v < hi ? dy : 0.0f;
    }
  });
}

// ---- Add ----------------------------------------------------------------------------------------

namespace {

// NumPy broadcast of two shapes; false if they are incompatible.
bool broadcast_shape(const Shape& a, const Shape& b, Shape& out) {
  const size_t rank = std::max(a.size(), b.size());
  out.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    out[i] = da == 1 ? db : da;
  }
  return true;
}

// Element strides of `s` aligned to the output shape `out` (0 along broadcast dimensions).
std::vector<int64_t> broadcast_strides(const Shape& s, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t k = 0; k < s.size(); ++k) {
    const size_t i = s.size() - 1 - k;
    const size_t o = out.size() - 1 - k;
    strides[o] = s[i] == 1 ? 0 : stride;
    stride *= s[i];
  }
  return strides;
}

// Calls f(out_offset, a_offset, b_offset, inner_count, a_step, b_step) for every run of the last
// output dimension, in order.
template <class F>
void for_each_broadcast_row(const Shape& out, const std::vector<int64_t>& sa, const std::vector<int64_t>& sb, F f) {
  const size_t rank = out.size();
  if (rank == 0) {
    f(int64_t{0}, int64_t{0}, int64_t{0}, int64_t{1}, int64_t{0}, int64_t{0});
    return;
  }
  const int64_t inner = out[rank - 1];
  const int64_t rows = inner == 0 ? 0 : numel(out) / inner;
  std::vector<int64_t> index(rank, 0);
  int64_t a_off = 0, b_off = 0;
  for (int64_t row = 0; row < rows; ++row) {
    f(row * inner, a_off, b_off, inner, sa[rank - 1], sb[rank - 1]);
    for (size_t d = rank - 1; d-- > 0;) {  // odometer over dims [0, rank - 1)
      ++index[d];
      a_off += sa[d];
      b_off += sb[d];
      if (index[d] < out[d]) break;
      a_off -= sa[d] * index[d];
      b_off -= sb[d] * index[d];
      index[d] = 0;
    }
  }
}

}  // namespace

Result<Shape> add_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 2, 2));
  Shape out;
  if (!broadcast_shape(*inputs[0], *inputs[1], out)) {
    return node_error(node, "shapes " + shape_str(*inputs[0]) + " and " + shape_str(*inputs[1]) +
                                " do not broadcast: the operands must have equal shapes, or one must broadcast "
                                "(NumPy rules, e.g. [C, 1, 1] or [1, C, 1, 1] against [N, C, H, W])");
  }
  return out;
}

void add_forward(const Node& node, Inputs inputs, Tensor& out) {
  const Tensor& a = *inputs[0];
  const Tensor& b = *inputs[1];
  const float* a_data = a.ptr();
  const float* b_data = b.ptr();
  if (a.shape == b.shape) {
    out.reshape_to(a.shape);
    float* y_data = out.ptr();
    const int64_t count = a.numel();
    parallel_blocks(count, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) y_data[i] = a_data[i] + b_data[i];
    });
    return;
  }
  Shape shape;
  POCKET_CHECK(broadcast_shape(a.shape, b.shape, shape), "node '" + node.name + "' (Add): shapes " +
                                                             shape_str(a.shape) + " and " + shape_str(b.shape) +
                                                             " do not broadcast");
  out.reshape_to(shape);
  float* y_data = out.ptr();
  for_each_broadcast_row(
      shape, broadcast_strides(a.shape, shape), broadcast_strides(b.shape, shape),
      [&](int64_t y_off, int64_t a_off, int64_t b_off, int64_t count, int64_t a_step, int64_t b_step) {
        for (int64_t i = 0; i < count; ++i) {
          y_data[y_off + i] = a_data[a_off + i * a_step] + b_data[b_off + i * b_step];
        }
      });
}

void add_backward(const Node& /*node*/, Inputs inputs, const Tensor& out, const Tensor& grad_out,
                  GradInputs grad_inputs) {
  const float* dy_data = grad_out.ptr();
  for (size_t k = 0; k < 2; ++k) {
    Tensor* d = grad_inputs[k];
    if (d == nullptr) continue;
    const Shape& s = inputs[k]->shape;
    if (s == out.shape) {
      add_into(d->ptr(), dy_data, grad_out.numel());
      continue;
    }
    // Sum over the broadcast dimensions, in output order (single-threaded: a fixed order).
    float* d_data = d->ptr();
    const std::vector<int64_t> strides = broadcast_strides(s, out.shape);
    for_each_broadcast_row(out.shape, strides, strides,
                           [&](int64_t y_off, int64_t off, int64_t, int64_t count, int64_t step, int64_t) {
                             for (int64_t i = 0; i < count; ++i) d_data[off + i * step] += dy_data[y_off + i];
                           });
  }
}

}  // namespace pocket::ops
