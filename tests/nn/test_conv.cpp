// Conv: forward against a naive loop nest (double accumulation) over hand-picked awkward shapes and
// a seeded random sweep; gradients (dx, dW, dB) by central differences.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "op_harness.hpp"

namespace pocket::test {
namespace {

struct ConvCase {
  int64_t batch = 1, in_c = 1, out_c = 1, h = 5, w = 5;
  int64_t kh = 3, kw = 3;
  int sh = 1, sw = 1, dh = 1, dw = 1, groups = 1;
  std::array<int, 4> pads{0, 0, 0, 0};  // top, left, bottom, right
  bool bias = true;

  std::string str() const {
    std::ostringstream os;
    os << "conv N" << batch << " C" << in_c << " O" << out_c << " " << h << "x" << w << " k" << kh << "x" << kw
       << " s" << sh << "," << sw << " d" << dh << "," << dw << " pads{" << pads[0] << "," << pads[1] << "," << pads[2]
       << "," << pads[3] << "} groups " << groups << (bias ? " +bias" : " no-bias");
    return os.str();
  }

  Node node() const {
    Attrs a;
    a.kernel = {static_cast<int>(kh), static_cast<int>(kw)};
    a.stride = {sh, sw};
    a.dilation = {dh, dw};
    a.pads = pads;
    a.groups = groups;
    return make_node(OpKind::Conv, bias ? 3 : 2, a, "conv");
  }

  std::vector<Tensor> inputs(Rng& rng) const {
    std::vector<Tensor> in{random_tensor({batch, in_c, h, w}, rng), random_tensor({out_c, in_c / groups, kh, kw}, rng)};
    if (bias) in.push_back(random_tensor({out_c}, rng));
    return in;
  }

  int64_t out_h() const { return (h + pads[0] + pads[2] - ((kh - 1) * dh + 1)) / sh + 1; }
  int64_t out_w() const { return (w + pads[1] + pads[3] - ((kw - 1) * dw + 1)) / sw + 1; }

  // The obviously-correct loop nest, in double; tol = 1e-5 * (1 + sum of |terms|).
  void reference(const std::vector<Tensor>& in, std::vector<double>& out, std::vector<double>& tol) const {
    const Tensor& x = in[0];
    const Tensor& wt = in[1];
    const int64_t oh = out_h(), ow = out_w(), cg = in_c / groups, og = out_c / groups;
    out.clear();
    tol.clear();
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t o = 0; o < out_c; ++o) {
        const int64_t group = o / og;
        for (int64_t oy = 0; oy < oh; ++oy) {
          for (int64_t ox = 0; ox < ow; ++ox) {
            double sum = bias ? in[2].data[static_cast<size_t>(o)] : 0.0;
            double mag = std::fabs(sum);
            for (int64_t ci = 0; ci < cg; ++ci) {
              const int64_t c = group * cg + ci;
              for (int64_t ky = 0; ky < kh; ++ky) {
                for (int64_t kx = 0; kx < kw; ++kx) {
                  const int64_t iy = oy * sh + ky * dh - pads[0];
                  const int64_t ix = ox * sw + kx * dw - pads[1];
                  if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                  const double term = static_cast<double>(wt.data[static_cast<size_t>(((o * cg + ci) * kh + ky) * kw + kx)]) *
                                      x.data[static_cast<size_t>(((n * in_c + c) * h + iy) * w + ix)];
                  sum += term;
                  mag += std::fabs(term);
                }
              }
            }
            out.push_back(sum);
            tol.push_back(1e-5 * (1.0 + mag));
          }
        }
      }
    }
  }

  void test_forward(uint64_t seed) const {
    SCOPED_TRACE(str());
    Rng rng(seed);
    const std::vector<Tensor> in = inputs(rng);
    const Tensor out = run(node(), in);
    ASSERT_EQ(out.shape, (Shape{batch, out_c, out_h(), out_w()}));
    std::vector<double> want, tol;
    reference(in, want, tol);
    EXPECT_TRUE(all_close(out, want, tol, str()));
  }

