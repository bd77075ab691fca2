// BatchNormalization, inference form (running statistics), per channel c = dim 1:
//   y = (x - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + bias[c]
// computed as y = x * a[c] + b[c] with a = scale / sqrt(var + epsilon), b = bias - mean * a.
// No backward: training through frozen statistics would also "train" mean and var, which are
// parameters of the graph; fold BatchNorm into the preceding Conv for training instead.
#include <cmath>
#include <string>
#include <vector>

#include "ops_internal.hpp"

namespace pocket::ops {

Result<Shape> batch_norm_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 5, 5));
  const Shape& x = *inputs[0];
  if (x.size() < 2) return node_error(node, "input must be [N, C, ...] (rank >= 2), got " + shape_str(x));
  static const char* const kNames[] = {"scale", "bias", "mean", "var"};
  for (size_t i = 1; i < 5; ++i) {
    if (*inputs[i] != Shape{x[1]}) {
      return node_error(node, std::string(kNames[i - 1]) + " " + shape_str(*inputs[i]) + " must be [" +
                                  std::to_string(x[1]) + "] (one per channel of input " + shape_str(x) + ")");
    }
  }
  if (!(node.attrs.epsilon >= 0.0f)) {
    return node_error(node, "epsilon " + std::to_string(node.attrs.epsilon) + " must be >= 0");
  }
  return x;
}

void batch_norm_forward(const Node& node, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  out.reshape_to(x.shape);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t plane = batch * channels == 0 ? 0 : x.numel() / (batch * channels);
  std::vector<float> a(static_cast<size_t>(channels)), b(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    const auto i = static_cast<size_t>(c);
    a[i] = inputs[1]->data[i] / std::sqrt(inputs[4]->data[i] + node.attrs.epsilon);
    b[i] = inputs[2]->data[i] - inputs[3]->data[i] * a[i];
  }
  const float* x_data = x.ptr();
  float* y_data = out.ptr();
  parallel_for(
      batch * channels,
      [&](int64_t p) {
        const auto c = static_cast<size_t>(p % channels);
        const float* xs = x_data + p * plane;
        float* ys = y_data + p * plane;
        for (int64_t i = 0; i < plane; ++i) ys[i] = xs[i] * a[c] + b[c];
      },
      worth_parallel(x.numel()));
}

}  // namespace pocket::ops
