// The independent check of the weight statistics: tests/quant/weight_stats.py computes them with
// numpy straight from the ONNX initializers (no pocket code involved); pocket's weight_stats on the
// imported graph must agree: counts, min, max and the counts outside mu +- k sigma exactly, the
// percentages exactly (the same count over the same total), mu, sigma and the band bounds within
// 1e-6 relative. Per tensor and per output channel.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "pocket/models.hpp"
#include "pocket/onnx.hpp"
#include "pocket/stats.hpp"
#include "support/test_env.hpp"

namespace pocket {
namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }

nlohmann::json python_stats(const std::string& model) {
  const std::string script = test::source_dir() + "/tests/quant/weight_stats.py";
  std::string out;
  const int rc = test::run_command("/usr/bin/python3 " + q(script) + " " + q(model), &out);
  EXPECT_EQ(rc, 0) << out;
  const auto start = out.find("{\"tensors\"");
  EXPECT_NE(start, std::string::npos) << out;
  if (start == std::string::npos) return {};
  return nlohmann::json::parse(out.substr(start), nullptr, false);
}

void expect_close(double got, double want, const std::string& what) {
  EXPECT_LE(std::fabs(got - want), 1e-6 * std::max(std::fabs(want), 1e-30)) << what << ": " << got << " vs " << want;
}

// Returns the number of band counts compared that were non-zero (to show the check has teeth).
int compare(const DistributionStats& got, const nlohmann::json& want, const std::string& what) {
  EXPECT_EQ(got.summary.count, want["count"].get<int64_t>()) << what;
  EXPECT_EQ(got.summary.min, want["min"].get<double>()) << what;
  EXPECT_EQ(got.summary.max, want["max"].get<double>()) << what;
  expect_close(got.summary.mean, want["mean"].get<double>(), what + " mean");
  expect_close(got.summary.stddev, want["std"].get<double>(), what + " std");
  int nonzero = 0;
  for (size_t b = 0; b < 3; ++b) {
    const nlohmann::json& wb = want["bands"][b];
    const SigmaBand& gb = got.bands[b];
    const std::string where = what + " k=" + std::to_string(b + 1);
    EXPECT_EQ(gb.k, wb["k"].get<int>()) << where;
    expect_close(gb.lo, wb["lo"].get<double>(), where + " lo");
    expect_close(gb.hi, wb["hi"].get<double>(), where + " hi");
    EXPECT_EQ(gb.outside, wb["outside"].get<int64_t>()) << where;
    EXPECT_EQ(gb.percent_outside, wb["percent_outside"].get<double>()) << where;
    nonzero += gb.outside > 0 ? 1 : 0;
  }
  return nonzero;
}

int check_model(const std::string& path, size_t expected_tensors) {
  SCOPED_TRACE(path);
  const nlohmann::json py = python_stats(path);
  if (py.is_discarded() || !py.contains("tensors")) {
    ADD_FAILURE() << "no JSON from weight_stats.py";
    return 0;
  }
  auto graph = load_onnx(path);
  EXPECT_TRUE(graph.is_ok()) << graph.message();
  if (!graph) return 0;
  WeightStatsOptions opts;
  opts.per_channel = true;
  const std::vector<WeightStats> ours = weight_stats(*graph, opts);
  EXPECT_EQ(ours.size(), expected_tensors);
  EXPECT_EQ(py["tensors"].size(), expected_tensors);
  std::map<std::string, const WeightStats*> by_name;
  for (const WeightStats& w : ours) by_name[w.name] = &w;
  int nonzero = 0;
  for (const nlohmann::json& t : py["tensors"]) {
    const std::string name = t["name"].get<std::string>();
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      ADD_FAILURE() << "pocket has no statistics for initializer '" << name << "'";
      continue;
    }
    const WeightStats& w = *it->second;
    EXPECT_EQ(w.role, t["role"].get<std::string>()) << name;
    nonzero += compare(w.all, t, name);
    const size_t want_channels = t.contains("channels") ? t["channels"].size() : 0;
    EXPECT_EQ(w.channels.size(), want_channels) << name;
    EXPECT_EQ(want_channels, w.role == "weight" ? static_cast<size_t>(w.shape[0]) : 0u) << name;
    for (size_t c = 0; c < w.channels.size() && c < want_channels; ++c) {
      nonzero += compare(w.channels[c], t["channels"][c], name + " channel " + std::to_string(c));
    }
  }
  return nonzero;
}

std::string fixture(const std::string& name) { return test::fixtures_dir() + "/" + name; }

TEST(WeightStatsIndependent, LenetNoBias) { EXPECT_GT(check_model(fixture("lenet_nobias.onnx"), 5), 0); }
TEST(WeightStatsIndependent, LenetBias) { EXPECT_GT(check_model(fixture("lenet_bias.onnx"), 10), 0); }
TEST(WeightStatsIndependent, ResBlockWithBatchNorm) { EXPECT_GT(check_model(fixture("resblock_bn.onnx"), 7), 0); }
TEST(WeightStatsIndependent, DepthwiseSeparable) { EXPECT_GT(check_model(fixture("dwsep.onnx"), 8), 0); }

// The fixtures hold uniform initial weights, which never reach 2 sigma. A heavy-tailed model
// (Laplace-like weights with a few outliers, as after training) exercises every band.
TEST(WeightStatsIndependent, HeavyTailedWeights) {
  Graph g = make_lenet(true, 11);
  Rng rng(12);
  for (Value& v : g.values) {
    if (v.kind != ValueKind::Param) continue;
    for (float& x : v.init.data) {
      const float u = rng.uniform() - 0.5f;
      x = 0.05f * (u < 0 ? std::log(1.0f + 2.0f * u) : -std::log(1.0f - 2.0f * u));
    }
    v.init.data[v.init.data.size() / 2] = 1.5f;  // an outlier per tensor
  }
  const std::string path = test::temp_dir() + "/heavy_tailed.onnx";
  ASSERT_TRUE(save_onnx(g, path).is_ok());
  const int nonzero = check_model(path, 10);
  EXPECT_GT(nonzero, 200);  // 1, 2 and 3 sigma bands of most tensors and channels have values outside
}

}  // namespace
}  // namespace pocket
