// Flatten, Reshape and Pad: data movement only (exact, no rounding). Dimension 0 is the batch and
// stays the batch: these ops refuse to fold it into other dimensions or to pad it.
//
//   Flatten  [d0, ..., d(r-1)] -> [d0 * ... * d(axis-1), d(axis) * ... * d(r-1)]; dims 1..axis-1 must be 1
//   Reshape  ONNX: target 0 copies the input dim, -1 is inferred (at most one); target[0] is the batch
//            (0, -1, 1 or the batch size itself; the output keeps the input's batch)
//   Pad      constant mode; pad_amounts = begins for every dim, then ends for every dim, all >= 0,
//            zero for dim 0
// Backward: Flatten/Reshape add dy into dx unchanged; Pad adds the interior of dy.
#include <algorithm>
#include <string>
#include <vector>

#include "ops_internal.hpp"

namespace pocket::ops {
namespace {

std::string list_str(const std::vector<int64_t>& v) { return shape_str(v); }

int64_t product(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= s[i];
  return p;
}

void copy_forward(const Tensor& x, const Shape& shape, Tensor& out) {
  out.reshape_to(shape);
  std::copy(x.data.begin(), x.data.end(), out.data.begin());
}

void add_backward_unchanged(const Tensor& grad_out, GradInputs grad_inputs) {
  if (Tensor* dx = grad_inputs[0]; dx != nullptr) add_into(dx->ptr(), grad_out.ptr(), grad_out.numel());
}

}  // namespace

// ---- Flatten ------------------------------------------------------------------------------------

Result<Shape> flatten_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 1, 1));
  const Shape& x = *inputs[0];
  const auto rank = static_cast<int64_t>(x.size());
  const int64_t axis = node.attrs.axis < 0 ? node.attrs.axis + rank : node.attrs.axis;
  if (rank < 1 || axis < 0 || axis > rank) {
    return node_error(node, "axis " + std::to_string(node.attrs.axis) + " is out of range for input " + shape_str(x));
  }
  if (axis == 0 || product(x, 1, static_cast<size_t>(axis)) != 1) {
    return node_error(node, "axis " + std::to_string(node.attrs.axis) + " on input " + shape_str(x) +
                                " would fold other dimensions into the batch (dim 0); use axis 1");
  }
  return Shape{x[0], product(x, static_cast<size_t>(axis), x.size())};
}

void flatten_forward(const Node& /*node*/, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  copy_forward(x, {x.dim(0), x.dim(0) == 0 ? 0 : x.numel() / x.dim(0)}, out);
}

void flatten_backward(const Node& /*node*/, Inputs /*inputs*/, const Tensor& /*out*/, const Tensor& grad_out,
                      GradInputs grad_inputs) {
  add_backward_unchanged(grad_out, grad_inputs);
}

// ---- Reshape ------------------------------------------------------------------------------------

Result<Shape> reshape_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 1, 1));
  const Shape& x = *inputs[0];
  const std::vector<int64_t>& target = node.attrs.target_shape;
  auto fail = [&](const std::string& why) {
    return node_error(node, "target shape " + list_str(target) + " for input " + shape_str(x) + ": " + why);
  };
  if (x.empty() || target.empty()) return fail("both need at least the batch dimension");
  const int64_t batch = x[0];
  if (target[0] != 0 && target[0] != -1 && target[0] != 1 && target[0] != batch) {
    return fail("dim 0 is the batch and must stay (use 0 or -1 there)");
  }
  Shape out(target.size());
  out[0] = batch;
  int64_t known = 1;
  int inferred = -1;
  for (size_t i = 1; i < target.size(); ++i) {
    const int64_t t = target[i];
    if (t == -1) {
      if (inferred >= 0) return fail("more than one -1");
      inferred = static_cast<int>(i);
      continue;
    }
    if (t == 0) {
      if (i >= x.size()) return fail("0 at dim " + std::to_string(i) + " copies a dim the input does not have");
      out[i] = x[i];
    } else if (t > 0) {
      out[i] = t;
    } else {
      return fail("dims must be >= -1");
    }
    known *= out[i];
  }
  const int64_t per_sample = product(x, 1, x.size());
  if (inferred >= 0) {
    if (known == 0 || per_sample % known != 0) {
      return fail("cannot infer the -1 dim (" + std::to_string(per_sample) +
                  " elements per sample are not a multiple of " + std::to_string(known) + ")");
    }
    out[static_cast<size_t>(inferred)] = per_sample / known;
  } else if (known != per_sample) {
    return fail(std::to_string(per_sample) + " elements per sample cannot become " + std::to_string(known) +
                (target[0] == -1 ? " (the batch must stay)" : ""));
  }
  return out;
}

