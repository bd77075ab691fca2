// pocket stats: weight statistics of every Conv/Linear parameter and activation statistics of every
// value over calibration images (see include/pocket/stats.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pocket/data.hpp"
#include "pocket/onnx.hpp"
#include "pocket/stats.hpp"
#include "progress.hpp"

namespace pocket::cli {
namespace {

constexpr int kHistogramBins = 64;

struct StatsOptions {
  std::string model;
  std::string data;
  std::string normalize;
  int64_t calib = 500;
  uint64_t seed = 0;
  int batch = 100;
  bool per_channel = false;
  bool json = false;
  bool no_activations = false;
};

std::string num(double v) { return fmt::format("{:.5g}", v); }
std::string pct(double v) { return fmt::format("{:.2f}%", v); }
std::string band_str(const SigmaBand& b) { return "[" + num(b.lo) + ", " + num(b.hi) + "]"; }

// A histogram as a line of block characters, bins merged to at most `width` columns; heights on a
// log scale (log(1 + count)), so that a spike (the zeros of a ReLU) does not flatten the rest; an
// empty column is a space, a non-empty one at least the lowest block.
std::string sparkline(const Histogram& h, size_t width = 32) {
  static const char* const kBlocks[] = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
  if (h.counts.empty()) return "";
  const size_t per = (h.counts.size() + width - 1) / width;
  std::vector<int64_t> cols;
  for (size_t i = 0; i < h.counts.size(); i += per) {
    int64_t sum = 0;
    for (size_t j = i; j < std::min(i + per, h.counts.size()); ++j) sum += h.counts[j];
    cols.push_back(sum);
  }
  const int64_t top = *std::max_element(cols.begin(), cols.end());
  std::string out;
  for (const int64_t c : cols) {
    if (c == 0 || top == 0) {
      out += ' ';
      continue;
    }
    const double level = std::log1p(static_cast<double>(c)) / std::log1p(static_cast<double>(top));
    out += kBlocks[std::clamp(static_cast<int>(std::ceil(level * 8.0)) - 1, 0, 7)];
  }
  return out;
}

// Rows of cells printed as left-aligned columns (first column) and right-aligned numbers.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print() const {
    std::vector<size_t> width;
    for (const auto& row : rows_) {
      width.resize(std::max(width.size(), row.size()), 0);
      for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], display_width(row[c]));
    }
    for (const auto& row : rows_) {
      std::string line;
      for (size_t c = 0; c < row.size(); ++c) {
        const std::string pad(width[c] - display_width(row[c]), ' ');
        line += c == 0 ? row[c] + pad : "  " + pad + row[c];
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      std::printf("%s\n", line.c_str());
    }
  }

 private:
  static size_t display_width(const std::string& s) {  // UTF-8 code points
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
  }
  std::vector<std::vector<std::string>> rows_;
};

void print_weights(const std::vector<WeightStats>& weights) {
  std::printf("weights: %zu Conv/Linear parameter tensors; outside = share of values beyond mu +- k sigma\n\n",
              weights.size());
  Table t({"tensor", "node", "shape", "count", "min", "max", "mean", "std", "out 1s", "out 2s", "out 3s"});
  const auto add = [&](const std::string& name, const std::string& node, const std::string& shape, const DistributionStats& d) {
    t.add({name, node, shape, std::to_string(d.summary.count), num(d.summary.min), num(d.summary.max), num(d.summary.mean),
           num(d.summary.stddev), pct(d.bands[0].percent_outside), pct(d.bands[1].percent_outside),
           pct(d.bands[2].percent_outside)});
  };
  for (const WeightStats& w : weights) {
    add(w.name, w.node, shape_str(w.shape), w.all);
    for (size_t c = 0; c < w.channels.size(); ++c) add("  channel " + std::to_string(c), "", "", w.channels[c]);
  }
  t.print();

  std::printf("\nweight ranges mu +- k sigma, and histograms over [min, max] (log scale)\n\n");
  Table r({"tensor", "mu +- 1 sigma", "mu +- 2 sigma", "mu +- 3 sigma", "histogram"});
  for (const WeightStats& w : weights) {
    r.add({w.name, band_str(w.all.bands[0]), band_str(w.all.bands[1]), band_str(w.all.bands[2]), sparkline(w.all.histogram)});
  }
  r.print();
}

