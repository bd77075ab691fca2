// Calibration, weight/bias/activation quantization and fake-quantized evaluation.
#include <algorithm>
#include <array>
#include <memory>
#include <cmath>
#include <numeric>
#include <sstream>

#include "pocket/images.hpp"
#include "pocket/qmath.hpp"
#include "pocket/quant.hpp"
#include "pocket_runtime.h"

namespace pocket {
namespace {

bool is_weight_layer(OpKind k) { return k == OpKind::Conv || k == OpKind::Linear; }

// Values outside [lo, hi]: exact while the observer kept every value, else scaled from its sample.
int64_t estimate_outside(const Observer& obs, double lo, double hi) {
  const auto s = obs.sample();
  if (s.empty()) return 0;
  const auto out = std::count_if(s.begin(), s.end(), [&](float x) { return x < lo || x > hi; });
  if (!obs.sampled()) return out;
  return static_cast<int64_t>(std::llround(static_cast<double>(out) * static_cast<double>(obs.count()) /
                                            static_cast<double>(s.size())));
}

std::string bits_str(int bits, bool symmetric) {
  return std::string(symmetric ? "sym" : "asym") + " " + std::to_string(bits) + "-bit";
}

}  // namespace

std::string QuantConfig::describe() const {
  std::ostringstream os;
  os << "weights " << weight_bits << "-bit " << (per_channel ? "per-channel" : "per-tensor") << " "
     << weight_range.str();
  if (weight_only) {
    os << ", activations float (weight-only)";
  } else {
    os << ", activations " << bits_str(act_bits, act_symmetric) << " " << act_range.str();
  }
  return os.str();
}

const TensorQuant* QModel::activation_quant(int value) const {
  const std::vector<int> src = activation_sources(graph);
  if (value < 0 || static_cast<size_t>(value) >= src.size() || src[static_cast<size_t>(value)] < 0) return nullptr;
  const auto it = activations.find(graph.values[static_cast<size_t>(src[static_cast<size_t>(value)])].name);
  return it == activations.end() ? nullptr : &it->second;
}

Result<Graph> prepare_for_quantization(const Graph& graph) {
  Graph g = graph;
  for (const Value& v : g.values) {
    if (v.kind != ValueKind::Param) continue;
    const auto bad = std::count_if(v.init.data.begin(), v.init.data.end(), [](float x) { return !std::isfinite(x); });
    if (bad) {
      return Error{"parameter '" + v.name + "' has " + std::to_string(bad) + " NaN or infinite value(s) of " +
                   std::to_string(v.init.numel()) + ": the model cannot be quantized (retrain or fix the model)"};
    }
  }
  auto bn = fold_batchnorm(g);
  if (!bn) return Error{bn.message()};
  auto pad = fold_pad_into_conv(g);
  if (!pad) return Error{pad.message()};
  POCKET_TRY(infer_shapes(g));
  g.metadata["pocket.passes"] = "fold_batchnorm x" + std::to_string(*bn) + ", fold_pad_into_conv x" + std::to_string(*pad);
  return g;
}

Result<Calibration> calibrate(const Graph& graph, const Dataset& images, const std::string& description) {
  if (images.size() == 0) {
    return Error{"the calibration set is empty: pass --calib N with N > 0, or a --calib-dir with PNG images"};
  }
  if (!graph.normalization.known()) {
    return Error{"the model does not record its input normalisation: pass --normalize (see `pocket import --help`)"};
  }
  Calibration cal;
  const std::vector<int> src = activation_sources(graph);
  for (size_t v = 0; v < src.size(); ++v) {
    if (src[v] == static_cast<int>(v)) cal.observers.emplace(static_cast<int>(v), Observer{});
  }
  Executor exec(graph);
  Tensor x;
  std::vector<int64_t> idx;
  constexpr int64_t kBatch = 100;
  for (int64_t begin = 0; begin < images.size(); begin += kBatch) {
    const int64_t n = std::min(kBatch, images.size() - begin);
    idx.resize(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), begin);
    make_batch(images, idx, graph.normalization, x);
    auto out = exec.run(x);
    if (!out) return Error{out.message()};
    for (auto& [v, obs] : cal.observers) {
      const Tensor& t = exec.value(v);
      obs.add(std::span<const float>(t.data.data(), t.data.size()));
    }
  }
  cal.images = images.size();
  cal.per_class.assign(kCifarClasses, 0);
  for (uint8_t l : images.labels) {
    if (l < kCifarClasses) cal.per_class[l]++;
  }
  cal.description = description;
  return cal;
}

