// Helpers of the engine tests: hand-built quantized models with exactly representable numbers, so
// the integer engine can be compared with the float graph EXACTLY.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "pocket/engine.hpp"
#include "pocket/executor.hpp"
#include "pocket/qmath.hpp"
#include "pocket/quant.hpp"
#include "pocket/rng.hpp"

namespace pocket::engine_test {

inline TensorQuant act(double scale, int32_t zero_point, int bits = 8, bool symmetric = false) {
  TensorQuant t;
  t.bits = bits;
  t.symmetric = symmetric;
  t.scale = {scale};
  t.zero_point = {zero_point};
  t.method = "test";
  return t;
}

// Integer weights w (stored as floats in the graph) with per-channel scales: the float parameter
// becomes q * scale, the QModel holds q.
inline void set_weights(QModel& m, const std::string& name, const std::vector<int8_t>& q, const std::vector<double>& scale) {
  Graph& g = m.graph;
  Tensor& w = g.param(g.find_value(name));
  const size_t per = w.data.size() / scale.size();
  for (size_t i = 0; i < q.size(); ++i) w.data[i] = static_cast<float>(q[i] * scale[i / per]);
  TensorQuant t;
  t.bits = 8;
  t.symmetric = true;
  t.scale = scale;
  t.zero_point.assign(scale.size(), 0);
  t.count = w.numel();
  m.weights[name] = t;
  m.qweights[name] = q;
}

// A bias whose real value is exactly q * s_in * s_w[c].
inline void set_bias(QModel& m, const std::string& name, const std::vector<int32_t>& q, double s_in,
                     const std::vector<double>& s_w) {
  Tensor& b = m.graph.param(m.graph.find_value(name));
  for (size_t c = 0; c < q.size(); ++c) b.data[c] = static_cast<float>(q[c] * s_in * s_w[s_w.size() == 1 ? 0 : c]);
  m.qbiases[name] = q;
}

inline std::vector<int8_t> random_int8(size_t n, int lo, int hi, uint64_t seed) {
  Rng rng(seed);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(lo + static_cast<int>(rng.uniform_int(static_cast<uint32_t>(hi - lo + 1))));
  return v;
}

// Runs the integer engine on a float NCHW input (quantized by the plan) and returns the int8 output
// in the float graph's order (re-quantized from the dequantized values, which is exact).
inline std::vector<int32_t> run_engine(const engine::Plan& plan, const std::vector<float>& input_nchw) {
  std::vector<int8_t> in(static_cast<size_t>(plan.input().bytes)), out(static_cast<size_t>(plan.output().bytes));
  plan.quantize_float_input(input_nchw.data(), in.data());
  std::vector<int8_t> arena(static_cast<size_t>(plan.arena_bytes()));
  plan.run(in.data(), out.data(), arena);
  std::vector<float> deq(out.size());
  plan.dequantize_tensor(plan.output_tensor(), out.data(), deq.data());
  std::vector<int32_t> q(out.size());
  const engine::ActQuant& oq = plan.output().quant;
  for (size_t i = 0; i < q.size(); ++i) {
    q[i] = static_cast<int32_t>(std::lround(deq[i] / oq.scale)) + oq.zero_point;
  }
  return q;
}

// The float graph's output quantized with `q` (round half away from zero, clamped to int8).
inline std::vector<int32_t> quantize_reference(const Tensor& y, const TensorQuant& q) {
  std::vector<int32_t> out;
  for (float v : y.data) {
    out.push_back(qmath::quantize_value(v, {q.scale[0], q.zero_point[0]}, {8, q.symmetric}));
  }
  return out;
}

inline Tensor run_float(const Graph& g, const std::vector<float>& input_nchw) {
  Executor e(g);
  auto out = e.run(Tensor(g.input_shape(), input_nchw));
  EXPECT_TRUE(out) << out.message();
  return out ? **out : Tensor{};
}

inline double sqnr_db(const std::vector<float>& ref, const std::vector<float>& got) {
  double s = 0, n = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    s += static_cast<double>(ref[i]) * ref[i];
    n += (static_cast<double>(ref[i]) - got[i]) * (static_cast<double>(ref[i]) - got[i]);
  }
  return n == 0 ? INFINITY : 10 * std::log10(s / n);
}

}  // namespace pocket::engine_test
