// Layout conversion and layer semantics, compared EXACTLY: models whose scales are powers of two
// and whose weights, biases and inputs are integers make the fake-quantized float graph exact, so
// the integer engine (NHWC activations, OHWI weights, permuted Linear columns) must reproduce it
// bit for bit. A wrong transpose, a wrong permutation or a wrong zero point changes the numbers.
#include <gtest/gtest.h>

#include <map>

#include "engine_test_util.hpp"

namespace pocket::engine_test {
namespace {

using engine::Plan;

// Fills every Conv/Linear of m.graph with random integer weights (per-channel power-of-two scales)
// and integer biases, consistent with the activations already set in m.activations.
void fill_weights(QModel& m, uint64_t seed, int weight_max = 5) {
  Rng rng(seed);
  const double pow2[] = {0.25, 0.5, 1.0, 2.0};
  for (const Node& n : m.graph.nodes) {
    if (n.kind != OpKind::Conv && n.kind != OpKind::Linear) continue;
    const Value& wv = m.graph.values[static_cast<size_t>(n.inputs[1])];
    const int64_t out_c = wv.shape[0];
    std::vector<double> scale(static_cast<size_t>(out_c));
    for (double& s : scale) s = pow2[rng.uniform_int(4)];
    set_weights(m, wv.name,
                random_int8(static_cast<size_t>(wv.init.numel()), -weight_max, weight_max, seed * 31 + 7), scale);
    if (n.inputs.size() > 2) {
      const double s_in = m.activation_quant(n.inputs[0])->scale[0];
      std::vector<int32_t> qb(static_cast<size_t>(out_c));
      for (int32_t& b : qb) b = static_cast<int32_t>(rng.uniform_int(401)) - 200;
      set_bias(m, m.graph.values[static_cast<size_t>(n.inputs[2])].name, qb, s_in, scale);
    }
  }
}

// Random int8 input values (as reals: (q - zp) * scale).
std::vector<float> random_input(const QModel& m, uint64_t seed) {
  const TensorQuant& q = *m.activation_quant(m.graph.input);
  const std::vector<int8_t> v = random_int8(static_cast<size_t>(numel(m.graph.input_shape())), -128, 127, seed);
  std::vector<float> x(v.size());
  for (size_t i = 0; i < v.size(); ++i) x[i] = static_cast<float>((v[i] - q.zero_point[0]) * q.scale[0]);
  return x;
}

std::vector<int32_t> run_fake(const QModel& m, const std::vector<float>& x) {
  const FakeQuant fq = make_fake_quant(m);
  Executor e(fq.graph);
  e.set_output_hook(fq.hook);
  auto out = e.run(Tensor(m.graph.input_shape(), x));
  EXPECT_TRUE(out) << out.message();
  return quantize_reference(**out, *m.activation_quant(m.graph.output));
}

// Compiles, runs a few random inputs and expects exact equality with the fake-quantized graph.
void expect_exact(QModel& m, uint64_t seed) {
  ASSERT_TRUE(infer_shapes(m.graph));
  fill_weights(m, seed);
  auto plan = engine::compile(m);
  ASSERT_TRUE(plan) << plan.message();
  for (uint64_t s = 0; s < 3; ++s) {
    const std::vector<float> x = random_input(m, seed * 100 + s);
    const std::vector<int32_t> want = run_fake(m, x);
    const std::vector<int32_t> got = run_engine(*plan, x);
    ASSERT_EQ(got.size(), want.size());
    int64_t diff = 0, saturated = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      diff += got[i] != want[i] ? 1 : 0;
      saturated += (want[i] == 127 || want[i] == -128) ? 1 : 0;
    }
    EXPECT_EQ(diff, 0) << "input " << s << ": " << diff << " of " << got.size() << " outputs differ\n" << plan->describe();
    EXPECT_LT(saturated, static_cast<int64_t>(got.size()) / 2) << "the test would be weak: mostly saturated";
  }
}

struct ConvCase {
  int64_t channels, height, width, out_channels, kernel_h, kernel_w;
  int stride_h, stride_w;
  std::array<int, 4> pads;
  int groups;
  int32_t input_zero_point, output_zero_point;
  bool bias, relu, pool;
};

QModel conv_model(const ConvCase& c) {
  QModel m;
  Graph& g = m.graph;
  int x = g.add_input("input", {1, c.channels, c.height, c.width});
  Attrs a;
  a.kernel = {static_cast<int>(c.kernel_h), static_cast<int>(c.kernel_w)};
  a.stride = {c.stride_h, c.stride_w};
  a.pads = c.pads;
  a.groups = c.groups;
  std::vector<int> ins = {x, g.add_param("w", Tensor({c.out_channels, c.channels / c.groups, c.kernel_h, c.kernel_w}))};
  if (c.bias) ins.push_back(g.add_param("b", Tensor({c.out_channels})));
  x = g.add_node(OpKind::Conv, "conv", ins, a);
  if (c.relu) x = g.add_node(OpKind::Relu, "relu", {x});
  if (c.pool) {
    Attrs p;
    p.kernel = {2, 2};
    p.stride = {2, 2};
    x = g.add_node(OpKind::MaxPool, "pool", {x}, p);
  }
  m.activations["input"] = act(1.0, c.input_zero_point);
  m.activations[g.values[static_cast<size_t>(x)].name] = act(8.0, c.output_zero_point);
  return m;
}

}  // namespace

