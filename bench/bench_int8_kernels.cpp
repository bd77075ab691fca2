// int8 kernels of the lab's LeNet (conv 3->6 5x5 on 32x32 + ReLU + max pool 2, conv 6->16 5x5 +
// ReLU + max pool 2, FC 400->120->84->10): the runtime's reference kernels against every fast
// variant this CPU supports, per layer and for the whole network (one image on one core, and the
// 10,000-image test set on 1 and 2 threads). Google Benchmark; JSON with --benchmark_format=json.
//
// Names: BM_<layer>/<variant>. Counters: MAC/s (multiply-accumulates of the convolution before
// pooling, or of the FC), images/s for the network benchmarks. The machine may be shared and
// noisy: run with --benchmark_repetitions=N and compare medians of variants from the SAME run.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "pocket/fastkernels.hpp"
#include "pocket_runtime.h"

namespace {

// Deterministic data (xorshift), independent of the standard library.
struct Rng {
  uint64_t state;
  uint32_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<uint32_t>(state >> 32);
  }
  int8_t int8(int lo, int hi) { return static_cast<int8_t>(lo + static_cast<int>(next() % static_cast<uint32_t>(hi - lo + 1))); }
};

std::vector<int8_t> random_int8(size_t count, uint64_t seed, int lo = -128, int hi = 127) {
  Rng rng{seed};
  std::vector<int8_t> v(count);
  for (auto& x : v) x = rng.int8(lo, hi);
  return v;
}

// A layer with plausible quantization: per-channel multipliers around 2^-10, ReLU clamp.
struct ConvLayer {
  pocket_conv2d_params params{};
  std::vector<int8_t> filter;
  std::vector<int32_t> bias, multiplier, shift;
  int64_t macs = 0;
  int64_t input_size = 0, output_size = 0;
};
struct FcLayer {
  pocket_fully_connected_params params{};
  std::vector<int8_t> weights;
  std::vector<int32_t> bias, multiplier, shift;
  int64_t macs = 0;
};

void fill_quant(int32_t channels, uint64_t seed, std::vector<int32_t>& bias, std::vector<int32_t>& multiplier,
                std::vector<int32_t>& shift) {
  Rng rng{seed};
  for (int32_t c = 0; c < channels; ++c) {
    bias.push_back(static_cast<int32_t>(rng.next() % 4001) - 2000);
    multiplier.push_back(static_cast<int32_t>((uint32_t{1} << 30) + rng.next() % (uint32_t{1} << 30)));
    shift.push_back(9 + static_cast<int32_t>(rng.next() % 3));
  }
}

ConvLayer make_conv(int32_t size, int32_t in_channels, int32_t out_channels, uint64_t seed) {
  ConvLayer l;
  l.filter = random_int8(static_cast<size_t>(out_channels) * 5 * 5 * in_channels, seed, -127, 127);
  fill_quant(out_channels, seed + 1, l.bias, l.multiplier, l.shift);
  pocket_conv2d_params& p = l.params;
  p.batches = 1;
  p.input_height = p.input_width = size;
  p.input_channels = in_channels;
  p.output_channels = out_channels;
  p.filter_height = p.filter_width = 5;
  p.stride_height = p.stride_width = 1;
  p.groups = 1;
  p.input_zero_point = -128 + static_cast<int32_t>(seed % 7);
  p.output_zero_point = -128;
  p.output_multiplier = l.multiplier.data();
  p.output_shift = l.shift.data();
  p.act_min = -128;  // ReLU: act_min = output zero point
  p.act_max = 127;
  p.pool = {POCKET_POOL_MAX, 2, 2, 2, 2};
  const int64_t conv = size - 4;
  l.macs = conv * conv * out_channels * 25 * in_channels;
  l.input_size = int64_t{size} * size * in_channels;
  l.output_size = (conv / 2) * (conv / 2) * out_channels;
  return l;
}

FcLayer make_fc(int32_t in, int32_t out, bool relu, uint64_t seed) {
  FcLayer l;
  l.weights = random_int8(static_cast<size_t>(in) * out, seed, -127, 127);
  fill_quant(out, seed + 1, l.bias, l.multiplier, l.shift);
  pocket_fully_connected_params& p = l.params;
  p.batches = 1;
  p.input_features = in;
  p.output_features = out;
  p.input_zero_point = -128;
  p.output_zero_point = relu ? -128 : -3;
  p.output_multiplier = l.multiplier.data();
  p.output_shift = l.shift.data();
  p.act_min = -128;  // ReLU (act_min = output zero point) or none: the same range here
  p.act_max = 127;
  l.macs = int64_t{in} * out;
  return l;
}

