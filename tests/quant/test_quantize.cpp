#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "pocket/executor.hpp"
#include "pocket/fileio.hpp"
#include "pocket/models.hpp"
#include "pocket/onnx.hpp"
#include "pocket/qmath.hpp"
#include "pocket/quant.hpp"
#include "support/test_env.hpp"

namespace pocket {
namespace {

Tensor random_input(const Shape& per_sample, int64_t n, uint64_t seed) {
  Shape s = per_sample;
  s[0] = n;
  Tensor t(s);
  Rng rng(seed);
  for (float& x : t.data) x = rng.uniform(-1.0f, 1.0f);
  return t;
}

Tensor run(const Graph& g, const Tensor& x) {
  Executor e(g);
  auto out = e.run(x);
  EXPECT_TRUE(out) << out.message();
  return **out;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape, b.shape);
  double m = 0;
  for (size_t i = 0; i < a.data.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a.data[i]) - b.data[i]));
  return m;
}

Graph fixture(const std::string& name) {
  auto g = load_onnx(test::fixtures_dir() + "/" + name + ".onnx");
  EXPECT_TRUE(g) << g.message();
  g->normalization = Normalization::lab();
  return *g;
}

// A synthetic calibration set (random pixels) for tests that do not need CIFAR-10.
Dataset random_images(int n, uint64_t seed) {
  Dataset d;
  Rng rng(seed);
  d.pixels.resize(static_cast<size_t>(n) * kCifarImageBytes);
  for (auto& p : d.pixels) p = static_cast<uint8_t>(rng.uniform_int(256));
  d.labels.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) d.labels[static_cast<size_t>(i)] = static_cast<uint8_t>(i % 10);
  return d;
}

