// Weight and activation statistics (include/pocket/stats.hpp) on built-in models and a small
// in-memory dataset.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "pocket/executor.hpp"
#include "pocket/models.hpp"
#include "pocket/stats.hpp"

namespace pocket {
namespace {

// `n` images with labels i % 10 and pseudo-random pixels.
Dataset small_dataset(int64_t n, uint64_t seed) {
  Dataset d;
  Rng rng(seed);
  d.pixels.resize(static_cast<size_t>(n * kCifarImageBytes));
  for (uint8_t& p : d.pixels) p = static_cast<uint8_t>(rng.uniform_int(256));
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(static_cast<uint8_t>(i % 10));
  d.class_names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  d.source = "memory";
  return d;
}

Graph lenet_lab(bool bias, uint64_t seed) {
  Graph g = make_lenet(bias, seed);
  g.normalization = Normalization::lab();
  return g;
}

TEST(DescribeDistribution, HandComputedBands) {
  const std::vector<float> v{-3.0f, -1.0f, 0.0f, 1.0f, 3.0f};  // mean 0, std sqrt(20 / 5) = 2
  const DistributionStats d = describe_distribution(v, 4);
  EXPECT_EQ(d.summary.mean, 0.0);
  EXPECT_EQ(d.summary.stddev, 2.0);
  EXPECT_EQ(d.bands[0].k, 1);
  EXPECT_EQ(d.bands[0].lo, -2.0);
  EXPECT_EQ(d.bands[0].hi, 2.0);
  EXPECT_EQ(d.bands[0].outside, 2);
  EXPECT_EQ(d.bands[0].percent_outside, 40.0);
  EXPECT_EQ(d.bands[1].outside, 0);
  EXPECT_EQ(d.bands[2].lo, -6.0);
  EXPECT_EQ(d.histogram.lo, -3.0);
  EXPECT_EQ(d.histogram.hi, 3.0);
  EXPECT_EQ(d.histogram.counts, (std::vector<int64_t>{1, 1, 2, 1}));  // [-3,-1.5) [-1.5,0) [0,1.5) [1.5,3]
}

TEST(WeightStats, ConvAndLinearWeightsAndBiases) {
  const Graph g = make_lenet(true, 3);
  WeightStatsOptions opts;
  opts.per_channel = true;
  const std::vector<WeightStats> w = weight_stats(g, opts);
  ASSERT_EQ(w.size(), 10u);
  const std::vector<int64_t> outputs{6, 6, 16, 16, 120, 120, 84, 84, 10, 10};
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(w[i].role, i % 2 == 0 ? "weight" : "bias") << w[i].name;
    EXPECT_EQ(w[i].op, i < 4 ? OpKind::Conv : OpKind::Linear) << w[i].name;
    EXPECT_EQ(w[i].shape[0], outputs[i]) << w[i].name;
    const Tensor& t = g.param(g.find_value(w[i].name));
    EXPECT_EQ(w[i].all.summary.count, t.numel());
    EXPECT_EQ(w[i].all.histogram.total(), t.numel());
    EXPECT_EQ(w[i].all.histogram.counts.size(), 64u);
    if (w[i].role == "bias") {
      EXPECT_TRUE(w[i].channels.empty()) << w[i].name;  // one value per channel: nothing to add
      continue;
    }
    ASSERT_EQ(static_cast<int64_t>(w[i].channels.size()), outputs[i]) << w[i].name;
    int64_t count = 0;
    double lo = 1e30;
    double hi = -1e30;
    for (size_t c = 0; c < w[i].channels.size(); ++c) {
      const DistributionStats& ch = w[i].channels[c];
      count += ch.summary.count;
      lo = std::min(lo, ch.summary.min);
      hi = std::max(hi, ch.summary.max);
      // Channel c is the slice [c * per, (c + 1) * per) of the [O, ...] tensor.
      const auto per = static_cast<size_t>(t.numel() / outputs[i]);
      const Summary want = summarize(std::span<const float>(t.data).subspan(c * per, per));
      EXPECT_EQ(ch.summary.mean, want.mean);
      EXPECT_EQ(ch.summary.max, want.max);
    }
    EXPECT_EQ(count, t.numel());
    EXPECT_EQ(lo, w[i].all.summary.min);
    EXPECT_EQ(hi, w[i].all.summary.max);
  }
  // PyTorch-style init: uniform in +-1/sqrt(fan_in); for conv1 fan_in = 75.
  EXPECT_LE(w[0].all.summary.max, 1.0 / std::sqrt(75.0));
  EXPECT_NEAR(w[0].all.bands[0].percent_outside, 100.0 * (1.0 - 1.0 / std::sqrt(3.0)), 6.0);  // uniform: 42%
  EXPECT_EQ(w[0].all.bands[1].outside, 0);  // uniform never reaches 2 sigma (sqrt(3) sigma max)