Result<Dataset> load_calibration_images(const CalibrationSource& source, std::string* description) {
  if (!source.image_dir.empty()) {
    auto images = load_image_dir(source.image_dir);
    if (!images) return Error{images.message()};
    if (images->size() == 0) return Error{source.image_dir + ": no PNG images: the calibration set is empty"};
    if (description) *description = std::to_string(images->size()) + " PNG images from " + source.image_dir;
    return images;
  }
  if (source.count <= 0) return Error{"the calibration set is empty: --calib must be at least 1"};
  auto train = load_cifar10(source.data_dir, Split::Train);
  if (!train) return Error{train.message()};
  auto idx = stratified_sample(*train, source.count, source.seed);
  if (!idx) return Error{idx.message()};
  Dataset d;
  d.class_names = train->class_names;
  d.source = train->source;
  d.pixels.reserve(idx->size() * kCifarImageBytes);
  for (int64_t i : *idx) {
    d.pixels.insert(d.pixels.end(), train->image(i), train->image(i) + kCifarImageBytes);
    d.labels.push_back(train->labels[static_cast<size_t>(i)]);
  }
  if (description) {
    *description = std::to_string(d.size()) + " images stratified by class (" +
                   std::to_string(source.count / kCifarClasses) + "-" +
                   std::to_string((source.count + kCifarClasses - 1) / kCifarClasses) +
                   " per class) from the CIFAR-10 training split, seed " + std::to_string(source.seed);
  }
  return d;
}

