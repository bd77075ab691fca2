#include "summaries.hpp"

#include <fmt/format.h>

#include <cmath>

namespace pocket::cli {

TrainConfig recipe_config(const std::string& recipe, bool& bias) {
  TrainConfig c;
  if (recipe == "lab") {
    bias = false;
    c.epochs = 2;
    c.batch = 4;
    c.lr = 0.001f;
    c.momentum = 0.9f;
    c.weight_decay = 0.0f;
    c.optimizer = OptimizerKind::Sgd;
    c.schedule = Schedule::Constant;
    c.augment.enabled = false;
  } else {
    bias = true;
    c.epochs = 10;
    c.batch = 32;
    c.lr = 0.02f;
    c.momentum = 0.9f;
    c.weight_decay = 5e-4f;
    c.optimizer = OptimizerKind::Sgd;
    c.schedule = Schedule::Cosine;
    c.augment.enabled = false;  // 10 epochs are too few for crop+flip to pay off on LeNet
  }
  return c;
}

nlohmann::json eval_json(const EvalResult& r, const std::vector<std::string>& names) {
  nlohmann::json j;
  j["accuracy"] = r.accuracy;
  j["images"] = r.images;
  j["correct"] = r.correct;
  j["seconds"] = r.seconds;
  j["per_class"] = nlohmann::json::object();
  for (size_t c = 0; c < r.per_class.size(); ++c) j["per_class"][c < names.size() ? names[c] : std::to_string(c)] = r.per_class[c];
  j["confusion"] = r.confusion;
  j["classes"] = names;
  return j;
}

namespace {

QuantConfig weights_only(int bits, bool per_channel, RangeSpec range) {
  QuantConfig c;
  c.weight_only = true;
  c.weight_bits = bits;
  c.per_channel = per_channel;
  c.weight_range = range;
  return c;
}

QuantConfig full(int wbits, RangeSpec wrange, RangeSpec arange) {
  QuantConfig c;
  c.weight_bits = wbits;
  c.per_channel = true;
  c.weight_range = wrange;
  c.act_range = arange;
  return c;
}

}  // namespace

std::vector<SweepRow> sweep_rows() {
  const RangeSpec minmax{RangeMethod::MinMax, 0}, mse{RangeMethod::Mse, 0}, kl{RangeMethod::Kl, 0};
  const RangeSpec pct{RangeMethod::Percentile, 99.99};
  return {
      {"w8 per-tensor minmax (weights only)", weights_only(8, false, minmax)},
      {"w8 per-tensor 3 sigma (weights only)", weights_only(8, false, {RangeMethod::Sigma, 3})},
      {"w8 per-tensor 2 sigma (weights only)", weights_only(8, false, {RangeMethod::Sigma, 2})},
      {"w8 per-tensor 1 sigma (weights only)", weights_only(8, false, {RangeMethod::Sigma, 1})},
      {"w8 per-channel minmax (weights only)", weights_only(8, true, minmax)},
      {"w8 per-channel mse (weights only)", weights_only(8, true, mse)},
      {"w8 per-channel kl (weights only)", weights_only(8, true, kl)},
      {"w8 per-channel percentile:99.99 (weights only)", weights_only(8, true, pct)},
      {"w8 per-channel minmax, a8 minmax", full(8, minmax, minmax)},
      {"w8 per-channel minmax, a8 percentile:99.99", full(8, minmax, pct)},
      {"w8 per-channel minmax, a8 mse", full(8, minmax, mse)},
      {"w8 per-channel minmax, a8 kl", full(8, minmax, kl)},
      {"w4 per-channel minmax, a8 percentile:99.99", full(4, minmax, pct)},
      {"w4 per-channel mse, a8 percentile:99.99", full(4, mse, pct)},
  };
}

Result<nlohmann::json> run_sweep(const Graph& original, const Graph& prepared, const std::vector<SweepRow>& table,
                                 const QuantOptions& q, const std::string& model_path, const Calibration& calibration,
                                 const Dataset& test, const EvalResult& base,
                                 const std::function<void(size_t, size_t, const std::string&)>& progress) {
  nlohmann::json rows = nlohmann::json::array();
  rows.push_back({{"name", "float (no quantization)"}, {"accuracy", base.accuracy}, {"drop", 0.0},
                  {"clipped_weights_percent", 0.0}, {"agreement", 100.0}, {"footprint", footprint_json(footprint(prepared))}});
  for (size_t i = 0; i < table.size(); ++i) {
    const SweepRow& r = table[i];
    if (progress) progress(i, table.size(), r.name);
    QuantConfig c = r.config;
    c.calib_images = q.calib;
    c.calib_seed = q.seed;
    auto m = quantize_with_calibration(original, prepared, c, q, model_path, &calibration);
    if (!m) return Error{r.name + ": " + m.message()};
    auto e = evaluate_fake_quant(*m, test, base.predictions);
    if (!e) return Error{r.name + ": " + e.message()};
    int64_t clipped = 0, count = 0;
    for (const auto& [name, t] : m->weights) {
      clipped += t.clipped;
      count += t.count;
    }
    rows.push_back({{"name", r.name},
                    {"config", c.describe()},
                    {"accuracy", e->eval.accuracy},
                    {"drop", base.accuracy - e->eval.accuracy},
                    {"clipped_weights_percent", count ? 100.0 * static_cast<double>(clipped) / static_cast<double>(count) : 0.0},
                    {"agreement", e->agreement},
                    {"footprint", footprint_json(footprint(*m))}});
  }
  return rows;
}

std::string group_listing(const Graph& g) {
  std::string s;
  for (const QuantGroup& grp : quant_groups(g)) {
    std::string ops, names;
    for (size_t i = 0; i < grp.nodes.size(); ++i) {
      const Node& n = g.nodes[static_cast<size_t>(grp.nodes[i])];
      if (i) {
        ops += '+';
        names += ", ";
      }
      ops += op_name(n.kind);
      names += n.name;
    }
    s += fmt::format("  {:<28} {:<20} -> {}{}\n", ops, names, g.values[static_cast<size_t>(grp.output)].name,
                     grp.own_params ? "  (quantized here)" : "  (keeps its input's scale)");
  }
  return s;
}

namespace {

// JSON has no infinity: an error-free layer's SQNR is null.
nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json stats_json(const engine::ErrorStats& s) {
  if (s.count == 0) return nullptr;
  return {{"sqnr_db", number_or_null(s.sqnr_db())}, {"cosine", s.cosine()}, {"elements", s.count}};
}

}  // namespace

nlohmann::json qerror_layers_json(const engine::QuantErrorReport& report) {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t rank = 0; rank < report.ranking.size(); ++rank) {
    const engine::LayerError& e = report.layers[report.ranking[rank]];
    layers.push_back({{"rank", rank + 1},
                      {"index", e.layer},
                      {"name", e.name},
                      {"ops", e.ops},
                      {"kind", engine::layer_kind_name(e.kind)},
                      {"isolated", stats_json(e.isolated)},
                      {"cumulative", stats_json(e.cumulative)}});
  }
  return layers;
}

