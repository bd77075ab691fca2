// Shape inference: every error names the node and its op ("node '<name>' (<Op>): ...") and the
// offending shapes.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "op_harness.hpp"
#include "pocket/graph.hpp"

namespace pocket::test {
namespace {

::testing::AssertionResult fails_with(const Result<Shape>& r, const std::string& prefix,
                                      std::initializer_list<std::string> parts) {
  if (r.is_ok()) return ::testing::AssertionFailure() << "expected an error, got shape " << shape_str(*r);
  const std::string& m = r.message();
  if (m.rfind(prefix, 0) != 0) return ::testing::AssertionFailure() << "message does not start with '" << prefix << "': " << m;
  for (const std::string& p : parts) {
    if (m.find(p) == std::string::npos) return ::testing::AssertionFailure() << "message lacks '" << p << "': " << m;
  }
  return ::testing::AssertionSuccess() << m;
}

Attrs conv_attrs(int k) {
  Attrs a;
  a.kernel = {k, k};
  return a;
}

TEST(ShapeErrors, ConvWeightChannelsThroughInferShapes) {
  Graph g;
  const int x = g.add_input("input", {1, 3, 8, 8});
  const int w = g.add_param("conv1.weight", Tensor({4, 2, 3, 3}));
  g.add_node(OpKind::Conv, "conv1", {x, w}, conv_attrs(3));
  const Status st = infer_shapes(g);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.message().rfind("node 'conv1' (Conv): ", 0), 0u) << st.message();
  EXPECT_NE(st.message().find("[4, 2, 3, 3]"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("[1, 3, 8, 8]"), std::string::npos) << st.message();
}

TEST(ShapeErrors, Conv) {
  const Node conv = make_node(OpKind::Conv, 3, conv_attrs(5), "conv2");
  const std::string p = "node 'conv2' (Conv): ";
  // Kernel larger than the (padded) input.
  EXPECT_TRUE(fails_with(infer(conv, {{1, 3, 4, 4}, {2, 3, 5, 5}, {2}}), p, {"[2, 3, 5, 5]", "[1, 3, 4, 4]", "larger"}));
  Node padded = conv;
  padded.attrs.pads = {1, 0, 0, 0};
  EXPECT_TRUE(fails_with(infer(padded, {{1, 3, 3, 6}, {2, 3, 5, 5}, {2}}), p, {"[1, 3, 3, 6]", "larger", "4x6"}));
  auto fits = infer(padded, {{1, 3, 4, 6}, {2, 3, 5, 5}, {2}});  // the top pad makes it fit exactly
  ASSERT_TRUE(fits.is_ok()) << fits.message();
  EXPECT_EQ(*fits, (Shape{1, 2, 1, 2}));
  Node dilated = make_node(OpKind::Conv, 2, conv_attrs(3), "conv2");
  dilated.attrs.dilation = {3, 3};
  EXPECT_TRUE(fails_with(infer(dilated, {{1, 1, 6, 6}, {1, 1, 3, 3}}), p, {"[1, 1, 6, 6]", "extent 7x7"}));
  // Weight channels vs input channels / groups.
  EXPECT_TRUE(fails_with(infer(conv, {{1, 6, 9, 9}, {16, 5, 5, 5}, {16}}), p, {"[16, 5, 5, 5]", "[1, 6, 9, 9]"}));
  Node grouped = conv;
  grouped.attrs.groups = 4;
  EXPECT_TRUE(fails_with(infer(grouped, {{1, 6, 9, 9}, {8, 2, 5, 5}, {8}}), p, {"[1, 6, 9, 9]", "groups 4"}));
  EXPECT_TRUE(fails_with(infer(grouped, {{1, 8, 9, 9}, {6, 2, 5, 5}, {6}}), p, {"[6, 2, 5, 5]", "groups 4"}));
  // Bias, kernel attribute, ranks, arity, strides, pads.
  EXPECT_TRUE(fails_with(infer(conv, {{1, 3, 9, 9}, {4, 3, 5, 5}, {3}}), p, {"bias [3]", "[4, 3, 5, 5]"}));
  EXPECT_TRUE(fails_with(infer(conv, {{1, 3, 9, 9}, {4, 3, 3, 3}, {4}}), p, {"5x5", "[4, 3, 3, 3]"}));
  EXPECT_TRUE(fails_with(infer(conv, {{3, 9, 9}, {4, 3, 5, 5}, {4}}), p, {"[3, 9, 9]"}));
  EXPECT_TRUE(fails_with(infer(conv, {{1, 3, 9, 9}}), p, {"2 or 3 inputs, got 1"}));
  Node strided = conv;
  strided.attrs.stride = {0, 1};
  EXPECT_TRUE(fails_with(infer(strided, {{1, 3, 9, 9}, {4, 3, 5, 5}, {4}}), p, {"strides {0, 1}"}));
  Node negative = conv;
  negative.attrs.pads = {0, -1, 0, 0};
  EXPECT_TRUE(fails_with(infer(negative, {{1, 3, 9, 9}, {4, 3, 5, 5}, {4}}), p, {"pads {0, -1, 0, 0}"}));
}

TEST(ShapeErrors, Pools) {
  Attrs a;
  a.kernel = {3, 3};
  a.stride = {2, 2};
  const Node pool = make_node(OpKind::MaxPool, 1, a, "pool1");
  EXPECT_TRUE(fails_with(infer(pool, {{1, 6, 2, 2}}), "node 'pool1' (MaxPool): ", {"[1, 6, 2, 2]", "larger"}));
  Node pads = make_node(OpKind::AveragePool, 1, a, "pool2");
  pads.attrs.pads = {3, 0, 0, 0};  // the first output row sees only padding
  EXPECT_TRUE(fails_with(infer(pads, {{1, 2, 5, 5}}), "node 'pool2' (AveragePool): ", {"only padding", "[1, 2, 5, 5]"}));
  Node no_kernel = make_node(OpKind::MaxPool, 1, Attrs{}, "pool3");
  EXPECT_TRUE(fails_with(infer(no_kernel, {{1, 2, 5, 5}}), "node 'pool3' (MaxPool): ", {"kernel 0x0"}));
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::GlobalAveragePool, 1, Attrs{}, "gap"), {{1, 8}}),
                         "node 'gap' (GlobalAveragePool): ", {"[1, 8]"}));
}