  EXPECT_TRUE(weight_stats(g).front().channels.empty());  // per channel only when asked
  const std::vector<WeightStats> nobias = weight_stats(make_lenet(false, 3));
  ASSERT_EQ(nobias.size(), 5u);
  for (const WeightStats& s : nobias) EXPECT_EQ(s.role, "weight");
}

TEST(ActivationStats, EqualsOneBigBatchComputation) {
  const Graph g = lenet_lab(true, 5);
  const Dataset data = small_dataset(120, 1);
  ActivationStatsOptions opts;
  opts.images = 60;
  opts.batch = 16;  // uneven last batch
  opts.seed = 9;
  int64_t last_done = 0;
  int calls = 0;
  opts.progress = [&](int64_t done, int64_t total) {
    EXPECT_GT(done, last_done);
    EXPECT_EQ(total, 60);
    last_done = done;
    ++calls;
  };
  auto obs = observe_activations(g, data, opts);
  ASSERT_TRUE(obs.is_ok()) << obs.message();
  EXPECT_EQ(obs->images, 60);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(last_done, 60);
  ASSERT_EQ(obs->values.size(), g.nodes.size() + 1);
  EXPECT_EQ(obs->values[0], g.input);

  // Reference: the same images in the same batches (a GEMM's rounding may depend on the batch
  // size), every value concatenated and summarized directly.
  auto indices = stratified_sample(data, 60, 9);
  ASSERT_TRUE(indices.is_ok());
  std::vector<std::vector<float>> all(obs->values.size());
  Executor ex(g);
  Tensor batch;
  for (size_t start = 0; start < indices->size(); start += 16) {
    const size_t count = std::min<size_t>(16, indices->size() - start);
    make_batch(data, std::span<const int64_t>(*indices).subspan(start, count), g.normalization, batch);
    ASSERT_TRUE(ex.run(batch).is_ok());
    for (size_t i = 0; i < obs->values.size(); ++i) {
      const std::vector<float>& v = ex.value(obs->values[i]).data;
      all[i].insert(all[i].end(), v.begin(), v.end());
    }
  }
  for (size_t i = 0; i < obs->values.size(); ++i) {
    const Summary want = summarize(all[i]);
    const Summary got = obs->observers[i].summary();
    const std::string name = g.values[static_cast<size_t>(obs->values[i])].name;
    EXPECT_EQ(got.count, want.count) << name;
    EXPECT_EQ(got.min, want.min) << name;
    EXPECT_EQ(got.max, want.max) << name;
    // Both are double sums in different orders (per-batch two-pass + combination vs one pass).
    EXPECT_NEAR(got.mean, want.mean, 1e-10 * std::max(1e-3, std::fabs(want.mean))) << name;
    EXPECT_NEAR(got.stddev, want.stddev, 1e-10 * want.stddev) << name;
    EXPECT_FALSE(obs->observers[i].sampled());
    // Under the cap the sample holds every value, in order.
    ASSERT_EQ(obs->observers[i].sample().size(), all[i].size()) << name;
    EXPECT_TRUE(std::equal(all[i].begin(), all[i].end(), obs->observers[i].sample().begin())) << name;
  }
  EXPECT_EQ(obs->observers[0].summary().count, 60 * 3072);
}

TEST(ActivationStats, ReportFields) {
  const Graph g = lenet_lab(false, 6);
  const Dataset data = small_dataset(50, 2);
  ActivationStatsOptions opts;
  opts.images = 30;
  opts.sample_cap = 1000;  // conv1 output has 30 * 4704 values: sampled
  auto report = activation_stats(g, data, opts);
  ASSERT_TRUE(report.is_ok()) << report.message();
  EXPECT_EQ(report->images, 30);
  EXPECT_EQ(report->split, "train");
  ASSERT_EQ(report->values.size(), g.nodes.size() + 1);
  const ActivationStats& input = report->values[0];
  EXPECT_EQ(input.op, "Input");
  EXPECT_EQ(input.producer, "");
  EXPECT_GE(input.summary.min, -1.0);
  EXPECT_LE(input.summary.max, 1.0);
  for (const ActivationStats& a : report->values) {
    EXPECT_EQ(a.sampled, a.summary.count > 1000) << a.name;
    EXPECT_EQ(a.sample_size, std::min<int64_t>(1000, a.summary.count)) << a.name;
    ASSERT_EQ(a.percentiles.size(), kActivationPercentiles.size());
    EXPECT_TRUE(std::is_sorted(a.percentiles.begin(), a.percentiles.end())) << a.name;
    EXPECT_GE(a.percentiles.front(), a.summary.min) << a.name;
    EXPECT_LE(a.percentiles.back(), a.summary.max) << a.name;
    EXPECT_EQ(a.histogram.total(), a.sample_size) << a.name;
    EXPECT_DOUBLE_EQ(a.band3.lo, a.summary.mean - 3 * a.summary.stddev);
    EXPECT_DOUBLE_EQ(a.band3.hi, a.summary.mean + 3 * a.summary.stddev);
    if (a.op == "Relu" || a.op == "MaxPool") {
      EXPECT_GE(a.summary.min, 0.0) << a.name;
      EXPECT_GE(a.percentiles.front(), 0.0) << a.name;
    }
  }
  EXPECT_EQ(report->values[1].op, "Conv");
  EXPECT_EQ(report->values[1].shape, (Shape{1, 6, 28, 28}));

  // Deterministic: the same seed gives the same report.
  auto again = activation_stats(g, data, opts);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(to_json(*again), to_json(*report));
  opts.seed = 1;
  auto other = activation_stats(g, data, opts);
  ASSERT_TRUE(other.is_ok());
  EXPECT_NE(to_json(*other), to_json(*report));
}

TEST(ActivationStats, Errors) {
  const Dataset data = small_dataset(20, 3);
  ActivationStatsOptions opts;
  opts.images = 10;
  Graph unknown = make_lenet(true, 1);
  unknown.normalization = Normalization{};
  auto a = observe_activations(unknown, data, opts);
  ASSERT_FALSE(a.is_ok());
  EXPECT_NE(a.message().find("normalisation is unknown"), std::string::npos) << a.message();

  Graph small;
  small.normalization = Normalization::unit();
  const int x = small.add_input("x", {1, 1, 8, 8});
  small.output = small.add_node(OpKind::Relu, "relu", {x});
  ASSERT_TRUE(infer_shapes(small).is_ok());
  auto b = observe_activations(small, data, opts);
  ASSERT_FALSE(b.is_ok());
  EXPECT_NE(b.message().find("[1, 1, 8, 8]"), std::string::npos) << b.message();

  opts.images = 21;
  auto c = observe_activations(lenet_lab(true, 1), data, opts);
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.message().find("at most 20"), std::string::npos) << c.message();
  opts.images = 0;
  EXPECT_FALSE(observe_activations(lenet_lab(true, 1), data, opts).is_ok());
}

