// pocket train: float training of a built-in model on CIFAR-10, saved as ONNX.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pocket/data.hpp"
#include "pocket/models.hpp"
#include "pocket/onnx.hpp"
#include "pocket/train.hpp"
#include "progress.hpp"
#include "summaries.hpp"

namespace pocket::cli {
namespace {

struct TrainOptions {
  std::string model = "lenet";
  std::string recipe = "default";
  bool bias = false;
  bool no_bias = false;
  int epochs = 0;
  int batch = 0;
  float lr = 0;
  float momentum = -1;
  float weight_decay = -1;
  std::string optimizer;
  std::string schedule;
  bool augment = false;
  bool no_augment = false;
  uint64_t seed = 1;
  int64_t max_images = 0;
  std::string data;
  std::string out;
  bool json = false;
  bool quiet = false;
};

void run_train(const TrainOptions& o) {
  const char* cmd = "train";
  if (o.out.empty()) return fail(cmd, "--out FILE.onnx is required");
  bool bias = true;
  TrainConfig c = recipe_config(o.recipe, bias);
  if (o.bias && o.no_bias) return fail(cmd, "--bias and --no-bias contradict each other: pass one");
  if (o.bias) bias = true;
  if (o.no_bias) bias = false;
  if (o.epochs) c.epochs = o.epochs;
  if (o.batch) c.batch = o.batch;
  if (o.lr > 0) c.lr = o.lr;
  if (o.momentum >= 0) c.momentum = o.momentum;
  if (o.weight_decay >= 0) c.weight_decay = o.weight_decay;
  if (!o.optimizer.empty()) {
    auto k = parse_optimizer(o.optimizer);
    if (!k) return fail(cmd, k.message());
    c.optimizer = *k;
  }
  if (!o.schedule.empty()) {
    auto s = parse_schedule(o.schedule);
    if (!s) return fail(cmd, s.message());
    c.schedule = *s;
  }
  if (o.augment && o.no_augment) return fail(cmd, "--augment and --no-augment contradict each other: pass one");
  if (o.augment) c.augment.enabled = true;
  if (o.no_augment) c.augment.enabled = false;
  c.seed = o.seed;
  c.max_images = o.max_images;

  auto graph = make_model(o.model, bias, c.seed);
  if (!graph) return fail(cmd, graph.message());
  const std::string dir = resolve_data_dir(o.data);
  auto train_set = load_cifar10(dir, Split::Train);
  if (!train_set) return fail(cmd, train_set.message());

  if (!o.quiet) {
    std::fprintf(stderr, "training %s (%s bias, %lld parameters) on %lld images from %s\n  %s\n", o.model.c_str(),
                 bias ? "with" : "no", static_cast<long long>(graph->parameter_count()),
                 static_cast<long long>(train_set->size()), dir.c_str(), describe(c).c_str());
  }
  ProgressLine line(o.quiet);
  TrainProgress last;
  const Status st = train(*graph, *train_set, c, [&](const TrainProgress& p) {
    last = p;
    const double epoch_frac = static_cast<double>(p.images_done) / static_cast<double>(p.images_total);
    const double done = (p.epoch - 1 + epoch_frac) / p.epochs;
    const double eta = done > 0 ? p.seconds * (1.0 - done) / done : 0.0;
    line.update(fmt::format("epoch {}/{}  {:5.1f}%  loss {:.4f}  acc {:5.2f}%  {:.0f} img/s  elapsed {}  left {}",
                            p.epoch, p.epochs, 100.0 * epoch_frac, p.loss, p.accuracy, p.images_per_second,
                            format_duration(p.seconds), format_duration(eta)),
                p.epoch_end);
  });
  if (!st) return fail(cmd, st.message());

  graph->metadata["pocket.train.recipe"] = describe(c);
  graph->metadata["pocket.train.data"] = "CIFAR-10 train (" + std::to_string(train_set->size()) + " images)";
  const Status saved = save_onnx(*graph, o.out);
  if (!saved) return fail(cmd, saved.message());
  if (o.json) {
    nlohmann::json j;
    j["model"] = o.model;
    j["bias"] = bias;
    j["out"] = o.out;
    j["recipe"] = describe(c);
    j["epochs"] = c.epochs;
    j["final_loss"] = last.loss;
    j["final_train_accuracy"] = last.accuracy;
    j["seconds"] = last.seconds;
    j["images_per_second"] = last.images_per_second;
    j["parameters"] = graph->parameter_count();
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("saved %s (train loss %.4f, train accuracy %.2f%%, %s)\n", o.out.c_str(), last.loss, last.accuracy,
                format_duration(last.seconds).c_str());
  }
}

}  // namespace

void register_train(CLI::App& app) {
  auto opts = std::make_shared<TrainOptions>();
  CLI::App* sub = app.add_subcommand("train", "Train a built-in model (the lab's LeNet-5) on CIFAR-10 and save it as ONNX");
  sub->add_option("--model", opts->model, "Model to train")->check(CLI::IsMember({"lenet"}))->capture_default_str();
  sub->add_option("--recipe", opts->recipe,
                  "Starting point for every setting: 'default' (bias, SGD 0.02 momentum 0.9, weight decay 5e-4, "
                  "cosine, batch 32, 10 epochs, no augmentation) or 'lab' (the lab's recipe: no bias, SGD 0.001 "
                  "momentum 0.9, constant, batch 4, 2 epochs, no augmentation); the flags below override it")
      ->check(CLI::IsMember({"default", "lab"}))
      ->capture_default_str();
  sub->add_flag("--bias", opts->bias, "Layers with bias (default recipe)");
  sub->add_flag("--no-bias", opts->no_bias, "Layers without bias (the lab's network)");
  sub->add_option("--epochs", opts->epochs, "Epochs")->check(CLI::PositiveNumber);
  sub->add_option("--batch", opts->batch, "Mini-batch size")->check(CLI::PositiveNumber);
  sub->add_option("--lr", opts->lr, "Learning rate (peak for cosine)")->check(CLI::PositiveNumber);
  sub->add_option("--momentum", opts->momentum, "SGD momentum")->check(CLI::Range(0.0, 0.999));
  sub->add_option("--weight-decay", opts->weight_decay, "L2 weight decay")->check(CLI::NonNegativeNumber);
  sub->add_option("--optimizer", opts->optimizer, "sgd or adam")->check(CLI::IsMember({"sgd", "adam"}));
  sub->add_option("--schedule", opts->schedule, "Learning-rate schedule: constant or cosine")
      ->check(CLI::IsMember({"constant", "cosine"}));
  sub->add_flag("--augment", opts->augment, "Random crop (padding 4) and horizontal flip");
  sub->add_flag("--no-augment", opts->no_augment, "No augmentation");
  sub->add_option("--seed", opts->seed, "Seed for initialisation, shuffling and augmentation")->capture_default_str();
  sub->add_option("--max-images", opts->max_images, "Use only this many training images per epoch (smoke tests)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--data", opts->data, "CIFAR-10 directory (default: $POCKET_DATA, else ./data/cifar-10-batches-bin)");
  sub->add_option("--out", opts->out, "Output ONNX file")->required();
  sub->add_flag("--json", opts->json, "Print a JSON summary on stdout");
  sub->add_flag("--quiet", opts->quiet, "No progress output");
  sub->callback([opts] { run_train(*opts); });
}

}  // namespace pocket::cli
