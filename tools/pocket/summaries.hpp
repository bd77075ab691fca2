// JSON and text summaries shared by the subcommands and `pocket lab`, so that the lab's
// results.json holds exactly the numbers `pocket eval/sweep/qerror/quantize --json` print.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model_loading.hpp"
#include "pocket/codegen.hpp"
#include "pocket/engine.hpp"
#include "pocket/quant.hpp"
#include "pocket/train.hpp"

namespace pocket::cli {

// The training recipes of `pocket train --recipe` and `pocket lab`: "lab" is the lab's own
// (PyTorch tutorial) recipe, without bias; "default" is ours, with bias. Sets `bias`.
TrainConfig recipe_config(const std::string& recipe, bool& bias);

// accuracy, images, correct, seconds, per_class {name: percent}, confusion, classes.
nlohmann::json eval_json(const EvalResult& r, const std::vector<std::string>& class_names);

// One row of the lab's quantization table (pocket sweep).
struct SweepRow {
  std::string name;
  QuantConfig config;
};
// none/minmax, 3/2/1 sigma per tensor (weights only), then the better options.
std::vector<SweepRow> sweep_rows();
// The float row then one row per `rows` entry: {name, config, accuracy, drop,
// clipped_weights_percent, agreement, footprint}, each quantized with `calibration` and evaluated
// (fake-quantized) on `test` against the float predictions of `base`. `progress(i, n, name)` is
// called before row i (0-based).
Result<nlohmann::json> run_sweep(const Graph& original, const Graph& prepared, const std::vector<SweepRow>& rows,
                                 const QuantOptions& q, const std::string& model_path, const Calibration& calibration,
                                 const Dataset& test, const EvalResult& base,
                                 const std::function<void(size_t, size_t, const std::string&)>& progress = {});

// The fused integer layers: "  Conv+Relu+MaxPool  conv1, relu1, pool1  -> value  (quantized here)".
std::string group_listing(const Graph& prepared);

// Per layer, worst first: {rank, index, name, ops, kind, isolated, cumulative} with
// {sqnr_db (null: no error), cosine, elements} or null.
nlohmann::json qerror_layers_json(const engine::QuantErrorReport& report);

// `pocket gen --json`'s cost report: {layers: [per layer MACs, bytes, arena offsets], totals:
// {macs, weight/bias/param/struct/flash bytes, arena_bytes, arena_lower_bound, ..., ram_bytes}}.
nlohmann::json codegen_footprint_json(const codegen::Footprint& f);

}  // namespace pocket::cli
