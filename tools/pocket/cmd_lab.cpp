// pocket lab: the whole lab in one command. Trains (or loads) the lab's LeNet-5, and answers every
// question of the lab with numbers measured in this run: weight and activation statistics, the
// quantization table, the integer formula, the fused graph, calibration experiments, the int8
// engine, per-layer error, generated C on the host and an emulated Cortex-M4. Writes results.json
// (every number), report.md (+ figures/*.svg) and a self-contained report.html, atomically.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "lab.hpp"
#include "model_loading.hpp"
#include "pocket/data.hpp"
#include "pocket/engine.hpp"
#include "pocket/fileio.hpp"
#include "pocket/models.hpp"
#include "pocket/onnx.hpp"
#include "pocket/quant.hpp"
#include "pocket/quant_json.hpp"
#include "pocket/stats.hpp"
#include "pocket/train.hpp"
#include "progress.hpp"
#include "summaries.hpp"

namespace pocket::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kCmd = "lab";
constexpr int kHistogramBins = 64;

struct LabOptions {
  std::string data;
  std::string model;
  std::string normalize;
  std::string out = "lab-out";
  std::string recipe = "lab";
  int epochs = 0;
  uint64_t seed = 1;
  bool quick = false;
  bool resume = false;
  bool json = false;
};

// How much of everything a run uses: the full lab, or the reduced --quick one.
struct Settings {
  int64_t train_images = 0;  // per epoch; 0 = all 50,000
  int64_t test_images = 10000;
  int64_t calib_images = 500;  // calibration set (quantization and activation statistics)
  uint64_t calib_seed = 1;
  int64_t qerror_images = 100;
  int64_t gen_images = 10;  // test images embedded in the generated self-check
  std::vector<int64_t> few_calib_images = {10, 1};  // the "too few images" calibration experiments
  int poor_class = 0;  // the class of the one-class calibration set
  std::vector<double> clip_ks;

  json to_json() const {
    return {{"train_images_per_epoch", train_images}, {"test_images", test_images},
            {"calib_images", calib_images},           {"calib_seed", calib_seed},
            {"qerror_images", qerror_images},         {"gen_images", gen_images},
            {"few_calib_images", few_calib_images}, {"poor_calib_class", poor_class},
            {"clip_ks", clip_ks}};
  }
};