Result<QModel> quantize(const Graph& graph, const QuantConfig& config, const Calibration* calibration) {
  if (config.weight_bits != 8 && config.weight_bits != 4 && config.weight_bits != 2) {
    return Error{"weight bits must be 8, 4 or 2 (got " + std::to_string(config.weight_bits) + ")"};
  }
  if (config.act_bits != 8 && config.act_bits != 16) {
    return Error{"activation bits must be 8 or 16 (got " + std::to_string(config.act_bits) + ")"};
  }
  if (!config.weight_only && !calibration) return Error{"activation quantization needs a calibration set"};
  QModel m;
  m.graph = graph;
  m.config = config;
  const qmath::QuantType wtype{config.weight_bits, true};

  // Activations: every quantization point.
  if (!config.weight_only) {
    const qmath::QuantType atype{config.act_bits, config.act_symmetric};
    const std::vector<int> src = activation_sources(graph);
    for (size_t v = 0; v < src.size(); ++v) {
      if (src[v] != static_cast<int>(v)) continue;
      const std::string& name = graph.values[v].name;
      TensorQuant t;
      t.bits = config.act_bits;
      t.symmetric = config.act_symmetric;
      // A softmax output is a probability: fixed scale 1/2^bits over [0, 1).
      bool is_softmax = false;
      for (const Node& n : graph.nodes) is_softmax |= n.output == static_cast<int>(v) && n.kind == OpKind::Softmax;
      if (is_softmax && !config.act_symmetric) {
        t.scale = {std::ldexp(1.0, -config.act_bits)};
        t.zero_point = {atype.qmin()};
        t.range_lo = {0.0};
        t.range_hi = {1.0};
        t.method = "fixed";
      } else {
        const auto it = calibration->observers.find(static_cast<int>(v));
        if (it == calibration->observers.end()) return Error{"no calibration data for tensor '" + name + "'"};
        auto r = choose_range(it->second, config.act_range, config.act_bits, config.act_symmetric);
        if (!r) return Error{"activation '" + name + "': " + r.message()};
        auto qp = qmath::choose_quant_params(r->lo, r->hi, atype);
        if (!qp) return Error{"activation '" + name + "': " + qp.message()};
        t.scale = {qp->scale};
        t.zero_point = {qp->zero_point};
        t.range_lo = {r->lo};
        t.range_hi = {r->hi};
        t.method = config.act_range.str();
        t.count = it->second.count();
        t.clipped = estimate_outside(it->second, r->lo, r->hi);
      }
      m.activations[name] = std::move(t);
    }
  }

  // Weights (symmetric, per tensor or per output channel) and biases (int32 at s_in * s_w[c]).
  for (const Node& n : graph.nodes) {
    if (!is_weight_layer(n.kind)) continue;
    const Value& wv = graph.values[static_cast<size_t>(n.inputs[1])];
    const Tensor& w = wv.init;
    const int64_t out_c = w.shape[0];
    const int64_t per = w.numel() / out_c;
    const int64_t channels = config.per_channel ? out_c : 1;
    const int64_t chunk = config.per_channel ? per : w.numel();
    TensorQuant t;
    t.bits = config.weight_bits;
    t.symmetric = true;
    t.method = config.weight_range.str();
    std::vector<int8_t> q(static_cast<size_t>(w.numel()));
    for (int64_t c = 0; c < channels; ++c) {
      const std::span<const float> vals(w.data.data() + c * chunk, static_cast<size_t>(chunk));
      auto r = choose_range(vals, config.weight_range, config.weight_bits, true);
      if (!r) return Error{"weight '" + wv.name + "': " + r.message()};
      auto qp = qmath::choose_quant_params(r->lo, r->hi, wtype);
      if (!qp) return Error{"weight '" + wv.name + "': " + qp.message()};
      t.scale.push_back(qp->scale);
      t.zero_point.push_back(qp->zero_point);
      t.range_lo.push_back(r->lo);
      t.range_hi.push_back(r->hi);
      for (size_t k = 0; k < vals.size(); ++k) {
        const float x = vals[k];
        t.clipped += (x < r->lo || x > r->hi) ? 1 : 0;
        q[static_cast<size_t>(c * chunk) + k] = static_cast<int8_t>(qmath::quantize_value(x, *qp, wtype));
      }
    }
    t.count = w.numel();
    m.qweights[wv.name] = std::move(q);
    if (n.inputs.size() > 2 && !config.weight_only) {
      const Value& bv = graph.values[static_cast<size_t>(n.inputs[2])];
      const TensorQuant* in = nullptr;
      {
        const std::vector<int> src = activation_sources(graph);
        const int s = src[static_cast<size_t>(n.inputs[0])];
        if (s >= 0) {
          const auto it = m.activations.find(graph.values[static_cast<size_t>(s)].name);
          if (it != m.activations.end()) in = &it->second;
        }
      }
      if (!in) return Error{"node '" + n.name + "': its input has no quantization parameters"};
      std::vector<int32_t> qb(static_cast<size_t>(out_c));
      for (int64_t c = 0; c < out_c; ++c) {
        const double sw = t.scale[config.per_channel ? static_cast<size_t>(c) : 0];
        auto b = qmath::quantize_bias(bv.init.data[static_cast<size_t>(c)], in->scale[0], sw);
        if (!b) return Error{"bias '" + bv.name + "' channel " + std::to_string(c) + ": " + b.message()};
        qb[static_cast<size_t>(c)] = *b;
      }
      m.qbiases[bv.name] = std::move(qb);
    }
    m.weights[wv.name] = std::move(t);
  }
  return m;
}

