// ONNX import of small models built here: each supported feature, and every class of bad input with
// the message it must give (file, node, op).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "io/onnx_builder.hpp"
#include "pocket/fileio.hpp"
#include "pocket/onnx.hpp"
#include "support/test_env.hpp"

namespace pocket {
namespace {

using test::attr_float;
using test::attr_int;
using test::attr_ints;
using test::attr_string;
using test::OnnxBuilder;
using test::ramp;

const Node* find_node(const Graph& g, const std::string& name) {
  for (const Node& n : g.nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

// The message must contain every one of `parts`.
void expect_message(const std::string& message, const std::vector<std::string>& parts) {
  for (const auto& p : parts) {
    EXPECT_NE(message.find(p), std::string::npos) << "missing '" << p << "' in: " << message;
  }
}

// input [N,3,8,8] -> Conv(4 out, 3x3, pad 1) -> Relu -> output
OnnxBuilder conv_relu_model() {
  OnnxBuilder b;
  b.input("x", {-1, 3, 8, 8}).output("y", {-1, 4, 8, 8});
  b.init("w", {4, 3, 3, 3}, ramp(4 * 3 * 3 * 3));
  b.init("bias", {4}, {0.1f, 0.2f, 0.3f, 0.4f});
  auto& c = b.node("Conv", "conv", {"x", "w", "bias"}, {"c"});
  attr_ints(c, "kernel_shape", {3, 3});
  attr_ints(c, "pads", {1, 1, 1, 1});
  b.node("Relu", "relu", {"c"}, {"y"});
  return b;
}

TEST(OnnxImport, ConvReluStructure) {
  auto g = conv_relu_model().parse();
  ASSERT_TRUE(g.is_ok()) << g.message();
  ASSERT_EQ(g->nodes.size(), 2u);
  EXPECT_EQ(g->input_shape(), (Shape{1, 3, 8, 8}));  // symbolic batch recorded as 1
  EXPECT_EQ(g->output_shape(), (Shape{1, 4, 8, 8}));
  const Node& conv = g->nodes[0];
  EXPECT_EQ(conv.kind, OpKind::Conv);
  EXPECT_EQ(conv.name, "conv");
  EXPECT_EQ(conv.attrs.kernel, (std::array<int, 2>{3, 3}));
  EXPECT_EQ(conv.attrs.pads, (std::array<int, 4>{1, 1, 1, 1}));
  ASSERT_EQ(conv.inputs.size(), 3u);
  EXPECT_EQ(g->param(conv.inputs[2]).data, (std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}));
  EXPECT_EQ(g->values[static_cast<size_t>(g->output)].name, "y");
  EXPECT_FALSE(g->normalization.known());
  EXPECT_EQ(g->parameter_count(), 4 * 27 + 4);
}

TEST(OnnxImport, ConvAutoPadSameUpperLowerAndValid) {
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    OnnxBuilder b;
    b.input("x", {1, 1, 6, 7}).output("y");
    b.init("w", {1, 1, 2, 3}, ramp(6));
    auto& c = b.node("Conv", "conv", {"x", "w"}, {"y"});
    attr_string(c, "auto_pad", mode);
    attr_ints(c, "strides", {1, 2});
    auto g = b.parse();
    ASSERT_TRUE(g.is_ok()) << mode << ": " << g.message();
    const auto& p = g->nodes[0].attrs.pads;
    // H: in 6, k 2, s 1 -> out 6, total pad 1. W: in 7, k 3, s 2 -> out 4, total pad (4-1)*2+3-7 = 2.
    if (std::string(mode) == "SAME_UPPER") {
      EXPECT_EQ(p, (std::array<int, 4>{0, 1, 1, 1}));
      EXPECT_EQ(g->output_shape(), (Shape{1, 1, 6, 4}));
    } else if (std::string(mode) == "SAME_LOWER") {
      EXPECT_EQ(p, (std::array<int, 4>{1, 1, 0, 1}));
      EXPECT_EQ(g->output_shape(), (Shape{1, 1, 6, 4}));
    } else {
      EXPECT_EQ(p, (std::array<int, 4>{0, 0, 0, 0}));
      EXPECT_EQ(g->output_shape(), (Shape{1, 1, 5, 3}));
    }
  }
}

TEST(OnnxImport, DepthwiseConvGroupsAndDilation) {
  OnnxBuilder b;
  b.input("x", {1, 4, 9, 9}).output("y", {1, 4, 5, 5});
  b.init("w", {4, 1, 3, 3}, ramp(36));
  auto& c = b.node("Conv", "dw", {"x", "w"}, {"y"});
  attr_int(c, "group", 4);
  attr_ints(c, "dilations", {2, 2});
  auto g = b.parse();
  ASSERT_TRUE(g.is_ok()) << g.message();
  EXPECT_EQ(g->nodes[0].attrs.groups, 4);
  EXPECT_EQ(g->nodes[0].attrs.dilation, (std::array<int, 2>{2, 2}));
  EXPECT_EQ(g->nodes[0].inputs.size(), 2u);
}

TEST(OnnxImport, GemmFoldsAlphaBetaAndTransposes) {
  // transB = 0: B is [in, out] and must be transposed into W [out, in]; alpha and beta are folded.
  OnnxBuilder b;
  b.input("x", {-1, 3}).output("y", {-1, 2});
  b.init("B", {3, 2}, {1, 2, 3, 4, 5, 6});
  b.init("C", {2}, {10, 20});
  auto& n = b.node("Gemm", "fc", {"x", "B", "C"}, {"y"});
  attr_float(n, "alpha", 2.0f);
  attr_float(n, "beta", 0.5f);
  auto g = b.parse();
  ASSERT_TRUE(g.is_ok()) << g.message();
  ASSERT_EQ(g->nodes.size(), 1u);
  const Node& fc = g->nodes[0];
  EXPECT_EQ(fc.kind, OpKind::Linear);
  ASSERT_EQ(fc.inputs.size(), 3u);
  EXPECT_EQ(g->param(fc.inputs[1]).shape, (Shape{2, 3}));
  EXPECT_EQ(g->param(fc.inputs[1]).data, (std::vector<float>{2, 6, 10, 4, 8, 12}));
  EXPECT_EQ(g->param(fc.inputs[2]).data, (std::vector<float>{5, 10}));
}

TEST(OnnxImport, GemmTransBKeepsWeightBitsAndRejectsTransA) {
  OnnxBuilder b;
  b.input("x", {1, 3}).output("y");
  const std::vector<float> w{0.1f, -0.2f, 0.3f, 1e-7f, -1e7f, 3.14159f};
  b.init("W", {2, 3}, w);
  auto& n = b.node("Gemm", "fc", {"x", "W"}, {"y"});
  attr_int(n, "transB", 1);
  auto g = b.parse();
  ASSERT_TRUE(g.is_ok()) << g.message();
  EXPECT_EQ(g->param(g->nodes[0].inputs[1]).data, w);
  EXPECT_EQ(g->nodes[0].inputs.size(), 2u);  // no C: no bias

  attr_int(n, "transA", 1);
  auto bad = b.parse("gemm.onnx");
  ASSERT_FALSE(bad.is_ok());
  expect_message(bad.message(), {"gemm.onnx", "node 'fc' (Gemm)", "transA"});
}

TEST(OnnxImport, MatMulThenAddBecomesOneLinearWithBias) {
  OnnxBuilder b;
  b.input("x", {-1, 3}).output("y", {-1, 2});
  b.init("B", {3, 2}, {1, 2, 3, 4, 5, 6});
  b.init("C", {2}, {0.5f, -0.5f});
  b.node("MatMul", "mm", {"x", "B"}, {"m"});
  b.node("Add", "add", {"C", "m"}, {"y"});  // constant first: order does not matter
  auto g = b.parse();
  ASSERT_TRUE(g.is_ok()) << g.message();
  ASSERT_EQ(g->nodes.size(), 1u);
  const Node& fc = g->nodes[0];
  EXPECT_EQ(fc.kind, OpKind::Linear);
  ASSERT_EQ(fc.inputs.size(), 3u);
  EXPECT_EQ(g->param(fc.inputs[1]).data, (std::vector<float>{1, 3, 5, 2, 4, 6}));
  EXPECT_EQ(g->param(fc.inputs[2]).data, (std::vector<float>{0.5f, -0.5f}));
  EXPECT_EQ(g->values[static_cast<size_t>(g->output)].name, "y");
}

TEST(OnnxImport, MatMulOutputUsedTwiceIsNotFolded) {
  OnnxBuilder b;
  b.input("x", {1, 3}).output("y");
  b.init("B", {3, 2}, ramp(6));
  b.init("C", {2}, {1, 2});
  b.node("MatMul", "mm", {"x", "B"}, {"m"});
  b.node("Add", "add", {"m", "C"}, {"a"});
  b.node("Add", "add2", {"a", "m"}, {"y"});
  auto g = b.parse("twice.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"twice.onnx", "node 'add' (Add)", "'C'", "bias of a preceding MatMul"});
}

TEST(OnnxImport, ClipInputsConstantsAttributesAndDefaults) {
  {  // opset 13: min from a Constant, max from an initializer
    OnnxBuilder b;
    b.input("x", {1, 2}).output("y");
    auto& k = b.node("Constant", "k", {}, {"lo"});
    attr_float(k, "value_float", -1.5f);
    b.init("hi", {}, {6.0f});
    b.node("Clip", "clip", {"x", "lo", "hi"}, {"y"});
    auto g = b.parse();
    ASSERT_TRUE(g.is_ok()) << g.message();
    ASSERT_EQ(g->nodes.size(), 1u);
    EXPECT_EQ(g->nodes[0].attrs.clip_min, -1.5f);
    EXPECT_EQ(g->nodes[0].attrs.clip_max, 6.0f);
    EXPECT_EQ(g->nodes[0].inputs.size(), 1u);
  }
  {  // opset 13: missing min ("" input) and missing max
    OnnxBuilder b;
    b.input("x", {1, 2}).output("y");
    b.init("hi", {1}, {3.0f});
    b.node("Clip", "clip", {"x", "", "hi"}, {"y"});
    auto g = b.parse();
    ASSERT_TRUE(g.is_ok()) << g.message();
    EXPECT_EQ(g->nodes[0].attrs.clip_min, -std::numeric_limits<float>::infinity());
    EXPECT_EQ(g->nodes[0].attrs.clip_max, 3.0f);
  }
  {  // opset 10: attributes
    OnnxBuilder b(10);
    b.input("x", {1, 2}).output("y");
    auto& c = b.node("Clip", "clip", {"x"}, {"y"});
    attr_float(c, "min", 0.0f);
    auto g = b.parse();
    ASSERT_TRUE(g.is_ok()) << g.message();
    EXPECT_EQ(g->nodes[0].attrs.clip_min, 0.0f);
    EXPECT_EQ(g->nodes[0].attrs.clip_max, std::numeric_limits<float>::infinity());
  }
  {  // min from a computed tensor: error names the node
    OnnxBuilder b;
    b.input("x", {1, 2}).output("y");
    b.node("Relu", "r", {"x"}, {"r"});
    b.node("Clip", "clip", {"x", "r"}, {"y"});
    auto g = b.parse("clip.onnx");
    ASSERT_FALSE(g.is_ok());
    expect_message(g.message(), {"clip.onnx", "node 'clip' (Clip)", "'r'", "initializer or a Constant"});
  }
}

TEST(OnnxImport, PoolsBatchNormSoftmaxFlattenReshapePad) {
  OnnxBuilder b(13);
  b.input("x", {-1, 2, 8, 8}).output("y", {-1, 4});
  auto& pad = b.node("Pad", "pad", {"x", "pads", "pv"}, {"p"});
  attr_string(pad, "mode", "constant");
  b.init_i64("pads", {0, 0, 1, 1, 0, 0, 1, 1});
  b.init("pv", {}, {-0.25f});
  auto& mp = b.node("MaxPool", "mp", {"p"}, {"m"});
  attr_ints(mp, "kernel_shape", {2, 2});
  attr_ints(mp, "strides", {2, 2});
  b.init("s", {2}, {1, 2});
  b.init("bb", {2}, {0, 1});
  b.init("mu", {2}, {0.5f, 0.25f});
  b.init("var", {2}, {1, 4});
  auto& bn = b.node("BatchNormalization", "bn", {"m", "s", "bb", "mu", "var"}, {"n"});
  attr_float(bn, "epsilon", 1e-3f);
  auto& ap = b.node("AveragePool", "ap", {"n"}, {"a"});
  attr_ints(ap, "kernel_shape", {3, 3});
  attr_ints(ap, "strides", {2, 2});
  attr_ints(ap, "pads", {1, 1, 1, 1});
  attr_int(ap, "count_include_pad", 1);
  b.node("Dropout", "drop", {"a"}, {"d"});
  b.node("Identity", "id", {"d"}, {"i"});
  b.node("Flatten", "flat", {"i"}, {"f"});  // [1, 2*3*3 = 18]
  b.init_i64("shape", {1, 2, -1});
  b.node("Reshape", "rs", {"f", "shape"}, {"r"});  // [1, 2, 9]
  b.init_i64("shape2", {-1, 18});
  b.node("Reshape", "rs2", {"r", "shape2"}, {"r2"});
  b.init("W", {4, 18}, ramp(72));
  b.node("MatMul", "mm", {"r2", "Wt"}, {"mmo"});
  b.init("Wt", {18, 4}, ramp(72));
  b.node("Softmax", "sm", {"mmo"}, {"y"});
  // Initializers may follow their use in the file: they are not nodes.
  auto g = b.parse();
  ASSERT_TRUE(g.is_ok()) << g.message();
  std::vector<OpKind> kinds;
  for (const Node& n : g->nodes) kinds.push_back(n.kind);
  EXPECT_EQ(kinds, (std::vector<OpKind>{OpKind::Pad, OpKind::MaxPool, OpKind::BatchNorm, OpKind::AveragePool,
                                        OpKind::Flatten, OpKind::Reshape, OpKind::Reshape, OpKind::Linear,
                                        OpKind::Softmax}));
  EXPECT_EQ(find_node(*g, "pad")->attrs.pad_amounts, (std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1}));
  EXPECT_EQ(find_node(*g, "pad")->attrs.pad_value, -0.25f);
  EXPECT_EQ(find_node(*g, "bn")->attrs.epsilon, 1e-3f);
  EXPECT_TRUE(find_node(*g, "ap")->attrs.count_include_pad);
  EXPECT_EQ(find_node(*g, "flat")->attrs.axis, 1);
  // A leading 1 is the batch baked in by the exporter: stored as 0 ("copy the batch dimension").
  EXPECT_EQ(find_node(*g, "rs")->attrs.target_shape, (std::vector<int64_t>{0, 2, -1}));
  EXPECT_EQ(find_node(*g, "rs2")->attrs.target_shape, (std::vector<int64_t>{-1, 18}));
  EXPECT_EQ(find_node(*g, "sm")->attrs.axis, -1);  // opset 13 default
  EXPECT_EQ(find_node(*g, "drop"), nullptr);
  EXPECT_EQ(find_node(*g, "id"), nullptr);
  EXPECT_EQ(find_node(*g, "ap")->inputs.size(), 1u);
  EXPECT_EQ(g->output_shape(), (Shape{1, 4}));
}

TEST(OnnxImport, PadAttributeFormBeforeOpset11) {
  OnnxBuilder b(10);
  b.input("x", {1, 1, 2, 2}).output("y", {1, 1, 4, 3});
  auto& pad = b.node("Pad", "pad", {"x"}, {"y"});
  attr_ints(pad, "pads", {0, 0, 1, 0, 0, 0, 1, 1});
  attr_float(pad, "value", 2.5f);
  auto g = b.parse();
  ASSERT_TRUE(g.is_ok()) << g.message();
  EXPECT_EQ(g->nodes[0].attrs.pad_amounts, (std::vector<int64_t>{0, 0, 1, 0, 0, 0, 1, 1}));
  EXPECT_EQ(g->nodes[0].attrs.pad_value, 2.5f);
}

TEST(OnnxImport, MetadataAndNormalization) {
  OnnxBuilder b = conv_relu_model();
  b.metadata("pocket.normalization", "0.5,0.25,0.125/0.2,0.3,0.4");
  b.metadata("author", "lab");
  auto g = b.parse();
  ASSERT_TRUE(g.is_ok()) << g.message();
  EXPECT_EQ(g->normalization.kind, Normalization::Kind::MeanStd);
  EXPECT_EQ(g->normalization.mean[1], 0.25f);
  EXPECT_EQ(g->normalization.stddev[2], 0.4f);
  EXPECT_EQ(g->metadata.size(), 1u);
  EXPECT_EQ(g->metadata.at("author"), "lab");

  OnnxBuilder bad = conv_relu_model();
  bad.metadata("pocket.normalization", "sideways");
  auto r = bad.parse("meta.onnx");
  ASSERT_FALSE(r.is_ok());
  expect_message(r.message(), {"meta.onnx", "pocket.normalization", "sideways"});
}

// ---------------------------------------------------------------------------------------------
// Bad input

std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string path = test::temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(OnnxImportErrors, EmptyFile) {
  const std::string path = write_temp("empty.onnx", "");
  auto g = load_onnx(path);
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {path, "not a valid ONNX model", "empty"});
}

TEST(OnnxImportErrors, GarbageBytes) {
  std::string bytes(4096, '\0');
  uint32_t s = 12345;
  for (char& c : bytes) {
    s = s * 1664525u + 1013904223u;
    c = static_cast<char>(s >> 24);
  }
  const std::string path = write_temp("garbage.onnx", bytes);
  auto g = load_onnx(path);
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {path, "not a valid ONNX model"});
  // Text is not a model either (it may even parse as protobuf, but has no graph).
  auto t = load_onnx(write_temp("text.onnx", "hello, this is not a model\n"));
  ASSERT_FALSE(t.is_ok());
  expect_message(t.message(), {"text.onnx", "not a valid ONNX model"});
}