Settings settings_for(bool quick) {
  Settings s;
  if (quick) {
    s.test_images = 2000;
    s.calib_images = 200;
    s.qerror_images = 50;
    s.gen_images = 4;
    s.clip_ks = {1, 2, 3, 4};
  } else {
    s.clip_ks = {0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6};
  }
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Progress on stderr: "[3/11] weight statistics", then updates with progress and time left.
class Stages {
 public:
  explicit Stages(int total) : total_(total), start_(std::chrono::steady_clock::now()) {}

  void begin(const std::string& name) {
    ++index_;
    name_ = name;
    stage_start_ = std::chrono::steady_clock::now();
    line_.update(fmt::format("[{}/{}] {}", index_, total_, name), true);  // kept: a log shows every stage start
  }
  // `fraction` of the stage done (negative: unknown); the time left is extrapolated from it.
  void update(const std::string& text, double fraction = -1.0) {
    std::string s = fmt::format("[{}/{}] {}: {}", index_, total_, name_, text);
    if (fraction > 0.0 && fraction <= 1.0) {
      const double elapsed = seconds_since(stage_start_);
      s += fmt::format("  {:.0f}%  left {}", 100.0 * fraction, format_duration(elapsed * (1.0 - fraction) / fraction));
    }
    line_.update(s, false);
  }
  void end(const std::string& summary) {
    const double t = seconds_since(stage_start_);
    timings_[name_] = t;
    line_.update(fmt::format("[{}/{}] {}: {} ({}, total {})", index_, total_, name_, summary, format_duration(t),
                             format_duration(seconds_since(start_))),
                 true);
  }
  // A line of its own that stays (on a terminal and in a log), between the updates.
  void note(const std::string& text) { line_.update(fmt::format("[{}/{}] {}: {}", index_, total_, name_, text), true); }
  const json& timings() const { return timings_; }
  double total_seconds() const { return seconds_since(start_); }

 private:
  int total_;
  int index_ = 0;
  std::string name_;
  std::chrono::steady_clock::time_point start_, stage_start_;
  ProgressLine line_;
  json timings_ = json::object();
};

Dataset subset(const Dataset& data, const std::vector<int64_t>& indices) {
  Dataset out;
  out.class_names = data.class_names;
  out.source = data.source;
  out.labels.reserve(indices.size());
  out.pixels.reserve(indices.size() * kCifarImageBytes);
  for (const int64_t i : indices) {
    out.labels.push_back(data.labels[static_cast<size_t>(i)]);
    out.pixels.insert(out.pixels.end(), data.image(i), data.image(i) + kCifarImageBytes);
  }
  return out;
}

Dataset first_n(const Dataset& data, int64_t n) {
  std::vector<int64_t> idx(static_cast<size_t>(std::min(n, data.size())));
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
  return subset(data, idx);
}

std::vector<int64_t> per_class_counts(const Dataset& data) {
  std::vector<int64_t> counts(kCifarClasses, 0);
  for (const uint8_t l : data.labels) ++counts[l];
  return counts;
}

std::string file_sha256(const std::string& path) {
  auto bytes = read_file_bytes(path);
  return bytes ? sha256_hex(bytes->data(), bytes->size()) : "";
}

// ---------------------------------------------------------------------------------------------
// Training (or loading, or reusing a finished training with --resume)
// ---------------------------------------------------------------------------------------------

struct Model {
  Graph graph;
  std::string path;
  json training;
};

json train_stamp(const LabOptions& o, const TrainConfig& c, bool bias, const Dataset& train_set) {
  return {{"model", "lenet"},        {"recipe", o.recipe},    {"config", describe(c)},
          {"bias", bias},            {"epochs", c.epochs},    {"max_images", c.max_images},
          {"seed", c.seed},          {"train_images", train_set.size()}};
}

// The stamp of a previous training in the same --out if it was made with the same settings and
// its model file is unchanged; else why it cannot be reused.
Result<json> reusable_training(const std::string& onnx, const std::string& stamp_path, const json& wanted) {
  if (!fs::exists(onnx) || !fs::exists(stamp_path)) return Error{"no finished training in the output directory"};
  auto text = read_file_text(stamp_path);
  if (!text) return Error{text.message()};
  const json stamp = json::parse(*text, nullptr, false);
  if (stamp.is_discarded() || !stamp.is_object()) return Error{stamp_path + " is not a training stamp (not a JSON object)"};
  for (const char* key : {"settings", "onnx_sha256", "result"}) {
    if (!stamp.contains(key)) return Error{stamp_path + " is not a training stamp (no \"" + key + "\")"};
  }
  if (!stamp["result"].is_object()) return Error{stamp_path + " is not a training stamp (its \"result\" is not an object)"};
  if (stamp["settings"] != wanted) return Error{"it was trained with other settings (" + stamp["settings"].dump() + ")"};
  if (stamp["onnx_sha256"] != file_sha256(onnx)) return Error{onnx + " changed since it was trained"};
  return stamp;
}

Result<Model> obtain_model(const LabOptions& o, const Settings& s, const Dataset& train_set, Stages& stages) {
  Model m;
  if (!o.model.empty()) {
    stages.begin("load the model");
    auto g = load_float_model(o.model, o.normalize);
    if (!g) return Error{g.message()};
    m.graph = std::move(*g);
    m.path = o.model;
    m.training = {{"source", "loaded"}, {"model_path", o.model}, {"parameters", m.graph.parameter_count()},
                  {"recipe", m.graph.metadata.count("pocket.train.recipe") ? m.graph.metadata.at("pocket.train.recipe") : "unknown"}};
    stages.end(o.model);
    return m;
  }
  stages.begin("train LeNet-5");
  bool bias = false;
  TrainConfig c = recipe_config(o.recipe, bias);
  if (o.epochs > 0) c.epochs = o.epochs;
  if (o.quick && o.epochs == 0) c.epochs = 1;
  c.seed = o.seed;
  c.max_images = s.train_images;
  const std::string onnx = (fs::path(o.out) / "lenet.onnx").string();
  const std::string stamp_path = (fs::path(o.out) / "lenet.train.json").string();
  const json wanted = train_stamp(o, c, bias, train_set);
  m.path = onnx;
  std::string resume_refused;  // why --resume could not reuse the training in --out
  if (o.resume) {
    auto stamp = reusable_training(onnx, stamp_path, wanted);
    if (stamp) {
      auto g = load_float_model(onnx, "");
      if (!g) return Error{g.message()};
      m.graph = std::move(*g);
      m.training = (*stamp)["result"];
      m.training["source"] = "resumed";
      stages.end("reused the finished training in " + onnx);
      return m;
    }
    resume_refused = stamp.message();
    stages.note("--resume: not reusing the training in " + o.out + ": " + resume_refused + "; training again");
  }
  auto graph = make_model("lenet", bias, c.seed);
  if (!graph) return Error{graph.message()};
  TrainProgress last;
  const Status st = train(*graph, train_set, c, [&](const TrainProgress& p) {
    last = p;
    const double epoch_frac = static_cast<double>(p.images_done) / static_cast<double>(p.images_total);
    const double done = (p.epoch - 1 + epoch_frac) / p.epochs;
    stages.update(fmt::format("epoch {}/{}, loss {:.4f}, train accuracy {:.2f}%", p.epoch, p.epochs, p.loss, p.accuracy), done);
  });
  if (!st) return Error{st.message()};
  graph->metadata["pocket.train.recipe"] = describe(c);
  graph->metadata["pocket.train.data"] = "CIFAR-10 train (" + std::to_string(train_set.size()) + " images)";
  POCKET_TRY(save_onnx(*graph, onnx));
  m.graph = std::move(*graph);
  m.training = {{"source", "trained"},
                {"model_path", onnx},
                {"recipe", o.recipe},
                {"config", describe(c)},
                {"bias", bias},
                {"epochs", c.epochs},
                {"images_per_epoch", c.max_images > 0 ? std::min(c.max_images, train_set.size()) : train_set.size()},
                {"final_loss", last.loss},
                {"final_train_accuracy", last.accuracy},
                {"seconds", last.seconds},
                {"images_per_second", last.images_per_second},
                {"parameters", m.graph.parameter_count()}};
  const json stamp = {{"settings", wanted}, {"onnx_sha256", file_sha256(onnx)}, {"result", m.training}};
  if (o.resume) m.training["resume_refused_because"] = resume_refused;
  POCKET_TRY(write_file_atomic(stamp_path, stamp.dump(2) + "\n"));
  stages.end(fmt::format("train accuracy {:.2f}% after {} epoch(s)", last.accuracy, c.epochs));
  return m;
}

// ---------------------------------------------------------------------------------------------
// Quantization details for the report
// ---------------------------------------------------------------------------------------------

json act_json(const engine::ActQuant& q) { return {{"scale", q.scale}, {"zero_point", q.zero_point}}; }

// The lab's hand-derived scales from the statistics: weights max|w| / 127 of the whole tensor,
// activations (max - min) / 255 of the plain [min, max] range (widened to contain 0); NaN if unknown.
struct HandScales {
  std::map<std::string, double> weight_by_node;  // the Conv/Linear node's weight
  std::map<std::string, double> activation;      // by value name
};

HandScales hand_scales(const std::vector<WeightStats>& weights, const ActivationReport& acts) {
  HandScales h;
  for (const WeightStats& w : weights) {
    if (w.role == "weight") h.weight_by_node[w.node] = std::max(std::fabs(w.all.summary.min), std::fabs(w.all.summary.max)) / 127.0;
  }
  for (const ActivationStats& a : acts.values) {
    h.activation[a.name] = (std::max(0.0, a.summary.max) - std::min(0.0, a.summary.min)) / 255.0;
  }
  return h;
}

double lookup(const std::map<std::string, double>& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() ? std::nan("") : it->second;
}

// JSON has no NaN: an unknown number is null.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// Per integer layer with weights: every constant of the requantization (what model.h holds), and
// the hand-derived scales they differ from.
json layer_constants(const engine::Plan& plan, const HandScales& hand) {
  json layers = json::array();
  for (size_t i = 0; i < plan.layers().size(); ++i) {
    const engine::Layer& l = plan.layers()[i];
    if (l.kind != engine::LayerKind::Conv2d && l.kind != engine::LayerKind::FullyConnected) continue;
    json effective = json::array();
    double worst = 0.0;  // the largest relative error of MULTIPLIER * 2^-(31 + SHIFT) against OUT_SCALE
    for (size_t c = 0; c < l.multiplier.size(); ++c) {
      const double e = static_cast<double>(l.multiplier[c]) * std::ldexp(1.0, -(31 + l.shift[c]));
      effective.push_back(e);
      if (l.real_multiplier[c] != 0.0) worst = std::max(worst, std::fabs(e - l.real_multiplier[c]) / l.real_multiplier[c]);
    }
    const std::string in_name = plan.tensors()[static_cast<size_t>(l.inputs[0])].name;
    const std::string out_name = plan.tensors()[static_cast<size_t>(l.output)].name;
    const double hw = lookup(hand.weight_by_node, l.name), hin = lookup(hand.activation, in_name),
                 hout = lookup(hand.activation, out_name);
    std::string nodes;
    for (const std::string& n : l.nodes) nodes += (nodes.empty() ? "" : ", ") + n;
    layers.push_back({{"index", i},
                      {"name", l.name},
                      {"kind", engine::layer_kind_name(l.kind)},
                      {"nodes", nodes},
                      {"input", act_json(plan.tensors()[static_cast<size_t>(l.inputs[0])].quant)},
                      {"input_tensor", in_name},
                      {"output", act_json(plan.tensors()[static_cast<size_t>(l.output)].quant)},
                      {"output_tensor", out_name},
                      {"weight_scale", l.weight_scale},
                      {"out_scale", l.real_multiplier},
                      {"multiplier", l.multiplier},
                      {"shift", l.shift},
                      {"effective_out_scale", effective},
                      {"out_scale_max_relative_error", worst},
                      {"hand", {{"weight_scale", number(hw)},
                                {"input_scale", number(hin)},
                                {"output_scale", number(hout)},
                                {"out_scale", number(hw * hin / hout)}}},
                      {"act_min", l.act_min},
                      {"act_max", l.act_max},
                      {"has_bias", !l.bias.empty()},
                      {"bias", l.bias},
                      {"macs", l.macs},
                      {"weight_bytes", l.weight_bytes}});
  }
  return layers;
}

// The graph before and after the passes, the fused groups, and the engine's layers and layouts.
json graph_json(const Graph& original, const Graph& prepared, const engine::Plan& plan) {
  json layers = json::array();
  for (const engine::Layer& l : plan.layers()) {
    const engine::PlanTensor& in = plan.tensors()[static_cast<size_t>(l.inputs[0])];
    const engine::PlanTensor& out = plan.tensors()[static_cast<size_t>(l.output)];
    layers.push_back({{"name", l.name},
                      {"kind", engine::layer_kind_name(l.kind)},
                      {"kernel", engine::kernel_name(l.kind)},
                      {"nodes", l.nodes},
                      {"ops", l.ops},
                      {"input_shape", in.shape},
                      {"input_stored_shape", in.stored_shape},
                      {"output_shape", out.shape},
                      {"output_stored_shape", out.stored_shape}});
  }
  const auto passes = prepared.metadata.find("pocket.passes");
  return {{"before", describe(original)},
          {"after_passes", describe(prepared)},
          {"passes", passes == prepared.metadata.end() ? "" : passes->second},
          {"groups", group_listing(prepared)},
          {"plan", plan.describe()},
          {"float_nodes", original.nodes.size()},
          {"integer_layers", layers}};
}

// The lab's clipping experiment, finer than the table: weights only, per tensor and per channel,
// mu +- k sigma for every k of the settings.
Result<json> clipping_curve(const Graph& original, const Graph& prepared, const QuantOptions& q, const std::string& path,
                            const Calibration& cal, const Dataset& test, const EvalResult& base, const Settings& s,
                            size_t done_before, size_t grand_total, Stages& stages) {
  json per_tensor = json::array(), per_channel = json::array();
  size_t done = done_before;
  for (const bool channel : {false, true}) {
    for (const double k : s.clip_ks) {
      stages.update(fmt::format("clipping curve: {} mu +- {} sigma", channel ? "per channel" : "per tensor", k),
                    static_cast<double>(done) / static_cast<double>(grand_total));
      QuantConfig c;
      c.weight_only = true;
      c.per_channel = channel;
      c.weight_range = {RangeMethod::Sigma, k};
      auto m = quantize_with_calibration(original, prepared, c, q, path, &cal);
      if (!m) return Error{m.message()};
      auto e = evaluate_fake_quant(*m, test, base.predictions);
      if (!e) return Error{e.message()};
      int64_t clipped = 0, count = 0;
      for (const auto& [name, t] : m->weights) {
        clipped += t.clipped;
        count += t.count;
      }
      (channel ? per_channel : per_tensor)
          .push_back({{"k", k},
                      {"accuracy", e->eval.accuracy},
                      {"clipped_weights_percent", 100.0 * static_cast<double>(clipped) / static_cast<double>(std::max<int64_t>(count, 1))}});
      ++done;
    }
  }
  return json{{"per_tensor", per_tensor}, {"per_channel", per_channel}};
}

// Quantizes with `cal`, runs the integer engine on `test`: accuracy and every layer's output scale.
Result<json> calibration_experiment(const std::string& name, const std::string& how, const Graph& prepared,
                                    const QuantConfig& config, const Calibration& cal, const Dataset& test,
                                    const std::vector<int>& float_predictions) {
  auto m = quantize(prepared, config, &cal);
  if (!m) return Error{name + ": " + m.message()};
  auto plan = engine::compile(*m);
  if (!plan) return Error{name + ": " + plan.message()};
  auto r = engine::evaluate_int8(*plan, test);
  if (!r) return Error{name + ": " + r.message()};
  json scales = json::array();
  for (const engine::Layer& l : plan->layers()) {
    if (l.kind != engine::LayerKind::Conv2d && l.kind != engine::LayerKind::FullyConnected) continue;
    const engine::ActQuant& q = plan->tensors()[static_cast<size_t>(l.output)].quant;
    scales.push_back({{"layer", l.name}, {"scale", q.scale}, {"zero_point", q.zero_point}});
  }
  const engine::ActQuant& in = plan->input().quant;
  const auto classes = std::count_if(cal.per_class.begin(), cal.per_class.end(), [](int64_t n) { return n > 0; });
  return json{{"name", name},
              {"classes", classes},
              {"how", how},
              {"description", cal.description},
              {"images", cal.images},
              {"per_class", cal.per_class},
              {"int8_accuracy", r->accuracy},
              {"agreement_with_float", engine::agreement(r->predictions, float_predictions)},
              {"input", act_json(in)},
              {"output_scales", scales}};
}

Result<json> calibration_experiments(const Graph& prepared, const QuantConfig& config, const Calibration& main_cal,
                                     const Dataset& train_set, const Dataset& test, const std::vector<int>& float_predictions,
                                     const Settings& s, Stages& stages) {
  json out = json::array();
  stages.update("the calibration set of the report", 0.0);
  auto normal = calibration_experiment("stratified (this report's)", "stratified by class, seeded", prepared, config,
                                       main_cal, test, float_predictions);
  if (!normal) return Error{normal.message()};
  out.push_back(*normal);

  // One class only: the first calib_images images of one class of the training split.
  std::vector<int64_t> one_class;
  for (int64_t i = 0; i < train_set.size() && static_cast<int64_t>(one_class.size()) < s.calib_images; ++i) {
    if (train_set.labels[static_cast<size_t>(i)] == s.poor_class) one_class.push_back(i);
  }
  const std::string class_name = train_set.class_names[static_cast<size_t>(s.poor_class)];
  stages.update("one class only (" + class_name + ")", 1.0 / static_cast<double>(2 + s.few_calib_images.size()));
  const Dataset one = subset(train_set, one_class);
  auto cal1 = calibrate(prepared, one,
                        std::to_string(one.size()) + " images, all of class " + class_name + ", from the training split");
  if (!cal1) return Error{cal1.message()};
  cal1->per_class = per_class_counts(one);
  auto r1 = calibration_experiment("one class only", "the first images of class " + class_name, prepared, config, *cal1, test,
                                   float_predictions);
  if (!r1) return Error{r1.message()};
  out.push_back(*r1);

  // A handful of images, stratified (one per class for 10), and a single image.
  for (size_t n = 0; n < s.few_calib_images.size(); ++n) {
    const int64_t count = s.few_calib_images[n];
    stages.update(fmt::format("{} image(s)", count),
                  static_cast<double>(2 + n) / static_cast<double>(2 + s.few_calib_images.size()));
    auto few_idx = stratified_sample(train_set, count, s.calib_seed);
    if (!few_idx) return Error{few_idx.message()};
    const Dataset few = subset(train_set, *few_idx);
    auto few_cal = calibrate(prepared, few, fmt::format("{} image(s) stratified by class from the training split, seed {}",
                                                        few.size(), s.calib_seed));
    if (!few_cal) return Error{few_cal.message()};
    few_cal->per_class = per_class_counts(few);
    auto r = calibration_experiment(fmt::format("{} image{}", count, count == 1 ? "" : "s"), "stratified by class, seeded",
                                    prepared, config, *few_cal, test, float_predictions);
    if (!r) return Error{r.message()};
    out.push_back(*r);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

struct OutputFile {
  std::string path;
  std::string contents;
};

// Writes every file to a temporary name first, then renames them all in the order given (the
// figures first, report.md, report.html and results.json last): a run killed before this point
// leaves no report file, and one killed during it leaves only whole files of this run.
Status write_outputs(const std::vector<OutputFile>& files) {
  std::vector<std::string> temps;
  const auto cleanup = [&] {
    std::error_code ec;
    for (const std::string& t : temps) fs::remove(t, ec);
  };
  for (const OutputFile& f : files) {
    const std::string tmp = f.path + ".partial";
    temps.push_back(tmp);
    if (Status st = write_file_atomic(tmp, f.contents); !st) {
      cleanup();
      return st;
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    std::error_code ec;
    fs::rename(temps[i], files[i].path, ec);
    if (ec) {
      cleanup();
      return Error{"cannot rename " + temps[i] + " to " + files[i].path + ": " + ec.message()};
    }
  }
  return Status::ok();
}

// A temporary file name of the lab's own outputs: one of them (in figures/, any `*.svg`) followed
// by `.partial` and/or write_file_atomic's `.tmp.<pid>`.
bool is_lab_temp_name(const std::string& name, bool in_figures) {
  const auto is_temp_suffix = [](const std::string& rest) {
    return rest == ".partial" || rest.rfind(".tmp.", 0) == 0 || rest.rfind(".partial.tmp.", 0) == 0;
  };
  if (in_figures) {
    const size_t svg = name.find(".svg.");
    return svg != std::string::npos && svg > 0 && is_temp_suffix(name.substr(svg + 4));
  }
  for (const char* out : {"lenet.onnx", "lenet.pqm", "lenet.train.json", "results.json", "report.md", "report.html"}) {
    const std::string base = out;
    if (name.size() > base.size() && name.compare(0, base.size(), base) == 0 && is_temp_suffix(name.substr(base.size()))) {
      return true;
    }
  }
  return false;
}

Status prepare_out_dir(const LabOptions& o) {
  std::error_code ec;
  if (fs::exists(o.out, ec) && !fs::is_directory(o.out, ec)) {
    return Error{o.out + " exists and is not a directory: --out names the directory the lab writes into"};
  }
  fs::create_directories(fs::path(o.out) / "figures", ec);
  if (ec) return Error{"cannot create " + o.out + "/figures: " + ec.message()};
  // Never overwrite an input: --model must not be one of the lab's outputs (except the trained
  // model itself, which --model then names and the lab does not write).
  if (!o.model.empty()) {
    for (const char* name : {"lenet.pqm", "results.json", "report.md", "report.html", "lenet.train.json"}) {
      POCKET_TRY(check_not_overwriting((fs::path(o.out) / name).string(), {o.model}));
    }
  }
  // Leftovers of a killed run: the lab's own temporary names (`*.partial` and write_file_atomic's
  // `*.tmp.<pid>`), in --out and --out/figures.
  for (const auto& entry : fs::directory_iterator(o.out, ec)) {
    if (entry.is_regular_file(ec) && is_lab_temp_name(entry.path().filename().string(), false)) fs::remove(entry.path(), ec);
  }
  for (const auto& entry : fs::directory_iterator(fs::path(o.out) / "figures", ec)) {
    if (entry.is_regular_file(ec) && is_lab_temp_name(entry.path().filename().string(), true)) fs::remove(entry.path(), ec);
  }
  // The previous run's report: a run interrupted from here on must not leave it next to this
  // run's model files. Only the files the lab writes (never the --model it reads).
  std::vector<fs::path> old_report;
  for (const char* name : {"report.md", "report.html", "results.json"}) old_report.push_back(fs::path(o.out) / name);
  for (const auto& entry : fs::directory_iterator(fs::path(o.out) / "figures", ec)) {
    if (entry.path().extension() == ".svg" && entry.is_regular_file(ec)) old_report.push_back(entry.path());
  }
  for (const fs::path& p : old_report) {
    if (!fs::exists(p, ec)) continue;
    if (!o.model.empty() && fs::equivalent(p, o.model, ec)) continue;
    if (!fs::remove(p, ec) && ec) return Error{"cannot remove the previous report file " + p.string() + ": " + ec.message()};
  }
  return Status::ok();
}

Result<json> run(const LabOptions& o) {
  const Settings s = settings_for(o.quick);
  constexpr int kStages = 12;
  Stages stages(kStages);
  json results;
  results["tool"] = std::string("pocket ") + POCKET_VERSION;
  results["command"] = command_line();
  results["quick"] = o.quick;
  results["settings"] = s.to_json();
  results["out"] = o.out;

  // 1. Data: fails first, before any training, with where it looked and how to get it.
  stages.begin("load CIFAR-10");
  const std::string data_dir = resolve_data_dir(o.data);
  auto train_set = load_cifar10(data_dir, Split::Train);
  if (!train_set) return Error{train_set.message()};
  auto test_full = load_cifar10(data_dir, Split::Test);
  if (!test_full) return Error{test_full.message()};
  const Dataset test = first_n(*test_full, s.test_images);
  results["data"] = {{"dir", data_dir}, {"train_images", train_set->size()}, {"test_images", test.size()},
                     {"classes", train_set->class_names}};
  stages.end(fmt::format("{} training and {} test images from {}", train_set->size(), test.size(), data_dir));
  POCKET_TRY(prepare_out_dir(o));

  // 2. The float model.
  auto model = obtain_model(o, s, *train_set, stages);
  if (!model) return Error{model.message()};
  results["training"] = model->training;
  results["model"] = {{"path", model->path}, {"sha256", file_sha256(model->path)},
                      {"normalization", model->graph.normalization.spec()}, {"parameters", model->graph.parameter_count()}};

  // 3. Float accuracy.
  stages.begin("evaluate the float model");
  auto base_float = evaluate(model->graph, test);
  if (!base_float) return Error{base_float.message()};
  results["float_eval"] = eval_json(*base_float, test.class_names);
  stages.end(fmt::format("top-1 {:.2f}% on {} test images", base_float->accuracy, test.size()));

  // 4. Weight statistics.
  stages.begin("weight statistics");
  WeightStatsOptions wopts;
  wopts.histogram_bins = kHistogramBins;
  const std::vector<WeightStats> weights = weight_stats(model->graph, wopts);
  results["weights"] = to_json(weights);
  stages.end(fmt::format("{} parameter tensors", weights.size()));

  // 5. Activation statistics over the calibration set.
  stages.begin("activation statistics");
  ActivationStatsOptions aopts;
  aopts.images = s.calib_images;
  aopts.seed = s.calib_seed;
  aopts.histogram_bins = kHistogramBins;
  aopts.progress = [&](int64_t done, int64_t total) {
    stages.update(fmt::format("{}/{} calibration images", done, total), static_cast<double>(done) / static_cast<double>(total));
  };
  auto acts = activation_stats(model->graph, *train_set, aopts);
  if (!acts) return Error{acts.message()};
  results["activations"] = to_json(*acts);
  stages.end(fmt::format("{} values over {} images", acts->values.size(), acts->images));

  // 6. The quantization table and the clipping curve.
  stages.begin("quantization table");
  QuantOptions q;
  q.calib = s.calib_images;
  q.seed = s.calib_seed;
  q.data = data_dir;
  auto prepared = prepare_for_quantization(model->graph);
  if (!prepared) return Error{prepared.message()};
  std::string calib_description;
  auto calib_images = load_calibration_images({data_dir, s.calib_images, s.calib_seed, ""}, &calib_description);
  if (!calib_images) return Error{calib_images.message()};
  auto cal = calibrate(*prepared, *calib_images, calib_description);
  if (!cal) return Error{cal.message()};
  auto base = evaluate(*prepared, test);
  if (!base) return Error{base.message()};
  const std::vector<SweepRow> table = sweep_rows();
  const size_t settings_total = table.size() + s.clip_ks.size() * 2;
  auto rows = run_sweep(model->graph, *prepared, table, q, model->path, *cal, test, *base,
                        [&](size_t i, size_t n, const std::string& name) {
                          stages.update(fmt::format("row {}/{}: {}", i + 1, n, name),
                                        static_cast<double>(i) / static_cast<double>(settings_total));
                        });
  if (!rows) return Error{rows.message()};
  auto curve = clipping_curve(model->graph, *prepared, q, model->path, *cal, test, *base, s, table.size(), settings_total,
                              stages);
  if (!curve) return Error{curve.message()};
  results["sweep"] = {{"images", test.size()},
                      {"calibration", cal->description},
                      {"float_accuracy", base->accuracy},
                      {"rows", *rows},
                      {"fake_quant_float32_bytes", footprint(*prepared).float_total()},
                      {"clipping_curve", *curve}};
  stages.end(fmt::format("{} settings", table.size() + 1 + s.clip_ks.size() * 2));

  // 7. The int8 model: quantize with the defaults, compile, save.
  stages.begin("quantize to int8");
  auto config = q.config();
  if (!config) return Error{config.message()};
  auto qmodel = quantize_with_calibration(model->graph, *prepared, *config, q, model->path, &*cal);
  if (!qmodel) return Error{qmodel.message()};
  const std::string pqm = (fs::path(o.out) / "lenet.pqm").string();
  POCKET_TRY(save_qmodel(*qmodel, pqm));
  auto plan = engine::compile(*qmodel);
  if (!plan) return Error{plan.message()};
  results["quantized"] = {{"path", pqm},
                          {"sha256", file_sha256(pqm)},
                          {"config", config->describe()},
                          {"config_json", to_json(*config)},
                          {"calibration", {{"description", cal->description}, {"images", cal->images}, {"per_class", cal->per_class},
                                           {"seed", s.calib_seed}, {"split", "train"}}},
                          {"activations", qmodel_summary_json(*qmodel)["activations"]}};
  results["graph"] = graph_json(model->graph, *prepared, *plan);
  results["layers"] = layer_constants(*plan, hand_scales(weights, *acts));
  stages.end(fmt::format("{} ({} integer layers)", pqm, plan->layers().size()));

  // 8. Calibration experiments.
  stages.begin("calibration experiments");
  auto experiments = calibration_experiments(*prepared, *config, *cal, *train_set, test, base->predictions, s, stages);
  if (!experiments) return Error{experiments.message()};
  for (json& e : *experiments) {
    e["change_points"] = e["int8_accuracy"].get<double>() - (*experiments)[0]["int8_accuracy"].get<double>();
  }
  results["calibration_experiments"] = *experiments;
  stages.end(fmt::format("{} calibration sets", experiments->size()));

  // 9. The integer engine: accuracy (as `pocket eval Q.pqm --engine int8`) and per-layer error.
  stages.begin("int8 engine");
  auto qbase = evaluate(qmodel->graph, test);
  if (!qbase) return Error{qbase.message()};
  stages.update("fake-quantized model", 0.3);
  auto fake = evaluate_fake_quant(*qmodel, test, qbase->predictions);
  if (!fake) return Error{fake.message()};
  stages.update("integer engine", 0.6);
  auto int8 = engine::evaluate_int8(*plan, test);
  if (!int8) return Error{int8.message()};
  json ev = eval_json(*int8, test.class_names);
  ev["float_accuracy"] = qbase->accuracy;
  ev["fake_quant_accuracy"] = fake->eval.accuracy;
  ev["drop"] = qbase->accuracy - int8->accuracy;
  ev["agreement_with_fake_quant"] = engine::agreement(int8->predictions, fake->eval.predictions);
  ev["agreement_with_float"] = engine::agreement(int8->predictions, qbase->predictions);
  ev["arena_bytes"] = plan->arena_bytes();
  ev["arena_lower_bound"] = plan->arena_lower_bound();
  ev["macs"] = plan->total_macs();
  ev["weight_bytes"] = plan->total_weight_bytes();
  ev["layers"] = plan->layers().size();
  results["int8_eval"] = ev;
  stages.update("per-layer error", 0.9);
  auto qerr = engine::quantization_error(*qmodel, *plan, first_n(test, s.qerror_images));
  if (!qerr) return Error{qerr.message()};
  results["qerror"] = {{"images", qerr->images}, {"sort_key", qerr->sort_key}, {"layers", qerror_layers_json(*qerr)}};
  stages.end(fmt::format("int8 top-1 {:.2f}% (float {:.2f}%)", int8->accuracy, qbase->accuracy));

  // 10. Memory footprint.
  stages.begin("memory footprint");
  const Footprint ffp = footprint(*prepared);
  const Footprint qfp = footprint(*qmodel);
  results["footprint"] = {{"float_parameter_bytes", ffp.float_total()},
                          {"fake_quant_parameter_bytes", ffp.float_total()},
                          {"int8_parameter_bytes", qfp.quant_total()},
                          {"int8", footprint_json(qfp)},
                          {"int8_arena_bytes", plan->arena_bytes()},
                          {"float_arena_bytes", 4 * plan->arena_bytes()},
                          {"engine_weight_bytes", plan->total_weight_bytes()}};
  stages.end(fmt::format("{} -> {} parameter bytes", ffp.float_total(), qfp.quant_total()));

  // 11. Generated C on the host and the Cortex-M4.
  stages.begin("generated C (host, Cortex-M4)");
  DeviceOptions dev;
  dev.out_dir = (fs::path(o.out) / "gen").string();
  dev.model_path = pqm;
  dev.images = s.gen_images;
  dev.command_line = command_line();
  dev.progress = [&](const std::string& text) { stages.update(text); };
  auto devices = run_devices(*qmodel, *plan, test, dev);
  if (!devices) return Error{devices.message()};
  results["codegen"] = *devices;
  if (json& count = results["codegen"]["cortex-m4"]; count.contains("count")) {
    const json& v = count["count"]["values"];
    if (v.contains("inference") && v.contains("macs") && v["macs"].get<double>() > 0) {
      count["instructions_per_mac"] = v["inference"].get<double>() / v["macs"].get<double>();
    }
  }
  stages.end("done");

  // 12. The report.
  stages.begin("write the report");
  results["timings_seconds"] = stages.timings();
  results["total_seconds"] = stages.total_seconds();
  const report::Document doc = lab_report(results);
  std::vector<OutputFile> files;
  for (const report::Document::FigureFile& f : doc.figures()) {
    files.push_back({(fs::path(o.out) / "figures" / (f.name + ".svg")).string(), f.svg});
  }
  files.push_back({(fs::path(o.out) / "results.json").string(), results.dump(2) + "\n"});
  files.push_back({(fs::path(o.out) / "report.md").string(), doc.markdown("figures")});
  files.push_back({(fs::path(o.out) / "report.html").string(), doc.html()});
  POCKET_TRY(write_outputs(files));
  stages.end(fmt::format("{}/report.html, report.md, results.json, {} figures", o.out, doc.figures().size()));
  return results;
}

void run_lab(const LabOptions& o) {
  auto results = run(o);
  if (!results) return fail(kCmd, results.message());
  if (o.json) {
    std::printf("%s\n", results->dump(2).c_str());
    return;
  }
  const json& r = *results;
  std::printf("float top-1 %.2f%%, int8 engine top-1 %.2f%% on %lld test images; report in %s/report.html (%s)\n",
              r["float_eval"]["accuracy"].get<double>(), r["int8_eval"]["accuracy"].get<double>(),
              static_cast<long long>(r["data"]["test_images"].get<int64_t>()), o.out.c_str(),
              format_duration(r["total_seconds"].get<double>()).c_str());
}

}  // namespace

void register_lab(CLI::App& app) {
  auto opts = std::make_shared<LabOptions>();
  CLI::App* sub = app.add_subcommand(
      "lab", "The whole lab in one run: train, statistics, quantization table, int8 engine, generated C on the host and "
             "a Cortex-M4, and a report (report.md, report.html, results.json)");
  sub->add_option("--data", opts->data, "CIFAR-10 directory (default: $POCKET_DATA, else ./data/cifar-10-batches-bin)");
  sub->add_option("--model", opts->model, "Use this float model (.onnx) instead of training one");
  sub->add_option("--normalize", opts->normalize, "Input normalisation of a --model that does not record it");
  sub->add_option("--out", opts->out, "Output directory (created if missing; the last --out given counts)")
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  sub->add_option("--recipe", opts->recipe, "Training recipe (see pocket train --help)")
      ->check(CLI::IsMember({"lab", "default"}))
      ->capture_default_str();
  sub->add_option("--epochs", opts->epochs, "Epochs (default: the recipe's; 1 with --quick)")->check(CLI::PositiveNumber);
  sub->add_option("--seed", opts->seed, "Seed of the initialisation and shuffling")->capture_default_str();
  sub->add_flag("--quick", opts->quick,
                "A reduced run for smoke tests and CI: 1 epoch, 2,000 test images, 200 calibration images, fewer clipping points");
  sub->add_flag("--resume", opts->resume,
                "Reuse the trained model in --out (lenet.onnx and its stamp lenet.train.json) if it was trained with the "
                "same settings");
  sub->add_flag("--json", opts->json, "Print results.json on stdout at the end");
  sub->callback([opts] { run_lab(*opts); });
}

}  // namespace pocket::cli
