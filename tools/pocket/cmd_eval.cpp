// pocket eval: top-1 accuracy, per-class accuracy and confusion matrix on CIFAR-10.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pocket/data.hpp"
#include "pocket/engine.hpp"
#include "pocket/onnx.hpp"
#include "pocket/quant.hpp"
#include "pocket/train.hpp"
#include "summaries.hpp"

namespace pocket::cli {
namespace {

struct EvalOptions {
  std::string model;
  std::string data;
  std::string normalize;
  std::string split = "test";
  int64_t limit = 0;
  int batch = 250;
  bool json = false;
  std::string engine = "auto";
};

void print_eval(const EvalResult& r, const std::vector<std::string>& names) {
  std::printf("top-1 accuracy %.2f%% (%lld/%lld images, %.2fs)\n\n", r.accuracy, static_cast<long long>(r.correct),
              static_cast<long long>(r.images), r.seconds);
  std::printf("%-12s %8s\n", "class", "accuracy");
  for (size_t c = 0; c < r.per_class.size(); ++c) std::printf("%-12s %7.2f%%\n", names[c].c_str(), r.per_class[c]);
  std::printf("\nconfusion matrix (rows: true class, columns: predicted)\n%-12s", "");
  for (size_t c = 0; c < names.size(); ++c) std::printf(" %6.6s", names[c].c_str());
  std::printf("\n");
  for (size_t t = 0; t < r.confusion.size(); ++t) {
    std::printf("%-12s", names[t].c_str());
    for (int64_t v : r.confusion[t]) std::printf(" %6lld", static_cast<long long>(v));
    std::printf("\n");
  }
}

Result<Dataset> eval_data(const EvalOptions& o) {
  auto data = load_cifar10(resolve_data_dir(o.data), o.split == "train" ? Split::Train : Split::Test);
  if (!data) return Error{data.message()};
  if (o.limit > 0 && o.limit < data->size()) {
    data->labels.resize(static_cast<size_t>(o.limit));
    data->pixels.resize(static_cast<size_t>(o.limit) * kCifarImageBytes);
  }
  return data;
}

// The integer-only engine: accuracy, and top-1 agreement with the fake-quantized and float models.
void report_int8(const EvalOptions& o, const QModel& model, const engine::Plan& plan, const Dataset& data,
                 const EvalResult& base, const QuantEvalResult& fake) {
  auto r = engine::evaluate_int8(plan, data);
  if (!r) return fail("eval", r.message());
  const double with_fake = engine::agreement(r->predictions, fake.eval.predictions);
  const double with_float = engine::agreement(r->predictions, base.predictions);
  if (o.json) {
    nlohmann::json j = eval_json(*r, data.class_names);
    j["model"] = o.model;
    j["engine"] = "int8";
    j["split"] = o.split;
    j["config"] = model.config.describe();
    j["float_accuracy"] = base.accuracy;
    j["fake_quant_accuracy"] = fake.eval.accuracy;
    j["drop"] = base.accuracy - r->accuracy;
    j["agreement_with_fake_quant"] = with_fake;
    j["agreement_with_float"] = with_float;
    j["arena_bytes"] = plan.arena_bytes();
    j["arena_lower_bound"] = plan.arena_lower_bound();
    j["macs"] = plan.total_macs();
    j["weight_bytes"] = plan.total_weight_bytes();
    j["layers"] = plan.layers().size();
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("quantized model %s (%s), integer-only engine (%zu int8 layers, arena %lld bytes, %lld MACs)\n",
              o.model.c_str(), model.config.describe().c_str(), plan.layers().size(),
              static_cast<long long>(plan.arena_bytes()), static_cast<long long>(plan.total_macs()));
  print_eval(*r, data.class_names);
  std::printf("\n%-22s %9s %18s\n", "model", "top-1", "same top-1 as int8");
  std::printf("%-22s %8.2f%% %17s\n", "int8 (integer engine)", r->accuracy, "-");
  std::printf("%-22s %8.2f%% %16.2f%%\n", "fake-quantized", fake.eval.accuracy, with_fake);
  std::printf("%-22s %8.2f%% %16.2f%%\n", "float", base.accuracy, with_float);
}

// A quantized model: simulated in float (quantize -> dequantize at every quantized tensor), with
// the agreement of its top-1 against the float model it came from.
void run_eval_quantized(const EvalOptions& o) {
  const char* cmd = "eval";
  auto model = load_qmodel(o.model);
  if (!model) return fail(cmd, model.message());
  if (o.engine != "auto" && o.engine != "fake" && o.engine != "int8") {
    return fail(cmd, "--engine " + o.engine + " is not available for quantized models: use fake or int8");
  }
  // Compile first: an op the integer engine cannot run fails before any evaluation.
  Result<engine::Plan> plan = Error{"not compiled"};
  if (o.engine == "int8") {
    plan = engine::compile(*model);
    if (!plan) return fail(cmd, plan.message());
  }
  auto data = eval_data(o);
  if (!data) return fail(cmd, data.message());
  auto base = evaluate(model->graph, *data, o.batch);
  if (!base) return fail(cmd, base.message());
  auto r = evaluate_fake_quant(*model, *data, base->predictions);
  if (!r) return fail(cmd, r.message());
  if (o.engine == "int8") return report_int8(o, *model, *plan, *data, *base, *r);
  if (o.json) {
    nlohmann::json j = eval_json(r->eval, data->class_names);
    j["model"] = o.model;
    j["engine"] = "fake-quant";
    j["split"] = o.split;
    j["config"] = model->config.describe();
    j["float_accuracy"] = base->accuracy;
    j["drop"] = base->accuracy - r->eval.accuracy;
    j["agreement_with_float"] = r->agreement;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("quantized model %s (%s), simulated in float\n", o.model.c_str(), model->config.describe().c_str());
    print_eval(r->eval, data->class_names);
    std::printf("\nfloat model: %.2f%%  drop: %+.2f points  same top-1 as float: %.2f%% of images\n", base->accuracy,
                r->eval.accuracy - base->accuracy, r->agreement);
  }
}

void run_eval(const EvalOptions& o) {
  const char* cmd = "eval";
  if (is_qmodel_file(o.model)) return run_eval_quantized(o);
  if (o.engine != "auto" && o.engine != "float") {
    return fail(cmd, "--engine " + o.engine + " needs a quantized model: run `pocket quantize " + o.model +
                         " --out Q.pqm` and evaluate Q.pqm");
  }
  auto graph = load_onnx(o.model);
  if (!graph) return fail(cmd, graph.message());
  if (!o.normalize.empty()) {
    auto n = Normalization::parse(o.normalize);
    if (!n) return fail(cmd, n.message());
    if (graph->normalization.known() && graph->normalization.spec() != n->spec()) {
      std::fprintf(stderr, "pocket eval: note: overriding the model's recorded normalisation %s with %s\n",
                   graph->normalization.spec().c_str(), n->spec().c_str());
    }
    graph->normalization = *n;
  }
  if (!graph->normalization.known()) {
    return fail(cmd, o.model + " does not record its input normalisation (ONNX files exported by PyTorch do not): "
                               "pass --normalize lab|unit|raw|R,G,B/R,G,B, or record it once with `pocket import " +
                               o.model + " --normalize ... --out OUT.onnx`");
  }
  auto data = eval_data(o);
  if (!data) return fail(cmd, data.message());
  auto r = evaluate(*graph, *data, o.batch);
  if (!r) return fail(cmd, r.message());
  if (o.json) {
    nlohmann::json j = eval_json(*r, data->class_names);
    j["model"] = o.model;
    j["engine"] = "float";
    j["split"] = o.split;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    print_eval(*r, data->class_names);
  }
}

}  // namespace

void register_eval(CLI::App& app) {
  auto opts = std::make_shared<EvalOptions>();
  CLI::App* sub = app.add_subcommand("eval", "Evaluate a model on the CIFAR-10 test set: accuracy, per class, confusion");
  sub->add_option("model", opts->model, "Model file: float (.onnx) or quantized (.pqm, from pocket quantize)")->required();
  sub->add_option("--engine", opts->engine,
                  "auto (float for .onnx, fake for .pqm), float, fake (quantization simulated in float) or int8 "
                  "(the integer-only engine, .pqm)")
      ->check(CLI::IsMember({"auto", "float", "fake", "int8"}))
      ->capture_default_str();
  sub->add_option("--data", opts->data, "CIFAR-10 directory (default: $POCKET_DATA, else ./data/cifar-10-batches-bin)");
  sub->add_option("--normalize", opts->normalize,
                  "Input normalisation for models that do not record it: lab (x/127.5-1), unit (x/255), raw (0-255) "
                  "or R,G,B/R,G,B (mean/std on the 0-1 scale)");
  sub->add_option("--split", opts->split, "test or train")->check(CLI::IsMember({"test", "train"}))->capture_default_str();
  sub->add_option("--limit", opts->limit, "Evaluate only the first N images")->check(CLI::PositiveNumber);
  sub->add_option("--batch", opts->batch, "Images per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_flag("--json", opts->json, "Print one JSON object: accuracy (percent), per_class, confusion, images, seconds");
  sub->callback([opts] { run_eval(*opts); });
}

}  // namespace pocket::cli