std::vector<std::string> group_ops(const Graph& g) {
  std::vector<std::string> out;
  for (const QuantGroup& grp : quant_groups(g)) {
    std::string s;
    for (int n : grp.nodes) {
      if (!s.empty()) s += '+';
      s += op_name(g.nodes[static_cast<size_t>(n)].kind);
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST(Passes, FoldBatchNormKeepsTheFunction) {
  const Graph g = fixture("resblock_bn");
  Graph f = g;
  auto n = fold_batchnorm(f);
  ASSERT_TRUE(n) << n.message();
  EXPECT_GT(*n, 0);
  ASSERT_TRUE(infer_shapes(f));
  for (const Node& node : f.nodes) EXPECT_NE(node.kind, OpKind::BatchNorm);
  const Tensor x = random_input(g.input_shape(), 3, 1);
  const Tensor a = run(g, x), b = run(f, x);
  double scale = 0;
  for (float v : a.data) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  EXPECT_LT(max_abs_diff(a, b), 1e-5 * std::max(1.0, scale));
  EXPECT_EQ(f.values[static_cast<size_t>(f.output)].name, g.values[static_cast<size_t>(g.output)].name);
}

TEST(Passes, FoldPadIntoConvKeepsTheFunction) {
  const Graph g = fixture("dwsep");
  Graph f = g;
  auto n = fold_pad_into_conv(f);
  ASSERT_TRUE(n) << n.message();
  EXPECT_GT(*n, 0);
  ASSERT_TRUE(infer_shapes(f));
  for (const Node& node : f.nodes) EXPECT_NE(node.kind, OpKind::Pad);
  EXPECT_EQ(group_ops(f)[0], "Conv+Relu+Clip") << "ReLU6 exported as Relu + Clip fuses into the conv";
  const Tensor x = random_input(g.input_shape(), 2, 2);
  EXPECT_LT(max_abs_diff(run(g, x), run(f, x)), 1e-5);
}

TEST(Groups, LeNetFusesConvReluPoolAndLinearRelu) {
  const Graph g = make_lenet(true, 1);
  EXPECT_EQ(group_ops(g), (std::vector<std::string>{"Conv+Relu+MaxPool", "Conv+Relu+MaxPool", "Flatten",
                                                     "Linear+Relu", "Linear+Relu", "Linear"}));
  const std::vector<int> src = activation_sources(g);
  const int flat = g.find_value("flatten");
  const int pool2 = g.find_value("pool2");
  EXPECT_EQ(src[static_cast<size_t>(flat)], pool2);
  EXPECT_EQ(src[static_cast<size_t>(g.find_value("conv1"))], -1) << "inside a fused group: never quantized";
  EXPECT_EQ(src[static_cast<size_t>(g.input)], g.input);
}

TEST(Groups, ConvPoolReluOrderAlsoFuses) {
  Graph g;
  int x = g.add_input("input", {1, 3, 8, 8});
  Attrs c;
  c.kernel = {3, 3};
  x = g.add_node(OpKind::Conv, "conv", {x, g.add_param("w", Tensor({4, 3, 3, 3}, 0.1f))}, c);
  Attrs p;
  p.kernel = {2, 2};
  p.stride = {2, 2};
  x = g.add_node(OpKind::MaxPool, "pool", {x}, p);
  x = g.add_node(OpKind::Relu, "relu", {x});
  ASSERT_TRUE(infer_shapes(g));
  EXPECT_EQ(group_ops(g), std::vector<std::string>{"Conv+MaxPool+Relu"});
}

TEST(Quantize, WeightsPerTensorAndPerChannelAreWithinHalfAStep) {
  const Graph g = make_lenet(true, 3);
  for (bool per_channel : {false, true}) {
    QuantConfig c;
    c.weight_only = true;
    c.per_channel = per_channel;
    auto m = quantize(g, c, nullptr);
    ASSERT_TRUE(m) << m.message();
    const FakeQuant fq = make_fake_quant(*m);
    for (const auto& [name, t] : m->weights) {
      const Tensor& w = g.param(g.find_value(name));
      const Tensor& d = fq.graph.param(fq.graph.find_value(name));
      EXPECT_EQ(t.scale.size(), per_channel ? static_cast<size_t>(w.shape[0]) : 1u) << name;
      EXPECT_EQ(t.clipped, 0) << "minmax clips nothing: " << name;
      const size_t chunk = w.data.size() / t.scale.size();
      for (size_t k = 0; k < w.data.size(); ++k) {
        EXPECT_LE(std::fabs(w.data[k] - d.data[k]), t.scale[k / chunk] * 0.5 + 1e-7) << name << "[" << k << "]";
      }
    }
  }
}

TEST(Quantize, SigmaClippingCountsTheSaturatedWeights) {
  const Graph g = make_lenet(false, 4);
  QuantConfig c;
  c.weight_only = true;
  c.per_channel = false;
  c.weight_range = {RangeMethod::Sigma, 1.0};
  auto m = quantize(g, c, nullptr);
  ASSERT_TRUE(m) << m.message();
  for (const auto& [name, t] : m->weights) {
    const Tensor& w = g.param(g.find_value(name));
    const int64_t outside = std::count_if(w.data.begin(), w.data.end(),
                                          [&](float x) { return x < t.range_lo[0] || x > t.range_hi[0]; });
    EXPECT_EQ(t.clipped, outside) << name;
    EXPECT_GT(t.clipped, w.numel() / 10) << "1 sigma of a uniform init clips a lot: " << name;
    const std::vector<int8_t>& q = m->qweights.at(name);
    EXPECT_EQ(*std::max_element(q.begin(), q.end()), 127);
    EXPECT_EQ(*std::min_element(q.begin(), q.end()), -127);
  }
}

TEST(Quantize, BiasesAndActivationsWithCalibration) {
  const Graph g = make_lenet(true, 5);
  auto cal = calibrate(g, random_images(40, 1), "40 random images");
  ASSERT_TRUE(cal) << cal.message();
  EXPECT_EQ(cal->images, 40);
  QuantConfig c;
  c.act_range = {RangeMethod::MinMax, 0};
  auto m = quantize(g, c, &*cal);
  ASSERT_TRUE(m) << m.message();
  // Quantization points: input, the two conv groups, fc1, fc2, fc3.
  EXPECT_EQ(m->activations.size(), 6u);
  EXPECT_TRUE(m->activations.count("input"));
  EXPECT_TRUE(m->activations.count("pool1"));
  EXPECT_FALSE(m->activations.count("conv1"));
  // Minmax ranges cover the calibration data; ReLU outputs have zero point -128 (range starts at 0).
  const TensorQuant& p1 = m->activations.at("pool1");
  EXPECT_EQ(p1.zero_point[0], -128);
  EXPECT_EQ(p1.clipped, 0);
  const TensorQuant* in = m->activation_quant(g.find_value("flatten"));
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in, &m->activations.at("pool2"));
  for (const std::string layer : {"conv1", "fc1", "fc3"}) {
    const Tensor& b = g.param(g.find_value(layer + ".bias"));
    const std::vector<int32_t>& qb = m->qbiases.at(layer + ".bias");
    const TensorQuant& w = m->weights.at(layer + ".weight");
    const Node* node = nullptr;
    for (const Node& n : g.nodes) if (n.name == layer) node = &n;
    const double s_in = m->activation_quant(node->inputs[0])->scale[0];
    for (size_t ch = 0; ch < qb.size(); ++ch) {
      const double s = s_in * w.scale[ch];
      EXPECT_NEAR(qb[ch] * s, b.data[ch], s * 0.5 + 1e-9) << layer << " channel " << ch;
    }
  }
  // The fake-quantized model runs and is close to float on its calibration images.
  const FakeQuant fq = make_fake_quant(*m);
  Tensor x;
  std::vector<int64_t> idx{0, 1, 2, 3};
  make_batch(random_images(4, 1), idx, g.normalization, x);
  Executor fe(fq.graph);
  fe.set_output_hook(fq.hook);
  const Tensor a = **fe.run(x);
  const Tensor b = run(g, x);
  double sig = 0, noise = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    sig += static_cast<double>(b.data[i]) * b.data[i];
    noise += (static_cast<double>(a.data[i]) - b.data[i]) * (static_cast<double>(a.data[i]) - b.data[i]);
  }
  EXPECT_GT(10 * std::log10(sig / noise), 20.0) << "8-bit fake quantization should keep SQNR above 20 dB";
  // Every quantization point holds values on its grid after the hook.
  const TensorQuant& fc1 = m->activations.at("relu3");
  const Tensor& v = fe.value(g.find_value("relu3"));
  for (float val : v.data) {
    const double q = val / fc1.scale[0] + fc1.zero_point[0];
    EXPECT_NEAR(q, std::round(q), 1e-3);
  }
}

TEST(Quantize, SaveLoadRoundTripIsExact) {
  const Graph g = make_lenet(true, 6);
  auto cal = calibrate(g, random_images(20, 2), "20 random images");
  ASSERT_TRUE(cal);
  QuantConfig c;
  c.weight_bits = 4;
  auto m = quantize(g, c, &*cal);
  ASSERT_TRUE(m) << m.message();
  m->provenance["source"] = "test";
  const std::string path = test::temp_dir() + "/m.pqm";
  ASSERT_TRUE(save_qmodel(*m, path));
  EXPECT_TRUE(is_qmodel_file(path));
  auto back = load_qmodel(path);
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->qweights, m->qweights);
  EXPECT_EQ(back->qbiases, m->qbiases);
  EXPECT_EQ(back->provenance, m->provenance);
  EXPECT_EQ(back->config.describe(), m->config.describe());
  ASSERT_EQ(back->activations.size(), m->activations.size());
  for (const auto& [name, t] : m->activations) {
    EXPECT_EQ(back->activations.at(name).scale, t.scale) << name;
    EXPECT_EQ(back->activations.at(name).zero_point, t.zero_point) << name;
  }
  for (const auto& [name, t] : m->weights) EXPECT_EQ(back->weights.at(name).scale, t.scale) << name;
  for (const auto& [name, q] : m->qweights) {
    for (int8_t v : q) ASSERT_TRUE(v >= -7 && v <= 7) << "4-bit weights";
  }
}