  void test_gradients(uint64_t seed) const {
    SCOPED_TRACE(str());
    Rng rng(seed);
    std::vector<size_t> which{0, 1};
    if (bias) which.push_back(2);
    EXPECT_TRUE(check_gradients(node(), inputs(rng), which, str()));
  }
};

// Hand-picked shapes: every lowering (pointwise, wide, classic), asymmetric pads, groups,
// depthwise, dilation, kernels as large as the padded input, non-square kernels, batch > 8.
std::vector<ConvCase> awkward_cases() {
  std::vector<ConvCase> cases;
  auto add = [&](ConvCase c) { cases.push_back(c); };
  ConvCase c;
  c = {};  c.batch = 1; c.in_c = 3; c.out_c = 4; c.h = 7; c.w = 7; add(c);                       // wide, no pads
  c = {};  c.batch = 2; c.in_c = 3; c.out_c = 5; c.h = 9; c.w = 11; c.kh = 3; c.kw = 2; c.sh = 2; c.sw = 2;
  c.pads = {1, 0, 2, 1}; add(c);                                                                   // classic, asym pads
  c = {};  c.batch = 3; c.in_c = 4; c.out_c = 6; c.h = 8; c.w = 8; c.pads = {1, 1, 1, 1}; c.groups = 2; add(c);
  c = {};  c.batch = 2; c.in_c = 5; c.out_c = 5; c.h = 7; c.w = 6; c.pads = {1, 2, 0, 1}; c.groups = 5; add(c);  // depthwise
  c = {};  c.batch = 2; c.in_c = 3; c.out_c = 6; c.h = 6; c.w = 7; c.sh = 2; c.sw = 1; c.pads = {1, 1, 1, 1};
  c.groups = 3; add(c);                                                                            // depth multiplier 2
  c = {};  c.batch = 2; c.in_c = 5; c.out_c = 7; c.h = 6; c.w = 5; c.kh = 1; c.kw = 1; add(c);    // pointwise
  c.bias = false; add(c);
  c = {};  c.batch = 2; c.in_c = 4; c.out_c = 6; c.h = 5; c.w = 5; c.kh = 1; c.kw = 1; c.groups = 2; add(c);  // grouped 1x1
  c = {};  c.batch = 2; c.in_c = 3; c.out_c = 2; c.h = 7; c.w = 6; c.kh = 1; c.kw = 1; c.sh = 2; c.sw = 2; add(c);
  c = {};  c.batch = 1; c.in_c = 2; c.out_c = 3; c.h = 4; c.w = 5; c.kh = 1; c.kw = 1; c.pads = {1, 0, 0, 2}; add(c);
  c = {};  c.batch = 2; c.in_c = 2; c.out_c = 3; c.h = 10; c.w = 9; c.dh = 2; c.dw = 2; c.pads = {2, 1, 0, 3}; add(c);
  c = {};  c.batch = 2; c.in_c = 2; c.out_c = 3; c.h = 11; c.w = 10; c.dh = 2; c.dw = 3; c.sh = 2; c.sw = 3; add(c);
  c = {};  c.batch = 2; c.in_c = 3; c.out_c = 2; c.h = 5; c.w = 5; c.kh = 5; c.kw = 5; add(c);    // 1x1 output
  c = {};  c.batch = 1; c.in_c = 2; c.out_c = 2; c.h = 5; c.w = 4; c.kh = 7; c.kw = 6; c.pads = {1, 1, 1, 1}; add(c);
  c = {};  c.batch = 2; c.in_c = 3; c.out_c = 4; c.h = 6; c.w = 8; c.kh = 1; c.kw = 3; c.pads = {0, 1, 0, 1}; add(c);
  c = {};  c.batch = 2; c.in_c = 3; c.out_c = 4; c.h = 9; c.w = 4; c.kh = 5; c.kw = 1; add(c);    // wide, no dropped columns
  c = {};  c.batch = 9; c.in_c = 2; c.out_c = 3; c.h = 6; c.w = 6; c.bias = false; add(c);        // 9 images in 8 groups
  c = {};  c.batch = 11; c.in_c = 3; c.out_c = 2; c.h = 7; c.w = 5; c.sh = 2; c.sw = 2; c.pads = {1, 1, 1, 1}; add(c);
  return cases;
}