TEST(ShapeErrors, LinearInFeaturesThroughInferShapes) {
  Graph g;
  const int x = g.add_input("input", {1, 16, 5, 5});
  const int f = g.add_node(OpKind::Flatten, "flatten", {x});
  const int w = g.add_param("fc1.weight", Tensor({120, 399}));
  g.add_node(OpKind::Linear, "fc1", {f, w});
  const Status st = infer_shapes(g);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.message().rfind("node 'fc1' (Linear): ", 0), 0u) << st.message();
  EXPECT_NE(st.message().find("[120, 399]"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("[1, 400]"), std::string::npos) << st.message();
}

TEST(ShapeErrors, Linear) {
  const Node fc = make_node(OpKind::Linear, 3, Attrs{}, "fc2");
  const std::string p = "node 'fc2' (Linear): ";
  EXPECT_TRUE(fails_with(infer(fc, {{4, 120}, {84, 121}, {84}}), p, {"[84, 121]", "[4, 120]"}));
  EXPECT_TRUE(fails_with(infer(fc, {{4, 120}, {84, 120}, {120}}), p, {"bias [120]", "[84, 120]"}));
  EXPECT_TRUE(fails_with(infer(fc, {{1, 16, 5, 5}, {84, 400}, {84}}), p, {"[1, 16, 5, 5]", "Flatten"}));
}

