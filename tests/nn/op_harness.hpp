// Test harness for the float op kernels: build a node, run forward/backward through the public
// entry points (pocket/ops.hpp), compare against references, check gradients by central
// differences.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "pocket/graph.hpp"
#include "pocket/ops.hpp"
#include "pocket/rng.hpp"
#include "pocket/tensor.hpp"

namespace pocket::test {

using TensorPtrs = std::vector<const Tensor*>;
using GradPtrs = std::vector<Tensor*>;

inline Tensor random_tensor(const Shape& shape, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  Tensor t(shape);
  for (float& v : t.data) v = rng.uniform(lo, hi);
  return t;
}

// Values with magnitude in [margin, 1] and random sign: no value within `margin` of zero (keeps
// central differences of Relu away from its kink).
inline Tensor away_from_zero(const Shape& shape, Rng& rng, float margin) {
  Tensor t(shape);
  for (float& v : t.data) v = (rng.uniform() < 0.5f ? -1.0f : 1.0f) * rng.uniform(margin, 1.0f);
  return t;
}

// A random permutation of {0, 1, ..., n-1} * spacing - offset: all values distinct and at least
// `spacing` apart (keeps MaxPool's argmax stable under +-eps perturbations).
inline Tensor distinct_values(const Shape& shape, Rng& rng, float spacing) {
  Tensor t(shape);
  const auto n = static_cast<int64_t>(t.data.size());
  for (int64_t i = 0; i < n; ++i) t.data[static_cast<size_t>(i)] = static_cast<float>(i) * spacing;
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(t.data[static_cast<size_t>(i)], t.data[rng.uniform_int(static_cast<uint32_t>(i + 1))]);
  }
  for (float& v : t.data) v -= static_cast<float>(n) * spacing / 2.0f;
  return t;
}

inline Node make_node(OpKind kind, int inputs, Attrs attrs = {}, const std::string& name = "op") {
  Node n{kind, name, {}, inputs, attrs};
  for (int i = 0; i < inputs; ++i) n.inputs.push_back(i);
  return n;
}

inline std::vector<const Tensor*> ptrs(const std::vector<Tensor>& ts) {
  std::vector<const Tensor*> p;
  for (const Tensor& t : ts) p.push_back(&t);
  return p;
}

inline Result<Shape> infer(const Node& node, const std::vector<Shape>& shapes) {
  std::vector<const Shape*> p;
  for (const Shape& s : shapes) p.push_back(&s);
  return infer_output_shape(node, p);
}

// Runs infer_output_shape (must succeed) and forward; checks that the shapes agree.
inline Tensor run(const Node& node, const std::vector<Tensor>& inputs) {
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape);
  Result<Shape> shape = infer(node, shapes);
  EXPECT_TRUE(shape.is_ok()) << (shape.is_ok() ? "" : shape.message());
  Tensor out;
  forward(node, ptrs(inputs), out);
  if (shape.is_ok()) {
    EXPECT_EQ(out.shape, *shape) << "forward and infer_output_shape disagree";
  }
  return out;
}

// Element-wise comparison with |got - want| <= tol[i]; reports the first few mismatches.
inline ::testing::AssertionResult all_close(const Tensor& got, const std::vector<double>& want,
                                            const std::vector<double>& tol, const std::string& context) {
  if (static_cast<size_t>(got.numel()) != want.size()) {
    return ::testing::AssertionFailure() << context << ": size " << got.numel() << " vs reference " << want.size();
  }
  std::ostringstream os;
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = got.data[i];
    if (!(std::fabs(g - want[i]) <= tol[i])) {
      if (bad < 5) os << "\n  [" << i << "] got " << g << " want " << want[i] << " (tol " << tol[i] << ")";
      ++bad;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << context << ": " << bad << " of " << want.size() << " elements differ" << os.str();
}

inline ::testing::AssertionResult all_equal(const Tensor& got, const std::vector<double>& want, const std::string& context) {
  return all_close(got, want, std::vector<double>(want.size(), 0.0), context);
}

// Gradient check by central differences.
//
// L(inputs) = sum_i out_i * r_i for a fixed random r, so dL/dout = r. The analytic gradient comes
// from backward() into buffers pre-filled with 0.25 (checking that backward ACCUMULATES); the
// numeric one is (L(x + eps) - L(x - eps)) / (2 eps) with L accumulated in double. An element
// passes if |analytic - numeric| <= atol + rtol * |numeric|.
struct GradCheck {
  double eps = 1e-3;
  double atol = 2e-3;
  double rtol = 2e-3;
  int max_elements = 400;  // per input: larger inputs are checked on an evenly spread subset
  uint64_t seed = 99;
};

inline double weighted_sum(const Tensor& out, const Tensor& r) {
  double s = 0.0;
  for (size_t i = 0; i < out.data.size(); ++i) s += static_cast<double>(out.data[i]) * static_cast<double>(r.data[i]);
  return s;
}

// Checks the gradient of every input whose index is in `which`.
inline ::testing::AssertionResult check_gradients(const Node& node, std::vector<Tensor> inputs,
                                                  const std::vector<size_t>& which, const std::string& context,
                                                  const GradCheck& cfg = {}) {
  Tensor out;
  forward(node, ptrs(inputs), out);
  Rng rng(cfg.seed);
  const Tensor r = random_tensor(out.shape, rng);
  std::vector<Tensor> grads(inputs.size());
  std::vector<Tensor*> gptrs(inputs.size(), nullptr);
  constexpr float kPrefill = 0.25f;
  for (size_t k : which) {
    grads[k] = Tensor(inputs[k].shape, kPrefill);
    gptrs[k] = &grads[k];
  }
  backward(node, ptrs(inputs), out, r, gptrs);
  std::ostringstream os;
  int bad = 0, checked = 0;
  for (size_t k : which) {
    const auto n = static_cast<int64_t>(inputs[k].data.size());
    const int64_t step = std::max<int64_t>(1, n / cfg.max_elements);
    for (int64_t i = 0; i < n; i += step) {
      const auto at = static_cast<size_t>(i);
      const float saved = inputs[k].data[at];
      Tensor tmp;
      inputs[k].data[at] = static_cast<float>(saved + cfg.eps);
      forward(node, ptrs(inputs), tmp);
      const double plus = weighted_sum(tmp, r);
      inputs[k].data[at] = static_cast<float>(saved - cfg.eps);
      forward(node, ptrs(inputs), tmp);
      const double minus = weighted_sum(tmp, r);
      inputs[k].data[at] = saved;
      // The perturbation actually applied (float rounding of saved +- eps).
      const double h = static_cast<double>(static_cast<float>(saved + cfg.eps)) -
                       static_cast<double>(static_cast<float>(saved - cfg.eps));
      const double numeric = (plus - minus) / h;
      const double analytic = static_cast<double>(grads[k].data[at]) - kPrefill;
      ++checked;
      if (!(std::fabs(analytic - numeric) <= cfg.atol + cfg.rtol * std::fabs(numeric))) {
        if (bad < 6) os << "\n  input " << k << " [" << i << "]: analytic " << analytic << " numeric " << numeric;
        ++bad;
      }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << context << ": " << bad << " of " << checked << " gradient entries differ"
                                       << os.str();
}

}  // namespace pocket::test
