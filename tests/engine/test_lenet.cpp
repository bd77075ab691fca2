// A LeNet trained for one epoch with the CLI (cached next to the test binaries and retrained when
// the pocket binary is newer), quantized, and run on the integer engine over the CIFAR-10 test set:
// top-1 agreement with the fake-quantized model and accuracy; the CLI (eval --engine int8, infer,
// qerror); and the per-layer error ranking on deliberately badly quantized models.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine_test_util.hpp"
#include "pocket/fileio.hpp"
#include "pocket/onnx.hpp"
#include "support/test_env.hpp"

namespace pocket::engine_test {
namespace {

namespace fs = std::filesystem;

bool have_cifar() { return fs::exists(test::data_dir() + "/data_batch_1.bin"); }

std::string cli() { return test::cli_path() + " "; }
std::string data_flag() { return " --data " + test::data_dir(); }

// `pocket train --epochs 1` once per build tree (the tests of this file run in separate processes).
std::string trained_lenet() {
  const fs::path dir = fs::path(test::cli_path()).parent_path().parent_path() / "test-cache" / "engine";
  fs::create_directories(dir);
  const fs::path model = dir / "lenet_e1.onnx";
  const int fd = ::open((dir / "lock").c_str(), O_CREAT | O_RDWR, 0644);
  EXPECT_GE(fd, 0);
  if (fd >= 0) ::flock(fd, LOCK_EX);
  if (!fs::exists(model) || fs::last_write_time(model) < fs::last_write_time(test::cli_path())) {
    const fs::path tmp = dir / ("lenet_e1.tmp." + std::to_string(::getpid()) + ".onnx");
    std::string out;
    const int rc = test::run_command(cli() + "train --epochs 1 --seed 1 --quiet" + data_flag() + " --out " + tmp.string(), &out);
    EXPECT_EQ(rc, 0) << out;
    if (rc == 0) fs::rename(tmp, model);
  }
  if (fd >= 0) {
    ::flock(fd, LOCK_UN);
    ::close(fd);
  }
  return model.string();
}

QModel quantize_lenet(const std::string& path, int64_t calib, const QuantConfig& config = {}) {
  auto g = load_onnx(path);
  EXPECT_TRUE(g) << g.message();
  EXPECT_TRUE(g->normalization.known()) << "pocket train records the normalisation";
  auto prepared = prepare_for_quantization(*g);
  EXPECT_TRUE(prepared) << prepared.message();
  std::string description;
  auto images = load_calibration_images({test::data_dir(), calib, 1, ""}, &description);
  EXPECT_TRUE(images) << images.message();
  auto cal = calibrate(*prepared, *images, description);
  EXPECT_TRUE(cal) << cal.message();
  auto m = quantize(*prepared, config, &*cal);
  EXPECT_TRUE(m) << m.message();
  return *m;
}

Dataset test_images(int64_t n) {
  auto d = load_cifar10(test::data_dir(), Split::Test);
  EXPECT_TRUE(d) << d.message();
  if (n < d->size()) {
    d->labels.resize(static_cast<size_t>(n));
    d->pixels.resize(static_cast<size_t>(n) * kCifarImageBytes);
  }
  return *d;
}

// Re-quantizes the weights of `layer` per tensor with a clipping range of +-k sigma, and its bias
// accordingly: a deliberately terrible quantization of one layer.
void sabotage(QModel& m, const std::string& layer, double k) {
  const Graph& g = m.graph;
  const Node* node = nullptr;
  for (const Node& n : g.nodes) node = n.name == layer ? &n : node;
  ASSERT_NE(node, nullptr) << layer;
  const Value& wv = g.values[static_cast<size_t>(node->inputs[1])];
  const std::vector<float>& w = wv.init.data;
  double mean = 0, sq = 0;
  for (float x : w) mean += x;
  mean /= static_cast<double>(w.size());
  for (float x : w) sq += (x - mean) * (x - mean);
  const double sigma = std::sqrt(sq / static_cast<double>(w.size()));
  const qmath::QuantParams qp{k * sigma / 127.0, 0};
  std::vector<int8_t>& q = m.qweights.at(wv.name);
  for (size_t i = 0; i < w.size(); ++i) q[i] = static_cast<int8_t>(qmath::quantize_value(w[i], qp, {8, true}));
  TensorQuant& t = m.weights.at(wv.name);
  t.scale = {qp.scale};
  t.zero_point = {0};
  const Value& bv = g.values[static_cast<size_t>(node->inputs[2])];
  const double s_in = m.activation_quant(node->inputs[0])->scale[0];
  std::vector<int32_t>& qb = m.qbiases.at(bv.name);
  for (size_t c = 0; c < qb.size(); ++c) {
    auto b = qmath::quantize_bias(bv.init.data[c], s_in, qp.scale);
    ASSERT_TRUE(b) << b.message();
    qb[c] = *b;
  }
}

const engine::LayerError& by_name(const engine::QuantErrorReport& r, const std::string& name) {
  for (const auto& e : r.layers) {
    if (e.name == name) return e;
  }
  ADD_FAILURE() << "no layer " << name;
  return r.layers.front();
}

nlohmann::json run_json(const std::string& args) {
  std::string out;
  const int rc = test::run_command(cli() + args + " 2>/dev/null", &out);
  EXPECT_EQ(rc, 0) << args << "\n" << out;
  try {
    return nlohmann::json::parse(out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << args << ": not JSON: " << e.what() << "\n" << out;
    return {};
  }
}

}  // namespace

TEST(TrainedLeNet, Int8AgreesWithFakeQuantOnTheTestSet) {
  if (!have_cifar()) GTEST_SKIP() << "CIFAR-10 not found in " << test::data_dir();
  const QModel m = quantize_lenet(trained_lenet(), 500);
  auto plan = engine::compile(m);
  ASSERT_TRUE(plan) << plan.message();
  const Dataset test = test_images(10000);
  auto flt = evaluate(m.graph, test);
  ASSERT_TRUE(flt) << flt.message();
  auto fake = evaluate_fake_quant(m, test);
  ASSERT_TRUE(fake) << fake.message();
  auto int8 = engine::evaluate_int8(*plan, test);
  ASSERT_TRUE(int8) << int8.message();
  const double agree = engine::agreement(int8->predictions, fake->eval.predictions);
  std::printf("[ lenet ] float %.2f%%  fake-quant %.2f%%  int8 %.2f%%  int8 = fake top-1 on %.2f%%, = float on %.2f%%\n",
              flt->accuracy, fake->eval.accuracy, int8->accuracy, agree,
              engine::agreement(int8->predictions, flt->predictions));
  EXPECT_GT(flt->accuracy, 30.0) << "one epoch of LeNet should be well above chance";
  EXPECT_GE(agree, 99.5);
  EXPECT_LE(std::fabs(int8->accuracy - fake->eval.accuracy), 0.1);
}

TEST(TrainedLeNet, CliEvalInferAndQErrorWithTheIntegerEngine) {
  if (!have_cifar()) GTEST_SKIP() << "CIFAR-10 not found in " << test::data_dir();
  const std::string lenet = trained_lenet();
  const std::string dir = test::temp_dir();
  const std::string q = dir + "/q.pqm";
  std::string out;
  ASSERT_EQ(test::run_command(cli() + "quantize " + lenet + " --calib 200" + data_flag() + " --out " + q, &out), 0) << out;

  // eval --engine int8 --json
  const nlohmann::json e = run_json("eval " + q + " --engine int8 --json --limit 1000" + data_flag());
  EXPECT_EQ(e.value("engine", ""), "int8");
  EXPECT_EQ(e.value("images", 0), 1000);
  EXPECT_GE(e.value("agreement_with_fake_quant", 0.0), 99.0);
  EXPECT_GT(e.value("agreement_with_float", 0.0), 90.0);
  EXPECT_EQ(e.value("arena_bytes", 0), 3072 + 1176);
  EXPECT_EQ(e.value("arena_lower_bound", 0), 3072 + 1176);
  EXPECT_EQ(e.value("macs", 0), 651720);
  EXPECT_NEAR(e.value("accuracy", 0.0), e.value("fake_quant_accuracy", -100.0), 1.0);

  // infer --engine int8 on three test images (float input) equals the in-process plan, in float
  // and as raw int8.
  auto model = load_qmodel(q);
  ASSERT_TRUE(model) << model.message();
  auto plan = engine::compile(*model);
  ASSERT_TRUE(plan) << plan.message();
  const Dataset imgs = test_images(3);
  Tensor x;
  const std::vector<int64_t> idx = {0, 1, 2};
  make_batch(imgs, idx, model->graph.normalization, x);
  ASSERT_TRUE(write_f32_file(dir + "/x.f32", x.data));
  const nlohmann::json inf = run_json("infer " + q + " --engine int8 --input " + dir + "/x.f32 --output " + dir + "/y.f32 --json");
  EXPECT_EQ(inf.value("engine", ""), "int8");
  EXPECT_EQ(inf.value("batch", 0), 3);
  auto y = read_f32_file(dir + "/y.f32");
  ASSERT_TRUE(y) << y.message();
  ASSERT_EQ(y->size(), 30u);
  run_json("infer " + q + " --engine int8 --raw-output --input " + dir + "/x.f32 --output " + dir + "/y.s8 --json");
  auto raw = read_file_bytes(dir + "/y.s8");
  ASSERT_TRUE(raw) << raw.message();
  ASSERT_EQ(raw->size(), 30u);
  std::vector<int8_t> in(3072), o(10), arena(static_cast<size_t>(plan->arena_bytes()));
  std::vector<float> deq(10);
  for (int b = 0; b < 3; ++b) {
    plan->quantize_float_input(x.ptr() + b * 3072, in.data());
    plan->run(in.data(), o.data(), arena);
    plan->dequantize_tensor(plan->output_tensor(), o.data(), deq.data());
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ((*y)[static_cast<size_t>(b * 10 + i)], deq[static_cast<size_t>(i)]);
      EXPECT_EQ(static_cast<int8_t>((*raw)[static_cast<size_t>(b * 10 + i)]), o[static_cast<size_t>(i)]);
    }
  }

