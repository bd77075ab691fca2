// Integer engine throughput on a quantized LeNet: the fixture lenet_bias ($POCKET_FIXTURES, default
// ../shared/fixtures/onnx) with the lab normalisation, calibrated on 100 CIFAR-10 training images,
// compiled once with the fast kernels (the selected variant) and once with the reference kernels.
//   BM_Int8LeNetSingleImage/<variant>: Plan::run on one pre-quantized test image (the plan's own
//     arena and scratch), one thread.
//   BM_Int8LeNetTestSet/<variant>: evaluate_int8 on all 10,000 test images (OpenMP over images,
//     one arena and scratch per thread; includes quantizing the pixels and the argmax).
// Variants: 0 = the fast kernels as selected (pocket_fast_isa()), 1 = the reference kernels.
// Counter images_per_second. JSON with --benchmark_format=json.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "pocket/data.hpp"
#include "pocket/engine.hpp"
#include "pocket/onnx.hpp"
#include "pocket/quant.hpp"

namespace pocket {
namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_int8: %s\n", what.c_str());
  std::exit(2);
}

const Dataset& test_set() {
  static Dataset d;
  if (d.size() == 0) {
    auto r = load_cifar10(env_or("POCKET_DATA", POCKET_TEST_DATA_DIR), Split::Test);
    if (!r) die(r.message());
    d = std::move(*r);
  }
  return d;
}

const QModel& lenet() {
  static std::unique_ptr<QModel> model;
  if (!model) {
    auto g = load_onnx(env_or("POCKET_FIXTURES", POCKET_TEST_FIXTURES_DIR) + "/lenet_bias.onnx");
    if (!g) die(g.message());
    g->normalization = Normalization::lab();
    auto prepared = prepare_for_quantization(*g);
    if (!prepared) die(prepared.message());
    std::string description;
    auto images = load_calibration_images({env_or("POCKET_DATA", POCKET_TEST_DATA_DIR), 100, 1, ""}, &description);
    if (!images) die(images.message());
    auto cal = calibrate(*prepared, *images, description);
    if (!cal) die(cal.message());
    auto m = quantize(*prepared, QuantConfig{}, &*cal);
    if (!m) die(m.message());
    model = std::make_unique<QModel>(std::move(*m));
  }
  return *model;
}

engine::Plan compile_for(int64_t variant_arg, benchmark::State& state) {
  engine::CompileOptions options;
  options.kernels = variant_arg == 0 ? POCKET_FAST_SELECTED : POCKET_FAST_REFERENCE;
  auto plan = engine::compile(lenet(), options);
  if (!plan) die(plan.message());
  state.SetLabel(plan->kernels_name());
  return std::move(*plan);
}

void BM_Int8LeNetSingleImage(benchmark::State& state) {
  engine::Plan plan = compile_for(state.range(0), state);
  std::vector<int8_t> in(static_cast<size_t>(plan.input().bytes)), out(static_cast<size_t>(plan.output().bytes));
  plan.quantize_pixels(test_set().image(0), in.data());
  for (auto _ : state) {
    plan.run(in.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["images_per_second"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Int8LeNetSingleImage)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Int8LeNetTestSet(benchmark::State& state) {
  const Dataset& data = test_set();
  engine::Plan plan = compile_for(state.range(0), state);
  for (auto _ : state) {
    auto r = engine::evaluate_int8(plan, data);
    if (!r) {
      state.SkipWithError(r.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(r->correct);
  }
  state.counters["images_per_second"] =
      benchmark::Counter(static_cast<double>(data.size()), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Int8LeNetTestSet)->Arg(0)->Arg(1)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace pocket

BENCHMARK_MAIN();
