#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "pocket/executor.hpp"
#include "pocket/loss.hpp"
#include "pocket/train.hpp"

namespace pocket {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int argmax_row(const float* row, int64_t k) {
  int best = 0;
  for (int64_t j = 1; j < k; ++j) {
    if (row[j] > row[best]) best = static_cast<int>(j);
  }
  return best;
}

}  // namespace

Status train(Graph& graph, const Dataset& train_set, const TrainConfig& config,
             const std::function<void(const TrainProgress&)>& progress) {
  if (config.epochs < 1) return Error{"--epochs must be at least 1"};
  if (config.batch < 1) return Error{"--batch must be at least 1"};
  if (!(config.lr > 0.0f) || !std::isfinite(config.lr)) return Error{"--lr must be a positive number"};
  if (config.momentum < 0.0f || config.momentum >= 1.0f) return Error{"--momentum must be in [0, 1)"};
  if (config.weight_decay < 0.0f) return Error{"--weight-decay must be >= 0"};
  if (!graph.normalization.known()) {
    return Error{"the model does not record its input normalisation: import it with --normalize first"};
  }
  if (train_set.size() == 0) return Error{"the training set is empty"};
  const Shape& in_shape = graph.input_shape();
  if (in_shape != Shape{1, kCifarChannels, kCifarSide, kCifarSide}) {
    return Error{"the model's input is " + shape_str(in_shape) + "; training needs [1, 3, 32, 32] (CIFAR-10 images)"};
  }
  const int64_t classes = graph.output_shape().back();
  if (graph.output_shape().size() != 2 || classes < kCifarClasses) {
    return Error{"the model's output is " + shape_str(graph.output_shape()) + "; training needs [1, K] logits with K >= 10"};
  }

  const int64_t per_epoch =
      config.max_images > 0 ? std::min<int64_t>(config.max_images, train_set.size()) : train_set.size();
  const int64_t steps_per_epoch = (per_epoch + config.batch - 1) / config.batch;
  const int64_t total_steps = steps_per_epoch * config.epochs;

  Executor exec(graph);
  Optimizer opt(config, graph);
  Tensor batch, grad_logits;
  std::vector<int64_t> order(static_cast<size_t>(train_set.size()));
  std::vector<const Tensor*> grads(graph.values.size(), nullptr);
  const Rng root(config.seed);
  const auto t0 = Clock::now();
  int64_t step = 0;

  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    Rng shuffle = root.split(2 * static_cast<uint64_t>(epoch));
    for (size_t i = order.size() - 1; i > 0; --i) {
      std::swap(order[i], order[shuffle.uniform_int(static_cast<uint32_t>(i + 1))]);
    }
    Rng aug = root.split(2 * static_cast<uint64_t>(epoch) + 1);
    double loss_sum = 0.0;
    int64_t correct = 0, seen = 0;
    const auto te = Clock::now();
    auto last_report = te;
    for (int64_t s = 0; s < steps_per_epoch; ++s, ++step) {
      const int64_t begin = s * config.batch;
      const int64_t n = std::min<int64_t>(config.batch, per_epoch - begin);
      const std::span<const int64_t> idx(order.data() + begin, static_cast<size_t>(n));
      make_batch(train_set, idx, graph.normalization, batch, config.augment, &aug);
      const std::vector<int> labels = batch_labels(train_set, idx);
      auto out = exec.run(batch);
      if (!out) return Error{out.message()};
      const Tensor& logits = **out;
      const float loss = softmax_cross_entropy(logits, labels, &grad_logits);
      if (!std::isfinite(loss)) {
        return Error{"training diverged at epoch " + std::to_string(epoch) + ", step " + std::to_string(s + 1) +
                     " (loss " + std::to_string(loss) + "): lower --lr"};
      }
      POCKET_TRY(exec.backward(grad_logits));
      for (size_t v = 0; v < graph.values.size(); ++v) {
        grads[v] = graph.values[v].kind == ValueKind::Param ? &exec.grad(static_cast<int>(v)) : nullptr;
      }
      opt.step(graph, grads, learning_rate(config, step, total_steps));
      loss_sum += static_cast<double>(loss) * static_cast<double>(n);
      for (int64_t i = 0; i < n; ++i) {
        correct += argmax_row(logits.ptr() + i * classes, classes) == labels[static_cast<size_t>(i)] ? 1 : 0;
      }
      seen += n;
      const bool end = s + 1 == steps_per_epoch;
      if (progress && (end || seconds_since(last_report) >= 0.5)) {
        last_report = Clock::now();
        TrainProgress p;
        p.epoch = epoch;
        p.epochs = config.epochs;
        p.images_done = seen;
        p.images_total = per_epoch;
        p.loss = loss_sum / static_cast<double>(seen);
        p.accuracy = 100.0 * static_cast<double>(correct) / static_cast<double>(seen);
        p.images_per_second = static_cast<double>(seen) / std::max(1e-9, seconds_since(te));
        p.seconds = seconds_since(t0);
        p.epoch_end = end;
        progress(p);
      }
    }
  }
  return Status::ok();
}

