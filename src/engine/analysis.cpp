// Evaluation of the integer engine on a dataset, and per-layer quantization error against the
// float model (cumulative and isolated).
#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <limits>
#include <numeric>

#include "pocket/engine.hpp"
#include "pocket/executor.hpp"

namespace pocket::engine {
namespace {

int argmax(const std::vector<float>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace

Result<EvalResult> evaluate_int8(const Plan& plan, const Dataset& data) {
  if (!plan.has_pixel_input()) {
    return Error{"the model's input is not an image with a known normalisation: the engine cannot quantize pixels"};
  }
  if (plan.input().bytes != kCifarImageBytes) {
    return Error{"the model takes " + shape_str(plan.input().shape) + ", the dataset has 3x32x32 images"};
  }
  if (plan.output().bytes != kCifarClasses) {
    return Error{"the model has " + std::to_string(plan.output().bytes) + " outputs, the dataset " +
                 std::to_string(kCifarClasses) + " classes"};
  }
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = data.size();
  std::vector<int> predictions(static_cast<size_t>(n));
#pragma omp parallel
  {
    // One arena, scratch and I/O buffers per thread; the Plan (with its packed kernels) is shared
    // read-only.
    std::vector<int8_t> arena(static_cast<size_t>(plan.arena_bytes()));
    std::vector<uint8_t> scratch(static_cast<size_t>(plan.scratch_bytes()));
    std::vector<int8_t> in(static_cast<size_t>(plan.input().bytes)), out(static_cast<size_t>(plan.output().bytes));
    std::vector<float> y(out.size());
#pragma omp for schedule(dynamic, 32)
    for (int64_t i = 0; i < n; ++i) {
      plan.quantize_pixels(data.image(i), in.data());
      plan.run(in.data(), out.data(), arena, scratch);
      plan.dequantize_tensor(plan.output_tensor(), out.data(), y.data());
      predictions[static_cast<size_t>(i)] = argmax(y);
    }
  }
  EvalResult r = summarize(predictions, data.labels, kCifarClasses);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

double agreement(const std::vector<int>& a, const std::vector<int>& b) {
  if (a.size() != b.size() || a.empty()) return -1.0;
  int64_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i] ? 1 : 0;
  return 100.0 * static_cast<double>(same) / static_cast<double>(a.size());
}

void ErrorStats::add(std::span<const float> reference, std::span<const float> dequantized) {
  POCKET_CHECK(reference.size() == dequantized.size(), "ErrorStats::add: sizes differ");
  for (size_t i = 0; i < reference.size(); ++i) {
    const double f = reference[i], d = dequantized[i];
    signal += f * f;
    noise += (f - d) * (f - d);
    dot += f * d;
    dequant += d * d;
  }
  count += static_cast<int64_t>(reference.size());
}

double ErrorStats::sqnr_db() const {
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

double ErrorStats::cosine() const {
  if (signal == 0.0 && dequant == 0.0) return 1.0;
  if (signal == 0.0 || dequant == 0.0) return 0.0;
  return dot / std::sqrt(signal * dequant);
}

namespace {

void merge(ErrorStats& into, const ErrorStats& from) {
  into.signal += from.signal;
  into.noise += from.noise;
  into.dot += from.dot;
  into.dequant += from.dequant;
  into.count += from.count;
}

}  // namespace

namespace {

// The analysis over `count` inputs: make_input fills the float batch [begin, begin + n); quantize_input
// gives the integer network's input for sample i (whose float input is x).
using MakeInput = std::function<void(int64_t begin, int64_t n, Tensor& x)>;
using QuantizeInput = std::function<void(int64_t i, const float* x, int8_t* out)>;

Result<QuantErrorReport> analyse(const QModel& model, const Plan& plan, int64_t count, const MakeInput& make_input,
                                 const QuantizeInput& quantize_input) {
  const Graph& g = model.graph;
  if (count <= 0) return Error{"no inputs to analyse"};
  const std::vector<Layer>& layers = plan.layers();
  const std::vector<PlanTensor>& tensors = plan.tensors();

  QuantErrorReport report;
  std::vector<int> entry_of(layers.size(), -1);  // layer -> index in report.layers
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].float_value < 0) continue;
    LayerError e;
    e.layer = i;
    e.name = layers[i].name;
    for (size_t k = 0; k < layers[i].ops.size(); ++k) {
      if (k) e.ops += "+";
      e.ops += layers[i].ops[k];
    }
    e.kind = layers[i].kind;
    entry_of[i] = static_cast<int>(report.layers.size());
    report.layers.push_back(std::move(e));
  }
  // Isolated analysis needs a float reference for every input tensor of the layer.
  std::vector<bool> isolable(layers.size(), false);
  for (size_t i = 0; i < layers.size(); ++i) {
    isolable[i] = entry_of[i] >= 0 && std::all_of(layers[i].inputs.begin(), layers[i].inputs.end(), [&](int t) {
                    return tensors[static_cast<size_t>(t)].value >= 0;
                  });
  }

  Executor exec(g);
  Tensor x;
  constexpr int64_t kBatch = 50;
  const size_t entries = report.layers.size();
  for (int64_t begin = 0; begin < count; begin += kBatch) {
    const int64_t n = std::min(kBatch, count - begin);
    make_input(begin, n, x);
    auto out = exec.run(x);
    if (!out) return Error{out.message()};
    // Per image and layer, merged in image order afterwards (deterministic sums).
    std::vector<ErrorStats> cumulative(static_cast<size_t>(n) * entries), isolated(cumulative.size());
#pragma omp parallel
    {
      std::vector<int8_t> arena(static_cast<size_t>(plan.arena_bytes()));
      std::vector<int8_t> in(static_cast<size_t>(plan.input().bytes)), y(static_cast<size_t>(plan.output().bytes));
      std::vector<float> deq;
#pragma omp for schedule(dynamic, 1)
      for (int64_t b = 0; b < n; ++b) {
        // The float value of `value` for image b.
        auto reference = [&](int value) {
          const Tensor& t = exec.value(value);
          const int64_t per = t.numel() / t.dim(0);
          return std::span<const float>(t.ptr() + b * per, static_cast<size_t>(per));
        };
        ErrorStats* cum = &cumulative[static_cast<size_t>(b) * entries];
        ErrorStats* iso = &isolated[static_cast<size_t>(b) * entries];
        // Cumulative: the integer network from its quantized input on.
        quantize_input(begin + b, reference(g.input).data(), in.data());
        plan.run(in.data(), y.data(), arena, [&](size_t layer, std::span<const int8_t> data) {
          if (entry_of[layer] < 0) return;
          const Layer& l = layers[layer];
          deq.resize(data.size());
          plan.dequantize_tensor(l.output, data.data(), deq.data());
          cum[entry_of[layer]].add(reference(l.float_value), deq);
        });
        // Isolated: each layer alone on its quantized float inputs.
        for (size_t layer = 0; layer < layers.size(); ++layer) {
          if (!isolable[layer]) continue;
          const Layer& l = layers[layer];
          for (int t : l.inputs) {
            plan.quantize_tensor(t, reference(tensors[static_cast<size_t>(t)].value).data(),
                                 plan.tensor_data(arena, t).data());
          }
          plan.run_layer(layer, arena);
          const std::span<int8_t> data = plan.tensor_data(arena, l.output);
          deq.resize(data.size());
          plan.dequantize_tensor(l.output, data.data(), deq.data());
          iso[entry_of[layer]].add(reference(l.float_value), deq);
        }
      }
    }
    for (int64_t b = 0; b < n; ++b) {
      for (size_t e = 0; e < entries; ++e) {
        merge(report.layers[e].cumulative, cumulative[static_cast<size_t>(b) * entries + e]);
        merge(report.layers[e].isolated, isolated[static_cast<size_t>(b) * entries + e]);
      }
    }
  }
  report.images = count;
  report.ranking.resize(entries);
  std::iota(report.ranking.begin(), report.ranking.end(), size_t{0});
  auto key = [](const ErrorStats& s) {
    // A layer without isolated data (count 0) sorts last.
    return s.count == 0 ? std::numeric_limits<double>::infinity() : s.sqnr_db();
  };
  std::stable_sort(report.ranking.begin(), report.ranking.end(), [&](size_t a, size_t b) {
    const double ia = key(report.layers[a].isolated), ib = key(report.layers[b].isolated);
    if (ia != ib) return ia < ib;
    return key(report.layers[a].cumulative) < key(report.layers[b].cumulative);
  });
  return report;
}

}  // namespace

Result<QuantErrorReport> quantization_error(const QModel& model, const Plan& plan, const Dataset& images) {
  const Graph& g = model.graph;
  if (!g.normalization.known()) return Error{"the model does not record its input normalisation"};
  if (!plan.has_pixel_input()) return Error{"the model's input is not an image the engine can quantize from pixels"};
  if (plan.input().bytes != kCifarImageBytes) {
    return Error{"the model takes " + shape_str(plan.input().shape) + ", the images are 3x32x32"};
  }
  return analyse(
      model, plan, images.size(),
      [&](int64_t begin, int64_t n, Tensor& x) {
        std::vector<int64_t> idx(static_cast<size_t>(n));
        std::iota(idx.begin(), idx.end(), begin);
        make_batch(images, idx, g.normalization, x);
      },
      [&](int64_t i, const float*, int8_t* out) { plan.quantize_pixels(images.image(i), out); });
}

Result<QuantErrorReport> quantization_error(const QModel& model, const Plan& plan, const Tensor& inputs) {
  const Shape& want = plan.input().shape;
  if (inputs.rank() != want.size() || inputs.shape.empty() || !std::equal(want.begin() + 1, want.end(), inputs.shape.begin() + 1)) {
    return Error{"inputs of shape " + shape_str(inputs.shape) + " for a model that takes " + shape_str(want)};
  }
  const int64_t per = numel(want);
  return analyse(
      model, plan, inputs.dim(0),
      [&](int64_t begin, int64_t n, Tensor& x) {
        Shape s = want;
        s[0] = n;
        x.reshape_to(s);
        std::copy(inputs.ptr() + begin * per, inputs.ptr() + (begin + n) * per, x.ptr());
      },
      [&](int64_t, const float* x, int8_t* out) { plan.quantize_float_input(x, out); });
}

}  // namespace pocket::engine
