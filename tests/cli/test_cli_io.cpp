// `pocket import`, `pocket info` and `pocket infer`, run as the built binary on the ONNX fixtures.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pocket/fileio.hpp"
#include "support/cli.hpp"

namespace pocket {
namespace {

std::string fixture(const std::string& name) { return test::fixture_path(name); }
std::string tmp(const std::string& name) { return test::temp_path(name); }
std::string q(const std::string& s) { return test::quoted(s); }
using test::json_of;
using test::pocket_cli;

// max |a - b| / max |b|: the fixtures' tolerance measure (see tests/io/test_onnx_fixtures.cpp).
double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  double err = 0.0;
  double ref = 0.0;
  for (size_t i = 0; i < b.size(); ++i) {
    err = std::max(err, std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
    ref = std::max(ref, std::fabs(static_cast<double>(b[i])));
  }
  return err / std::max(ref, 1e-12);
}

TEST(CliInfo, DescribesAFixture) {
  std::string out;
  ASSERT_EQ(pocket_cli("info " + q(fixture("resblock_bn.onnx")), &out), 0) << out;
  EXPECT_NE(out.find("BatchNormalization"), std::string::npos) << out;
  EXPECT_NE(out.find("[1, 3, 32, 32]"), std::string::npos) << out;
  EXPECT_NE(out.find("normalisation unknown"), std::string::npos) << out;
  EXPECT_NE(out.find("parameters "), std::string::npos) << out;
}

TEST(CliInfo, Json) {
  std::string out;
  ASSERT_EQ(pocket_cli("info --json " + q(fixture("lenet_bias.onnx")), &out), 0) << out;
  const auto j = json_of(out);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["parameters"], 62006);  // LeNet-5 with biases
  EXPECT_EQ(j["normalization"], "unknown");
  EXPECT_EQ(j["input"]["shape"], (std::vector<int64_t>{1, 3, 32, 32}));
  EXPECT_EQ(j["output"]["shape"], (std::vector<int64_t>{1, 10}));
  ASSERT_EQ(j["nodes"].size(), 12u);
  EXPECT_EQ(j["nodes"][0]["op"], "Conv");
  EXPECT_EQ(j["nodes"][0]["attrs"]["kernel"], (std::vector<int>{5, 5}));
  EXPECT_EQ(j["nodes"][7]["op"], "Linear");
  EXPECT_EQ(j["nodes"][7]["parameters"], 400 * 120 + 120);
}

TEST(CliInfo, BadModelNamesTheFile) {
  const std::string path = tmp("garbage.onnx");
  ASSERT_TRUE(write_file_atomic(path, std::string("\xff\xfe garbage \x01\x02", 14)).is_ok());
  std::string out;
  EXPECT_EQ(pocket_cli("info " + q(path), &out), 1) << out;
  EXPECT_NE(out.find("pocket info: " + path + ": not a valid ONNX model"), std::string::npos) << out;
}

TEST(CliImport, RecordsNormalizationAndProvenance) {
  const std::string out_path = tmp("imported.onnx");
  std::string out;
  ASSERT_EQ(pocket_cli("import " + q(fixture("dwsep.onnx")) + " --normalize 0.5,0.5,0.5/0.25,0.25,0.25 --out " +
                           q(out_path), &out), 0) << out;
  ASSERT_EQ(pocket_cli("info --json " + q(out_path), &out), 0) << out;
  const auto j = json_of(out);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["normalization"], "0.5,0.5,0.5/0.25,0.25,0.25");
  EXPECT_EQ(j["metadata"]["pocket.source"], "dwsep.onnx");
  EXPECT_EQ(j["metadata"]["pocket.source_sha256"].get<std::string>().size(), 64u);

  // Importing again keeps the recorded normalisation without --normalize.
  const std::string again = tmp("imported_again.onnx");
  ASSERT_EQ(pocket_cli("import " + q(out_path) + " --out " + q(again), &out), 0) << out;
  ASSERT_EQ(pocket_cli("info --json " + q(again), &out), 0) << out;
  EXPECT_EQ(json_of(out)["normalization"], "0.5,0.5,0.5/0.25,0.25,0.25");
}

TEST(CliImport, NeedsANormalization) {
  std::string out;
  EXPECT_EQ(pocket_cli("import " + q(fixture("lenet_bias.onnx")) + " --out " + q(tmp("nonorm.onnx")), &out), 1) << out;
  EXPECT_NE(out.find("--normalize"), std::string::npos) << out;
  EXPECT_EQ(pocket_cli("import " + q(fixture("lenet_bias.onnx")) + " --normalize sideways --out " + q(tmp("bad.onnx")), &out), 1)
      << out;
  EXPECT_NE(out.find("invalid normalisation 'sideways'"), std::string::npos) << out;
}

TEST(CliImport, RefusesToOverwriteItsInput) {
  const std::string path = tmp("victim.onnx");
  auto original = read_file_bytes(fixture("lenet_nobias.onnx"));
  ASSERT_TRUE(original.is_ok()) << original.message();
  ASSERT_TRUE(write_file_atomic(path, original->data(), original->size()).is_ok());
  std::string out;
  // The same file, spelled differently.
  EXPECT_EQ(pocket_cli("import " + q(path) + " --normalize lab --out " + q(test::temp_dir() + "/./victim.onnx"), &out), 1)
      << out;
  EXPECT_NE(out.find("refusing to overwrite"), std::string::npos) << out;
  auto after = read_file_bytes(path);
  ASSERT_TRUE(after.is_ok());
  EXPECT_TRUE(*after == *original) << "the input was modified";
}

