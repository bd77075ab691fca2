// compile() refuses what the integer engine cannot run, at compile time, with an error that names
// the node and its op (and says what to do where there is something to do).
#include <gtest/gtest.h>

#include <climits>

#include "engine_test_util.hpp"
#include "pocket/models.hpp"

namespace pocket::engine_test {
namespace {

// A small valid model: conv(+relu) -> flatten -> fc, quantized by hand.
QModel small_model() {
  QModel m;
  Graph& g = m.graph;
  int x = g.add_input("input", {1, 3, 6, 6});
  Attrs a;
  a.kernel = {3, 3};
  x = g.add_node(OpKind::Conv, "conv", {x, g.add_param("w", Tensor({4, 3, 3, 3})), g.add_param("b", Tensor({4}))}, a);
  x = g.add_node(OpKind::Relu, "relu", {x});
  x = g.add_node(OpKind::Flatten, "flat", {x});
  g.add_node(OpKind::Linear, "fc", {x, g.add_param("fw", Tensor({5, 64}))});
  EXPECT_TRUE(infer_shapes(g));
  m.activations["input"] = act(0.02, 3);
  m.activations["relu"] = act(0.05, -128);
  m.activations["fc"] = act(0.1, 0);
  set_weights(m, "w", random_int8(108, -127, 127, 1), {0.01, 0.02, 0.01, 0.03});
  set_bias(m, "b", {10, -20, 30, 0}, 0.02, {0.01, 0.02, 0.01, 0.03});
  set_weights(m, "fw", random_int8(320, -127, 127, 2), {0.01});
  return m;
}

std::string compile_error(const QModel& m) {
  auto plan = engine::compile(m);
  EXPECT_FALSE(plan) << "expected compile() to fail";
  return plan ? std::string() : plan.message();
}

#define EXPECT_MENTIONS(text, what) EXPECT_NE((text).find(what), std::string::npos) << "message: " << (text)

}  // namespace

TEST(CompileErrors, TheValidModelCompiles) {
  const QModel m = small_model();
  auto plan = engine::compile(m);
  ASSERT_TRUE(plan) << plan.message();
  EXPECT_EQ(plan->layers().size(), 2u);
}

TEST(CompileErrors, SixteenBitActivations) {
  QModel m = small_model();
  m.activations["relu"] = act(0.05, 0, 16);
  const std::string e = compile_error(m);
  EXPECT_MENTIONS(e, "node 'conv' (Conv)");
  EXPECT_MENTIONS(e, "16 bits");
  EXPECT_MENTIONS(e, "--act-bits 8");
}

TEST(CompileErrors, WeightsWiderThanEightBits) {
  QModel m = small_model();
  m.weights["fw"].bits = 16;
  const std::string e = compile_error(m);
  EXPECT_MENTIONS(e, "node 'fc' (Linear)");
  EXPECT_MENTIONS(e, "16 bits");
}

TEST(CompileErrors, WeightOnlyModel) {
  QModel m = small_model();
  m.config.weight_only = true;
  EXPECT_MENTIONS(compile_error(m), "weight-only");
}

TEST(CompileErrors, MissingActivationQuantization) {
  QModel m = small_model();
  m.activations.erase("fc");
  const std::string e = compile_error(m);
  EXPECT_MENTIONS(e, "node 'fc' (Linear)");
  EXPECT_MENTIONS(e, "no quantization parameters");
}

TEST(CompileErrors, NonPositiveScaleAndZeroPointOutOfRange) {
  QModel m = small_model();
  m.activations["relu"].scale = {0.0};
  EXPECT_MENTIONS(compile_error(m), "scale");
  m = small_model();
  m.activations["input"].zero_point = {200};
  const std::string e = compile_error(m);
  EXPECT_MENTIONS(e, "zero point 200");
  m = small_model();
  m.weights["w"].scale[2] = -0.5;
  EXPECT_MENTIONS(compile_error(m), "node 'conv' (Conv): weight 'w' channel 2");
}

TEST(CompileErrors, AccumulatorOverflowForTheFanIn) {
  // A bias near INT32_MAX leaves no room for the 27 products: pocket_conv2d_s8_check refuses.
  QModel m = small_model();
  m.qbiases["b"][1] = INT32_MAX - 1000;
  const std::string e = compile_error(m);
  EXPECT_MENTIONS(e, "node 'conv' (Conv)");
  EXPECT_MENTIONS(e, "accumulator");
  EXPECT_MENTIONS(e, "fan-in 27");
}

TEST(CompileErrors, ReshapeThatIsNotAFlatten) {
  QModel m;
  Graph& g = m.graph;
  int x = g.add_input("input", {1, 4, 6, 6});
  Attrs r;
  r.target_shape = {1, 4, 36};
  x = g.add_node(OpKind::Reshape, "reshape", {x}, r);
  g.add_node(OpKind::Relu, "relu", {x});
  ASSERT_TRUE(infer_shapes(g));
  m.activations["input"] = act(0.1, 0);
  const std::string e = compile_error(m);
  EXPECT_MENTIONS(e, "node 'reshape' (Reshape)");
  EXPECT_MENTIONS(e, "not a flatten");
}

TEST(CompileErrors, AveragePoolCountingPadding) {
  QModel m;
  Graph& g = m.graph;
  int x = g.add_input("input", {1, 4, 6, 6});
  Attrs p;
  p.kernel = {3, 3};
  p.pads = {1, 1, 1, 1};
  p.count_include_pad = true;
  g.add_node(OpKind::AveragePool, "avg", {x}, p);
  ASSERT_TRUE(infer_shapes(g));
  m.activations["input"] = act(0.1, 0);
  const std::string e = compile_error(m);
  EXPECT_MENTIONS(e, "node 'avg' (AveragePool)");
  EXPECT_MENTIONS(e, "count_include_pad");
  // Without padding, counting padding changes nothing: it compiles.
  m.graph.nodes[0].attrs.pads = {0, 0, 0, 0};
  ASSERT_TRUE(infer_shapes(m.graph));
  EXPECT_TRUE(engine::compile(m));
}

TEST(CompileErrors, DilatedConv) {
  QModel m = small_model();
  m.graph.nodes[0].attrs.dilation = {2, 2};
  m.graph.nodes[0].attrs.pads = {1, 1, 1, 1};
  ASSERT_TRUE(infer_shapes(m.graph));
  const std::string e = compile_error(m);
  EXPECT_MENTIONS(e, "node 'conv' (Conv)");
  EXPECT_MENTIONS(e, "dilation");
}

TEST(CompileErrors, SoftmaxOutputNotAtTheKernelsScale) {
  QModel m;
  Graph& g = m.graph;
  int x = g.add_input("input", {1, 10});
  g.add_node(OpKind::Softmax, "prob", {x});
  ASSERT_TRUE(infer_shapes(g));
  m.activations["input"] = act(0.1, 0);
  m.activations["prob"] = act(1.0 / 127, 0, 8, true);  // symmetric
  const std::string e = compile_error(m);
  EXPECT_MENTIONS(e, "node 'prob' (Softmax)");
  EXPECT_MENTIONS(e, "1/256");
  m.activations["prob"] = act(1.0 / 256, -128);
  EXPECT_TRUE(engine::compile(m));
}

TEST(CompileErrors, AddOfAConstantAndUnfoldedBatchNorm) {
  QModel m;
  Graph& g = m.graph;
  int x = g.add_input("input", {1, 8});
  g.add_node(OpKind::Add, "add_const", {x, g.add_param("c", Tensor({1, 8}, 1.0f))});
  ASSERT_TRUE(infer_shapes(g));
  m.activations["input"] = act(0.1, 0);
  m.activations["add_const"] = act(0.1, 0);
  std::string e = compile_error(m);
  EXPECT_MENTIONS(e, "node 'add_const' (Add)");
  EXPECT_MENTIONS(e, "constant");

  QModel b;
  Graph& h = b.graph;
  int y = h.add_input("input", {1, 2, 4, 4});
  y = h.add_node(OpKind::Relu, "relu", {y});
  h.add_node(OpKind::BatchNorm, "bn", {y, h.add_param("s", Tensor({2}, 1.0f)), h.add_param("o", Tensor({2})),
                                       h.add_param("mu", Tensor({2})), h.add_param("var", Tensor({2}, 1.0f))});
  ASSERT_TRUE(infer_shapes(h));
  b.activations["input"] = act(0.1, 0);
  e = compile_error(b);
  EXPECT_MENTIONS(e, "node 'bn' (BatchNormalization)");
}

TEST(CompileErrors, DisjointFusedActivations) {
  // Relu then Clip(-5, -1): the output would be the constant -1, not a clamp of the intersection.
  QModel m = small_model();
  Graph& g = m.graph;
  Attrs c;
  c.clip_min = -5.0f;
  c.clip_max = -1.0f;
  // Insert the Clip between relu and flatten.
  const int relu_out = g.find_value("relu");
  const int clip_out = g.add_activation("clip");
  g.nodes.insert(g.nodes.begin() + 2, Node{OpKind::Clip, "clip", {relu_out}, clip_out, c});
  g.nodes[3].inputs[0] = clip_out;
  ASSERT_TRUE(infer_shapes(g));
  m.activations.erase("relu");
  m.activations["clip"] = act(0.05, 0);
  const std::string e = compile_error(m);
  EXPECT_MENTIONS(e, "node 'clip' (Clip)");
  EXPECT_MENTIONS(e, "overlap");
}

}  // namespace pocket::engine_test
