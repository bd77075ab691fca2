// `pocket stats`, run as the built binary: the --json shape, the human tables, agreement with the
// independent numpy computation (tests/quant/weight_stats.py), and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "support/test_env.hpp"

namespace pocket {
namespace {

std::string fixture(const std::string& name) { return test::fixtures_dir() + "/" + name; }
std::string q(const std::string& s) { return "'" + s + "'"; }

int pocket_cli(const std::string& args, std::string* out) { return test::run_command(q(test::cli_path()) + " " + args, out); }

nlohmann::json json_of(const std::string& out, const std::string& start_marker = "{") {
  const auto start = out.find(start_marker);
  EXPECT_NE(start, std::string::npos) << out;
  return nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start), nullptr, false);
}

void expect_distribution_shape(const nlohmann::json& d, size_t bins) {
  for (const char* key : {"count", "nan", "inf", "min", "max", "mean", "std", "bands", "histogram"}) {
    ASSERT_TRUE(d.contains(key)) << key << " in " << d.dump().substr(0, 200);
  }
  ASSERT_EQ(d["bands"].size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    const nlohmann::json& b = d["bands"][k];
    EXPECT_EQ(b["k"], k + 1);
    EXPECT_EQ(b["percent_outside"].get<double>(), 100.0 * b["outside"].get<double>() / d["count"].get<double>());
    EXPECT_DOUBLE_EQ(b["lo"].get<double>(), d["mean"].get<double>() - static_cast<double>(k + 1) * d["std"].get<double>());
  }
  ASSERT_EQ(d["histogram"]["counts"].size(), bins);
  int64_t total = 0;
  for (const auto& c : d["histogram"]["counts"]) total += c.get<int64_t>();
  EXPECT_EQ(total, d["count"].get<int64_t>());
}

TEST(CliStats, WeightsOnlyJsonMatchesNumpy) {
  const std::string model = fixture("lenet_bias.onnx");
  std::string out;
  ASSERT_EQ(pocket_cli("stats --json --no-activations --per-channel " + q(model), &out), 0) << out;
  const nlohmann::json j = json_of(out);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["model"], model);
  EXPECT_EQ(j["normalization"], "unknown");
  EXPECT_EQ(j["per_channel"], true);
  EXPECT_TRUE(j["activations"].is_null());
  ASSERT_EQ(j["weights"].size(), 10u);
  EXPECT_EQ(j["weights"][0]["name"], "conv1.weight");
  EXPECT_EQ(j["weights"][0]["node"].get<std::string>().empty(), false);
  EXPECT_EQ(j["weights"][1]["role"], "bias");
  EXPECT_EQ(j["weights"][4]["op"], "Linear");
  EXPECT_EQ(j["weights"][4]["shape"], (std::vector<int64_t>{120, 400}));
  for (const auto& w : j["weights"]) {
    expect_distribution_shape(w, 64);
    if (w["role"] == "bias") {
      EXPECT_FALSE(w.contains("channels"));
      continue;
    }
    ASSERT_EQ(w["channels"].size(), w["shape"][0].get<size_t>());
    for (const auto& c : w["channels"]) expect_distribution_shape(c, 64);
  }

  // The independent computation, straight from the initializers.
  std::string py_out;
  ASSERT_EQ(test::run_command("/usr/bin/python3 " + q(test::source_dir() + "/tests/quant/weight_stats.py") + " " + q(model),
                              &py_out), 0) << py_out;
  const nlohmann::json py = json_of(py_out, "{\"tensors\"");
  ASSERT_FALSE(py.is_discarded()) << py_out;
  std::map<std::string, nlohmann::json> ours;
  for (const auto& w : j["weights"]) ours[w["name"].get<std::string>()] = w;
  ASSERT_EQ(py["tensors"].size(), ours.size());
  for (const auto& t : py["tensors"]) {
    const std::string name = t["name"].get<std::string>();
    ASSERT_TRUE(ours.count(name)) << name;
    const nlohmann::json& w = ours[name];
    EXPECT_EQ(w["count"], t["count"]) << name;
    EXPECT_EQ(w["min"].get<double>(), t["min"].get<double>()) << name;
    EXPECT_EQ(w["max"].get<double>(), t["max"].get<double>()) << name;
    EXPECT_NEAR(w["mean"].get<double>(), t["mean"].get<double>(), 1e-6 * std::fabs(t["mean"].get<double>())) << name;
    EXPECT_NEAR(w["std"].get<double>(), t["std"].get<double>(), 1e-6 * t["std"].get<double>()) << name;
    for (size_t k = 0; k < 3; ++k) {
      EXPECT_EQ(w["bands"][k]["outside"], t["bands"][k]["outside"]) << name << " k=" << k + 1;
      EXPECT_EQ(w["bands"][k]["percent_outside"].get<double>(), t["bands"][k]["percent_outside"].get<double>())
          << name << " k=" << k + 1;
    }
  }
}