TEST(CliImport, UnsupportedModelFailsWithTheFileName) {
  const std::string path = tmp("half.onnx");
  auto bytes = read_file_bytes(fixture("resblock_bn.onnx"));
  ASSERT_TRUE(bytes.is_ok());
  ASSERT_TRUE(write_file_atomic(path, bytes->data(), bytes->size() / 2).is_ok());
  std::string out;
  EXPECT_EQ(pocket_cli("import " + q(path) + " --normalize lab --out " + q(tmp("half_out.onnx")), &out), 1) << out;
  EXPECT_NE(out.find(path + ": not a valid ONNX model"), std::string::npos) << out;
}

TEST(CliInfer, ReproducesPyTorchOnEveryFixture) {
  for (const std::string name : {"lenet_nobias", "lenet_bias", "resblock_bn", "dwsep"}) {
    SCOPED_TRACE(name);
    const std::string y = tmp(name + ".y.f32");
    std::string out;
    ASSERT_EQ(pocket_cli("infer " + q(fixture(name + ".onnx")) + " --input " + q(fixture(name + ".input.f32")) +
                             " --output " + q(y) + " --json", &out), 0) << out;
    const auto j = json_of(out);
    ASSERT_FALSE(j.is_discarded()) << out;
    EXPECT_EQ(j["batch"], 1);
    EXPECT_EQ(j["output_shape"], (std::vector<int64_t>{1, 10}));
    auto ours = read_f32_file(y);
    auto ref = read_f32_file(fixture(name + ".output.f32"));
    ASSERT_TRUE(ours.is_ok()) << ours.message();
    ASSERT_TRUE(ref.is_ok()) << ref.message();
    ASSERT_EQ(ours->size(), ref->size());
    EXPECT_LE(relative_error(*ours, *ref), 1e-4);
    const auto argmax = std::max_element(ref->begin(), ref->end()) - ref->begin();
    EXPECT_EQ(j["argmax"][0], argmax);
  }
}

TEST(CliInfer, BatchFromFileSize) {
  auto x = read_f32_file(fixture("lenet_bias.input.f32"));
  auto ref = read_f32_file(fixture("lenet_bias.output.f32"));
  ASSERT_TRUE(x.is_ok() && ref.is_ok());
  std::vector<float> three;
  for (int i = 0; i < 3; ++i) three.insert(three.end(), x->begin(), x->end());
  const std::string in = tmp("three.f32");
  const std::string y = tmp("three.y.f32");
  ASSERT_TRUE(write_f32_file(in, three).is_ok());
  std::string out;
  ASSERT_EQ(pocket_cli("infer " + q(fixture("lenet_bias.onnx")) + " --input " + q(in) + " --output " + q(y), &out), 0)
      << out;
  EXPECT_NE(out.find("3 sample(s)"), std::string::npos) << out;
  auto ours = read_f32_file(y);
  ASSERT_TRUE(ours.is_ok());
  ASSERT_EQ(ours->size(), 30u);
  for (size_t s = 0; s < 3; ++s) {
    const std::vector<float> one(ours->begin() + static_cast<long>(10 * s), ours->begin() + static_cast<long>(10 * s + 10));
    EXPECT_LE(relative_error(one, *ref), 1e-4) << "sample " << s;
  }
}

TEST(CliInfer, RejectsPartialSamplesAndLeavesNoOutput) {
  const std::string in = tmp("partial.f32");
  ASSERT_TRUE(write_f32_file(in, std::vector<float>(3 * 32 * 32 + 5, 0.5f)).is_ok());
  const std::string y = tmp("partial.y.f32");
  std::string out;
  EXPECT_EQ(pocket_cli("infer " + q(fixture("lenet_bias.onnx")) + " --input " + q(in) + " --output " + q(y), &out), 1)
      << out;
  EXPECT_NE(out.find("not a whole number of samples"), std::string::npos) << out;
  EXPECT_NE(out.find("[1, 3, 32, 32]"), std::string::npos) << out;
  EXPECT_FALSE(read_file_bytes(y).is_ok()) << "an output was written";

  const std::string empty = tmp("empty.f32");
  ASSERT_TRUE(write_file_atomic(empty, std::string()).is_ok());
  EXPECT_EQ(pocket_cli("infer " + q(fixture("lenet_bias.onnx")) + " --input " + q(empty) + " --output " + q(y), &out), 1)
      << out;
  EXPECT_NE(out.find("not a whole number of samples"), std::string::npos) << out;
}

TEST(CliInfer, RefusesToOverwriteItsInput) {
  const std::string in = tmp("keep.f32");
  auto x = read_f32_file(fixture("dwsep.input.f32"));
  ASSERT_TRUE(x.is_ok());
  ASSERT_TRUE(write_f32_file(in, *x).is_ok());
  std::string out;
  EXPECT_EQ(pocket_cli("infer " + q(fixture("dwsep.onnx")) + " --input " + q(in) + " --output " + q(in), &out), 1) << out;
  EXPECT_NE(out.find("refusing to overwrite"), std::string::npos) << out;
  auto after = read_f32_file(in);
  ASSERT_TRUE(after.is_ok());
  EXPECT_EQ(*after, *x);
}

}  // namespace
}  // namespace pocket
