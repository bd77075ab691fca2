// MaxPool, AveragePool, GlobalAveragePool: forward against naive loops, gradients by central
// differences. MaxPool is exact (bit equality); averages have a stated tolerance.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "op_harness.hpp"

namespace pocket::test {
namespace {

struct PoolCase {
  int64_t batch = 1, channels = 1, h = 6, w = 6;
  int kh = 2, kw = 2, sh = 2, sw = 2, dh = 1, dw = 1;
  std::array<int, 4> pads{0, 0, 0, 0};
  bool count_include_pad = false;

  std::string str(OpKind kind) const {
    std::ostringstream os;
    os << op_name(kind) << " N" << batch << " C" << channels << " " << h << "x" << w << " k" << kh << "x" << kw << " s"
       << sh << "," << sw << " d" << dh << "," << dw << " pads{" << pads[0] << "," << pads[1] << "," << pads[2] << ","
       << pads[3] << "}" << (count_include_pad ? " count_include_pad" : "");
    return os.str();
  }

  Node node(OpKind kind) const {
    Attrs a;
    a.kernel = {kh, kw};
    a.stride = {sh, sw};
    a.dilation = {dh, dw};
    a.pads = pads;
    a.count_include_pad = count_include_pad;
    return make_node(kind, 1, a, "pool");
  }

  int64_t out_h() const { return (h + pads[0] + pads[2] - ((kh - 1) * dh + 1)) / sh + 1; }
  int64_t out_w() const { return (w + pads[1] + pads[3] - ((kw - 1) * dw + 1)) / sw + 1; }

  // Whether every window sees at least one input element (else the op must reject the geometry).
  bool windows_valid() const {
    if (h + pads[0] + pads[2] < (kh - 1) * dh + 1 || w + pads[1] + pads[3] < (kw - 1) * dw + 1) return false;
    for (int64_t oy = 0; oy < out_h(); ++oy) {
      bool any = false;
      for (int k = 0; k < kh; ++k) any |= oy * sh - pads[0] + k * dh >= 0 && oy * sh - pads[0] + k * dh < h;
      if (!any) return false;
    }
    for (int64_t ox = 0; ox < out_w(); ++ox) {
      bool any = false;
      for (int k = 0; k < kw; ++k) any |= ox * sw - pads[1] + k * dw >= 0 && ox * sw - pads[1] + k * dw < w;
      if (!any) return false;
    }
    return true;
  }

  // max: exact; average: sum in double / divisor.
  void reference(OpKind kind, const Tensor& x, std::vector<double>& out, std::vector<double>& tol) const {
    out.clear();
    tol.clear();
    for (int64_t p = 0; p < batch * channels; ++p) {
      for (int64_t oy = 0; oy < out_h(); ++oy) {
        for (int64_t ox = 0; ox < out_w(); ++ox) {
          double best = -std::numeric_limits<double>::infinity(), sum = 0.0, mag = 0.0;
          int count = 0;
          for (int ky = 0; ky < kh; ++ky) {
            for (int kx = 0; kx < kw; ++kx) {
              const int64_t iy = oy * sh + ky * dh - pads[0];
              const int64_t ix = ox * sw + kx * dw - pads[1];
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const double v = x.data[static_cast<size_t>((p * h + iy) * w + ix)];
              best = std::max(best, v);
              sum += v;
              mag += std::fabs(v);
              ++count;
            }
          }
          if (kind == OpKind::MaxPool) {
            out.push_back(best);
            tol.push_back(0.0);
          } else {
            const double div = count_include_pad ? kh * kw : count;
            out.push_back(sum / div);
            tol.push_back(1e-6 * (1.0 + mag / div));
          }
        }
      }
    }
  }

  void test_forward(OpKind kind, uint64_t seed) const {
    SCOPED_TRACE(str(kind));
    Rng rng(seed);
    const std::vector<Tensor> in{random_tensor({batch, channels, h, w}, rng)};
    const Tensor out = run(node(kind), in);
    ASSERT_EQ(out.shape, (Shape{batch, channels, out_h(), out_w()}));
    std::vector<double> want, tol;
    reference(kind, in[0], want, tol);
    EXPECT_TRUE(all_close(out, want, tol, str(kind)));
  }