TEST(StatsJson, Shape) {
  const Graph g = lenet_lab(true, 4);
  WeightStatsOptions wopts;
  wopts.per_channel = true;
  wopts.histogram_bins = 8;
  const nlohmann::json w = to_json(weight_stats(g, wopts));
  ASSERT_TRUE(w.is_array());
  ASSERT_EQ(w.size(), 10u);
  EXPECT_EQ(w[0]["name"], g.values[static_cast<size_t>(g.nodes[0].inputs[1])].name);
  EXPECT_EQ(w[0]["op"], "Conv");
  EXPECT_EQ(w[0]["role"], "weight");
  EXPECT_EQ(w[0]["shape"], (std::vector<int64_t>{6, 3, 5, 5}));
  EXPECT_EQ(w[0]["count"], 450);
  ASSERT_EQ(w[0]["bands"].size(), 3u);
  EXPECT_EQ(w[0]["bands"][2]["k"], 3);
  EXPECT_EQ(w[0]["histogram"]["counts"].size(), 8u);
  ASSERT_EQ(w[0]["channels"].size(), 6u);
  EXPECT_EQ(w[0]["channels"][5]["count"], 75);
  EXPECT_DOUBLE_EQ(w[0]["bands"][0]["percent_outside"].get<double>(),
                   100.0 * w[0]["bands"][0]["outside"].get<double>() / 450.0);

  ActivationStatsOptions aopts;
  aopts.images = 10;
  auto report = activation_stats(g, small_dataset(10, 5), aopts);
  ASSERT_TRUE(report.is_ok());
  const nlohmann::json a = to_json(*report);
  EXPECT_EQ(a["images"], 10);
  ASSERT_EQ(a["values"].size(), 13u);
  const nlohmann::json& v = a["values"][1];
  for (const char* key : {"name", "producer", "op", "shape", "count", "min", "max", "mean", "std", "band3",
                          "percentiles", "histogram", "sample_size", "sampled"}) {
    EXPECT_TRUE(v.contains(key)) << key;
  }
  for (const char* p : {"0.01", "0.1", "1", "99", "99.9", "99.99"}) EXPECT_TRUE(v["percentiles"].contains(p)) << p;
  EXPECT_EQ(v["count"], 10 * 6 * 28 * 28);
}

}  // namespace
}  // namespace pocket