TEST(ShapeErrors, Reshape) {
  Attrs a;
  const std::string p = "node 'reshape' (Reshape): ";
  a.target_shape = {0, 7};
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Reshape, 1, a, "reshape"), {{1, 16, 5, 5}}), p, {"[0, 7]", "[1, 16, 5, 5]", "400"}));
  a.target_shape = {0, -1, -1};
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Reshape, 1, a, "reshape"), {{1, 16, 5, 5}}), p, {"more than one -1"}));
  a.target_shape = {2, -1};  // would change the batch
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Reshape, 1, a, "reshape"), {{1, 16, 5, 5}}), p, {"[2, -1]", "batch"}));
  a.target_shape = {-1, 16, 25, 2};  // the -1 batch would have to shrink
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Reshape, 1, a, "reshape"), {{1, 16, 5, 5}}), p, {"batch"}));
  a.target_shape = {0, 0, 0, 0, 0};
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Reshape, 1, a, "reshape"), {{1, 16, 5, 5}}), p, {"0 at dim 4"}));
  a.target_shape = {0, -3};
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Reshape, 1, a, "reshape"), {{1, 16, 5, 5}}), p, {">= -1"}));
  a.target_shape = {0, -1, 3};
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Reshape, 1, a, "reshape"), {{1, 16, 5, 5}}), p, {"not a multiple of 3"}));
}

TEST(ShapeErrors, OtherOps) {
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Add, 2, Attrs{}, "add1"), {{1, 4, 5, 5}, {1, 3, 5, 5}}),
                         "node 'add1' (Add): ", {"[1, 4, 5, 5]", "[1, 3, 5, 5]"}));
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Add, 2, Attrs{}, "add1"), {{1, 4, 5, 5}}), "node 'add1' (Add): ",
                         {"expects 2 inputs, got 1"}));
  Attrs clip;
  clip.clip_min = 2.0f;
  clip.clip_max = 1.0f;
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Clip, 1, clip, "clip"), {{1, 4}}), "node 'clip' (Clip): ", {"min", "max"}));
  Attrs flat;
  flat.axis = 2;
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Flatten, 1, flat, "flat"), {{1, 3, 4, 4}}), "node 'flat' (Flatten): ",
                         {"[1, 3, 4, 4]", "batch"}));
  flat.axis = 0;
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Flatten, 1, flat, "flat"), {{1, 3, 4, 4}}), "node 'flat' (Flatten): ", {"batch"}));
  flat.axis = 5;
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Flatten, 1, flat, "flat"), {{1, 3, 4, 4}}), "node 'flat' (Flatten): ",
                         {"out of range"}));
  Attrs sm;
  sm.axis = 0;
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Softmax, 1, sm, "sm"), {{2, 10}}), "node 'sm' (Softmax): ", {"batch"}));
  sm.axis = 2;
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Softmax, 1, sm, "sm"), {{2, 10}}), "node 'sm' (Softmax): ", {"out of range"}));
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::BatchNorm, 5, Attrs{}, "bn"), {{1, 4, 3, 3}, {4}, {4}, {3}, {4}}),
                         "node 'bn' (BatchNormalization): ", {"mean [3]", "[1, 4, 3, 3]"}));
  Attrs pad;
  const std::string pp = "node 'pad' (Pad): ";
  pad.pad_amounts = {0, 0, 1, 1, 0, 0, -1, 1};
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Pad, 1, pad, "pad"), {{1, 3, 4, 4}}), pp, {"negative", "[1, 3, 4, 4]"}));
  pad.pad_amounts = {0, 0, 1, 1};
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Pad, 1, pad, "pad"), {{1, 3, 4, 4}}), pp, {"8 values"}));
  pad.pad_amounts = {1, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_TRUE(fails_with(infer(make_node(OpKind::Pad, 1, pad, "pad"), {{1, 3, 4, 4}}), pp, {"batch"}));
}

}  // namespace
}  // namespace pocket::test
