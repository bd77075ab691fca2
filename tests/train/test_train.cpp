#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "pocket/data.hpp"
#include "pocket/models.hpp"
#include "pocket/train.hpp"
#include "support/test_env.hpp"

namespace pocket {
namespace {

Graph one_param_graph(std::vector<float> w) {
  Graph g;
  const auto n = static_cast<int64_t>(w.size());
  const int x = g.add_input("input", {1, n});
  const int p = g.add_param("w", Tensor({1, n}, std::move(w)));
  g.add_node(OpKind::Linear, "fc", {x, p});
  return g;
}

// A synthetic CIFAR-shaped dataset whose label is decided by a per-class colour, so a model can learn it.
Dataset synthetic(int n, uint64_t seed) {
  Dataset d;
  Rng rng(seed);
  d.class_names = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  d.pixels.resize(static_cast<size_t>(n) * kCifarImageBytes);
  d.labels.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const int label = i % 10;
    d.labels[static_cast<size_t>(i)] = static_cast<uint8_t>(label);
    for (int c = 0; c < 3; ++c) {
      const int base = ((label >> c) & 1) * 120 + (label >= 8 ? 60 : 0);
      for (int p = 0; p < 1024; ++p) {
        d.pixels[static_cast<size_t>(i) * kCifarImageBytes + static_cast<size_t>(c * 1024 + p)] =
            static_cast<uint8_t>(base + static_cast<int>(rng.uniform_int(60)));
      }
    }
  }
  return d;
}

}  // namespace

TEST(Optimizer, SgdMatchesPyTorchFormula) {
  TrainConfig c;
  c.optimizer = OptimizerKind::Sgd;
  c.momentum = 0.9f;
  c.weight_decay = 0.1f;
  Graph g = one_param_graph({1.0f, -2.0f});
  Optimizer opt(c, g);
  const Tensor grad({1, 2}, {0.5f, 0.25f});
  std::vector<const Tensor*> grads(g.values.size(), nullptr);
  grads[1] = &grad;
  opt.step(g, grads, 0.1f);
  // v = g + wd*w = (0.6, 0.05); w -= 0.1 v
  EXPECT_FLOAT_EQ(g.param(1).data[0], 1.0f - 0.1f * 0.6f);
  EXPECT_FLOAT_EQ(g.param(1).data[1], -2.0f - 0.1f * 0.05f);
  const float w0 = g.param(1).data[0];
  opt.step(g, grads, 0.1f);
  // v = 0.9*0.6 + (0.5 + 0.1*w0)
  EXPECT_FLOAT_EQ(g.param(1).data[0], w0 - 0.1f * (0.9f * 0.6f + 0.5f + 0.1f * w0));
}

TEST(Optimizer, AdamFirstStepMovesByLr) {
  TrainConfig c;
  c.optimizer = OptimizerKind::Adam;
  c.weight_decay = 0.0f;
  Graph g = one_param_graph({1.0f, 1.0f});
  Optimizer opt(c, g);
  const Tensor grad({1, 2}, {3.0f, -0.001f});
  std::vector<const Tensor*> grads(g.values.size(), nullptr);
  grads[1] = &grad;
  opt.step(g, grads, 0.01f);
  // First Adam step: m_hat = g, v_hat = g^2, so the update is lr * sign(g) (up to eps).
  EXPECT_NEAR(g.param(1).data[0], 0.99f, 1e-6f);
  EXPECT_NEAR(g.param(1).data[1], 1.01f, 1e-4f);
}

TEST(Schedule, CosineAndConstant) {
  TrainConfig c;
  c.lr = 0.1f;
  c.schedule = Schedule::Cosine;
  EXPECT_FLOAT_EQ(learning_rate(c, 0, 100), 0.1f);
  EXPECT_NEAR(learning_rate(c, 50, 100), 0.05f, 1e-7f);
  EXPECT_NEAR(learning_rate(c, 99, 100), 0.1f * 0.5f * (1.0f + std::cos(3.14159265f * 0.99f)), 1e-7f);
  c.schedule = Schedule::Constant;
  EXPECT_FLOAT_EQ(learning_rate(c, 99, 100), 0.1f);
  EXPECT_FALSE(parse_optimizer("rmsprop"));
  EXPECT_FALSE(parse_schedule("step"));
}

TEST(Summarize, ConfusionAndPerClass) {
  const std::vector<int> pred{0, 1, 1, 2, 2, 2};
  const std::vector<uint8_t> labels{0, 1, 2, 2, 2, 0};
  const EvalResult r = summarize(pred, labels, 3);
  EXPECT_EQ(r.images, 6);
  EXPECT_EQ(r.correct, 4);
  EXPECT_NEAR(r.accuracy, 400.0 / 6.0, 1e-9);
  EXPECT_EQ(r.confusion[0][0], 1);
  EXPECT_EQ(r.confusion[0][2], 1);
  EXPECT_EQ(r.confusion[2][1], 1);
  EXPECT_EQ(r.confusion[2][2], 2);
  EXPECT_NEAR(r.per_class[0], 50.0, 1e-9);
  EXPECT_NEAR(r.per_class[2], 200.0 / 3.0, 1e-9);
}

TEST(Train, DeterministicForASeedAndLearnsASeparableTask) {
  const Dataset d = synthetic(400, 7);
  TrainConfig c;
  c.epochs = 3;
  c.batch = 16;
  c.lr = 0.02f;
  c.augment.enabled = true;
  c.seed = 5;
  Graph a = make_lenet(true, 5), b = make_lenet(true, 5);
  ASSERT_TRUE(train(a, d, c));
  ASSERT_TRUE(train(b, d, c));
  for (size_t v = 0; v < a.values.size(); ++v) {
    if (a.values[v].kind == ValueKind::Param) {
      ASSERT_EQ(a.values[v].init.data, b.values[v].init.data) << a.values[v].name;
    }
  }
  c.seed = 6;
  Graph other = make_lenet(true, 5);
  ASSERT_TRUE(train(other, d, c));
  EXPECT_NE(other.param(other.find_value("conv1.weight")).data, a.param(a.find_value("conv1.weight")).data);
  auto r = evaluate(a, synthetic(200, 8));
  ASSERT_TRUE(r);
  EXPECT_GT(r->accuracy, 90.0) << "a colour-coded task should be learned in 3 epochs";
}

TEST(Train, RejectsBadConfigsWithMessages) {
  const Dataset d = synthetic(20, 1);
  Graph g = make_lenet(false, 1);
  TrainConfig c;
  c.epochs = 0;
  EXPECT_NE(train(g, d, c).message().find("--epochs"), std::string::npos);
  c = {};
  c.lr = std::nanf("");
  EXPECT_NE(train(g, d, c).message().find("--lr"), std::string::npos);
  c = {};
  c.epochs = 1;
  c.max_images = 20;
  g.param(g.find_value("fc1.weight")).data[3] = std::numeric_limits<float>::infinity();
  const Status diverged = train(g, d, c);
  EXPECT_FALSE(diverged);
  EXPECT_NE(diverged.message().find("diverged"), std::string::npos);
  g.normalization = {};
  EXPECT_NE(evaluate(g, d).message().find("--normalize"), std::string::npos);
}

}  // namespace pocket
