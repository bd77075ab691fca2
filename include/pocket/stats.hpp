// Statistics of a model: its Conv/Linear parameters and its activations on calibration images.
// What `pocket stats` prints; the numbers behind the lab's questions "what are the ranges, how far
// do mu +- k sigma reach, how much falls outside".
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "pocket/data.hpp"
#include "pocket/graph.hpp"
#include "pocket/ranges.hpp"
#include "pocket/status.hpp"

namespace pocket {

// mu +- k sigma and what lies outside it (strictly below lo or above hi).
struct SigmaBand {
  int k = 0;
  double lo = 0.0;
  double hi = 0.0;
  int64_t outside = 0;           // count of finite values outside [lo, hi]
  double percent_outside = 0.0;  // 100 * outside / finite values
};

// Summary, the bands for k = 1, 2, 3 and a histogram over [min, max].
struct DistributionStats {
  Summary summary;
  std::array<SigmaBand, 3> bands{};
  Histogram histogram;
};
DistributionStats describe_distribution(std::span<const float> values, int histogram_bins = 64);

// ---------------------------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------------------------

struct WeightStats {
  std::string name;  // the parameter's value name (the ONNX initializer name)
  std::string node;  // the first node using it
  OpKind op = OpKind::Conv;
  std::string role;  // "weight" or "bias"
  Shape shape;       // as stored in the graph (Linear: [out, in], Conv: [O, C/groups, kh, kw])
  DistributionStats all;
  std::vector<DistributionStats> channels;  // weights: per output channel (dim 0), if asked for
};

struct WeightStatsOptions {
  bool per_channel = false;  // also per output channel, for weights (a bias has one value per channel)
  int histogram_bins = 64;
};

// One entry per Conv or Linear parameter (weights and biases separately), in node order; a
// parameter shared by several nodes is listed once.
std::vector<WeightStats> weight_stats(const Graph& graph, const WeightStatsOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------------------------

// The percentiles reported for every activation.
inline constexpr std::array<double, 6> kActivationPercentiles{0.01, 0.1, 1.0, 99.0, 99.9, 99.99};

struct ActivationStatsOptions {
  int64_t images = 500;  // calibration images, stratified_sample of the dataset (training split)
  uint64_t seed = 0;     // of the sample and of the observers' reservoirs
  int batch = 100;       // images per forward pass
  int histogram_bins = 64;
  size_t sample_cap = kDefaultSampleCap;  // values kept per tensor for percentiles/histograms
  // Called after every batch with (images done, images in total).
  std::function<void(int64_t done, int64_t total)> progress;
};

// The observed values: the graph input and every node output, in graph order.
struct ActivationObservation {
  std::vector<int> values;  // value ids
  std::vector<Observer> observers;
  int64_t images = 0;
};

// Runs the float graph on `options.images` images drawn with stratified_sample(data, images, seed),
// normalised with graph.normalization, in batches, and observes every value after each batch.
// Errors: unknown normalisation, an input that is not [N, 3, 32, 32], a dataset too small.
Result<ActivationObservation> observe_activations(const Graph& graph, const Dataset& data,
                                                  const ActivationStatsOptions& options);

struct ActivationStats {
  int value = -1;
  std::string name;      // the value's name
  std::string producer;  // the node computing it ("" for the graph input)
  std::string op;        // the producer's op name, "Input" for the graph input
  Shape shape;           // for batch 1
  Summary summary;       // exact, over every value of every image
  SigmaBand band3;       // mu +- 3 sigma; outside/percent_outside over the sample (see below)
  std::vector<double> percentiles;  // at kActivationPercentiles
  Histogram histogram;              // over [min, max]
  // Percentiles, the histogram and band3's outside count are computed on the observer's sample:
  // every value unless `sampled` (then a uniform reservoir sample of sample_size values).
  int64_t sample_size = 0;
  bool sampled = false;
};

struct ActivationReport {
  int64_t images = 0;
  uint64_t seed = 0;
  std::string split = "train";
  std::vector<ActivationStats> values;
};

Result<ActivationReport> activation_stats(const Graph& graph, const Dataset& data,
                                          const ActivationStatsOptions& options);
ActivationStats describe_activation(const Graph& graph, int value, const Observer& observer, int histogram_bins = 64);

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

// DistributionStats: {count, nan, inf, min, max, mean, std,
//                     bands: [{k, lo, hi, outside, percent_outside} x3], histogram: {lo, hi, counts}}
// WeightStats: {name, node, op, role, shape, ...DistributionStats, channels: [DistributionStats]}
//              (channels only for weights with the per-channel option)
// ActivationStats: {name, producer, op, shape, count, nan, inf, min, max, mean, std,
//                   band3: {...}, percentiles: {"0.01": v, ...}, histogram, sample_size, sampled}
// ActivationReport: {images, seed, split, values: [ActivationStats]}
nlohmann::json to_json(const DistributionStats& stats);
nlohmann::json to_json(const WeightStats& stats);
nlohmann::json to_json(const std::vector<WeightStats>& stats);
nlohmann::json to_json(const ActivationStats& stats);
nlohmann::json to_json(const ActivationReport& report);

}  // namespace pocket