  void test_gradients(OpKind kind, uint64_t seed) const {
    SCOPED_TRACE(str(kind));
    Rng rng(seed);
    // Distinct values 0.01 apart: a +-1e-3 perturbation never changes which tap is the maximum.
    std::vector<Tensor> in{distinct_values({batch, channels, h, w}, rng, 0.01f)};
    EXPECT_TRUE(check_gradients(node(kind), in, {0}, str(kind)));
  }
};

std::vector<PoolCase> awkward_cases() {
  std::vector<PoolCase> cases;
  PoolCase c;
  c = {}; c.batch = 2; c.channels = 3; c.h = 8; c.w = 8; cases.push_back(c);                 // the LeNet pool (fast path)
  c = {}; c.batch = 2; c.channels = 3; c.h = 7; c.w = 9; cases.push_back(c);                 // odd sides: last row/col dropped
  c = {}; c.batch = 1; c.channels = 2; c.h = 7; c.w = 7; c.kh = 3; c.kw = 3; c.sh = 2; c.sw = 2; cases.push_back(c);
  c = {}; c.batch = 2; c.channels = 2; c.h = 6; c.w = 7; c.kh = 3; c.kw = 3; c.sh = 1; c.sw = 1; c.pads = {1, 1, 1, 1};
  cases.push_back(c);
  c.count_include_pad = true; cases.push_back(c);
  c = {}; c.batch = 3; c.channels = 1; c.h = 9; c.w = 5; c.kh = 3; c.kw = 2; c.sh = 2; c.sw = 1; c.pads = {2, 0, 1, 1};
  cases.push_back(c);
  c.count_include_pad = true; cases.push_back(c);
  c = {}; c.batch = 1; c.channels = 2; c.h = 9; c.w = 10; c.kh = 2; c.kw = 3; c.sh = 1; c.sw = 2; c.dh = 2; c.dw = 2;
  c.pads = {1, 0, 0, 1}; cases.push_back(c);
  c = {}; c.batch = 2; c.channels = 2; c.h = 5; c.w = 4; c.kh = 5; c.kw = 4; c.sh = 1; c.sw = 1; cases.push_back(c);  // global
  c = {}; c.batch = 2; c.channels = 3; c.h = 4; c.w = 4; c.kh = 1; c.kw = 1; c.sh = 2; c.sw = 2; cases.push_back(c);
  return cases;
}

std::vector<PoolCase> random_cases(int count, uint64_t seed) {
  Rng rng(seed);
  auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng.uniform_int(static_cast<uint32_t>(hi - lo + 1))); };
  std::vector<PoolCase> cases;
  while (static_cast<int>(cases.size()) < count) {
    PoolCase c;
    c.batch = pick(1, 3);
    c.channels = pick(1, 4);
    c.h = pick(1, 11);
    c.w = pick(1, 11);
    c.kh = pick(1, 4);
    c.kw = pick(1, 4);
    c.sh = pick(1, 3);
    c.sw = pick(1, 3);
    c.dh = pick(1, 2);
    c.dw = pick(1, 2);
    c.pads = {pick(0, c.kh - 1), pick(0, c.kw - 1), pick(0, c.kh - 1), pick(0, c.kw - 1)};
    c.count_include_pad = pick(0, 1) == 1;
    if (c.windows_valid()) cases.push_back(c);
  }
  return cases;
}

TEST(MaxPool, ForwardIsExactOnAwkwardShapesAndRandomSweep) {
  uint64_t seed = 1;
  for (const PoolCase& c : awkward_cases()) c.test_forward(OpKind::MaxPool, seed++);
  for (const PoolCase& c : random_cases(50, 3)) c.test_forward(OpKind::MaxPool, seed++);
}

TEST(MaxPool, GradientsMatchCentralDifferences) {
  uint64_t seed = 100;
  for (const PoolCase& c : awkward_cases()) c.test_gradients(OpKind::MaxPool, seed++);
  for (const PoolCase& c : random_cases(20, 4)) c.test_gradients(OpKind::MaxPool, seed++);
}

