// pocket infer: run a float model on raw float32 input (NCHW, little-endian, any number of samples)
// and write its raw float32 output.
#include <algorithm>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pocket/executor.hpp"
#include "pocket/fileio.hpp"
#include "pocket/onnx.hpp"

namespace pocket::cli {
namespace {

struct InferOptions {
  std::string model;
  std::string input;
  std::string output;
  bool json = false;
};

void run_infer(const InferOptions& o) {
  const char* cmd = "infer";
  const Status distinct = check_not_overwriting(o.output, {o.model, o.input});
  if (!distinct) return fail(cmd, distinct.message());
  auto graph = load_onnx(o.model);
  if (!graph) return fail(cmd, graph.message());
  auto values = read_f32_file(o.input);
  if (!values) return fail(cmd, values.message());
  const Shape& in_shape = graph->input_shape();
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
  const Tensor input(shape, std::move(*values));
  Executor exec(*graph);
  auto out = exec.run(input);
  if (!out) return fail(cmd, out.message());
  const Tensor& y = **out;
  const Status written = write_f32_file(o.output, y.data);
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
    j["input_shape"] = input.shape;
    j["output_shape"] = y.shape;
    j["argmax"] = argmax;
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  const Shape sample(in_shape.begin() + 1, in_shape.end());
  std::printf("%lld sample(s) of %s -> output %s written to %s\n", static_cast<long long>(batch),
              shape_str(sample).c_str(), shape_str(y.shape).c_str(), o.output.c_str());
  for (size_t b = 0; b < argmax.size(); ++b) {
    std::printf("sample %zu: argmax %lld\n", b, static_cast<long long>(argmax[b]));
  }
}

}  // namespace

void register_infer(CLI::App& app) {
  auto opts = std::make_shared<InferOptions>();
  CLI::App* sub = app.add_subcommand(
      "infer", "Run a float model on raw float32 NCHW input (batch = file size / one sample) and write raw float32 output");
  sub->add_option("model", opts->model, "Model file (.onnx)")->required();
  sub->add_option("--input", opts->input, "Raw little-endian float32 input, NCHW, one or more samples")->required();
  sub->add_option("--output", opts->output, "Raw little-endian float32 output (written atomically)")->required();
  sub->add_flag("--json", opts->json, "Print one JSON object: batch, input_shape, output_shape, argmax per sample");
  sub->callback([opts] { run_infer(*opts); });
}

}  // namespace pocket::cli
