// pocket sweep: the lab's weight-quantization table and the better options, in one run.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "model_loading.hpp"
#include "pocket/data.hpp"
#include "pocket/quant.hpp"
#include "pocket/train.hpp"
#include "progress.hpp"
#include "summaries.hpp"

namespace pocket::cli {
namespace {

struct SweepOptions {
  std::string model;
  QuantOptions q;
  int64_t limit = 0;
  bool json = false;
};

void run_sweep_command(const SweepOptions& o) {
  const char* cmd = "sweep";
  auto graph = load_float_model(o.model, o.q.normalize);
  if (!graph) return fail(cmd, graph.message());
  auto prepared = prepare_for_quantization(*graph);
  if (!prepared) return fail(cmd, prepared.message());
  auto test = load_cifar10(resolve_data_dir(o.q.data), Split::Test);
  if (!test) return fail(cmd, test.message());
  if (o.limit > 0 && o.limit < test->size()) {
    test->labels.resize(static_cast<size_t>(o.limit));
    test->pixels.resize(static_cast<size_t>(o.limit) * kCifarImageBytes);
  }
  std::fprintf(stderr, "sweep: calibrating on %lld images...\n", static_cast<long long>(o.q.calib));
  auto cal = calibration_for(*prepared, o.q);
  if (!cal) return fail(cmd, cal.message());
  auto base = evaluate(*prepared, *test);
  if (!base) return fail(cmd, base.message());
  const Footprint float_fp = footprint(*prepared);

  ProgressLine line;
  const std::vector<SweepRow> table = sweep_rows();
  auto swept = run_sweep(*graph, *prepared, table, o.q, o.model, *cal, *test, *base,
                         [&](size_t i, size_t n, const std::string& name) {
                           line.update(fmt::format("sweep: row {}/{}: {}", i + 1, n, name), i + 1 == n);
                         });
  if (!swept) return fail(cmd, swept.message());
  const nlohmann::json& rows = *swept;
  if (o.json) {
    nlohmann::json j;
    j["model"] = o.model;
    j["images"] = test->size();
    j["calibration"] = cal->description;
    j["float_accuracy"] = base->accuracy;
    j["rows"] = rows;
    j["fake_quant_float32_bytes"] = float_fp.float_total();  // integer values stored as float32: unchanged
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s on %lld test images; calibration: %s\n\n", o.model.c_str(), static_cast<long long>(test->size()),
              cal->description.c_str());
  std::printf("%-48s %9s %7s %9s %10s %12s\n", "setting", "accuracy", "drop", "clipped", "agreement", "param bytes");
  for (const auto& r : rows) {
    std::printf("%-48s %8.2f%% %+7.2f %8.3f%% %9.2f%% %12lld\n", r["name"].get<std::string>().c_str(),
                r["accuracy"].get<double>(), -r["drop"].get<double>(), r["clipped_weights_percent"].get<double>(),
                r["agreement"].get<double>(),
                static_cast<long long>(r["footprint"][r["name"] == "float (no quantization)" ? "float_total_bytes" : "quant_total_bytes"].get<int64_t>()));
  }
  std::printf("\nclipped: weights outside the clipping range (they saturate); agreement: same top-1 as float.\n");
  const auto& w8 = rows[1]["footprint"];
  std::printf("\nmemory: the float model's parameters take %lld bytes (%.4f MiB) as float32. A fake-quantized model\n"
              "that stores its integer values as float32 keeps exactly that footprint; stored as int8 (with int32\n"
              "biases and float32 scales) they take %lld bytes (%.4f MiB), %.2fx smaller.\n",
              static_cast<long long>(float_fp.float_total()), static_cast<double>(float_fp.float_total()) / 1048576.0,
              static_cast<long long>(w8["quant_total_bytes"].get<int64_t>()),
              static_cast<double>(w8["quant_total_bytes"].get<int64_t>()) / 1048576.0, w8["ratio"].get<double>());
}

}  // namespace

void register_sweep(CLI::App& app) {
  auto opts = std::make_shared<SweepOptions>();
  CLI::App* sub = app.add_subcommand("sweep", "The lab's quantization table: none, minmax, 3/2/1 sigma, and better options");
  sub->add_option("model", opts->model, "Float model (.onnx)")->required();
  sub->add_option("--calib", opts->q.calib, "Calibration images (stratified from the training split)")->capture_default_str();
  sub->add_option("--seed", opts->q.seed, "Seed of the calibration sample")->capture_default_str();
  sub->add_option("--data", opts->q.data, "CIFAR-10 directory");
  sub->add_option("--normalize", opts->q.normalize, "Input normalisation for a model that does not record it");
  sub->add_option("--limit", opts->limit, "Evaluate on the first N test images only")->check(CLI::PositiveNumber);
  sub->add_flag("--json", opts->json, "Print one JSON object with every row");
  sub->callback([opts] { run_sweep_command(*opts); });
}

}  // namespace pocket::cli
