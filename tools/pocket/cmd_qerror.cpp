// pocket qerror: per-layer quantization error of a quantized model on the integer engine.
#include <cmath>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pocket/data.hpp"
#include "pocket/engine.hpp"
#include "pocket/fileio.hpp"
#include "pocket/quant.hpp"
#include "summaries.hpp"

namespace pocket::cli {
namespace {

struct QErrorOptions {
  std::string model;
  std::string data;
  std::string split = "test";
  int64_t images = 100;
  std::string input;  // raw float32 inputs instead of CIFAR-10 images
  bool json = false;
  bool show_plan = false;
};

std::string db_str(const engine::ErrorStats& s) {
  if (s.count == 0) return "n/a";
  const double v = s.sqnr_db();
  if (!std::isfinite(v)) return v > 0 ? "exact" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string cos_str(const engine::ErrorStats& s) {
  if (s.count == 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", s.cosine());
  return buf;
}

void run_qerror(const QErrorOptions& o) {
  const char* cmd = "qerror";
  auto model = load_qmodel(o.model);
  if (!model) return fail(cmd, model.message());
  auto plan = engine::compile(*model);
  if (!plan) return fail(cmd, plan.message());
  Result<engine::QuantErrorReport> report = Error{"no inputs"};
  std::string source;
  if (!o.input.empty()) {
    auto values = read_f32_file(o.input);
    if (!values) return fail(cmd, values.message());
    Shape shape = model->graph.input_shape();
    const int64_t per = numel(shape);
    const auto count = static_cast<int64_t>(values->size());
    if (count == 0 || count % per != 0) {
      return fail(cmd, o.input + ": " + std::to_string(count) + " floats is not a whole number of samples of " +
                           shape_str(shape));
    }
    shape[0] = count / per;
    report = engine::quantization_error(*model, *plan, Tensor(shape, std::move(*values)));
    source = "input(s) from " + o.input;
  } else {
    auto data = load_cifar10(resolve_data_dir(o.data), o.split == "train" ? Split::Train : Split::Test);
    if (!data) return fail(cmd, data.message());
    if (o.images < data->size()) {
      data->labels.resize(static_cast<size_t>(o.images));
      data->pixels.resize(static_cast<size_t>(o.images) * kCifarImageBytes);
    }
    report = engine::quantization_error(*model, *plan, *data);
    source = o.split + " image(s)";
  }
  if (!report) return fail(cmd, report.message());
  const auto& layers = report->layers;

  if (o.json) {
    nlohmann::json j;
    j["model"] = o.model;
    j["config"] = model->config.describe();
    j["images"] = report->images;
    j["source"] = source;
    j["sort_key"] = report->sort_key;
    j["layers"] = qerror_layers_json(*report);  // sorted, worst first
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  if (o.show_plan) std::printf("%s\n", plan->describe().c_str());
  std::printf("per-layer quantization error of %s (%s)\n", o.model.c_str(), model->config.describe().c_str());
  std::printf("over %lld %s; SQNR = 10 log10(sum float^2 / sum (float - dequant(int8))^2), cosine similarity\n",
              static_cast<long long>(report->images), source.c_str());
  std::printf("isolated: only this layer quantized (its float inputs quantized); cumulative: the integer network up to it\n");
  std::printf("sorted by %s\n\n", report->sort_key.c_str());
  std::printf("%-4s %-3s %-16s %-24s %12s %10s %12s %10s\n", "rank", "#", "layer", "fused", "isolated dB", "cosine",
              "cumul. dB", "cosine");
  for (size_t rank = 0; rank < report->ranking.size(); ++rank) {
    const engine::LayerError& e = layers[report->ranking[rank]];
    std::printf("%-4zu %-3zu %-16s %-24s %12s %10s %12s %10s\n", rank + 1, e.layer, e.name.c_str(), e.ops.c_str(),
                db_str(e.isolated).c_str(), cos_str(e.isolated).c_str(), db_str(e.cumulative).c_str(),
                cos_str(e.cumulative).c_str());
  }
  if (!report->ranking.empty()) {
    const engine::LayerError& worst = layers[report->ranking[0]];
    std::printf("\nworst layer: %s (%s), isolated SQNR %s dB\n", worst.name.c_str(), worst.ops.c_str(),
                db_str(worst.isolated).c_str());
  }
}

}  // namespace

void register_qerror(CLI::App& app) {
  auto opts = std::make_shared<QErrorOptions>();
  CLI::App* sub = app.add_subcommand(
      "qerror", "Per-layer quantization error (SQNR, cosine) of a quantized model on the integer engine, worst first");
  sub->add_option("model", opts->model, "Quantized model (.pqm, from pocket quantize)")->required();
  sub->add_option("--images", opts->images, "Number of images (the first N of the split)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--data", opts->data, "CIFAR-10 directory (default: $POCKET_DATA, else ./data/cifar-10-batches-bin)");
  sub->add_option("--input", opts->input,
                  "Raw little-endian float32 inputs (NCHW, normalised, one or more samples) instead of CIFAR-10 images");
  sub->add_option("--split", opts->split, "test or train")->check(CLI::IsMember({"test", "train"}))->capture_default_str();
  sub->add_flag("--show-plan", opts->show_plan, "Also print the compiled integer layers (shapes, arena, requantization)");
  sub->add_flag("--json", opts->json,
                "Print one JSON object: layers sorted worst first, each with isolated and cumulative sqnr_db (null: "
                "no error) and cosine");
  sub->callback([opts] { run_qerror(*opts); });
}

}  // namespace pocket::cli