TEST(Layout, ConvNhwcOhwiEqualsTheFloatConvExactly) {
  const ConvCase cases[] = {
      // C  H  W  O kh kw sh sw  pads(t,l,b,r)  groups zp_in zp_out bias relu pool
      {3, 8, 8, 4, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 0, 0, true, false, false},
      {5, 9, 7, 6, 3, 2, 2, 1, {0, 1, 2, 0}, 1, 3, -5, true, false, false},   // odd sizes, asymmetric pads
      {3, 11, 10, 7, 5, 5, 1, 2, {2, 2, 2, 2}, 1, -7, 10, false, true, false}, // no bias, ReLU
      {4, 8, 8, 8, 3, 3, 1, 1, {1, 1, 1, 1}, 4, 0, -128, true, true, true},    // depthwise x2, ReLU, pool
      {6, 7, 9, 4, 1, 3, 1, 1, {0, 1, 0, 1}, 2, 12, 0, true, false, true},     // grouped, 1x3
      {3, 32, 32, 6, 5, 5, 1, 1, {0, 0, 0, 0}, 1, -1, -128, true, true, true}, // LeNet's conv1
  };
  uint64_t seed = 1;
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(testing::Message() << "case " << seed << ": C" << c.channels << " " << c.height << "x" << c.width
                                    << " -> O" << c.out_channels << " k" << c.kernel_h << "x" << c.kernel_w << " s"
                                    << c.stride_h << "x" << c.stride_w << " groups " << c.groups);
    QModel m = conv_model(c);
    expect_exact(m, seed++);
  }
}

TEST(Layout, LinearAfterFlattenOfNhwcGetsPermutedColumns) {
  // conv -> flatten -> fc: the engine stores the conv output NHWC, so fc's columns must be permuted
  // from (c, y, x) to (y, x, c). With 4 channels on 3x5 a wrong order cannot go unnoticed.
  for (const OpKind flat : {OpKind::Flatten, OpKind::Reshape}) {
    QModel m;
    Graph& g = m.graph;
    int x = g.add_input("input", {1, 3, 5, 7});
    Attrs a;
    a.kernel = {3, 3};
    x = g.add_node(OpKind::Conv, "conv", {x, g.add_param("w", Tensor({4, 3, 3, 3})), g.add_param("b", Tensor({4}))}, a);
    Attrs f;
    f.target_shape = {0, -1};
    x = g.add_node(flat, "flat", {x}, f);
    x = g.add_node(OpKind::Linear, "fc", {x, g.add_param("fw", Tensor({7, 60})), g.add_param("fb", Tensor({7}))});
    m.activations["input"] = act(1.0, 2);
    m.activations["conv"] = act(8.0, -3);
    m.activations["fc"] = act(32.0, 1);
    expect_exact(m, 11);
  }
}