void reshape_forward(const Node& node, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  const Shape* in_shape = &x.shape;
  Result<Shape> shape = reshape_infer(node, std::span<const Shape* const>(&in_shape, 1));
  POCKET_CHECK(shape.is_ok(), shape.message());
  copy_forward(x, *shape, out);
}

void reshape_backward(const Node& /*node*/, Inputs /*inputs*/, const Tensor& /*out*/, const Tensor& grad_out,
                      GradInputs grad_inputs) {
  add_backward_unchanged(grad_out, grad_inputs);
}

// ---- Pad ----------------------------------------------------------------------------------------

Result<Shape> pad_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 1, 1));
  const Shape& x = *inputs[0];
  const std::vector<int64_t>& pads = node.attrs.pad_amounts;
  const size_t rank = x.size();
  if (rank == 0) return node_error(node, "input must have at least the batch dimension");
  if (pads.size() != 2 * rank) {
    return node_error(node, "pads " + list_str(pads) + " must hold " + std::to_string(2 * rank) +
                                " values (begins then ends for every dim) for input " + shape_str(x));
  }
  if (*std::min_element(pads.begin(), pads.end()) < 0) {
    return node_error(node, "pads " + list_str(pads) + " for input " + shape_str(x) +
                                " are negative: cropping is not supported, only padding");
  }
  if (pads[0] != 0 || pads[rank] != 0) {
    return node_error(node, "pads " + list_str(pads) + " for input " + shape_str(x) +
                                " pad dim 0, the batch: its begin and end must be 0");
  }
  Shape out = x;
  for (size_t i = 0; i < rank; ++i) out[i] += pads[i] + pads[rank + i];
  return out;
}

namespace {

// Calls f(x_offset, y_offset, count) for every row (run of the last dim) of x, in order, where
// y_offset is that row's position inside the padded output.
template <class F>
void for_each_pad_row(const Shape& x, const Shape& y, const std::vector<int64_t>& pads, F f) {
  const size_t rank = x.size();
  const int64_t inner = x[rank - 1];
  std::vector<int64_t> y_strides(rank, 1);
  for (size_t d = rank - 1; d-- > 0;) y_strides[d] = y_strides[d + 1] * y[d + 1];
  int64_t base = 0;
  for (size_t d = 0; d < rank; ++d) base += pads[d] * y_strides[d];
  const int64_t rows = inner == 0 ? 0 : numel(x) / inner;
  std::vector<int64_t> index(rank, 0);
  int64_t y_off = base;
  for (int64_t row = 0; row < rows; ++row) {
    f(row * inner, y_off, inner);
    for (size_t d = rank - 1; d-- > 0;) {
      ++index[d];
      y_off += y_strides[d];
      if (index[d] < x[d]) break;
      y_off -= y_strides[d] * index[d];
      index[d] = 0;
    }
  }
}

}  // namespace

void pad_forward(const Node& node, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  const std::vector<int64_t>& pads = node.attrs.pad_amounts;
  Shape shape = x.shape;
  for (size_t i = 0; i < shape.size(); ++i) shape[i] += pads[i] + pads[shape.size() + i];
  out.reshape_to(shape);
  std::fill(out.data.begin(), out.data.end(), node.attrs.pad_value);
  const float* x_data = x.ptr();
  float* y_data = out.ptr();
  for_each_pad_row(x.shape, shape, pads, [&](int64_t x_off, int64_t y_off, int64_t count) {
    std::copy(x_data + x_off, x_data + x_off + count, y_data + y_off);
  });
}

void pad_backward(const Node& node, Inputs inputs, const Tensor& out, const Tensor& grad_out, GradInputs grad_inputs) {
  Tensor* dx = grad_inputs[0];
  if (dx == nullptr) return;
  const float* dy_data = grad_out.ptr();
  float* dx_data = dx->ptr();
  for_each_pad_row(inputs[0]->shape, out.shape, node.attrs.pad_amounts, [&](int64_t x_off, int64_t y_off, int64_t count) {
    for (int64_t i = 0; i < count; ++i) dx_data[x_off + i] += dy_data[y_off + i];
  });
}

}  // namespace pocket::ops