struct LeNet {
  ConvLayer conv1 = make_conv(32, 3, 6, 11);
  ConvLayer conv2 = make_conv(14, 6, 16, 23);
  FcLayer fc1 = make_fc(400, 120, true, 37);
  FcLayer fc2 = make_fc(120, 84, true, 41);
  FcLayer fc3 = make_fc(84, 10, false, 53);
};
const LeNet& lenet() {
  static const LeNet net;
  return net;
}

// A layer packed for one variant (or the reference, called directly).
struct PackedConv {
  const ConvLayer* layer;
  pocket_fast_variant variant;
  std::vector<uint8_t> packed, scratch;
};
struct PackedFc {
  const FcLayer* layer;
  pocket_fast_variant variant;
  std::vector<uint8_t> packed, scratch;
};

PackedConv pack(const ConvLayer& l, pocket_fast_variant variant) {
  PackedConv c{&l, variant, {}, {}};
  if (variant == POCKET_FAST_REFERENCE) return c;
  int64_t packed_bytes = 0, scratch_bytes = 0;
  if (pocket_conv2d_s8_fast_plan(variant, &l.params, l.bias.data(), &packed_bytes, &scratch_bytes) != POCKET_OK) {
    std::fprintf(stderr, "conv plan failed\n");
    std::exit(2);
  }
  c.packed.resize(static_cast<size_t>(packed_bytes));
  c.scratch.resize(static_cast<size_t>(scratch_bytes) + 1);
  if (pocket_conv2d_s8_fast_pack(variant, &l.params, l.filter.data(), l.bias.data(), c.packed.data(), packed_bytes) !=
      POCKET_OK) {
    std::fprintf(stderr, "conv pack failed\n");
    std::exit(2);
  }
  return c;
}

PackedFc pack(const FcLayer& l, pocket_fast_variant variant) {
  PackedFc c{&l, variant, {}, {}};
  if (variant == POCKET_FAST_REFERENCE) return c;
  int64_t packed_bytes = 0, scratch_bytes = 0;
  if (pocket_fully_connected_s8_fast_plan(variant, &l.params, l.bias.data(), &packed_bytes, &scratch_bytes) !=
      POCKET_OK) {
    std::fprintf(stderr, "fc plan failed\n");
    std::exit(2);
  }
  c.packed.resize(static_cast<size_t>(packed_bytes));
  c.scratch.resize(static_cast<size_t>(scratch_bytes) + 1);
  if (pocket_fully_connected_s8_fast_pack(variant, &l.params, l.weights.data(), l.bias.data(), c.packed.data(),
                                          packed_bytes) != POCKET_OK) {
    std::fprintf(stderr, "fc pack failed\n");
    std::exit(2);
  }
  return c;
}

inline pocket_status run(PackedConv& c, const int8_t* in, int8_t* out) {
  if (c.variant == POCKET_FAST_REFERENCE) {
    return pocket_conv2d_s8(&c.layer->params, in, c.layer->filter.data(), c.layer->bias.data(), out, nullptr);
  }
  return pocket_conv2d_s8_fast_run(&c.layer->params, c.packed.data(), in, out, c.scratch.data());
}
inline pocket_status run(PackedFc& c, const int8_t* in, int8_t* out) {
  if (c.variant == POCKET_FAST_REFERENCE) {
    return pocket_fully_connected_s8(&c.layer->params, in, c.layer->weights.data(), c.layer->bias.data(), out,
                                     nullptr);
  }
  return pocket_fully_connected_s8_fast_run(&c.layer->params, c.packed.data(), in, out, c.scratch.data());
}

// The whole network for one variant, with its own activations (one per thread).
struct Network {
  PackedConv conv1, conv2;
  PackedFc fc1, fc2, fc3;
  std::vector<int8_t> a1, a2, a3, a4, logits;
  explicit Network(pocket_fast_variant v)
      : conv1(pack(lenet().conv1, v)),
        conv2(pack(lenet().conv2, v)),
        fc1(pack(lenet().fc1, v)),
        fc2(pack(lenet().fc2, v)),
        fc3(pack(lenet().fc3, v)),
        a1(14 * 14 * 6),
        a2(400),
        a3(120),
        a4(84),
        logits(10) {}
  bool infer(const int8_t* image) {
    return run(conv1, image, a1.data()) == POCKET_OK && run(conv2, a1.data(), a2.data()) == POCKET_OK &&
           run(fc1, a2.data(), a3.data()) == POCKET_OK && run(fc2, a3.data(), a4.data()) == POCKET_OK &&
           run(fc3, a4.data(), logits.data()) == POCKET_OK;
  }
};

const std::vector<int8_t>& test_images() {
  static const std::vector<int8_t> images = random_int8(size_t{10000} * 32 * 32 * 3, 99);
  return images;
}

