// Shared by the commands that load models, calibrate and quantize.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "pocket/graph.hpp"
#include "pocket/quant.hpp"

namespace pocket::cli {

// Loads a float ONNX model; `normalize` (a --normalize value, may be empty) overrides or supplies
// its input normalisation. With `need_normalization`, a model without one is an error that says
// what to pass.
Result<Graph> load_float_model(const std::string& path, const std::string& normalize, bool need_normalization = true);

// The quantization options every quantizing command accepts.
struct QuantOptions {
  int weight_bits = 8;
  bool per_tensor = false;
  std::string weight_range = "minmax";
  int act_bits = 8;
  bool act_symmetric = false;
  std::string act_range = "percentile:99.99";
  bool weight_only = false;
  int64_t calib = 500;
  std::string calib_dir;
  uint64_t seed = 1;
  std::string data;
  std::string normalize;
  Result<QuantConfig> config() const;
};
void add_quant_options(CLI::App& sub, QuantOptions& q);

// Loads the calibration images named by `q` and calibrates `prepared`.
Result<Calibration> calibration_for(const Graph& prepared, const QuantOptions& q);

// Calibrates (unless weight-only) and quantizes; records provenance (source file and its
// SHA-256, command line, tool version, calibration).
Result<QModel> quantize_with_calibration(const Graph& original, const Graph& prepared, const QuantConfig& config,
                                         const QuantOptions& q, const std::string& source_path,
                                         const Calibration* calibration = nullptr);

// Every quantization parameter and the footprint, as JSON.
nlohmann::json qmodel_summary_json(const QModel& model);
nlohmann::json footprint_json(const Footprint& f);

}  // namespace pocket::cli
