#include "model_loading.hpp"

#include "commands.hpp"
#include "pocket/data.hpp"
#include "pocket/fileio.hpp"
#include "pocket/onnx.hpp"
#include "pocket/quant_json.hpp"

namespace pocket::cli {

Result<Graph> load_float_model(const std::string& path, const std::string& normalize, bool need_normalization) {
  auto graph = load_onnx(path);
  if (!graph) return Error{graph.message()};
  if (!normalize.empty()) {
    auto n = Normalization::parse(normalize);
    if (!n) return Error{n.message()};
    graph->normalization = *n;
  }
  if (need_normalization && !graph->normalization.known()) {
    return Error{path + " does not record its input normalisation (ONNX files exported by PyTorch do not): pass "
                        "--normalize lab|unit|raw|R,G,B/R,G,B, or record it once with `pocket import " +
                 path + " --normalize ... --out OUT.onnx`"};
  }
  return graph;
}

Result<QuantConfig> QuantOptions::config() const {
  QuantConfig c;
  c.weight_bits = weight_bits;
  c.per_channel = !per_tensor;
  auto wr = RangeSpec::parse(weight_range);
  if (!wr) return Error{"--weight-range: " + wr.message()};
  c.weight_range = *wr;
  c.act_bits = act_bits;
  c.act_symmetric = act_symmetric;
  auto ar = RangeSpec::parse(act_range);
  if (!ar) return Error{"--act-range: " + ar.message()};
  c.act_range = *ar;
  c.weight_only = weight_only;
  c.calib_images = calib;
  c.calib_seed = seed;
  c.calib_dir = calib_dir;
  if (!weight_only && calib_dir.empty() && calib <= 0) {
    return Error{"--calib must be at least 1 (activation quantization needs calibration images)"};
  }
  return c;
}

void add_quant_options(CLI::App& sub, QuantOptions& q) {
  sub.add_option("--weight-bits", q.weight_bits, "Weight bits: 8, 4 or 2 (symmetric)")
      ->check(CLI::IsMember({8, 4, 2}))
      ->capture_default_str();
  sub.add_flag("--per-tensor", q.per_tensor, "One weight scale per tensor (the lab's way) instead of per output channel");
  sub.add_option("--weight-range", q.weight_range,
                 "Weight clipping range: minmax, sigma:K (mu +- K sigma), percentile:P, mse or kl")
      ->capture_default_str();
  sub.add_option("--act-bits", q.act_bits, "Activation bits: 8 or 16")->check(CLI::IsMember({8, 16}))->capture_default_str();
  sub.add_flag("--act-symmetric", q.act_symmetric, "Symmetric activations (zero point 0) instead of asymmetric");
  sub.add_option("--act-range", q.act_range, "Activation clipping range: minmax, sigma:K, percentile:P, mse or kl")
      ->capture_default_str();
  sub.add_flag("--weight-only", q.weight_only, "Quantize weights only; activations stay float (the lab's first stage)");
  sub.add_option("--calib", q.calib, "Calibration images, stratified by class from the training split")
      ->capture_default_str();
  sub.add_option("--calib-dir", q.calib_dir, "Calibrate with the PNG images (32x32) of this folder instead");
  sub.add_option("--seed", q.seed, "Seed of the calibration sample")->capture_default_str();
  sub.add_option("--data", q.data, "CIFAR-10 directory (default: $POCKET_DATA, else ./data/cifar-10-batches-bin)");
  sub.add_option("--normalize", q.normalize,
                 "Input normalisation for a model that does not record it: lab, unit, raw or R,G,B/R,G,B");
}

Result<Calibration> calibration_for(const Graph& prepared, const QuantOptions& q) {
  std::string description;
  auto images = load_calibration_images({resolve_data_dir(q.data), q.calib, q.seed, q.calib_dir}, &description);
  if (!images) return Error{images.message()};
  return calibrate(prepared, *images, description);
}

Result<QModel> quantize_with_calibration(const Graph& original, const Graph& prepared, const QuantConfig& config,
                                         const QuantOptions& q, const std::string& source_path,
                                         const Calibration* calibration) {
  Calibration local;
  if (!config.weight_only && !calibration) {
    auto cal = calibration_for(prepared, q);
    if (!cal) return Error{cal.message()};
    local = std::move(*cal);
    calibration = &local;
  }
  auto model = quantize(prepared, config, config.weight_only ? nullptr : calibration);
  if (!model) return Error{model.message()};
  auto bytes = read_file_bytes(source_path);
  model->provenance["source"] = source_path;
  model->provenance["source_sha256"] = bytes ? sha256_hex(bytes->data(), bytes->size()) : "unknown";
  model->provenance["source_producer"] = original.metadata.count("pocket.model") ? original.metadata.at("pocket.model") : "";
  model->provenance["command"] = command_line();
  model->provenance["tool"] = std::string("pocket ") + POCKET_VERSION;
  model->provenance["calibration"] = config.weight_only ? "none (weight-only)" : calibration->description;
  model->provenance["config"] = config.describe();
  return model;
}

nlohmann::json footprint_json(const Footprint& f) {
  return {{"weight_count", f.weight_count},
          {"bias_count", f.bias_count},
          {"float_weight_bytes", f.float_weight_bytes},
          {"float_bias_bytes", f.float_bias_bytes},
          {"float_total_bytes", f.float_total()},
          {"quant_weight_bytes", f.quant_weight_bytes},
          {"quant_bias_bytes", f.quant_bias_bytes},
          {"quant_param_bytes", f.quant_param_bytes},
          {"quant_total_bytes", f.quant_total()},
          {"ratio", static_cast<double>(f.float_total()) / static_cast<double>(std::max<int64_t>(1, f.quant_total()))}};
}

nlohmann::json qmodel_summary_json(const QModel& m) {
  nlohmann::json j;
  j["config"] = m.config.describe();
  j["provenance"] = m.provenance;
  j["activations"] = nlohmann::json::object();
  for (const auto& [name, t] : m.activations) j["activations"][name] = to_json(t);
  j["weights"] = nlohmann::json::object();
  for (const auto& [name, t] : m.weights) j["weights"][name] = to_json(t);
  j["footprint"] = footprint_json(footprint(m));
  return j;
}

}  // namespace pocket::cli