TEST(OnnxImportErrors, TruncatedModel) {
  const std::string bytes = conv_relu_model().bytes();
  for (size_t cut : {bytes.size() / 2, bytes.size() - 1, size_t{3}}) {
    auto g = parse_onnx(bytes.data(), cut, "cut.onnx");
    ASSERT_FALSE(g.is_ok()) << "cut at " << cut;
    expect_message(g.message(), {"cut.onnx"});
  }
  auto g = parse_onnx(bytes.data(), bytes.size() / 2, "cut.onnx");
  expect_message(g.message(), {"not a valid ONNX model"});
}

TEST(OnnxImportErrors, NonexistentFile) {
  auto g = load_onnx(test::temp_dir() + "/does-not-exist.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"does-not-exist.onnx", "not found"});
}

TEST(OnnxImportErrors, UnsupportedOp) {
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y");
  b.node("Relu", "r", {"x"}, {"r"});
  b.node("LSTM", "lstm_1", {"r"}, {"y"});
  auto g = b.parse("lstm.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"lstm.onnx", "node 'lstm_1' (LSTM)", "unsupported op", "supported: Conv", "Gemm"});
}

TEST(OnnxImportErrors, OpFromAnotherDomain) {
  OnnxBuilder b;
  b.input("x", {1, 3}).output("y");
  b.node("Relu", "fused", {"x"}, {"y"}).set_domain("com.microsoft");
  auto g = b.parse("ms.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"ms.onnx", "node 'fused' (Relu)", "com.microsoft"});
}

TEST(OnnxImportErrors, MissingInitializer) {
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y");
  b.node("Conv", "conv1", {"x", "conv1.weight"}, {"y"});
  auto g = b.parse("missing.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"missing.onnx", "node 'conv1' (Conv)", "'conv1.weight'", "missing"});
}

TEST(OnnxImportErrors, MissingActivation) {
  OnnxBuilder b;
  b.input("x", {1, 3}).output("y");
  b.node("Relu", "late", {"later"}, {"y"});
  b.node("Relu", "r", {"x"}, {"later"});
  auto g = b.parse("order.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"order.onnx", "node 'late' (Relu)", "'later'", "missing"});
}

TEST(OnnxImportErrors, InconsistentConvChannels) {
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y");
  b.init("w", {4, 5, 3, 3}, ramp(4 * 5 * 9));
  b.node("Conv", "conv1", {"x", "w"}, {"y"});
  auto g = b.parse("shapes.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"shapes.onnx", "node 'conv1' (Conv)", "inconsistent shapes", "[1, 3, 8, 8]"});
}

TEST(OnnxImportErrors, InconsistentGemmFeatures) {
  OnnxBuilder b;
  b.input("x", {1, 5}).output("y");
  b.init("W", {2, 4}, ramp(8));
  auto& n = b.node("Gemm", "fc", {"x", "W"}, {"y"});
  attr_int(n, "transB", 1);
  auto g = b.parse("gemm.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"gemm.onnx", "node 'fc' (Gemm)", "inconsistent shapes"});
}

TEST(OnnxImportErrors, InconsistentAddShapes) {
  OnnxBuilder b;
  b.input("x", {1, 2, 4, 4}).output("y");
  auto& p = b.node("MaxPool", "pool", {"x"}, {"p"});
  attr_ints(p, "kernel_shape", {2, 2});
  attr_ints(p, "strides", {2, 2});
  b.node("Add", "sum", {"x", "p"}, {"y"});
  auto g = b.parse("add.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"add.onnx", "node 'sum' (Add)", "inconsistent shapes", "[1, 2, 2, 2]"});
}

TEST(OnnxImportErrors, DeclaredOutputShapeDisagrees) {
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 3, 4, 4});
  b.node("Relu", "r", {"x"}, {"y"});
  auto g = b.parse("decl.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"decl.onnx", "inconsistent shapes", "'y'", "[1, 3, 4, 4]", "[1, 3, 8, 8]"});
}

TEST(OnnxImportErrors, InitializerDataDoesNotMatchItsShape) {
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y");
  b.init("w", {4, 3, 3, 3}, ramp(10));  // 10 floats for 108
  b.node("Conv", "conv1", {"x", "w"}, {"y"});
  auto g = b.parse("short.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"short.onnx", "initializer 'w'", "inconsistent"});
}

TEST(OnnxImportErrors, NonFloatTensors) {
  {  // integer weight
    OnnxBuilder b;
    b.input("x", {1, 3, 8, 8}).output("y");
    auto& w = b.init("w", {1, 3, 1, 1}, {});
    w.set_data_type(onnx::TensorProto_DataType_INT64);
    for (int i = 0; i < 3; ++i) w.add_int64_data(i);
    b.node("Conv", "conv1", {"x", "w"}, {"y"});
    auto g = b.parse("int.onnx");
    ASSERT_FALSE(g.is_ok());
    expect_message(g.message(), {"int.onnx", "node 'conv1' (Conv)", "'w'", "INT64", "float32"});
  }
  {  // float16 weight
    OnnxBuilder b;
    b.input("x", {1, 3}).output("y");
    auto& w = b.init("W", {2, 3}, {});
    w.set_data_type(onnx::TensorProto_DataType_FLOAT16);
    w.set_raw_data(std::string(12, '\0'));
    b.node("MatMul", "mm", {"x", "W"}, {"y"});
    auto g = b.parse("half.onnx");
    ASSERT_FALSE(g.is_ok());
    expect_message(g.message(), {"half.onnx", "node 'mm' (MatMul)", "FLOAT16"});
  }
  {  // uint8 input
    OnnxBuilder b;
    b.input("img", {1, 3, 8, 8}, onnx::TensorProto_DataType_UINT8).output("y");
    b.node("Relu", "r", {"img"}, {"y"});
    auto g = b.parse("u8.onnx");
    ASSERT_FALSE(g.is_ok());
    expect_message(g.message(), {"u8.onnx", "'img'", "UINT8", "float32"});
  }
}

TEST(OnnxImportErrors, ExternalData) {
  OnnxBuilder b = conv_relu_model();
  auto* w = b.model().mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
  auto* e = w->add_external_data();
  e->set_key("location");
  e->set_value("weights.bin");
  auto g = b.parse("ext.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"ext.onnx", "'w'", "external"});
}

TEST(OnnxImportErrors, PoolOptionsThatAreNotSupported) {
  struct Case {
    const char* attr;
    std::vector<int64_t> value;
    const char* expect;
  };
  for (const Case& c : {Case{"ceil_mode", {1}, "ceil_mode=1"}, Case{"storage_order", {1}, "storage_order"},
                        Case{"dilations", {2, 2}, "dilations"}}) {
    OnnxBuilder b;
    b.input("x", {1, 1, 8, 8}).output("y");
    auto& p = b.node("MaxPool", "pool", {"x"}, {"y"});
    attr_ints(p, "kernel_shape", {2, 2});
    if (c.value.size() == 1) {
      attr_int(p, c.attr, c.value[0]);
    } else {
      attr_ints(p, c.attr, c.value);
    }
    auto g = b.parse("pool.onnx");
    ASSERT_FALSE(g.is_ok()) << c.attr;
    expect_message(g.message(), {"pool.onnx", "node 'pool' (MaxPool)", c.expect});
  }
  OnnxBuilder b;
  b.input("x", {1, 1, 8, 8}).output("y");
  auto& p = b.node("AveragePool", "avg", {"x"}, {"y"});
  attr_ints(p, "kernel_shape", {2, 2});
  attr_int(p, "ceil_mode", 1);
  auto g = b.parse("pool.onnx");
  ASSERT_FALSE(g.is_ok());
  expect_message(g.message(), {"node 'avg' (AveragePool)", "ceil_mode=1"});
}

TEST(OnnxImportErrors, InputsAndOutputs) {
  {  // two real inputs (an input that is also an initializer does not count)
    OnnxBuilder b;
    b.input("a", {1, 3}).input("b", {1, 3}).input("W", {2, 3}).output("y");
    b.init("W", {2, 3}, ramp(6));
    b.node("Add", "add", {"a", "b"}, {"y"});
    auto g = b.parse("two.onnx");
    ASSERT_FALSE(g.is_ok());
    expect_message(g.message(), {"two.onnx", "2 inputs", "'a'", "'b'"});
  }
  {  // a fixed batch other than 1
    OnnxBuilder b;
    b.input("x", {8, 3}).output("y");
    b.node("Relu", "r", {"x"}, {"y"});
    auto g = b.parse("batch.onnx");
    ASSERT_FALSE(g.is_ok());
    expect_message(g.message(), {"batch.onnx", "batch size of 8"});
  }
  {  // two outputs
    OnnxBuilder b;
    b.input("x", {1, 3}).output("y").output("z");
    b.node("Relu", "r", {"x"}, {"y"});
    b.node("Relu", "r2", {"y"}, {"z"});
    auto g = b.parse("outs.onnx");
    ASSERT_FALSE(g.is_ok());
    expect_message(g.message(), {"outs.onnx", "2 outputs"});
  }
  {  // output never produced
    OnnxBuilder b;
    b.input("x", {1, 3}).output("nowhere");
    b.node("Relu", "r", {"x"}, {"y"});
    auto g = b.parse("noout.onnx");
    ASSERT_FALSE(g.is_ok());
    expect_message(g.message(), {"noout.onnx", "'nowhere'", "not produced"});
  }
}

TEST(OnnxImportErrors, UnknownAttributeAndBadMode) {
  {
    OnnxBuilder b;
    b.input("x", {1, 3}).output("y");
    attr_int(b.node("Relu", "r", {"x"}, {"y"}), "alpha", 1);
    auto g = b.parse("attr.onnx");
    ASSERT_FALSE(g.is_ok());
    expect_message(g.message(), {"attr.onnx", "node 'r' (Relu)", "'alpha'"});
  }
  {
    OnnxBuilder b;
    b.input("x", {1, 1, 4, 4}).output("y");
    b.init_i64("pads", {0, 0, 1, 1, 0, 0, 1, 1});
    attr_string(b.node("Pad", "pad", {"x", "pads"}, {"y"}), "mode", "reflect");
    auto g = b.parse("pad.onnx");
    ASSERT_FALSE(g.is_ok());
    expect_message(g.message(), {"pad.onnx", "node 'pad' (Pad)", "reflect"});
  }
}

}  // namespace
}  // namespace pocket