EvalResult summarize(const std::vector<int>& predictions, const std::vector<uint8_t>& labels, int classes) {
  EvalResult r;
  r.images = static_cast<int64_t>(predictions.size());
  r.confusion.assign(static_cast<size_t>(classes), std::vector<int64_t>(static_cast<size_t>(classes), 0));
  for (size_t i = 0; i < predictions.size(); ++i) {
    const int t = labels[i];
    const int p = predictions[i];
    if (t < classes && p >= 0 && p < classes) r.confusion[static_cast<size_t>(t)][static_cast<size_t>(p)]++;
    r.correct += t == p ? 1 : 0;
  }
  r.accuracy = r.images ? 100.0 * static_cast<double>(r.correct) / static_cast<double>(r.images) : 0.0;
  r.per_class.assign(static_cast<size_t>(classes), 0.0);
  for (size_t c = 0; c < static_cast<size_t>(classes); ++c) {
    const int64_t total = std::accumulate(r.confusion[c].begin(), r.confusion[c].end(), int64_t{0});
    r.per_class[c] = total ? 100.0 * static_cast<double>(r.confusion[c][c]) / static_cast<double>(total) : 0.0;
  }
  r.predictions = predictions;
  return r;
}

Result<EvalResult> evaluate(const Graph& graph, const Dataset& data, int batch, const Executor::OutputHook& hook) {
  if (!graph.normalization.known()) {
    return Error{"the model does not record its input normalisation (ONNX files from PyTorch do not): pass "
                 "--normalize lab|unit|raw|R,G,B/R,G,B, or record it once with `pocket import IN.onnx --normalize ... "
                 "--out OUT.onnx`"};
  }
  if (graph.input_shape() != Shape{1, kCifarChannels, kCifarSide, kCifarSide}) {
    return Error{"the model's input is " + shape_str(graph.input_shape()) + "; CIFAR-10 evaluation needs [1, 3, 32, 32]"};
  }
  if (graph.output_shape().size() != 2 || graph.output_shape()[1] < kCifarClasses) {
    return Error{"the model's output is " + shape_str(graph.output_shape()) + "; evaluation needs [1, K] scores with K >= 10"};
  }
  if (batch < 1) return Error{"batch must be at least 1"};
  const auto t0 = Clock::now();
  Executor exec(graph);
  if (hook) exec.set_output_hook(hook);
  const int64_t classes = graph.output_shape()[1];
  std::vector<int> predictions(static_cast<size_t>(data.size()));
  std::vector<int64_t> idx;
  Tensor x;
  for (int64_t begin = 0; begin < data.size(); begin += batch) {
    const int64_t n = std::min<int64_t>(batch, data.size() - begin);
    idx.resize(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), begin);
    make_batch(data, idx, graph.normalization, x);
    auto out = exec.run(x);
    if (!out) return Error{out.message()};
    for (int64_t i = 0; i < n; ++i) {
      predictions[static_cast<size_t>(begin + i)] = argmax_row((*out)->ptr() + i * classes, classes);
    }
  }
  EvalResult r = summarize(predictions, data.labels, kCifarClasses);
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace pocket