  // qerror --json: every integer layer, sorted by isolated SQNR.
  const nlohmann::json r = run_json("qerror " + q + " --json --images 20" + data_flag());
  ASSERT_TRUE(r.contains("layers"));
  ASSERT_EQ(r["layers"].size(), 5u);
  double previous = -1e9;
  for (const auto& l : r["layers"]) {
    const double db = l["isolated"]["sqnr_db"].get<double>();
    EXPECT_GE(db, previous) << "sorted worst first";
    previous = db;
    EXPECT_GT(db, 20.0) << l.dump() << ": a default 8-bit layer loses little in isolation";
    EXPECT_GT(l["cumulative"]["cosine"].get<double>(), 0.9);
  }
  ASSERT_EQ(test::run_command(cli() + "qerror " + q + " --images 5" + data_flag(), &out), 0) << out;
  EXPECT_NE(out.find("worst layer: " + r["layers"][0]["name"].get<std::string>()), std::string::npos) << out;
}

TEST(TrainedLeNet, QErrorRanksADeliberatelyBrokenLayerFirst) {
  if (!have_cifar()) GTEST_SKIP() << "CIFAR-10 not found in " << test::data_dir();
  const QModel good = quantize_lenet(trained_lenet(), 200);
  const Dataset images = test_images(40);
  auto good_plan = engine::compile(good);
  ASSERT_TRUE(good_plan) << good_plan.message();
  auto base = engine::quantization_error(good, *good_plan, images);
  ASSERT_TRUE(base) << base.message();
  ASSERT_EQ(base->layers.size(), 5u);
  // Different layers each time, so the ranking cannot be right by accident: whichever layer is
  // broken must come first, and lose much more than it did before.
  for (const std::string layer : {"conv2", "fc1", "fc3"}) {
    SCOPED_TRACE(layer);
    QModel bad = good;
    sabotage(bad, layer, 0.5);
    auto plan = engine::compile(bad);
    ASSERT_TRUE(plan) << plan.message();
    auto report = engine::quantization_error(bad, *plan, images);
    ASSERT_TRUE(report) << report.message();
    const engine::LayerError& worst = report->layers[report->ranking[0]];
    EXPECT_EQ(worst.name, layer);
    EXPECT_LT(worst.isolated.sqnr_db(), by_name(*base, layer).isolated.sqnr_db() - 10.0);
    // Layers before the broken one are untouched: same cumulative error as in the good model.
    for (const auto& e : report->layers) {
      if (e.layer >= worst.layer) continue;
      EXPECT_DOUBLE_EQ(e.cumulative.noise, by_name(*base, e.name).cumulative.noise) << e.name;
    }
  }
}

TEST(TrainedLeNet, QErrorOnPerTensorSigmaOneWeights) {
  // `pocket quantize --per-tensor --weight-range sigma:1` (the lab's badly quantized LeNet): the
  // layers ranked first are weight layers that lose much more than with per-channel min/max.
  if (!have_cifar()) GTEST_SKIP() << "CIFAR-10 not found in " << test::data_dir();
  const std::string lenet = trained_lenet();
  const std::string dir = test::temp_dir();
  std::string out;
  ASSERT_EQ(test::run_command(cli() + "quantize " + lenet + " --calib 200" + data_flag() + " --out " + dir + "/good.pqm", &out), 0) << out;
  ASSERT_EQ(test::run_command(cli() + "quantize " + lenet + " --calib 200 --per-tensor --weight-range sigma:1" + data_flag() +
                                  " --out " + dir + "/bad.pqm", &out), 0) << out;
  const nlohmann::json good = run_json("qerror " + dir + "/good.pqm --json --images 40" + data_flag());
  const nlohmann::json bad = run_json("qerror " + dir + "/bad.pqm --json --images 40" + data_flag());
  ASSERT_EQ(bad["layers"].size(), 5u);
  std::map<std::string, double> good_db;
  for (const auto& l : good["layers"]) good_db[l["name"].get<std::string>()] = l["isolated"]["sqnr_db"].get<double>();
  std::printf("[ qerror ] per-tensor sigma:1 vs per-channel minmax, isolated SQNR (dB), worst first:\n");
  for (const auto& l : bad["layers"]) {
    const std::string name = l["name"].get<std::string>();
    std::printf("[ qerror ]   %-6s %7.2f  (minmax per-channel %7.2f)\n", name.c_str(),
                l["isolated"]["sqnr_db"].get<double>(), good_db[name]);
  }
  // Every layer has weights here; clipping at 1 sigma costs each of them.
  for (const auto& l : bad["layers"]) {
    const std::string name = l["name"].get<std::string>();
    EXPECT_LT(l["isolated"]["sqnr_db"].get<double>(), good_db[name]) << name;
  }
  // The worst one lost a lot, and it is the one the ranking names first.
  const auto& first = bad["layers"][0];
  EXPECT_LT(first["isolated"]["sqnr_db"].get<double>(), good_db[first["name"].get<std::string>()] - 6.0);
  for (const auto& l : bad["layers"]) {
    EXPECT_LE(first["isolated"]["sqnr_db"].get<double>(), l["isolated"]["sqnr_db"].get<double>());
  }
}

}  // namespace pocket::engine_test