FakeQuant make_fake_quant(const QModel& m) {
  FakeQuant fq{m.graph, {}};
  Graph& g = fq.graph;
  const std::vector<int> src = activation_sources(g);
  for (const Node& n : g.nodes) {
    if (!is_weight_layer(n.kind)) continue;
    Value& wv = g.values[static_cast<size_t>(n.inputs[1])];
    const TensorQuant& t = m.weights.at(wv.name);
    const std::vector<int8_t>& q = m.qweights.at(wv.name);
    const int64_t chunk = wv.init.numel() / static_cast<int64_t>(t.scale.size());
    for (size_t k = 0; k < q.size(); ++k) {
      wv.init.data[k] = static_cast<float>(t.scale[k / static_cast<size_t>(chunk)] * q[k]);
    }
    if (n.inputs.size() > 2) {
      Value& bv = g.values[static_cast<size_t>(n.inputs[2])];
      const auto qb = m.qbiases.find(bv.name);
      if (qb == m.qbiases.end()) continue;  // weight-only: the bias stays float
      const TensorQuant* in = m.activation_quant(n.inputs[0]);
      for (size_t c = 0; c < qb->second.size(); ++c) {
        bv.init.data[c] = static_cast<float>(static_cast<double>(qb->second[c]) * in->scale[0] *
                                             t.scale[t.scale.size() == 1 ? 0 : c]);
      }
    }
  }
  if (m.config.weight_only) return fq;
  // Per value: the quantizer that applies to it (none inside fused groups).
  struct Q {
    bool on = false;
    double scale = 1, inv = 1;
    int32_t zp = 0, qmin = 0, qmax = 0;
  };
  std::vector<Q> qs(g.values.size());
  for (size_t v = 0; v < g.values.size(); ++v) {
    if (src[v] < 0) continue;
    const auto it = m.activations.find(g.values[static_cast<size_t>(src[v])].name);
    if (it == m.activations.end()) continue;
    const qmath::QuantType type{it->second.bits, it->second.symmetric};
    qs[v] = Q{true, it->second.scale[0], 1.0 / it->second.scale[0], it->second.zero_point[0], type.qmin(), type.qmax()};
  }
  // The graph input. For a dataset image it holds exactly norm.apply(c, pixel) (make_batch), and
  // the integer model quantizes the pixel itself: pocket_quantize_input_u8 with the normalisation
  // folded, in exact arithmetic. Rounding the float32 value instead is not the same: with the lab
  // normalisation and the input range [-1, 1] (scale 2/255) EVERY pixel lies exactly on a rounding
  // tie (x / scale = p - 127.5), which float32 noise breaks either way, so about half the input
  // values would differ by one step from the integer model. Values that are pixel levels therefore
  // take the integer path's result (a 256-entry table per channel, computed by the runtime kernel);
  // any other value (a float input of `pocket infer`) is quantized from its float value below.
  struct PixelTable {
    int64_t plane = 0;                       // H * W
    std::vector<std::array<float, 256>> x;   // norm.apply(c, p)
    std::vector<std::array<float, 256>> fq;  // its fake-quantized value
  };
  auto pixels = std::make_shared<PixelTable>();
  const Shape& in_shape = g.input_shape();
  const Q& in_q = qs[static_cast<size_t>(g.input)];
  if (in_q.on && g.normalization.known() && in_shape.size() == 4 && in_shape[1] >= 1 && in_shape[1] <= 3) {
    const int channels = static_cast<int>(in_shape[1]);
    auto fold = qmath::fold_input_normalization(g.normalization, channels, qmath::QuantParams{in_q.scale, in_q.zp});
    if (fold) {
      std::vector<uint8_t> levels(static_cast<size_t>(256 * channels));  // 1 x 256 pixels, interleaved
      for (size_t i = 0; i < levels.size(); ++i) levels[i] = static_cast<uint8_t>(i / static_cast<size_t>(channels));
      std::vector<int8_t> q(levels.size());
      const pocket_quantize_input_params p{1, 1, 256, channels, POCKET_PIXELS_HWC, fold->multiplier.data(),
                                           fold->shift.data(), fold->offset.data(), fold->zero_point};
      if (pocket_quantize_input_u8(&p, levels.data(), q.data()) == POCKET_OK) {
        pixels->plane = in_shape[2] * in_shape[3];
        pixels->x.resize(static_cast<size_t>(channels));
        pixels->fq.resize(static_cast<size_t>(channels));
        for (int c = 0; c < channels; ++c) {
          for (int level = 0; level < 256; ++level) {
            pixels->x[static_cast<size_t>(c)][static_cast<size_t>(level)] =
                g.normalization.apply(c, static_cast<uint8_t>(level));
            pixels->fq[static_cast<size_t>(c)][static_cast<size_t>(level)] = static_cast<float>(
                (q[static_cast<size_t>(level * channels + c)] - in_q.zp) * in_q.scale);
          }
        }
      }
    }
  }
  const int input = g.input;
  const Normalization norm = g.normalization;
  fq.hook = [qs, pixels, input, norm](int value, Tensor& t) {
    const Q& q = qs[static_cast<size_t>(value)];
    if (!q.on) return;
    auto fake = [&q](float x) {
      // round(x / scale) + zero_point, ties away from zero, clamped (qmath::quantize_value).
      double r = std::isnan(x) ? 0.0 : std::round(static_cast<double>(x) * q.inv);
      r = std::clamp(r + q.zp, static_cast<double>(q.qmin), static_cast<double>(q.qmax));
      return static_cast<float>((r - q.zp) * q.scale);
    };
    if (value != input || pixels->plane == 0) {
      for (float& x : t.data) x = fake(x);
      return;
    }
    const auto channels = static_cast<int64_t>(pixels->x.size());
    for (int64_t i = 0; i < t.numel(); ++i) {
      float& x = t.data[static_cast<size_t>(i)];
      const auto c = static_cast<int>((i / pixels->plane) % channels);
      const double level = std::round((static_cast<double>(x) - norm.offset(c)) / norm.scale(c));
      const bool is_pixel = level >= 0.0 && level <= 255.0 &&
                            pixels->x[static_cast<size_t>(c)][static_cast<size_t>(level)] == x;
      x = is_pixel ? pixels->fq[static_cast<size_t>(c)][static_cast<size_t>(level)] : fake(x);
    }
  };
  return fq;
}

