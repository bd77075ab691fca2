// Training and evaluation of float graphs on CIFAR-10-shaped data.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pocket/data.hpp"
#include "pocket/executor.hpp"
#include "pocket/graph.hpp"
#include "pocket/status.hpp"

namespace pocket {

enum class OptimizerKind : uint8_t { Sgd, Adam };
enum class Schedule : uint8_t { Constant, Cosine };

struct TrainConfig {
  int epochs = 10;
  int batch = 32;
  float lr = 0.02f;
  float momentum = 0.9f;
  float weight_decay = 5e-4f;
  OptimizerKind optimizer = OptimizerKind::Sgd;
  Schedule schedule = Schedule::Cosine;
  Augment augment{};
  uint64_t seed = 1;
  int64_t max_images = 0;  // per epoch; 0 = the whole training set (a smaller number for smoke tests)
};

// Parses "sgd"/"adam" and "constant"/"cosine".
Result<OptimizerKind> parse_optimizer(const std::string& s);
Result<Schedule> parse_schedule(const std::string& s);
std::string describe(const TrainConfig& c);  // one line: "sgd lr 0.05 momentum 0.9 ..."

struct TrainProgress {
  int epoch = 0;  // 1-based
  int epochs = 0;
  int64_t images_done = 0;  // in this epoch
  int64_t images_total = 0;
  double loss = 0.0;       // running mean over this epoch
  double accuracy = 0.0;   // running top-1 over this epoch, percent
  double images_per_second = 0.0;
  double seconds = 0.0;    // since the start of training
  bool epoch_end = false;
};

// Parameter updates in place. One state per Param value of the graph.
class Optimizer {
 public:
  Optimizer(const TrainConfig& config, const Graph& graph);
  // grads[v] is dL/d(param v) for every Param value id v.
  void step(Graph& graph, const std::vector<const Tensor*>& grads, float lr);

 private:
  TrainConfig config_;
  std::vector<Tensor> m_;  // momentum / first moment
  std::vector<Tensor> v_;  // second moment (Adam)
  int64_t t_ = 0;
};

// Learning rate at step `step` of `total` for the config's schedule.
float learning_rate(const TrainConfig& config, int64_t step, int64_t total);

// Trains `graph` in place. Deterministic for a given config (seed) and thread count.
Status train(Graph& graph, const Dataset& train_set, const TrainConfig& config,
             const std::function<void(const TrainProgress&)>& progress = {});

struct EvalResult {
  int64_t images = 0;
  int64_t correct = 0;
  double accuracy = 0.0;                         // percent
  std::vector<double> per_class;                 // percent, by label
  std::vector<std::vector<int64_t>> confusion;   // [true][predicted]
  std::vector<int> predictions;                  // top-1 per image
  double seconds = 0.0;
};

// Computes top-1 accuracy, per-class accuracy and the confusion matrix from predictions.
EvalResult summarize(const std::vector<int>& predictions, const std::vector<uint8_t>& labels, int classes);

// Evaluates a float graph on `data` (normalised with the graph's normalisation, which must be known).
// `hook`, if set, is installed on the executor (see Executor::set_output_hook).
Result<EvalResult> evaluate(const Graph& graph, const Dataset& data, int batch = 250,
                            const Executor::OutputHook& hook = {});

}  // namespace pocket
