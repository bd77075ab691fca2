// `pocket export` (quantized model -> ONNX QDQ) and `pocket info` on the QDQ file, run as the
// built binary.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "pocket/fileio.hpp"
#include "support/cli.hpp"

namespace pocket {
namespace {

std::string fixture(const std::string& name) { return test::fixture_path(name); }
std::string tmp(const std::string& name) { return test::temp_path(name); }
std::string q(const std::string& s) { return test::quoted(s); }
using test::json_of;
using test::pocket_cli;

bool have_cifar() { return std::filesystem::exists(test::data_dir() + "/data_batch_1.bin"); }

// Quantizes a fixture into `pqm`; returns `pocket quantize --json`'s output.
nlohmann::json quantize(const std::string& onnx, const std::string& pqm, const std::string& extra) {
  std::string out;
  EXPECT_EQ(pocket_cli("quantize " + q(fixture(onnx)) + " --normalize lab --json --out " + q(pqm) + " " + extra, &out), 0)
      << out;
  return json_of(out);
}

}  // namespace

TEST(CliExport, QdqFileCarriesTheQuantizationThatInfoReadsBack) {
  if (!have_cifar()) GTEST_SKIP() << "CIFAR-10 not found in " << test::data_dir();
  const std::string pqm = tmp("lenet.pqm"), qdq = tmp("lenet_qdq.onnx");
  const auto qj = quantize("lenet_bias.onnx", pqm, "--calib 50 --data " + q(test::data_dir()));
  ASSERT_FALSE(qj.is_discarded());
  std::string out;
  ASSERT_EQ(pocket_cli("export " + q(pqm) + " --format onnx-qdq --out " + q(qdq) + " --json", &out), 0) << out;
  const auto ej = json_of(out);
  ASSERT_FALSE(ej.is_discarded()) << out;
  EXPECT_EQ(ej["format"], "onnx-qdq");
  EXPECT_EQ(ej["out"], qdq);
  EXPECT_EQ(ej["weights"], 5);
  EXPECT_EQ(ej["biases"], 5);
  EXPECT_EQ(ej["quantization_points"], qj["activations"].size());
  EXPECT_GT(ej["activation_qdq_pairs"].get<int>(), ej["quantization_points"].get<int>()) << "flatten keeps pool2's";
  EXPECT_EQ(ej["bytes"].get<int64_t>(), static_cast<int64_t>(std::filesystem::file_size(qdq)));

  // info reads the QDQ file back with the same parameters (exact doubles through JSON).
  ASSERT_EQ(pocket_cli("info --json " + q(qdq), &out), 0) << out;
  const auto ij = json_of(out);
  ASSERT_FALSE(ij.is_discarded()) << out;
  EXPECT_EQ(ij["format"], "onnx-qdq");
  EXPECT_EQ(ij["quantization"]["activations"], qj["activations"]);
  EXPECT_EQ(ij["quantization"]["weights"], qj["weights"]);
  EXPECT_EQ(ij["quantization"]["config"], qj["config"]);
  EXPECT_EQ(ij["nodes"].size(), 12u) << "the float graph: Conv, Relu, MaxPool, ... Gemm, no Q/DQ";
  EXPECT_EQ(ij["normalization"], "lab");

  ASSERT_EQ(pocket_cli("info " + q(qdq), &out), 0) << out;
  EXPECT_NE(out.find("ONNX QDQ model"), std::string::npos) << out;
  EXPECT_NE(out.find("activation input: scale"), std::string::npos) << out;
}

TEST(CliExport, WeightOnly) {
  const std::string pqm = tmp("wo.pqm"), qdq = tmp("wo_qdq.onnx");
  const auto qj = quantize("resblock_bn.onnx", pqm, "--weight-only");
  ASSERT_FALSE(qj.is_discarded());
  std::string out;
  ASSERT_EQ(pocket_cli("export " + q(pqm) + " --out " + q(qdq), &out), 0) << out;
  EXPECT_NE(out.find("saved " + qdq), std::string::npos) << out;
  EXPECT_NE(out.find(" 0 activation QuantizeLinear/DequantizeLinear pairs"), std::string::npos) << out;
  ASSERT_EQ(pocket_cli("info --json " + q(qdq), &out), 0) << out;
  const auto ij = json_of(out);
  ASSERT_FALSE(ij.is_discarded()) << out;
  EXPECT_TRUE(ij["quantization"]["activations"].empty());
  EXPECT_EQ(ij["quantization"]["weights"], qj["weights"]);
}

TEST(CliExport, RefusesToOverwriteItsInput) {
  const std::string pqm = tmp("keep.pqm");
  ASSERT_FALSE(quantize("lenet_nobias.onnx", pqm, "--weight-only").is_discarded());
  auto before = read_file_bytes(pqm);
  ASSERT_TRUE(before);
  std::string out;
  EXPECT_EQ(pocket_cli("export " + q(pqm) + " --out " + q(pqm), &out), 1) << out;
  EXPECT_NE(out.find("pocket export:"), std::string::npos) << out;
  auto after = read_file_bytes(pqm);
  ASSERT_TRUE(after);
  EXPECT_EQ(*before, *after);
}

TEST(CliExport, Errors) {
  std::string out;
  // Not a .pqm.
  EXPECT_EQ(pocket_cli("export " + q(fixture("lenet_bias.onnx")) + " --out " + q(tmp("x.onnx")), &out), 1) << out;
  EXPECT_NE(out.find("not a pocket quantized model"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(tmp("x.onnx")));
  // Unknown format.
  const std::string pqm = tmp("fmt.pqm");
  ASSERT_FALSE(quantize("lenet_bias.onnx", pqm, "--weight-only").is_discarded());
  EXPECT_NE(pocket_cli("export " + q(pqm) + " --format tflite --out " + q(tmp("y.onnx")), &out), 0) << out;
  EXPECT_NE(out.find("onnx-qdq"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(tmp("y.onnx")));
}

TEST(CliExport, SixteenBitActivationsAreRefused) {
  if (!have_cifar()) GTEST_SKIP() << "CIFAR-10 not found in " << test::data_dir();
  const std::string pqm = tmp("a16.pqm"), qdq = tmp("a16.onnx");
  ASSERT_FALSE(quantize("lenet_bias.onnx", pqm, "--act-bits 16 --calib 20 --data " + q(test::data_dir())).is_discarded());
  std::string out;
  EXPECT_EQ(pocket_cli("export " + q(pqm) + " --out " + q(qdq), &out), 1) << out;
  EXPECT_NE(out.find("16-bit activations cannot be expressed in ONNX opset 13 QDQ"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(qdq));
}

}  // namespace pocket
