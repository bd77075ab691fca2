// Weight and activation statistics of a model. See include/pocket/stats.hpp.
#include "pocket/stats.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "pocket/executor.hpp"

namespace pocket {
namespace {

std::string short_number(double v) {
  std::array<char, 64> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), r.ptr);
}

SigmaBand band(std::span<const float> values, const Summary& s, int k) {
  SigmaBand b;
  b.k = k;
  b.lo = s.mean - k * s.stddev;
  b.hi = s.mean + k * s.stddev;
  b.outside = count_outside(values, b.lo, b.hi);
  const int64_t n = s.finite();
  b.percent_outside = n > 0 ? 100.0 * static_cast<double>(b.outside) / static_cast<double>(n) : 0.0;
  return b;
}

Histogram histogram_over(std::span<const float> values, const Summary& s, int bins) {
  return make_histogram(values, bins, s.min, s.max);
}

}  // namespace

DistributionStats describe_distribution(std::span<const float> values, int histogram_bins) {
  DistributionStats d;
  d.summary = summarize(values);
  for (int k = 1; k <= 3; ++k) d.bands[static_cast<size_t>(k - 1)] = band(values, d.summary, k);
  d.histogram = histogram_over(values, d.summary, histogram_bins);
  return d;
}

std::vector<WeightStats> weight_stats(const Graph& graph, const WeightStatsOptions& options) {
  std::vector<WeightStats> out;
  std::set<int> seen;
  for (const Node& node : graph.nodes) {
    if (node.kind != OpKind::Conv && node.kind != OpKind::Linear) continue;
    for (size_t slot = 1; slot < node.inputs.size() && slot <= 2; ++slot) {
      const int id = node.inputs[slot];
      const Value& v = graph.values.at(static_cast<size_t>(id));
      if (v.kind != ValueKind::Param || !seen.insert(id).second) continue;
      WeightStats w;
      w.name = v.name;
      w.node = node.name;
      w.op = node.kind;
      w.role = slot == 1 ? "weight" : "bias";
      w.shape = v.init.shape;
      const std::span<const float> data(v.init.data);
      w.all = describe_distribution(data, options.histogram_bins);
      if (options.per_channel && slot == 1 && !w.shape.empty() && w.shape[0] > 0) {
        const auto channels = static_cast<size_t>(w.shape[0]);
        const size_t per_channel = data.size() / channels;
        for (size_t c = 0; c < channels; ++c) {
          w.channels.push_back(describe_distribution(data.subspan(c * per_channel, per_channel), options.histogram_bins));
        }
      }
      out.push_back(std::move(w));
    }
  }
  return out;
}

Result<ActivationObservation> observe_activations(const Graph& graph, const Dataset& data,
                                                  const ActivationStatsOptions& options) {
  if (!graph.normalization.known()) {
    return Error{"the model's input normalisation is unknown; set it (lab, unit, raw or mean/std) before computing "
                 "activation statistics"};
  }
  const Shape want{1, kCifarChannels, kCifarSide, kCifarSide};
  if (graph.input_shape() != want) {
    return Error{"activation statistics feed CIFAR-10 images " + shape_str(want) + ", but the model's input is " +
                 shape_str(graph.input_shape())};
  }
  if (options.batch < 1) return Error{"the batch size must be at least 1"};
  POCKET_ASSIGN_OR_RETURN(const std::vector<int64_t> indices, stratified_sample(data, options.images, options.seed));

  ActivationObservation obs;
  obs.values.push_back(graph.input);
  for (const Node& n : graph.nodes) obs.values.push_back(n.output);
  obs.observers.reserve(obs.values.size());
  for (size_t i = 0; i < obs.values.size(); ++i) {
    // An independent reservoir stream per observed value, derived from the seed.
    obs.observers.emplace_back(options.sample_cap, Rng(options.seed).split(1000 + static_cast<uint64_t>(i)).next_u64());
  }

  Executor executor(graph);
  Tensor batch;
  const auto total = static_cast<int64_t>(indices.size());
  for (int64_t start = 0; start < total; start += options.batch) {
    const int64_t count = std::min<int64_t>(options.batch, total - start);
    const std::span<const int64_t> chunk(indices.data() + start, static_cast<size_t>(count));
    make_batch(data, chunk, graph.normalization, batch);
    auto ran = executor.run(batch);
    if (!ran) return Error{ran.message()};
    for (size_t i = 0; i < obs.values.size(); ++i) {
      obs.observers[i].add(executor.value(obs.values[i]).data);
    }
    if (options.progress) options.progress(start + count, total);
  }
  obs.images = total;
  return obs;
}

