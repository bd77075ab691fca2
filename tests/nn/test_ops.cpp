// Relu, Clip, Add, Linear, Flatten, Reshape, Softmax, BatchNorm, Pad: forward against naive loops
// (exact where the op does no rounding), gradients by central differences.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "op_harness.hpp"

namespace pocket::test {
namespace {

std::vector<double> as_double(const Tensor& t) { return {t.data.begin(), t.data.end()}; }

// ---- Relu / Clip --------------------------------------------------------------------------------

TEST(Relu, ForwardIsExactAndGradientsMatch) {
  Rng rng(1);
  const Node n = make_node(OpKind::Relu, 1);
  for (const Shape& s : {Shape{1, 7}, Shape{3, 5, 4, 3}, Shape{2, 70000}}) {  // the last runs in parallel
    const std::vector<Tensor> in{away_from_zero(s, rng, 0.01f)};
    const Tensor out = run(n, in);
    std::vector<double> want;
    for (float v : in[0].data) want.push_back(v > 0.0f ? v : 0.0);
    EXPECT_TRUE(all_equal(out, want, "Relu " + shape_str(s)));
  }
  EXPECT_TRUE(check_gradients(n, {away_from_zero({3, 4, 5}, rng, 0.01f)}, {0}, "Relu"));
  EXPECT_TRUE(has_backward(OpKind::Relu));
}

TEST(Clip, ForwardIsExactAndGradientsMatch) {
  Rng rng(2);
  for (auto [lo, hi] : {std::pair{0.0f, 6.0f}, std::pair{-0.3f, 0.45f}, std::pair{-1e30f, 0.2f}}) {
    Attrs a;
    a.clip_min = lo;
    a.clip_max = hi;
    const Node n = make_node(OpKind::Clip, 1, a);
    // Values in [-8, 8] kept 0.01 away from both bounds (central differences need smoothness).
    Tensor x = random_tensor({3, 4, 5}, rng, -8.0f, 8.0f);
    for (float& v : x.data) {
      if (std::fabs(v - lo) < 0.01f) v = lo + 0.02f;
      if (std::fabs(v - hi) < 0.01f) v = hi - 0.02f;
    }
    const Tensor out = run(n, {x});
    std::vector<double> want;
    for (float v : x.data) want.push_back(std::min(std::max(v, lo), hi));
    EXPECT_TRUE(all_equal(out, want, "Clip"));
    EXPECT_TRUE(check_gradients(n, {x}, {0}, "Clip [" + std::to_string(lo) + ", " + std::to_string(hi) + "]"));
  }
  EXPECT_TRUE(has_backward(OpKind::Clip));
}

// ---- Add ----------------------------------------------------------------------------------------

struct AddCase {
  Shape a, b, out;
};

TEST(Add, SameShapeAndBroadcastForwardAreExact) {
  Rng rng(3);
  const Node n = make_node(OpKind::Add, 2);
  const std::vector<AddCase> cases{
      {{2, 3, 4, 5}, {2, 3, 4, 5}, {2, 3, 4, 5}},
      {{2, 3, 4, 5}, {1, 3, 1, 1}, {2, 3, 4, 5}},
      {{2, 3, 4, 5}, {3, 1, 1}, {2, 3, 4, 5}},
      {{2, 3, 4, 5}, {5}, {2, 3, 4, 5}},
      {{3, 1, 1}, {2, 3, 4, 5}, {2, 3, 4, 5}},   // broadcast on the left operand
      {{2, 1, 4, 5}, {1, 3, 1, 1}, {2, 3, 4, 5}},  // both broadcast
      {{4, 6}, {1}, {4, 6}},
  };
  for (const AddCase& c : cases) {
    const std::string what = "Add " + shape_str(c.a) + " + " + shape_str(c.b);
    const std::vector<Tensor> in{random_tensor(c.a, rng), random_tensor(c.b, rng)};
    const Tensor out = run(n, in);
    ASSERT_EQ(out.shape, c.out) << what;
    // Reference: index both operands through NumPy broadcasting.
    const size_t rank = c.out.size();
    std::vector<double> want;
    std::vector<int64_t> idx(rank, 0);
    for (int64_t i = 0; i < numel(c.out); ++i) {
      int64_t rem = i;
      for (size_t d = rank; d-- > 0;) {
        idx[d] = rem % c.out[d];
        rem /= c.out[d];
      }
      auto at = [&](const Shape& s) {
        int64_t off = 0;
        for (size_t k = 0; k < s.size(); ++k) {
          const int64_t j = s[k] == 1 ? 0 : idx[rank - s.size() + k];
          off = off * s[k] + j;
        }
        return static_cast<size_t>(off);
      };
      want.push_back(static_cast<double>(in[0].data[at(c.a)] + in[1].data[at(c.b)]));
    }
    EXPECT_TRUE(all_equal(out, want, what));
    EXPECT_TRUE(check_gradients(n, in, {0, 1}, what));
  }
  EXPECT_TRUE(has_backward(OpKind::Add));
}

// ---- Linear -------------------------------------------------------------------------------------

TEST(Linear, ForwardMatchesReferenceAndGradientsMatch) {
  Rng rng(4);
  struct Case {
    int64_t batch, in, out;
    bool bias;
  };
  for (const Case& c : {Case{1, 7, 3, true}, Case{5, 13, 9, false}, Case{70, 17, 5, true}, Case{130, 4, 2, true}}) {
    const std::string what = "Linear N" + std::to_string(c.batch) + " " + std::to_string(c.in) + "->" +
                             std::to_string(c.out) + (c.bias ? " +bias" : "");
    const Node n = make_node(OpKind::Linear, c.bias ? 3 : 2);
    std::vector<Tensor> in{random_tensor({c.batch, c.in}, rng), random_tensor({c.out, c.in}, rng)};
    if (c.bias) in.push_back(random_tensor({c.out}, rng));
    const Tensor y = run(n, in);
    ASSERT_EQ(y.shape, (Shape{c.batch, c.out})) << what;
    std::vector<double> want, tol;
    for (int64_t b = 0; b < c.batch; ++b) {
      for (int64_t o = 0; o < c.out; ++o) {
        double sum = c.bias ? in[2].data[static_cast<size_t>(o)] : 0.0, mag = std::fabs(sum);
        for (int64_t i = 0; i < c.in; ++i) {
          const double t = static_cast<double>(in[0].data[static_cast<size_t>(b * c.in + i)]) *
                           in[1].data[static_cast<size_t>(o * c.in + i)];
          sum += t;
          mag += std::fabs(t);
        }
        want.push_back(sum);
        tol.push_back(1e-5 * (1.0 + mag));
      }
    }
    EXPECT_TRUE(all_close(y, want, tol, what));
    std::vector<size_t> which{0, 1};
    if (c.bias) which.push_back(2);
    EXPECT_TRUE(check_gradients(n, in, which, what));
  }
  EXPECT_TRUE(has_backward(OpKind::Linear));
}

// ---- Flatten / Reshape --------------------------------------------------------------------------

TEST(Flatten, KeepsBatchAndData) {
  Rng rng(5);
  Attrs a;
  a.axis = 1;
  const Node n = make_node(OpKind::Flatten, 1, a);
  const std::vector<Tensor> in{random_tensor({3, 4, 2, 5}, rng)};
  const Tensor out = run(n, in);
  EXPECT_EQ(out.shape, (Shape{3, 40}));
  EXPECT_TRUE(all_equal(out, as_double(in[0]), "Flatten"));
  EXPECT_TRUE(check_gradients(n, in, {0}, "Flatten"));
  // axis 2 is allowed when the dims it folds into the batch are 1; axis -1 counts from the end.
  a.axis = 2;
  auto s = infer(make_node(OpKind::Flatten, 1, a), {{3, 1, 2, 5}});
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(*s, (Shape{3, 10}));
  a.axis = -3;
  s = infer(make_node(OpKind::Flatten, 1, a), {{3, 4, 2, 5}});
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(*s, (Shape{3, 40}));
  EXPECT_TRUE(has_backward(OpKind::Flatten));
}

TEST(Reshape, OnnxSemanticsWithTheBatchKept) {
  struct Case {
    Shape in;
    std::vector<int64_t> target;
    Shape want;
  };
  for (const Case& c : {Case{{2, 16, 5, 5}, {0, -1}, {2, 400}}, Case{{2, 16, 5, 5}, {-1, 400}, {2, 400}},
                        Case{{2, 16, 5, 5}, {1, 400}, {2, 400}},  // a batch-1 literal keeps the batch
                        Case{{2, 16, 5, 5}, {0, 0, 25}, {2, 16, 25}}, Case{{3, 12}, {0, 3, -1, 2}, {3, 3, 2, 2}},
                        Case{{3, 12}, {3, 2, 6}, {3, 2, 6}}}) {
    Attrs a;
    a.target_shape = c.target;
    const Node n = make_node(OpKind::Reshape, 1, a);
    Rng rng(6);
    const std::vector<Tensor> in{random_tensor(c.in, rng)};
    const Tensor out = run(n, in);
    EXPECT_EQ(out.shape, c.want) << shape_str(c.in) << " -> " << shape_str(c.target);
    EXPECT_TRUE(all_equal(out, as_double(in[0]), "Reshape"));
    EXPECT_TRUE(check_gradients(n, in, {0}, "Reshape"));
  }
  EXPECT_TRUE(has_backward(OpKind::Reshape));
}

// ---- Softmax ------------------------------------------------------------------------------------

TEST(Softmax, ForwardMatchesReferenceAndGradientsMatch) {
  Rng rng(7);
  struct Case {
    Shape shape;
    int axis;
  };
  for (const Case& c : {Case{{4, 10}, -1}, Case{{4, 10}, 1}, Case{{2, 3, 4, 5}, 1}, Case{{2, 3, 4}, 2}}) {
    const std::string what = "Softmax " + shape_str(c.shape) + " axis " + std::to_string(c.axis);
    Attrs a;
    a.axis = c.axis;
    const Node n = make_node(OpKind::Softmax, 1, a);
    const std::vector<Tensor> in{random_tensor(c.shape, rng, -4.0f, 4.0f)};
    const Tensor out = run(n, in);
    const size_t axis = static_cast<size_t>(c.axis < 0 ? c.axis + static_cast<int>(c.shape.size()) : c.axis);
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < axis; ++d) outer *= c.shape[d];
    for (size_t d = axis + 1; d < c.shape.size(); ++d) inner *= c.shape[d];
    const int64_t len = c.shape[axis];
    std::vector<double> want(static_cast<size_t>(numel(c.shape))), tol(want.size(), 1e-6);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        double sum = 0.0;
        for (int64_t k = 0; k < len; ++k) sum += std::exp(static_cast<double>(in[0].data[static_cast<size_t>((o * len + k) * inner + i)]));
        for (int64_t k = 0; k < len; ++k) {
          const auto at = static_cast<size_t>((o * len + k) * inner + i);
          want[at] = std::exp(static_cast<double>(in[0].data[at])) / sum;
        }
      }
    }
    EXPECT_TRUE(all_close(out, want, tol, what));
    EXPECT_TRUE(check_gradients(n, in, {0}, what));
  }
  // Stable for large logits.
  const Node n = make_node(OpKind::Softmax, 1, Attrs{});
  const Tensor big({1, 3}, std::vector<float>{1000.0f, 999.0f, -1000.0f});
  const Tensor out = run(n, {big});
  EXPECT_NEAR(out.data[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(out.data[1], std::exp(-1.0) / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_EQ(out.data[2], 0.0f);
  EXPECT_TRUE(has_backward(OpKind::Softmax));
}

// ---- BatchNorm ----------------------------------------------------------------------------------

TEST(BatchNorm, InferenceFormMatchesReference) {
  Rng rng(8);
  Attrs a;
  a.epsilon = 1e-3f;
  const Node n = make_node(OpKind::BatchNorm, 5, a);
  for (const Shape& s : {Shape{2, 3, 4, 5}, Shape{3, 4}}) {
    const int64_t c = s[1];
    const std::vector<Tensor> in{random_tensor(s, rng), random_tensor({c}, rng, 0.5f, 2.0f), random_tensor({c}, rng),
                                 random_tensor({c}, rng), random_tensor({c}, rng, 0.1f, 3.0f)};
    const Tensor out = run(n, in);
    const int64_t plane = numel(s) / (s[0] * c);
    std::vector<double> want, tol;
    for (int64_t i = 0; i < numel(s); ++i) {
      const auto ch = static_cast<size_t>((i / plane) % c);
      const double v = (in[0].data[static_cast<size_t>(i)] - static_cast<double>(in[3].data[ch])) /
                           std::sqrt(static_cast<double>(in[4].data[ch]) + 1e-3) * in[1].data[ch] +
                       in[2].data[ch];
      want.push_back(v);
      tol.push_back(1e-5 * (1.0 + std::fabs(v)));
    }
    EXPECT_TRUE(all_close(out, want, tol, "BatchNorm " + shape_str(s)));
  }
  EXPECT_FALSE(has_backward(OpKind::BatchNorm));
}

// ---- Pad ----------------------------------------------------------------------------------------

TEST(Pad, ConstantModeIsExactAndGradientsMatch) {
  Rng rng(9);
  struct Case {
    Shape in;
    std::vector<int64_t> pads;
  };
  for (const Case& c : {Case{{2, 3, 4, 5}, {0, 0, 1, 2, 0, 0, 3, 1}}, Case{{2, 3, 4, 5}, {0, 1, 0, 0, 0, 2, 0, 0}},
                        Case{{3, 7}, {0, 2, 0, 0}}, Case{{1, 2, 3}, {0, 0, 0, 0, 0, 0}}}) {
    Attrs a;
    a.pad_amounts = c.pads;
    a.pad_value = -2.5f;
    const Node n = make_node(OpKind::Pad, 1, a);
    const std::vector<Tensor> in{random_tensor(c.in, rng)};
    const Tensor out = run(n, in);
    const size_t rank = c.in.size();
    Shape want_shape = c.in;
    for (size_t d = 0; d < rank; ++d) want_shape[d] += c.pads[d] + c.pads[rank + d];
    ASSERT_EQ(out.shape, want_shape);
    std::vector<double> want;
    std::vector<int64_t> idx(rank);
    for (int64_t i = 0; i < numel(want_shape); ++i) {
      int64_t rem = i;
      for (size_t d = rank; d-- > 0;) {
        idx[d] = rem % want_shape[d];
        rem /= want_shape[d];
      }
      bool inside = true;
      int64_t off = 0;
      for (size_t d = 0; d < rank; ++d) {
        const int64_t j = idx[d] - c.pads[d];
        inside = inside && j >= 0 && j < c.in[d];
        off = off * c.in[d] + j;
      }
      want.push_back(inside ? in[0].data[static_cast<size_t>(off)] : -2.5);
    }
    EXPECT_TRUE(all_equal(out, want, "Pad " + shape_str(c.in)));
    EXPECT_TRUE(check_gradients(n, in, {0}, "Pad " + shape_str(c.in)));
  }
  EXPECT_TRUE(has_backward(OpKind::Pad));
}

}  // namespace
}  // namespace pocket::test