TEST(CliStats, ActivationsJson) {
  std::string out;
  ASSERT_EQ(pocket_cli("stats --json --calib 20 --seed 3 --normalize lab --data " + q(test::data_dir()) + " " +
                           q(fixture("lenet_nobias.onnx")), &out), 0) << out;
  const nlohmann::json j = json_of(out);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["normalization"], "lab");
  EXPECT_EQ(j["weights"].size(), 5u);
  EXPECT_FALSE(j["weights"][0].contains("channels"));
  const nlohmann::json& a = j["activations"];
  EXPECT_EQ(a["images"], 20);
  EXPECT_EQ(a["seed"], 3);
  EXPECT_EQ(a["split"], "train");
  EXPECT_GE(a["seconds"].get<double>(), 0.0);
  ASSERT_EQ(a["values"].size(), 13u);  // the input and 12 nodes
  const nlohmann::json& input = a["values"][0];
  EXPECT_EQ(input["op"], "Input");
  EXPECT_EQ(input["count"], 20 * 3 * 32 * 32);
  EXPECT_GE(input["min"].get<double>(), -1.0);
  EXPECT_LE(input["max"].get<double>(), 1.0);
  for (const auto& v : a["values"]) {
    for (const char* key : {"name", "producer", "op", "shape", "count", "nan", "inf", "min", "max", "mean", "std", "band3",
                            "percentiles", "histogram", "sample_size", "sampled"}) {
      ASSERT_TRUE(v.contains(key)) << key;
    }
    EXPECT_EQ(v["percentiles"].size(), 6u);
    EXPECT_LE(v["min"].get<double>(), v["percentiles"]["0.01"].get<double>());
    EXPECT_LE(v["percentiles"]["0.01"].get<double>(), v["percentiles"]["99.99"].get<double>());
    EXPECT_LE(v["percentiles"]["99.99"].get<double>(), v["max"].get<double>());
    EXPECT_EQ(v["sampled"], false);  // 20 images: far below the cap
    EXPECT_EQ(v["histogram"]["counts"].size(), 64u);
  }
  EXPECT_EQ(a["values"][1]["op"], "Conv");
  EXPECT_EQ(a["values"][2]["op"], "Relu");
  EXPECT_GE(a["values"][2]["min"].get<double>(), 0.0);

  // Deterministic for a seed.
  std::string again;
  ASSERT_EQ(pocket_cli("stats --json --calib 20 --seed 3 --normalize lab --data " + q(test::data_dir()) + " " +
                           q(fixture("lenet_nobias.onnx")), &again), 0);
  nlohmann::json j2 = json_of(again);
  j2["activations"]["seconds"] = a["seconds"];
  EXPECT_EQ(j2, j);
}

TEST(CliStats, HumanTablesAndProgress) {
  std::string out;
  ASSERT_EQ(pocket_cli("stats --calib 10 --normalize unit --data " + q(test::data_dir()) + " " + q(fixture("lenet_bias.onnx")),
                       &out), 0) << out;
  for (const char* text : {"weights: 10 Conv/Linear parameter tensors", "conv1.weight", "mu +- 3 sigma", "out 2s",
                           "activations: 10 calibration images", "p99.99", "calibration: 10/10 images", "Relu"}) {
    EXPECT_NE(out.find(text), std::string::npos) << text << "\n" << out;
  }
}

TEST(CliStats, Errors) {
  std::string out;
  const std::string missing = test::temp_dir() + "/no_such_model.onnx";
  EXPECT_EQ(pocket_cli("stats " + q(missing), &out), 1) << out;
  EXPECT_NE(out.find("pocket stats: " + missing), std::string::npos) << out;

  EXPECT_EQ(pocket_cli("stats " + q(fixture("lenet_bias.onnx")), &out), 1) << out;
  EXPECT_NE(out.find("pocket stats: "), std::string::npos) << out;
  EXPECT_NE(out.find("--normalize"), std::string::npos) << out;
  EXPECT_NE(out.find("normalisation"), std::string::npos) << out;

  EXPECT_EQ(pocket_cli("stats --calib 0 --normalize lab " + q(fixture("lenet_bias.onnx")), &out), 1) << out;
  EXPECT_NE(out.find("--calib must be at least 1"), std::string::npos) << out;

  EXPECT_EQ(pocket_cli("stats --normalize bogus " + q(fixture("lenet_bias.onnx")), &out), 1) << out;
  EXPECT_NE(out.find("pocket stats: "), std::string::npos) << out;

  EXPECT_EQ(pocket_cli("stats --calib 10 --normalize lab --data " + q(test::temp_dir() + "/nodata") + " " +
                           q(fixture("lenet_bias.onnx")), &out), 1) << out;
  EXPECT_NE(out.find("pocket stats: "), std::string::npos) << out;
}

}  // namespace
}  // namespace pocket