nlohmann::json codegen_footprint_json(const codegen::Footprint& f) {
  nlohmann::json layers = nlohmann::json::array();
  for (const codegen::LayerCost& c : f.layers) {
    layers.push_back({{"index", c.index},
                      {"name", c.name},
                      {"kind", c.kind},
                      {"ops", c.ops},
                      {"kernel", c.kernel},
                      {"macs", c.macs},
                      {"weight_bytes", c.weight_bytes},
                      {"bias_bytes", c.bias_bytes},
                      {"param_bytes", c.param_bytes},
                      {"struct_bytes", c.struct_bytes},
                      {"activation_bytes", c.activation_bytes},
                      {"input_offsets", c.input_offsets},
                      {"output_offset", c.output_offset}});
  }
  nlohmann::json totals = {{"macs", f.macs},
                           {"weight_bytes", f.weight_bytes},
                           {"bias_bytes", f.bias_bytes},
                           {"param_bytes", f.param_bytes},
                           {"struct_bytes", f.struct_bytes},
                           {"flash_bytes", f.flash_bytes()},
                           {"arena_bytes", f.arena_bytes},
                           {"arena_lower_bound", f.arena_lower_bound},
                           {"arena_equals_lower_bound", f.arena_bytes == f.arena_lower_bound},
                           {"arena_method", f.arena_method},
                           {"scratch_bytes", f.scratch_bytes},
                           {"ram_bytes", f.ram_bytes()}};
  return {{"layers", layers}, {"totals", totals}};
}

}  // namespace pocket::cli