TEST(MaxPool, TiesGoToTheFirstTapInBothPaths) {
  // All-equal windows: the whole gradient lands on the top-left tap of each window, in the 2x2
  // fast path and in the generic path (3x3 stride 3).
  for (int k : {2, 3}) {
    PoolCase c;
    c.batch = 1; c.channels = 1; c.h = 6; c.w = 6; c.kh = k; c.kw = k; c.sh = k; c.sw = k;
    const Node n = c.node(OpKind::MaxPool);
    const Tensor x({1, 1, 6, 6}, 1.5f);
    Tensor out;
    forward(n, TensorPtrs{&x}, out);
    const Tensor dy(out.shape, 1.0f);
    Tensor dx(x.shape, 0.0f);
    backward(n, TensorPtrs{&x}, out, dy, GradPtrs{&dx});
    for (int64_t iy = 0; iy < 6; ++iy) {
      for (int64_t ix = 0; ix < 6; ++ix) {
        const float want = (iy % k == 0 && ix % k == 0) ? 1.0f : 0.0f;
        EXPECT_EQ(dx.data[static_cast<size_t>(iy * 6 + ix)], want) << "k " << k << " at " << iy << "," << ix;
      }
    }
  }
}

TEST(AveragePool, ForwardMatchesReferenceOnAwkwardShapesAndRandomSweep) {
  uint64_t seed = 200;
  for (const PoolCase& c : awkward_cases()) c.test_forward(OpKind::AveragePool, seed++);
  for (const PoolCase& c : random_cases(50, 5)) c.test_forward(OpKind::AveragePool, seed++);
}

TEST(AveragePool, CountIncludePadChangesOnlyBorderWindows) {
  PoolCase c;
  c.batch = 1; c.channels = 1; c.h = 3; c.w = 3; c.kh = 3; c.kw = 3; c.sh = 1; c.sw = 1; c.pads = {1, 1, 1, 1};
  const Tensor x({1, 1, 3, 3}, 9.0f);
  Tensor excl, incl;
  forward(c.node(OpKind::AveragePool), TensorPtrs{&x}, excl);
  c.count_include_pad = true;
  forward(c.node(OpKind::AveragePool), TensorPtrs{&x}, incl);
  // Corner window sees 4 inputs: 9 (excluding pads) vs 4*9/9 = 4 (including them).
  EXPECT_EQ(excl.data[0], 9.0f);
  EXPECT_EQ(incl.data[0], 4.0f);
  EXPECT_EQ(incl.data[4], 9.0f);  // the centre window has no padding
}

TEST(AveragePool, GradientsMatchCentralDifferences) {
  uint64_t seed = 300;
  for (const PoolCase& c : awkward_cases()) c.test_gradients(OpKind::AveragePool, seed++);
  for (const PoolCase& c : random_cases(20, 6)) c.test_gradients(OpKind::AveragePool, seed++);
}

TEST(GlobalAveragePool, ForwardAndGradients) {
  Rng rng(7);
  for (const Shape& s : {Shape{2, 3, 5, 7}, Shape{1, 4, 1, 1}, Shape{3, 2, 6}}) {
    SCOPED_TRACE(shape_str(s));
    const Node n = make_node(OpKind::GlobalAveragePool, 1);
    const std::vector<Tensor> in{random_tensor(s, rng)};
    const Tensor out = run(n, in);
    Shape want_shape = s;
    std::fill(want_shape.begin() + 2, want_shape.end(), 1);
    ASSERT_EQ(out.shape, want_shape);
    const int64_t planes = s[0] * s[1], plane = numel(s) / planes;
    std::vector<double> want, tol;
    for (int64_t p = 0; p < planes; ++p) {
      double sum = 0.0, mag = 0.0;
      for (int64_t i = 0; i < plane; ++i) {
        sum += in[0].data[static_cast<size_t>(p * plane + i)];
        mag += std::fabs(in[0].data[static_cast<size_t>(p * plane + i)]);
      }
      want.push_back(sum / static_cast<double>(plane));
      tol.push_back(1e-6 * (1.0 + mag / static_cast<double>(plane)));
    }
    EXPECT_TRUE(all_close(out, want, tol, "GlobalAveragePool " + shape_str(s)));
    EXPECT_TRUE(check_gradients(n, in, {0}, "GlobalAveragePool " + shape_str(s)));
  }
}

TEST(Pools, HaveBackward) {
  EXPECT_TRUE(has_backward(OpKind::MaxPool));
  EXPECT_TRUE(has_backward(OpKind::AveragePool));
  EXPECT_TRUE(has_backward(OpKind::GlobalAveragePool));
}

}  // namespace
}  // namespace pocket::test
