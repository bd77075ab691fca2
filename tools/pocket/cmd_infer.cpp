// pocket infer: run a model on raw float32 input (NCHW, little-endian, any number of samples) and
// write its raw float32 output. A float model (.onnx) runs in float; a quantized model (.pqm) runs on
// the integer-only engine (--engine int8, the default for .pqm: input quantized, output dequantized),
// its float graph (--engine float) or the fake-quantized simulation (--engine fake).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pocket/executor.hpp"
#include "pocket/fileio.hpp"
#include "pocket/engine.hpp"
#include "pocket/onnx.hpp"
#include "pocket/quant.hpp"

namespace pocket::cli {
namespace {

struct InferOptions {
  std::string model;
  std::string input;
  std::string output;
  std::string engine = "auto";
  bool raw_output = false;
  bool json = false;
};

// The integer engine, one sample at a time: float input -> int8 (the input's scale and zero point)
// -> int8 layers -> output dequantized (or the raw int8 bytes).
Result<std::vector<float>> run_int8(const engine::Plan& plan, const std::vector<float>& input, int64_t batch,
                                    std::vector<int8_t>* raw) {
  const auto in_n = static_cast<size_t>(plan.input().bytes);
  const auto out_n = static_cast<size_t>(plan.output().bytes);
  std::vector<int8_t> arena(static_cast<size_t>(plan.arena_bytes())), q(in_n), y(out_n);
  std::vector<float> out(out_n * static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    plan.quantize_float_input(input.data() + static_cast<size_t>(b) * in_n, q.data());
    plan.run(q.data(), y.data(), arena);
    plan.dequantize_tensor(plan.output_tensor(), y.data(), out.data() + static_cast<size_t>(b) * out_n);
    if (raw) raw->insert(raw->end(), y.begin(), y.end());
  }
  return out;
}

void run_infer(const InferOptions& o) {
  const char* cmd = "infer";
  const Status distinct = check_not_overwriting(o.output, {o.model, o.input});
  if (!distinct) return fail(cmd, distinct.message());
  const bool quantized = is_qmodel_file(o.model);
  if (!quantized && o.engine != "auto" && o.engine != "float") {
    return fail(cmd, "--engine " + o.engine + " needs a quantized model (.pqm, from pocket quantize)");
  }
  const std::string engine_name = o.engine == "auto" ? (quantized ? "int8" : "float") : o.engine;
  if (o.raw_output && engine_name != "int8") return fail(cmd, "--raw-output needs --engine int8");
  Graph graph;
  std::optional<QModel> qmodel;
  if (quantized) {
    auto m = load_qmodel(o.model);
    if (!m) return fail(cmd, m.message());
    qmodel = std::move(*m);
    graph = qmodel->graph;
  } else {
    auto g = load_onnx(o.model);
    if (!g) return fail(cmd, g.message());
    graph = std::move(*g);
  }
  std::optional<engine::Plan> plan;
  if (engine_name == "int8") {
    auto p = engine::compile(*qmodel);
    if (!p) return fail(cmd, p.message());
    plan = std::move(*p);
  }
  auto values = read_f32_file(o.input);
  if (!values) return fail(cmd, values.message());
  const Shape& in_shape = graph.input_shape();
  const int64_t per_sample = numel(in_shape);  // recorded for batch 1
  const auto count = static_cast<int64_t>(values->size());
  if (count == 0 || count % per_sample != 0) {
    return fail(cmd, o.input + ": " + std::to_string(count) + " floats is not a whole number of samples of " +
                         shape_str(in_shape) + " (" + std::to_string(per_sample) + " floats, " +
                         std::to_string(4 * per_sample) + " bytes each)");
  }
  const int64_t batch = count / per_sample;
  Shape shape = in_shape;
  shape[0] = batch;
  Tensor y;
  std::vector<int8_t> raw;
  if (plan) {
    auto out = run_int8(*plan, *values, batch, o.raw_output ? &raw : nullptr);
    if (!out) return fail(cmd, out.message());
    y.shape = graph.output_shape();
    y.shape[0] = batch;
    y.data = std::move(*out);
  } else {
    const Tensor input(shape, std::move(*values));
    FakeQuant fake;
    if (engine_name == "fake") fake = make_fake_quant(*qmodel);
    const Graph& run_graph = engine_name == "fake" ? fake.graph : graph;
    Executor exec(run_graph);
    if (engine_name == "fake") exec.set_output_hook(fake.hook);
    auto out = exec.run(input);
    if (!out) return fail(cmd, out.message());
    y = **out;
  }
  const Status written = o.raw_output ? write_file_atomic(o.output, raw.data(), raw.size()) : write_f32_file(o.output, y.data);
  if (!written) return fail(cmd, written.message());

  // Per sample: the index of the largest output (the predicted class of a classifier).
  const int64_t per_out = batch > 0 ? y.numel() / batch : 0;
  std::vector<int64_t> argmax;
  for (int64_t b = 0; b < batch && per_out > 0; ++b) {
    const auto first = y.data.begin() + b * per_out;
    argmax.push_back(std::max_element(first, first + per_out) - first);
  }
  if (o.json) {
    nlohmann::json j;
    j["model"] = o.model;
    j["input"] = o.input;
    j["output"] = o.output;
    j["batch"] = batch;
    j["engine"] = engine_name;
    j["input_shape"] = shape;
    j["output_shape"] = y.shape;
    j["argmax"] = argmax;
    if (plan) {
      j["output_format"] = o.raw_output ? "int8" : "float32";
      j["output_scale"] = plan->output().quant.scale;
      j["output_zero_point"] = plan->output().quant.zero_point;
      j["output_stored_shape"] = plan->output().stored_shape;
    }
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  const Shape sample(in_shape.begin() + 1, in_shape.end());
  std::printf("%lld sample(s) of %s -> output %s (%s engine%s) written to %s\n", static_cast<long long>(batch),
              shape_str(sample).c_str(), shape_str(y.shape).c_str(), engine_name.c_str(),
              o.raw_output ? ", raw int8" : "", o.output.c_str());
  for (size_t b = 0; b < argmax.size(); ++b) {
    std::printf("sample %zu: argmax %lld\n", b, static_cast<long long>(argmax[b]));
  }
}

}  // namespace

void register_infer(CLI::App& app) {
  auto opts = std::make_shared<InferOptions>();
  CLI::App* sub = app.add_subcommand(
      "infer", "Run a model on raw float32 NCHW input (batch = file size / one sample) and write raw float32 output");
  sub->add_option("model", opts->model, "Model file: float (.onnx) or quantized (.pqm)")->required();
  sub->add_option("--engine", opts->engine,
                  "auto (float for .onnx, int8 for .pqm), float, fake (quantization simulated in float) or int8 "
                  "(integer-only engine: input quantized, output dequantized)")
      ->check(CLI::IsMember({"auto", "float", "fake", "int8"}))
      ->capture_default_str();
  sub->add_flag("--raw-output", opts->raw_output,
                "With --engine int8: write the output as raw int8 bytes (engine order, NHWC for 4-D outputs) instead "
                "of dequantized float32; --json gives its scale and zero point");
  sub->add_option("--input", opts->input, "Raw little-endian float32 input, NCHW, one or more samples")->required();
  sub->add_option("--output", opts->output, "Raw little-endian float32 output (written atomically)")->required();
  sub->add_flag("--json", opts->json, "Print one JSON object: batch, input_shape, output_shape, argmax per sample");
  sub->callback([opts] { run_infer(*opts); });
}

}  // namespace pocket::cli