TEST(Quantize, BadInputsGiveClearErrors) {
  const std::string dir = test::temp_dir();
  // Not a quantized model, a truncated one, a wrong version.
  ASSERT_TRUE(write_file_atomic(dir + "/garbage.pqm", std::string("hello world, not a model")));
  auto r = load_qmodel(dir + "/garbage.pqm");
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("not a pocket quantized model"), std::string::npos) << r.message();
  const Graph g = make_lenet(false, 7);
  QuantConfig c;
  c.weight_only = true;
  auto m = quantize(g, c, nullptr);
  ASSERT_TRUE(m);
  ASSERT_TRUE(save_qmodel(*m, dir + "/ok.pqm"));
  auto bytes = read_file_bytes(dir + "/ok.pqm");
  ASSERT_TRUE(bytes);
  ASSERT_TRUE(write_file_atomic(dir + "/trunc.pqm", bytes->data(), bytes->size() / 2));
  r = load_qmodel(dir + "/trunc.pqm");
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("truncated"), std::string::npos) << r.message();
  (*bytes)[4] = 9;
  ASSERT_TRUE(write_file_atomic(dir + "/v9.pqm", bytes->data(), bytes->size()));
  r = load_qmodel(dir + "/v9.pqm");
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("version 9"), std::string::npos) << r.message();
  // NaN weights: named at preparation.
  Graph bad = g;
  bad.param(bad.find_value("conv2.weight")).data[5] = std::nanf("");
  auto p = prepare_for_quantization(bad);
  ASSERT_FALSE(p);
  EXPECT_NE(p.message().find("conv2.weight"), std::string::npos) << p.message();
  // An empty calibration set.
  auto cal = calibrate(g, Dataset{}, "");
  ASSERT_FALSE(cal);
  EXPECT_NE(cal.message().find("empty"), std::string::npos);
  // Activation quantization without calibration; unsupported bit widths.
  QuantConfig full;
  EXPECT_FALSE(quantize(g, full, nullptr));
  full.weight_only = true;
  full.weight_bits = 3;
  EXPECT_NE(quantize(g, full, nullptr).message().find("8, 4 or 2"), std::string::npos);
}