TEST(Layout, ResidualAddStandaloneClampAvgPoolGlobalPool) {
  // conv1 -> [clip (standalone: conv1 has two consumers), conv2(clip)] -> add(+relu) -> avgpool 3x3
  // s2 p1 (count_include_pad 0) -> global average pool -> flatten -> fc.
  QModel m;
  Graph& g = m.graph;
  int x = g.add_input("input", {1, 3, 9, 9});
  Attrs a;
  a.kernel = {3, 3};
  a.pads = {1, 1, 1, 1};
  const int c1 = g.add_node(OpKind::Conv, "conv1", {x, g.add_param("w1", Tensor({4, 3, 3, 3})), g.add_param("b1", Tensor({4}))}, a);
  Attrs clip;
  clip.clip_min = -40.0f;
  clip.clip_max = 200.0f;
  const int cl = g.add_node(OpKind::Clip, "clip", {c1}, clip);
  const int c2 = g.add_node(OpKind::Conv, "conv2", {cl, g.add_param("w2", Tensor({4, 4, 3, 3}))}, a);
  int y = g.add_node(OpKind::Add, "add", {c2, c1});
  y = g.add_node(OpKind::Relu, "add_relu", {y});
  Attrs ap;
  ap.kernel = {3, 3};
  ap.stride = {2, 2};
  ap.pads = {1, 1, 1, 1};
  y = g.add_node(OpKind::AveragePool, "avg", {y}, ap);
  y = g.add_node(OpKind::GlobalAveragePool, "gap", {y});
  y = g.add_node(OpKind::Flatten, "flat", {y});
  g.add_node(OpKind::Linear, "fc", {y, g.add_param("fw", Tensor({5, 4})), g.add_param("fb", Tensor({5}))});
  m.activations["input"] = act(1.0, 0);
  m.activations["conv1"] = act(8.0, -10);
  m.activations["conv2"] = act(16.0, 5);
  // Zero point 0 before the average pools: the integer pool rounds the mean of q, the float one the
  // mean of q - zp, which differ on ties unless zp = 0 (see docs; not a layout question).
  m.activations["add_relu"] = act(8.0, 0);
  m.activations["fc"] = act(128.0, 0);
  expect_exact(m, 21);
  auto plan = engine::compile(m);
  ASSERT_TRUE(plan) << plan.message();
  std::vector<std::string> kinds;
  for (const engine::Layer& l : plan->layers()) kinds.push_back(engine::layer_kind_name(l.kind));
  EXPECT_EQ(kinds, (std::vector<std::string>{"conv2d", "clamp", "conv2d", "add", "avgpool", "global_avgpool",
                                             "fully_connected"}));
}

TEST(Layout, ConvWithPaddedMaxPoolSplitsIntoConvAndPool) {
  // ResNet-stem style: conv + ReLU + maxpool 3x3 s2 p1. The conv kernel's fused pool has no padding,
  // so the group runs as conv (with the clamp) then a max pool; the result is the same.
  QModel m;
  Graph& g = m.graph;
  int x = g.add_input("input", {1, 3, 10, 10});
  Attrs a;
  a.kernel = {3, 3};
  a.pads = {1, 1, 1, 1};
  x = g.add_node(OpKind::Conv, "conv", {x, g.add_param("w", Tensor({5, 3, 3, 3})), g.add_param("b", Tensor({5}))}, a);
  x = g.add_node(OpKind::Relu, "relu", {x});
  Attrs p;
  p.kernel = {3, 3};
  p.stride = {2, 2};
  p.pads = {1, 1, 1, 1};
  x = g.add_node(OpKind::MaxPool, "pool", {x}, p);
  m.activations["input"] = act(1.0, -20);
  m.activations["pool"] = act(8.0, -128);
  expect_exact(m, 31);
  auto plan = engine::compile(m);
  ASSERT_TRUE(plan) << plan.message();
  ASSERT_EQ(plan->layers().size(), 2u);
  EXPECT_EQ(plan->layers()[0].kind, engine::LayerKind::Conv2d);
  EXPECT_EQ(plan->layers()[0].nodes, (std::vector<std::string>{"conv", "relu"}));
  EXPECT_EQ(plan->layers()[0].float_value, -1);
  EXPECT_EQ(plan->layers()[1].kind, engine::LayerKind::MaxPool);
  EXPECT_EQ(plan->layers()[1].float_value, m.graph.find_value("pool"));
}

