#include <cmath>

#include "pocket/train.hpp"

namespace pocket {

Result<OptimizerKind> parse_optimizer(const std::string& s) {
  if (s == "sgd") return OptimizerKind::Sgd;
  if (s == "adam") return OptimizerKind::Adam;
  return Error{"unknown optimizer '" + s + "': use sgd or adam"};
}

Result<Schedule> parse_schedule(const std::string& s) {
  if (s == "constant") return Schedule::Constant;
  if (s == "cosine") return Schedule::Cosine;
  return Error{"unknown schedule '" + s + "': use constant or cosine"};
}

std::string describe(const TrainConfig& c) {
  std::string s = c.optimizer == OptimizerKind::Sgd ? "sgd" : "adam";
  s += " lr " + std::to_string(c.lr);
  if (c.optimizer == OptimizerKind::Sgd) s += " momentum " + std::to_string(c.momentum);
  s += " weight-decay " + std::to_string(c.weight_decay);
  s += c.schedule == Schedule::Cosine ? " cosine" : " constant";
  s += " batch " + std::to_string(c.batch) + " epochs " + std::to_string(c.epochs);
  s += c.augment.enabled ? " augment" : " no-augment";
  s += " seed " + std::to_string(c.seed);
  return s;
}

float learning_rate(const TrainConfig& config, int64_t step, int64_t total) {
  switch (config.schedule) {
    case Schedule::Constant:
      return config.lr;
    case Schedule::Cosine: {
      if (total <= 1) return config.lr;
      const double t = static_cast<double>(step) / static_cast<double>(total);
      return static_cast<float>(0.5 * config.lr * (1.0 + std::cos(3.14159265358979323846 * t)));
    }
  }
  return config.lr;
}

Optimizer::Optimizer(const TrainConfig& config, const Graph& graph)
    : config_(config), m_(graph.values.size()), v_(graph.values.size()) {
  for (size_t i = 0; i < graph.values.size(); ++i) {
    if (graph.values[i].kind != ValueKind::Param) continue;
    m_[i] = Tensor(graph.values[i].shape);
    if (config.optimizer == OptimizerKind::Adam) v_[i] = Tensor(graph.values[i].shape);
  }
}

void Optimizer::step(Graph& graph, const std::vector<const Tensor*>& grads, float lr) {
  ++t_;
  const float wd = config_.weight_decay;
  const float mom = config_.momentum;
  const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  const float bc1 = 1.0f - std::pow(b1, static_cast<float>(t_));
  const float bc2 = 1.0f - std::pow(b2, static_cast<float>(t_));
  for (size_t i = 0; i < graph.values.size(); ++i) {
    if (graph.values[i].kind != ValueKind::Param || !grads[i]) continue;
    float* w = graph.values[i].init.ptr();
    const float* g = grads[i]->ptr();
    float* m = m_[i].ptr();
    const auto n = static_cast<size_t>(graph.values[i].init.numel());
    switch (config_.optimizer) {
      case OptimizerKind::Sgd:
        // PyTorch's SGD (dampening 0, no Nesterov): v = mom*v + (g + wd*w); w -= lr*v.
        for (size_t k = 0; k < n; ++k) {
          m[k] = mom * m[k] + (g[k] + wd * w[k]);
          w[k] -= lr * m[k];
        }
        break;
      case OptimizerKind::Adam: {
        float* v = v_[i].ptr();
        for (size_t k = 0; k < n; ++k) {
          const float gk = g[k] + wd * w[k];
          m[k] = b1 * m[k] + (1.0f - b1) * gk;
          v[k] = b2 * v[k] + (1.0f - b2) * gk * gk;
          w[k] -= lr * (m[k] / bc1) / (std::sqrt(v[k] / bc2) + eps);
        }
        break;
      }
    }
  }
}

}  // namespace pocket
