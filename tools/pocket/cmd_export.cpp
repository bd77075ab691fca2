// pocket export: a quantized model (.pqm) in a standard format other tools read. Today one format:
// onnx-qdq, ONNX opset 13 with QuantizeLinear / DequantizeLinear carrying pocket's scales and zero
// points (see include/pocket/qdq.hpp).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pocket/fileio.hpp"
#include "pocket/qdq.hpp"
#include "pocket/quant.hpp"

namespace pocket::cli {
namespace {

struct ExportOptions {
  std::string model;
  std::string format = "onnx-qdq";
  std::string out;
  bool json = false;
};

void run_export(const ExportOptions& o) {
  const char* cmd = "export";
  if (Status st = check_not_overwriting(o.out, {o.model}); !st) return fail(cmd, st.message());
  auto model = load_qmodel(o.model);
  if (!model) return fail(cmd, model.message());
  auto bytes = serialize_qdq(*model);
  if (!bytes) return fail(cmd, o.model + ": " + bytes.message());
  if (Status st = write_file_atomic(o.out, bytes->data(), bytes->size()); !st) return fail(cmd, st.message());

  // What the file holds, counted from the model (every materialised tensor gets a Q/DQ pair).
  int64_t qdq_pairs = 0;
  if (!model->config.weight_only) {
    for (int s : activation_sources(model->graph)) qdq_pairs += s >= 0 ? 1 : 0;
  }
  if (o.json) {
    nlohmann::json j;
    j["out"] = o.out;
    j["format"] = o.format;
    j["opset"] = 13;
    j["bytes"] = bytes->size();
    j["config"] = model->config.describe();
    j["quantization_points"] = model->activations.size();
    j["activation_qdq_pairs"] = qdq_pairs;
    j["weights"] = model->qweights.size();
    j["biases"] = model->qbiases.size();
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::printf("saved %s: ONNX opset 13 QDQ, %lld bytes (%s)\n", o.out.c_str(), static_cast<long long>(bytes->size()),
              model->config.describe().c_str());
  std::printf("  %zu int8 weight tensors, %zu int32 bias tensors, %lld activation QuantizeLinear/DequantizeLinear "
              "pairs over %zu quantization points\n",
              model->qweights.size(), model->qbiases.size(), static_cast<long long>(qdq_pairs),
              model->activations.size());
  std::printf("check it with: python3 -c \"import onnx; onnx.checker.check_model(onnx.load('%s'), full_check=True)\"\n",
              o.out.c_str());
}

}  // namespace

void register_export(CLI::App& app) {
  auto opts = std::make_shared<ExportOptions>();
  CLI::App* sub = app.add_subcommand("export", "Write a quantized model (.pqm) in a standard format (ONNX QDQ)");
  sub->add_option("model", opts->model, "Quantized model (.pqm, from `pocket quantize`)")->required();
  sub->add_option("--format", opts->format,
                  "onnx-qdq: ONNX opset 13 with QuantizeLinear/DequantizeLinear (int8 weights, int32 biases, int8 "
                  "activations); `pocket info` reads it back")
      ->check(CLI::IsMember({"onnx-qdq"}))
      ->capture_default_str();
  sub->add_option("--out", opts->out, "Output file (.onnx)")->required();
  sub->add_flag("--json", opts->json,
                "Print a JSON summary: out, format, opset, bytes, config, quantization_points, activation_qdq_pairs, "
                "weights, biases");
  sub->callback([opts] { run_export(*opts); });
}

}  // namespace pocket::cli