// Seeded random geometries (always valid: padded input >= dilated kernel).
std::vector<ConvCase> random_cases(int count, uint64_t seed, int64_t max_side) {
  Rng rng(seed);
  auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng.uniform_int(static_cast<uint32_t>(hi - lo + 1))); };
  std::vector<ConvCase> cases;
  while (static_cast<int>(cases.size()) < count) {
    ConvCase c;
    const int group_kind = pick(0, 3);
    const int base_in = pick(1, 3), base_out = pick(1, 3);
    c.groups = group_kind == 0 ? 1 : group_kind == 1 ? 2 : group_kind == 2 ? 3 : 1;
    c.in_c = base_in * c.groups;
    c.out_c = base_out * c.groups;
    if (group_kind == 3) {  // depthwise
      c.in_c = pick(1, 6);
      c.groups = static_cast<int>(c.in_c);
      c.out_c = c.in_c * pick(1, 2);
    }
    c.batch = pick(1, 4);
    c.kh = pick(1, 4);
    c.kw = pick(1, 4);
    c.sh = pick(1, 3);
    c.sw = pick(1, 3);
    c.dh = pick(1, 2);
    c.dw = pick(1, 2);
    for (int& p : c.pads) p = pick(0, 2);
    c.h = pick(1, static_cast<int>(max_side));
    c.w = pick(1, static_cast<int>(max_side));
    c.bias = pick(0, 1) == 1;
    if (c.h + c.pads[0] + c.pads[2] < (c.kh - 1) * c.dh + 1) continue;
    if (c.w + c.pads[1] + c.pads[3] < (c.kw - 1) * c.dw + 1) continue;
    cases.push_back(c);
  }
  return cases;
}

TEST(Conv, ForwardMatchesReferenceOnAwkwardShapes) {
  uint64_t seed = 1;
  for (const ConvCase& c : awkward_cases()) c.test_forward(seed++);
}

TEST(Conv, ForwardMatchesReferenceOnRandomSweep) {
  uint64_t seed = 1000;
  for (const ConvCase& c : random_cases(60, 17, 13)) c.test_forward(seed++);
}

TEST(Conv, ForwardMatchesReferenceOnLeNetLayers) {
  ConvCase c1;
  c1.batch = 3; c1.in_c = 3; c1.out_c = 6; c1.h = 32; c1.w = 32; c1.kh = 5; c1.kw = 5;
  c1.test_forward(5);
  ConvCase c2;
  c2.batch = 3; c2.in_c = 6; c2.out_c = 16; c2.h = 14; c2.w = 14; c2.kh = 5; c2.kw = 5;
  c2.test_forward(6);
}

TEST(Conv, GradientsMatchCentralDifferencesOnAwkwardShapes) {
  uint64_t seed = 50;
  for (const ConvCase& c : awkward_cases()) c.test_gradients(seed++);
}

TEST(Conv, GradientsMatchCentralDifferencesOnRandomSweep) {
  uint64_t seed = 2000;
  for (const ConvCase& c : random_cases(15, 23, 8)) c.test_gradients(seed++);
}

TEST(Conv, KernelAttributeZeroMeansFromWeight) {
  ConvCase c;
  c.in_c = 2; c.out_c = 3; c.h = 6; c.w = 6;
  Node n = c.node();
  n.attrs.kernel = {0, 0};
  auto shape = infer(n, {{1, 2, 6, 6}, {3, 2, 3, 3}, {3}});
  ASSERT_TRUE(shape.is_ok()) << shape.message();
  EXPECT_EQ(*shape, (Shape{1, 3, 4, 4}));
}

TEST(Conv, HasBackward) { EXPECT_TRUE(has_backward(OpKind::Conv)); }

}  // namespace
}  // namespace pocket::test