void BM_Conv(benchmark::State& state, const ConvLayer* layer, pocket_fast_variant variant) {
  PackedConv c = pack(*layer, variant);
  const std::vector<int8_t> input = random_int8(static_cast<size_t>(layer->input_size), 7);
  std::vector<int8_t> output(static_cast<size_t>(layer->output_size));
  for (auto _ : state) {
    if (run(c, input.data(), output.data()) != POCKET_OK) state.SkipWithError("kernel failed");
    benchmark::DoNotOptimize(output.data());
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(layer->macs), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Fc(benchmark::State& state, const FcLayer* layer, pocket_fast_variant variant) {
  PackedFc c = pack(*layer, variant);
  const std::vector<int8_t> input = random_int8(static_cast<size_t>(layer->params.input_features), 7);
  std::vector<int8_t> output(static_cast<size_t>(layer->params.output_features));
  for (auto _ : state) {
    if (run(c, input.data(), output.data()) != POCKET_OK) state.SkipWithError("kernel failed");
    benchmark::DoNotOptimize(output.data());
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(layer->macs), benchmark::Counter::kIsIterationInvariantRate);
}

int64_t lenet_macs() {
  const LeNet& n = lenet();
  return n.conv1.macs + n.conv2.macs + n.fc1.macs + n.fc2.macs + n.fc3.macs;
}

// One image after another on one core (cycling through the test images).
void BM_LeNet(benchmark::State& state, pocket_fast_variant variant) {
  Network net(variant);
  const std::vector<int8_t>& images = test_images();
  size_t index = 0;
  for (auto _ : state) {
    if (!net.infer(images.data() + index * 3072)) state.SkipWithError("kernel failed");
    benchmark::DoNotOptimize(net.logits.data());
    index = (index + 1) % 10000;
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(lenet_macs()), benchmark::Counter::kIsIterationInvariantRate);
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// The 10,000-image test set, split over `threads` threads (as the engine's OpenMP loop would).
// Real time is what counts, but on a shared machine other processes take turns on the cores;
// worker_cpu_ms_max (the CPU time of the busiest worker, per pass) is what the pass would take on
// idle cores.
void BM_LeNetTestSet(benchmark::State& state, pocket_fast_variant variant) {
  const int threads = static_cast<int>(state.range(0));
  const std::vector<int8_t>& images = test_images();
  std::vector<Network> nets;
  for (int t = 0; t < threads; ++t) nets.emplace_back(variant);
  double busiest_total = 0.0;
  for (auto _ : state) {
    std::vector<std::thread> workers;
    bool ok[16] = {};
    double cpu[16] = {};
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        const double start = thread_cpu_seconds();
        bool good = true;
        for (int i = t; i < 10000; i += threads) good &= nets[static_cast<size_t>(t)].infer(images.data() + size_t(i) * 3072);
        ok[t] = good;
        cpu[t] = thread_cpu_seconds() - start;
      });
    }
    for (auto& w : workers) w.join();
    double busiest = 0.0;
    for (int t = 0; t < threads; ++t) {
      if (!ok[t]) state.SkipWithError("kernel failed");
      busiest = cpu[t] > busiest ? cpu[t] : busiest;
    }
    busiest_total += busiest;
  }
  state.counters["images/s"] = benchmark::Counter(10000.0, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["worker_cpu_ms_max"] =
      benchmark::Counter(busiest_total * 1e3 / static_cast<double>(state.iterations()));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<pocket_fast_variant> variants;
  for (int v = POCKET_FAST_VARIANT_FIRST; v <= POCKET_FAST_VARIANT_LAST; ++v) {
    if (pocket_fast_variant_supported(static_cast<pocket_fast_variant>(v))) {
      variants.push_back(static_cast<pocket_fast_variant>(v));
    }
  }
  const LeNet& n = lenet();
  for (const pocket_fast_variant v : variants) {
    const std::string name = pocket_fast_variant_name(v);
    benchmark::RegisterBenchmark(("BM_Conv1/" + name).c_str(), BM_Conv, &n.conv1, v);
    benchmark::RegisterBenchmark(("BM_Conv2/" + name).c_str(), BM_Conv, &n.conv2, v);
    benchmark::RegisterBenchmark(("BM_Fc1/" + name).c_str(), BM_Fc, &n.fc1, v);
    benchmark::RegisterBenchmark(("BM_Fc2/" + name).c_str(), BM_Fc, &n.fc2, v);
    benchmark::RegisterBenchmark(("BM_Fc3/" + name).c_str(), BM_Fc, &n.fc3, v);
    benchmark::RegisterBenchmark(("BM_LeNet/" + name).c_str(), BM_LeNet, v);
  }
  for (const pocket_fast_variant v : variants) {
    const std::string name = pocket_fast_variant_name(v);
    benchmark::RegisterBenchmark(("BM_LeNetTestSet/" + name).c_str(), BM_LeNetTestSet, v)
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::AddCustomContext("pocket_fast_isa", pocket_fast_isa());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