TEST(Quantize, ConstantAndZeroLayersGiveFiniteScales) {
  Graph g = make_lenet(true, 8);
  std::fill(g.param(g.find_value("fc2.weight")).data.begin(), g.param(g.find_value("fc2.weight")).data.end(), 0.0f);
  std::fill(g.param(g.find_value("fc1.weight")).data.begin(), g.param(g.find_value("fc1.weight")).data.end(), 0.25f);
  auto cal = calibrate(g, random_images(10, 3), "10");
  ASSERT_TRUE(cal);
  QuantConfig c;
  c.weight_range = {RangeMethod::Sigma, 3};  // sigma = 0 for these layers
  auto m = quantize(g, c, &*cal);
  ASSERT_TRUE(m) << m.message();
  for (const auto& [name, t] : m->weights) {
    for (double s : t.scale) EXPECT_TRUE(std::isfinite(s) && s > 0) << name;
  }
  for (const auto& [name, t] : m->activations) EXPECT_TRUE(std::isfinite(t.scale[0]) && t.scale[0] > 0) << name;
  // A constant layer is represented exactly.
  for (int8_t q : m->qweights.at("fc1.weight")) EXPECT_EQ(q, 127);
}

TEST(Footprint, FloatVersusInt8) {
  const Graph g = make_lenet(false, 9);
  const Footprint f = footprint(g);
  EXPECT_EQ(f.weight_count, 6 * 3 * 25 + 16 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10);
  EXPECT_EQ(f.bias_count, 0);
  EXPECT_EQ(f.float_total(), 4 * f.weight_count);
  QuantConfig c;
  c.weight_only = true;
  auto m = quantize(g, c, nullptr);
  ASSERT_TRUE(m);
  const Footprint q = footprint(*m);
  EXPECT_EQ(q.quant_weight_bytes, f.weight_count);
  // One float32 scale per output channel of every layer; no biases; activations stay float.
  EXPECT_EQ(q.quant_param_bytes, 4 * (6 + 16 + 120 + 84 + 10));
  EXPECT_EQ(q.quant_total(), f.weight_count + 4 * (6 + 16 + 120 + 84 + 10));
  EXPECT_GT(static_cast<double>(q.float_total()) / static_cast<double>(q.quant_total()), 3.9);
}

}  // namespace pocket