TEST(Layout, LayerRecordsFusionWeightsAndRequantization) {
  QModel m = conv_model({3, 32, 32, 6, 5, 5, 1, 1, {0, 0, 0, 0}, 1, -1, -128, true, true, true});
  ASSERT_TRUE(infer_shapes(m.graph));
  fill_weights(m, 5);
  auto plan = engine::compile(m);
  ASSERT_TRUE(plan) << plan.message();
  ASSERT_EQ(plan->layers().size(), 1u);
  const engine::Layer& l = plan->layers()[0];
  EXPECT_EQ(l.nodes, (std::vector<std::string>{"conv", "relu", "pool"}));
  EXPECT_EQ(l.ops, (std::vector<std::string>{"Conv", "Relu", "MaxPool"}));
  EXPECT_EQ(l.conv.pool.kind, POCKET_POOL_MAX);
  EXPECT_EQ(l.macs, int64_t{28} * 28 * 6 * 5 * 5 * 3);
  EXPECT_EQ(l.weight_bytes, 6 * 5 * 5 * 3);
  EXPECT_EQ(l.bias_bytes, 6 * 4);
  EXPECT_EQ(l.act_min, -128) << "ReLU at zero point -128";
  EXPECT_EQ(plan->tensors()[static_cast<size_t>(l.output)].stored_shape, (Shape{1, 14, 14, 6}));
  // OHWI: weights[o][ky][kx][i] == OIHW q[o][i][ky][kx].
  const std::vector<int8_t>& q = m.qweights.at("w");
  for (int o : {0, 5})
    for (int ky : {0, 4})
      for (int kx : {1, 3})
        for (int i = 0; i < 3; ++i) {
          EXPECT_EQ(l.weights[static_cast<size_t>(((o * 5 + ky) * 5 + kx) * 3 + i)],
                    q[static_cast<size_t>(((o * 3 + i) * 5 + ky) * 5 + kx)]);
        }
  const std::vector<double>& sw = m.weights.at("w").scale;
  for (size_t c = 0; c < 6; ++c) {
    EXPECT_DOUBLE_EQ(l.real_multiplier[c], 1.0 * sw[c] / 8.0);
    auto qm = qmath::quantize_multiplier(l.real_multiplier[c]);
    ASSERT_TRUE(qm);
    EXPECT_EQ(l.multiplier[c], qm->multiplier);
    EXPECT_EQ(l.shift[c], qm->shift);
  }
}

TEST(Layout, QuantizePixelsFoldsTheNormalisation) {
  // Every pixel value of every channel: the folded integer path equals quantizing the normalised
  // float (qmath::quantize_value) except possibly at exact ties, where it may differ by one.
  for (const Normalization norm : {Normalization::lab(), Normalization::unit(), *Normalization::parse("0.49,0.48,0.45/0.25,0.24,0.26")}) {
    QModel m;
    Graph& g = m.graph;
    int x = g.add_input("input", {1, 3, 16, 16});
    x = g.add_node(OpKind::Relu, "relu", {x});
    g.normalization = norm;
    ASSERT_TRUE(infer_shapes(g));
    m.activations["input"] = act(norm.kind == Normalization::Kind::Unit ? 1.0 / 255 : 0.0157, -3);
    auto plan = engine::compile(m);
    ASSERT_TRUE(plan) << plan.message();
    ASSERT_TRUE(plan->has_pixel_input());
    std::vector<uint8_t> pixels(3 * 16 * 16);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i % 256);
    std::vector<int8_t> q(pixels.size());
    plan->quantize_pixels(pixels.data(), q.data());
    const TensorQuant& tq = m.activations.at("input");
    int64_t off_by_one = 0;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 16; ++y)
        for (int xx = 0; xx < 16; ++xx) {
          const uint8_t p = pixels[static_cast<size_t>((c * 16 + y) * 16 + xx)];
          const double real = static_cast<double>(p) * (1.0 / (255.0 * norm.stddev[static_cast<size_t>(c)])) -
                              norm.mean[static_cast<size_t>(c)] / static_cast<double>(norm.stddev[static_cast<size_t>(c)]);
          const int32_t want = qmath::quantize_value(real, {tq.scale[0], tq.zero_point[0]}, {8, false});
          const int32_t got = q[static_cast<size_t>((y * 16 + xx) * 3 + c)];  // NHWC
          ASSERT_LE(std::abs(got - want), 1) << "channel " << c << " pixel " << int{p};
          off_by_one += got != want ? 1 : 0;
        }
    EXPECT_LE(off_by_one, 3) << norm.spec();
  }
}

}  // namespace pocket::engine_test

