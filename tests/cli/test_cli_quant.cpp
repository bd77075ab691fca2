// `pocket quantize`, `pocket eval Q.pqm` and `pocket sweep`, run as the built binary on a fixture
// LeNet with calibration images from CIFAR-10.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "support/cli.hpp"

namespace pocket {
namespace {

using test::fixture_path;
using test::json_of;
using test::pocket_cli;
using test::quoted;
using test::temp_path;

const std::string kLenet = fixture_path("lenet_bias.onnx");

}  // namespace

TEST(CliQuantize, WritesAModelWithEveryParameterAndShowsTheFusedGraph) {
  std::string out;
  const std::string q = temp_path("lenet8.pqm");
  ASSERT_EQ(pocket_cli("quantize " + quoted(kLenet) + " --normalize lab --calib 50 --show-graph --json --out " + quoted(q), &out), 0)
      << out;
  EXPECT_NE(out.find("Conv+Relu+MaxPool"), std::string::npos) << out;
  EXPECT_NE(out.find("Linear+Relu"), std::string::npos) << out;
  const auto j = json_of(out.substr(out.find("\n{")));
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_TRUE(std::filesystem::exists(q));
  EXPECT_EQ(j["activations"].size(), 6u);
  EXPECT_EQ(j["weights"]["conv1.weight"]["scale"].size(), 6u) << "per-channel by default";
  // The lab's input range [-1, 1] in 255 steps: zero point round(-128 + 127.5) = -1 (ties away).
  EXPECT_NEAR(j["activations"]["input"]["scale"][0].get<double>(), 2.0 / 255.0, 1e-9);
  EXPECT_EQ(j["activations"]["input"]["zero_point"][0].get<int>(), -1);
  EXPECT_EQ(j["provenance"]["source"], kLenet);
  EXPECT_EQ(j["provenance"]["source_sha256"].get<std::string>().size(), 64u);
  EXPECT_NE(j["provenance"]["command"].get<std::string>().find("quantize"), std::string::npos);
  EXPECT_EQ(j["footprint"]["float_total_bytes"].get<int64_t>(), 4 * 62006);
  // 450 + 2400 + 48000 + 10080 + 840 weights, 6 + 16 + 120 + 84 + 10 biases.
  EXPECT_EQ(j["footprint"]["quant_weight_bytes"].get<int64_t>(), 61770);
  EXPECT_EQ(j["footprint"]["quant_bias_bytes"].get<int64_t>(), 4 * 236);
}

TEST(CliQuantize, EvalOfAQuantizedModelReportsAgreementWithFloat) {
  std::string out;
  const std::string q = temp_path("lenet_eval.pqm");
  ASSERT_EQ(pocket_cli("quantize " + quoted(kLenet) + " --normalize lab --calib 30 --out " + quoted(q), &out), 0) << out;
  ASSERT_EQ(pocket_cli("eval " + quoted(q) + " --limit 300 --json", &out), 0) << out;
  const auto j = json_of(out);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["engine"], "fake-quant");
  EXPECT_EQ(j["images"], 300);
  // The fixture has random weights: its top-1 is noise, but 8-bit quantization keeps most of it.
  EXPECT_GT(j["agreement_with_float"].get<double>(), 80.0);
  EXPECT_NEAR(j["drop"].get<double>(), j["float_accuracy"].get<double>() - j["accuracy"].get<double>(), 1e-9);
}

TEST(CliQuantize, RefusesBadRequests) {
  std::string out;
  EXPECT_NE(pocket_cli("quantize " + quoted(kLenet) + " --out " + quoted(temp_path("x.pqm")), &out), 0);
  EXPECT_NE(out.find("--normalize"), std::string::npos) << out;
  EXPECT_NE(pocket_cli("quantize " + quoted(kLenet) + " --normalize lab --out " + quoted(kLenet), &out), 0);
  EXPECT_NE(out.find("refusing to overwrite"), std::string::npos) << out;
  EXPECT_NE(pocket_cli("quantize " + quoted(kLenet) + " --normalize lab --calib 0 --out " + quoted(temp_path("y.pqm")), &out), 0);
  EXPECT_NE(out.find("--calib"), std::string::npos) << out;
  EXPECT_NE(pocket_cli("quantize " + quoted(kLenet) + " --normalize lab --act-range sigma:-1 --out " + quoted(temp_path("y.pqm")), &out), 0);
  EXPECT_NE(out.find("--act-range"), std::string::npos) << out;
  EXPECT_NE(pocket_cli("quantize " + quoted(kLenet) + " --normalize lab --calib-dir /nonexistent --out " + quoted(temp_path("y.pqm")), &out), 0);
  EXPECT_NE(out.find("/nonexistent"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(temp_path("y.pqm")));
  EXPECT_NE(pocket_cli("eval " + quoted(kLenet) + " --normalize lab --engine fake", &out), 0);
  EXPECT_NE(out.find("pocket quantize"), std::string::npos) << out;
}

TEST(CliSweep, TheLabsTableInOneRun) {
  std::string out;
  ASSERT_EQ(pocket_cli("sweep " + quoted(kLenet) + " --normalize lab --calib 30 --limit 200 --json", &out), 0) << out;
  const auto j = json_of(out);
  ASSERT_FALSE(j.is_discarded()) << out;
  const auto& rows = j["rows"];
  ASSERT_GE(rows.size(), 10u);
  EXPECT_EQ(rows[0]["name"], "float (no quantization)");
  // Clipping per tensor at 3, 2 and 1 sigma clips more and more weights.
  double clipped[3] = {};
  for (const auto& r : rows) {
    const std::string name = r["name"];
    for (int k = 1; k <= 3; ++k) {
      if (name.find("per-tensor " + std::to_string(k) + " sigma") != std::string::npos) {
        clipped[k - 1] = r["clipped_weights_percent"];
      }
    }
  }
  // The fixture's weights are PyTorch's uniform init U(-b, b): sigma = b/sqrt(3), so 2 and 3 sigma
  // (1.15b, 1.73b) clip nothing and 1 sigma (0.58b) clips 1 - 1/sqrt(3) = 42 % of them.
  EXPECT_GT(clipped[0], clipped[1]);
  EXPECT_GE(clipped[1], clipped[2]);
  EXPECT_EQ(clipped[2], 0.0);
  EXPECT_NEAR(clipped[0], 100.0 * (1.0 - 1.0 / std::sqrt(3.0)), 1.5);
  for (const auto& r : rows) {
    EXPECT_NEAR(r["drop"].get<double>(), j["float_accuracy"].get<double>() - r["accuracy"].get<double>(), 1e-9);
  }
}

}  // namespace pocket