ActivationStats describe_activation(const Graph& graph, int value, const Observer& observer, int histogram_bins) {
  ActivationStats a;
  a.value = value;
  const Value& v = graph.values.at(static_cast<size_t>(value));
  a.name = v.name;
  a.shape = v.shape;
  a.op = "Input";
  for (const Node& n : graph.nodes) {
    if (n.output == value) {
      a.producer = n.name;
      a.op = op_name(n.kind);
      break;
    }
  }
  a.summary = observer.summary();
  const std::span<const float> sample = observer.sample();
  a.sample_size = static_cast<int64_t>(sample.size());
  a.sampled = observer.sampled();
  a.band3.k = 3;
  a.band3.lo = a.summary.mean - 3.0 * a.summary.stddev;
  a.band3.hi = a.summary.mean + 3.0 * a.summary.stddev;
  a.band3.outside = count_outside(sample, a.band3.lo, a.band3.hi);
  a.band3.percent_outside =
      sample.empty() ? 0.0 : 100.0 * static_cast<double>(a.band3.outside) / static_cast<double>(sample.size());
  if (!sample.empty()) a.percentiles = percentiles(sample, kActivationPercentiles);
  a.histogram = make_histogram(sample, histogram_bins, a.summary.min, a.summary.max);
  return a;
}

Result<ActivationReport> activation_stats(const Graph& graph, const Dataset& data,
                                          const ActivationStatsOptions& options) {
  POCKET_ASSIGN_OR_RETURN(const ActivationObservation obs, observe_activations(graph, data, options));
  ActivationReport report;
  report.images = obs.images;
  report.seed = options.seed;
  for (size_t i = 0; i < obs.values.size(); ++i) {
    report.values.push_back(describe_activation(graph, obs.values[i], obs.observers[i], options.histogram_bins));
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

namespace {

void put_summary(nlohmann::json& j, const Summary& s) {
  j["count"] = s.count;
  j["nan"] = s.nan;
  j["inf"] = s.inf;
  j["min"] = s.min;
  j["max"] = s.max;
  j["mean"] = s.mean;
  j["std"] = s.stddev;
}

nlohmann::json band_json(const SigmaBand& b) {
  return {{"k", b.k}, {"lo", b.lo}, {"hi", b.hi}, {"outside", b.outside}, {"percent_outside", b.percent_outside}};
}

nlohmann::json histogram_json(const Histogram& h) { return {{"lo", h.lo}, {"hi", h.hi}, {"counts", h.counts}}; }

}  // namespace

nlohmann::json to_json(const DistributionStats& stats) {
  nlohmann::json j = nlohmann::json::object();
  put_summary(j, stats.summary);
  j["bands"] = nlohmann::json::array();
  for (const SigmaBand& b : stats.bands) j["bands"].push_back(band_json(b));
  j["histogram"] = histogram_json(stats.histogram);
  return j;
}

nlohmann::json to_json(const WeightStats& stats) {
  nlohmann::json j = to_json(stats.all);
  j["name"] = stats.name;
  j["node"] = stats.node;
  j["op"] = op_name(stats.op);
  j["role"] = stats.role;
  j["shape"] = stats.shape;
  if (!stats.channels.empty()) {
    j["channels"] = nlohmann::json::array();
    for (const DistributionStats& c : stats.channels) j["channels"].push_back(to_json(c));
  }
  return j;
}

nlohmann::json to_json(const std::vector<WeightStats>& stats) {
  nlohmann::json j = nlohmann::json::array();
  for (const WeightStats& w : stats) j.push_back(to_json(w));
  return j;
}

nlohmann::json to_json(const ActivationStats& stats) {
  nlohmann::json j = nlohmann::json::object();
  j["name"] = stats.name;
  j["producer"] = stats.producer;
  j["op"] = stats.op;
  j["shape"] = stats.shape;
  put_summary(j, stats.summary);
  j["band3"] = band_json(stats.band3);
  j["percentiles"] = nlohmann::json::object();
  for (size_t i = 0; i < stats.percentiles.size() && i < kActivationPercentiles.size(); ++i) {
    j["percentiles"][short_number(kActivationPercentiles[i])] = stats.percentiles[i];
  }
  j["histogram"] = histogram_json(stats.histogram);
  j["sample_size"] = stats.sample_size;
  j["sampled"] = stats.sampled;
  return j;
}

nlohmann::json to_json(const ActivationReport& report) {
  nlohmann::json j = nlohmann::json::object();
  j["images"] = report.images;
  j["seed"] = report.seed;
  j["split"] = report.split;
  j["values"] = nlohmann::json::array();
  for (const ActivationStats& a : report.values) j["values"].push_back(to_json(a));
  return j;
}

}  // namespace pocket