namespace pocket::engine_test {

TEST(Layout, FakeQuantInputOfPixelsEqualsTheIntegerPixelPathEvenOnTies) {
  // The lab normalisation with input range [-1, 1]: scale 2/255, zero point -1, and every pixel
  // level p sits exactly on a tie (x / scale = p - 127.5). The fake-quantized model must round
  // those the way the integer path does (pocket_quantize_input_u8), not by float32 noise.
  QModel m;
  Graph& g = m.graph;
  int x = g.add_input("input", {1, 3, 16, 16});
  g.add_node(OpKind::Relu, "relu", {x});
  g.normalization = Normalization::lab();
  ASSERT_TRUE(infer_shapes(g));
  auto qp = qmath::choose_quant_params(-1.0, 1.0, qmath::QuantType::int8_activations());
  ASSERT_TRUE(qp);
  ASSERT_EQ(qp->zero_point, -1);
  m.activations["input"] = act(qp->scale, qp->zero_point);
  auto plan = engine::compile(m);
  ASSERT_TRUE(plan) << plan.message();
  Dataset d;
  d.pixels.resize(kCifarImageBytes);
  d.labels = {0};
  for (size_t i = 0; i < d.pixels.size(); ++i) d.pixels[i] = static_cast<uint8_t>((i * 7) % 256);
  // A 16x16 model input: take the first 16x16 of each 32x32 plane as the model's pixels.
  std::vector<uint8_t> pixels(3 * 16 * 16);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 16; ++y)
      for (int xx = 0; xx < 16; ++xx)
        pixels[static_cast<size_t>((c * 16 + y) * 16 + xx)] = d.pixels[static_cast<size_t>((c * 32 + y) * 32 + xx)];
  std::vector<int8_t> q(pixels.size());
  plan->quantize_pixels(pixels.data(), q.data());
  Tensor t({1, 3, 16, 16});
  for (size_t i = 0; i < pixels.size(); ++i) t.data[i] = g.normalization.apply(static_cast<int>(i / 256), pixels[i]);
  const FakeQuant fq = make_fake_quant(m);
  fq.hook(g.input, t);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 16; ++y)
      for (int xx = 0; xx < 16; ++xx) {
        const size_t f = static_cast<size_t>((c * 16 + y) * 16 + xx);
        const int32_t fake_q = static_cast<int32_t>(std::lround(t.data[f] / qp->scale)) + qp->zero_point;
        ASSERT_EQ(fake_q, q[static_cast<size_t>((y * 16 + xx) * 3 + c)]) << "pixel " << int{pixels[f]};
      }
  // A float input that is not a pixel level is quantized from its value.
  Tensor other({1, 3, 16, 16}, 0.3f);
  fq.hook(g.input, other);
  EXPECT_FLOAT_EQ(other.data[5], static_cast<float>((qmath::quantize_value(0.3, *qp, {8, false}) - qp->zero_point) * qp->scale));
}

}  // namespace pocket::engine_test