Result<QuantEvalResult> evaluate_fake_quant(const QModel& model, const Dataset& data,
                                            const std::vector<int>& float_predictions) {
  const FakeQuant fq = make_fake_quant(model);
  auto r = evaluate(fq.graph, data, 250, fq.hook);
  if (!r) return Error{r.message()};
  QuantEvalResult q;
  q.eval = std::move(*r);
  if (float_predictions.size() == q.eval.predictions.size() && !float_predictions.empty()) {
    int64_t same = 0;
    for (size_t i = 0; i < float_predictions.size(); ++i) same += float_predictions[i] == q.eval.predictions[i] ? 1 : 0;
    q.agreement = 100.0 * static_cast<double>(same) / static_cast<double>(float_predictions.size());
  }
  return q;
}

Footprint footprint(const Graph& g) {
  Footprint f;
  std::vector<bool> is_bias(g.values.size(), false);
  for (const Node& n : g.nodes) {
    if (is_weight_layer(n.kind) && n.inputs.size() > 2) is_bias[static_cast<size_t>(n.inputs[2])] = true;
  }
  for (size_t v = 0; v < g.values.size(); ++v) {
    if (g.values[v].kind != ValueKind::Param) continue;
    (is_bias[v] ? f.bias_count : f.weight_count) += g.values[v].init.numel();
  }
  f.float_weight_bytes = 4 * f.weight_count;
  f.float_bias_bytes = 4 * f.bias_count;
  return f;
}

Footprint footprint(const QModel& m) {
  Footprint f = footprint(m.graph);
  for (const auto& [name, t] : m.weights) {
    const int64_t n = t.count;
    f.quant_weight_bytes += (n * t.bits + 7) / 8;
    f.quant_param_bytes += 4 * static_cast<int64_t>(t.scale.size());  // float32 scales; zero point is 0
  }
  for (const auto& [name, b] : m.qbiases) f.quant_bias_bytes += 4 * static_cast<int64_t>(b.size());
  // Weight-only: biases stay float32.
  if (m.config.weight_only) f.quant_bias_bytes = f.float_bias_bytes;
  for (const auto& [name, t] : m.activations) f.quant_param_bytes += 8 * static_cast<int64_t>(t.scale.size());
  // Parameters that are neither quantized weights nor biases (none after the passes) stay float.
  int64_t quantized = 0;
  for (const auto& [name, t] : m.weights) quantized += t.count;
  f.quant_weight_bytes += 4 * (f.weight_count - quantized);
  return f;
}

}  // namespace pocket
