// Float LeNet throughput: training (forward + backward + SGD update, batch 32) and inference at
// batch 1 and over the 10,000 test images. Google Benchmark; JSON with
// --benchmark_format=json. CIFAR-10 comes from $POCKET_DATA (default ../shared/data/...).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <numeric>

#include "pocket/data.hpp"
#include "pocket/executor.hpp"
#include "pocket/loss.hpp"
#include "pocket/models.hpp"
#include "pocket/train.hpp"

namespace pocket {
namespace {

const Dataset& dataset(Split split) {
  static Dataset train_set, test_set;
  Dataset& d = split == Split::Train ? train_set : test_set;
  if (d.size() == 0) {
    const char* env = std::getenv("POCKET_DATA");
    auto r = load_cifar10(env && *env ? env : POCKET_TEST_DATA_DIR, split);
    if (!r) {
      std::fprintf(stderr, "bench_float: %s\n", r.message().c_str());
      std::exit(2);
    }
    d = std::move(*r);
  }
  return d;
}

// One epoch over the 50,000 training images at batch 32 (the training target).
void BM_TrainEpochLeNet(benchmark::State& state) {
  const Dataset& train_set = dataset(Split::Train);
  TrainConfig c;
  c.epochs = 1;
  c.batch = static_cast<int>(state.range(0));
  c.max_images = train_set.size();
  for (auto _ : state) {
    Graph g = make_lenet(true, 1);
    const Status st = train(g, train_set, c);
    if (!st) state.SkipWithError(st.message().c_str());
  }
  state.counters["images_per_second"] =
      benchmark::Counter(static_cast<double>(train_set.size()), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_TrainEpochLeNet)->Arg(32)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// One training step (forward + backward + update) at batch 32.
void BM_TrainStepLeNet(benchmark::State& state) {
  const Dataset& train_set = dataset(Split::Train);
  Graph g = make_lenet(true, 1);
  Executor exec(g);
  TrainConfig c;
  Optimizer opt(c, g);
  std::vector<int64_t> idx(32);
  std::iota(idx.begin(), idx.end(), 0);
  Tensor x, grad;
  make_batch(train_set, idx, g.normalization, x);
  const std::vector<int> labels = batch_labels(train_set, idx);
  std::vector<const Tensor*> grads(g.values.size(), nullptr);
  for (auto _ : state) {
    auto out = exec.run(x);
    softmax_cross_entropy(**out, labels, &grad);
    (void)exec.backward(grad);
    for (size_t v = 0; v < g.values.size(); ++v) {
      grads[v] = g.values[v].kind == ValueKind::Param ? &exec.grad(static_cast<int>(v)) : nullptr;
    }
    opt.step(g, grads, 0.01f);
  }
  state.counters["images_per_second"] = benchmark::Counter(32.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_TrainStepLeNet)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Single-image float inference latency.
void BM_InferLeNetBatch1(benchmark::State& state) {
  const Dataset& test_set = dataset(Split::Test);
  const Graph g = make_lenet(true, 1);
  Executor exec(g);
  Tensor x;
  const std::vector<int64_t> idx{0};
  make_batch(test_set, idx, g.normalization, x);
  for (auto _ : state) {
    auto out = exec.run(x);
    benchmark::DoNotOptimize((*out)->data.data());
  }
  state.counters["images_per_second"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_InferLeNetBatch1)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The whole test set, as `pocket eval` runs it (batches of 250, normalisation included).
void BM_EvalLeNetTestSet(benchmark::State& state) {
  const Dataset& test_set = dataset(Split::Test);
  const Graph g = make_lenet(true, 1);
  for (auto _ : state) {
    auto r = evaluate(g, test_set, 250);
    if (!r) state.SkipWithError(r.message().c_str());
  }
  state.counters["images_per_second"] =
      benchmark::Counter(static_cast<double>(test_set.size()), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_EvalLeNetTestSet)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace pocket

BENCHMARK_MAIN();
