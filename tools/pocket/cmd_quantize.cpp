// pocket quantize: post-training quantization of a float ONNX model into a .pqm file.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "model_loading.hpp"
#include "pocket/fileio.hpp"
#include "pocket/quant.hpp"
#include "summaries.hpp"

namespace pocket::cli {
namespace {

struct QuantizeOptions {
  std::string model;
  std::string out;
  QuantOptions q;
  bool show_graph = false;
  bool json = false;
};

void run_quantize(const QuantizeOptions& o) {
  const char* cmd = "quantize";
  if (Status st = check_not_overwriting(o.out, {o.model}); !st) return fail(cmd, st.message());
  auto graph = load_float_model(o.model, o.q.normalize);
  if (!graph) return fail(cmd, graph.message());
  auto config = o.q.config();
  if (!config) return fail(cmd, config.message());
  auto prepared = prepare_for_quantization(*graph);
  if (!prepared) return fail(cmd, prepared.message());
  if (o.show_graph) {
    std::printf("graph before the passes:\n%s\n", describe(*graph).c_str());
    std::printf("graph after the passes (%s):\n%s\n", prepared->metadata["pocket.passes"].c_str(),
                describe(*prepared).c_str());
    std::printf("integer layers (fused groups):\n%s\n", group_listing(*prepared).c_str());
  }
  auto model = quantize_with_calibration(*graph, *prepared, *config, o.q, o.model);
  if (!model) return fail(cmd, model.message());
  if (Status st = save_qmodel(*model, o.out); !st) return fail(cmd, st.message());
  const Footprint f = footprint(*model);
  if (o.json) {
    nlohmann::json j = qmodel_summary_json(*model);
    j["out"] = o.out;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("saved %s: %s\n", o.out.c_str(), config->describe().c_str());
    std::printf("calibration: %s\n", model->provenance["calibration"].c_str());
    std::printf("parameters: float32 %lld bytes -> quantized %lld bytes (%.2fx smaller)\n",
                static_cast<long long>(f.float_total()), static_cast<long long>(f.quant_total()),
                static_cast<double>(f.float_total()) / static_cast<double>(std::max<int64_t>(1, f.quant_total())));
    std::printf("evaluate it with: pocket eval %s\n", o.out.c_str());
  }
}

}  // namespace

void register_quantize(CLI::App& app) {
  auto opts = std::make_shared<QuantizeOptions>();
  CLI::App* sub = app.add_subcommand("quantize", "Post-training quantization: calibrate and write a quantized model (.pqm)");
  sub->add_option("model", opts->model, "Float model (.onnx)")->required();
  sub->add_option("--out", opts->out, "Output quantized model (.pqm)")->required();
  add_quant_options(*sub, opts->q);
  sub->add_flag("--show-graph", opts->show_graph, "Print the graph before and after the passes, and the fused layers");
  sub->add_flag("--json", opts->json, "Print a JSON summary (every quantization parameter, footprint)");
  sub->callback([opts] { run_quantize(*opts); });
}

}  // namespace pocket::cli