void print_activations(const ActivationReport& report, double seconds) {
  std::printf("\nactivations: %lld calibration images (training split, stratified, seed %llu, %.2fs)\n\n",
              static_cast<long long>(report.images), static_cast<unsigned long long>(report.seed), seconds);
  Table t({"value", "op", "shape", "count", "min", "max", "mean", "std", "mu +- 3 sigma"});
  for (const ActivationStats& a : report.values) {
    t.add({a.name, a.op, shape_str(a.shape), std::to_string(a.summary.count), num(a.summary.min), num(a.summary.max),
           num(a.summary.mean), num(a.summary.stddev), band_str(a.band3)});
  }
  t.print();
  bool any_sampled = false;
  std::vector<std::string> header{"value"};
  for (const double p : kActivationPercentiles) header.push_back(fmt::format("p{}", p));
  header.push_back("histogram");
  Table p(header);
  for (const ActivationStats& a : report.values) {
    std::vector<std::string> row{a.name + (a.sampled ? " *" : "")};
    for (const double v : a.percentiles) row.push_back(num(v));
    row.push_back(sparkline(a.histogram));
    p.add(std::move(row));
    any_sampled = any_sampled || a.sampled;
  }
  std::printf("\nactivation percentiles and histograms over [min, max] (log scale)\n\n");
  p.print();
  if (any_sampled) {
    std::printf("\n* more values than kept: percentiles and histogram from a uniform sample of %zu values\n",
                kDefaultSampleCap);
  }
}

void run_stats(const StatsOptions& o) {
  const char* cmd = "stats";
  auto graph = load_onnx(o.model);
  if (!graph) return fail(cmd, graph.message());
  if (!o.normalize.empty()) {
    auto n = Normalization::parse(o.normalize);
    if (!n) return fail(cmd, n.message());
    graph->normalization = *n;
  }
  const bool activations = !o.no_activations;
  if (activations && o.calib < 1) {
    return fail(cmd, "--calib must be at least 1 (calibration images for the activation statistics; got " +
                         std::to_string(o.calib) + "); use --no-activations for weight statistics only");
  }
  if (activations && !graph->normalization.known()) {
    return fail(cmd, o.model + " does not record its input normalisation, which the activation statistics need: pass "
                               "--normalize lab|unit|raw|R,G,B/R,G,B, record it with `pocket import " + o.model +
                               " --normalize ... --out OUT.onnx`, or use --no-activations");
  }
  WeightStatsOptions wopts;
  wopts.per_channel = o.per_channel;
  wopts.histogram_bins = kHistogramBins;
  const std::vector<WeightStats> weights = weight_stats(*graph, wopts);

  ActivationReport report;
  double seconds = 0.0;
  if (activations) {
    const auto start = std::chrono::steady_clock::now();
    auto data = load_cifar10(resolve_data_dir(o.data), Split::Train);
    if (!data) return fail(cmd, data.message());
    ProgressLine line;
    ActivationStatsOptions aopts;
    aopts.images = o.calib;
    aopts.seed = o.seed;
    aopts.batch = o.batch;
    aopts.histogram_bins = kHistogramBins;
    aopts.progress = [&](int64_t done, int64_t total) {
      line.update(fmt::format("calibration: {}/{} images", done, total), done == total);
    };
    auto r = activation_stats(*graph, *data, aopts);
    if (!r) return fail(cmd, r.message());
    report = std::move(*r);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  if (o.json) {
    nlohmann::json j;
    j["model"] = o.model;
    j["normalization"] = graph->normalization.spec();
    j["per_channel"] = o.per_channel;
    j["weights"] = to_json(weights);
    if (activations) {
      j["activations"] = to_json(report);
      j["activations"]["seconds"] = seconds;
    } else {
      j["activations"] = nullptr;
    }
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("model %s (normalisation %s)\n\n", o.model.c_str(), graph->normalization.spec().c_str());
  print_weights(weights);
  if (activations) print_activations(report, seconds);
}

}  // namespace

void register_stats(CLI::App& app) {
  auto opts = std::make_shared<StatsOptions>();
  CLI::App* sub = app.add_subcommand(
      "stats", "Weight and activation statistics: ranges, mu +- k sigma and what falls outside, percentiles, histograms");
  sub->add_option("model", opts->model, "Model file (.onnx)")->required();
  sub->add_option("--calib", opts->calib, "Calibration images from the training split (stratified by class)")
      ->capture_default_str();
  sub->add_flag("--per-channel", opts->per_channel, "Also give weight statistics per output channel");
  sub->add_option("--seed", opts->seed, "Seed of the calibration sample")->capture_default_str();
  sub->add_option("--data", opts->data, "CIFAR-10 directory (default: $POCKET_DATA, else ./data/cifar-10-batches-bin)");
  sub->add_option("--normalize", opts->normalize,
                  "Input normalisation for models that do not record it: lab (x/127.5-1), unit (x/255), raw (0-255) "
                  "or R,G,B/R,G,B (mean/std on the 0-1 scale)");
  sub->add_option("--batch", opts->batch, "Images per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_flag("--json", opts->json, "Print one JSON object: model, normalization, weights, activations");
  sub->add_flag("--no-activations", opts->no_activations, "Weight statistics only (no data needed)");
  sub->callback([opts] { run_stats(*opts); });
}

}  // namespace pocket::cli
