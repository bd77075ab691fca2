// Export of every OpKind: round trip through save/load and through onnx.checker (full check, with
// ONNX's own shape inference), and numerically the same results before and after.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "io/graph_compare.hpp"
#include "io/onnx_builder.hpp"
#include "pocket/executor.hpp"
#include "pocket/fileio.hpp"
#include "pocket/onnx.hpp"
#include "support/test_env.hpp"

namespace pocket {
namespace {

using test::attr_float;
using test::attr_int;
using test::attr_ints;
using test::OnnxBuilder;
using test::ramp;

// Every OpKind once: Pad, Conv (groups), BatchNorm, Clip (both bounds / open bound), MaxPool, Add,
// AveragePool, GlobalAveragePool, Relu, Flatten, Reshape, Linear (with and without bias), Softmax.
Graph all_ops_graph() {
  OnnxBuilder b;
  b.input("x", {-1, 2, 8, 8}).output("y", {-1, 5});
  b.init_i64("pads", {0, 0, 1, 1, 0, 0, 1, 1});
  b.init("pv", {}, {0.5f});
  b.node("Pad", "pad", {"x", "pads", "pv"}, {"p"});  // [1,2,10,10]
  b.init("cw", {4, 1, 3, 3}, ramp(36, 0.02f, -0.3f));
  b.init("cb", {4}, {0.1f, -0.1f, 0.2f, -0.2f});
  auto& c = b.node("Conv", "conv", {"p", "cw", "cb"}, {"c"});  // [1,4,8,8]
  attr_int(c, "group", 2);
  b.init("s", {4}, {1.0f, 0.5f, 2.0f, 1.5f});
  b.init("bb", {4}, {0.0f, 0.1f, 0.2f, 0.3f});
  b.init("mu", {4}, {0.1f, 0.0f, -0.1f, 0.2f});
  b.init("var", {4}, {1.0f, 2.0f, 0.5f, 1.5f});
  b.node("BatchNormalization", "bn", {"c", "s", "bb", "mu", "var"}, {"n"});
  b.init("lo", {}, {0.0f});
  b.init("hi", {}, {6.0f});
  b.node("Clip", "relu6", {"n", "lo", "hi"}, {"r6"});
  b.node("Clip", "floor", {"n", "lo"}, {"fl"});
  b.node("Add", "add", {"r6", "fl"}, {"a"});
  auto& mp = b.node("MaxPool", "mp", {"a"}, {"m"});  // [1,4,4,4]
  attr_ints(mp, "kernel_shape", {2, 2});
  attr_ints(mp, "strides", {2, 2});
  auto& ap = b.node("AveragePool", "ap", {"m"}, {"av"});  // [1,4,2,2]
  attr_ints(ap, "kernel_shape", {3, 3});
  attr_ints(ap, "strides", {2, 2});
  attr_ints(ap, "pads", {1, 1, 1, 1});
  b.node("GlobalAveragePool", "gap", {"m"}, {"g"});  // [1,4,1,1]
  b.node("Relu", "relu", {"av"}, {"rl"});
  b.node("Flatten", "flat", {"rl"}, {"f"});  // [1,16]
  b.init_i64("shape", {1, -1});
  b.node("Reshape", "rs", {"g", "shape"}, {"gr"});  // [1,4]
  b.init("W1", {3, 16}, ramp(48, 0.01f, -0.2f));
  b.init("b1", {3}, {0.0f, 0.5f, -0.5f});
  attr_int(b.node("Gemm", "fc1", {"f", "W1", "b1"}, {"h"}), "transB", 1);  // [1,3]
  b.init("W2", {4, 3}, ramp(12, 0.1f, -0.5f));
  b.node("MatMul", "fc2", {"gr", "W2"}, {"h2"});  // [1,3]
  b.node("Add", "mix", {"h", "h2"}, {"hs"});
  b.init("W3", {5, 3}, ramp(15, 0.05f, -0.3f));
  attr_int(b.node("Gemm", "fc3", {"hs", "W3"}, {"z"}), "transB", 1);  // [1,5]
  attr_int(b.node("Softmax", "sm", {"z"}, {"y"}), "axis", 1);
  auto g = b.parse("all_ops");
  EXPECT_TRUE(g.is_ok()) << g.message();
  return g.is_ok() ? std::move(*g) : Graph{};
}

TEST(OnnxExport, EveryOpRoundTripsBitExactly) {
  Graph g = all_ops_graph();
  ASSERT_FALSE(g.nodes.empty());
  std::vector<bool> seen(kOpKindCount, false);
  for (const Node& n : g.nodes) seen[static_cast<size_t>(n.kind)] = true;
  for (int k = 0; k < kOpKindCount; ++k) {
    EXPECT_TRUE(seen[static_cast<size_t>(k)]) << op_name(static_cast<OpKind>(k));
  }

  g.normalization = Normalization::raw();
  g.metadata["pocket.model"] = "all-ops";
  g.metadata["free text"] = "ünïcode, commas, \"quotes\"";
  const std::string path = test::temp_dir() + "/all_ops.onnx";
  const Status st = save_onnx(g, path);
  ASSERT_TRUE(st.is_ok()) << st.message();
  auto back = load_onnx(path);
  ASSERT_TRUE(back.is_ok()) << back.message();
  test::expect_same_graph(g, *back);

  // Same numbers before and after (bit-identical: the same kernels on the same parameters).
  Tensor x({3, 2, 8, 8});
  for (size_t i = 0; i < x.data.size(); ++i) x.data[i] = std::sin(0.37f * static_cast<float>(i));
  Executor e1(g);
  Executor e2(*back);
  auto y1 = e1.run(x);
  auto y2 = e2.run(x);
  ASSERT_TRUE(y1.is_ok()) << y1.message();
  ASSERT_TRUE(y2.is_ok()) << y2.message();
  EXPECT_EQ((*y1)->shape, (Shape{3, 5}));
  EXPECT_TRUE(test::same_bits((*y1)->data, (*y2)->data));
}

TEST(OnnxExport, OpenClipBoundsAndNamesSurvive) {
  Graph g = all_ops_graph();
  ASSERT_FALSE(g.nodes.empty());
  auto bytes = serialize_onnx(g);
  ASSERT_TRUE(bytes.is_ok()) << bytes.message();
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(*bytes));
  EXPECT_EQ(m.ir_version(), 8);
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).version(), 13);
  EXPECT_EQ(m.producer_name(), "pocket");
  EXPECT_EQ(m.graph().input(0).name(), "input");
  EXPECT_EQ(m.graph().output(0).name(), "output");
  EXPECT_EQ(m.graph().input(0).type().tensor_type().shape().dim(0).dim_param(), "N");
  for (const auto& n : m.graph().node()) {
    if (n.name() == "floor") {
      EXPECT_EQ(n.input_size(), 2);  // max = +inf is left out
    }
    if (n.name() == "relu6") {
      EXPECT_EQ(n.input_size(), 3);
    }
    if (n.name() == "fc2") {
      EXPECT_EQ(n.op_type(), "Gemm");
    }
  }
  // The open bound stays open.
  auto back = parse_onnx(bytes->data(), bytes->size(), "x");
  ASSERT_TRUE(back.is_ok()) << back.message();
  for (const Node& n : back->nodes) {
    if (n.name == "floor") {
      EXPECT_EQ(n.attrs.clip_max, std::numeric_limits<float>::infinity());
    }
  }
}

TEST(OnnxExport, CheckerAcceptsEveryOp) {
  if (test::run_command("/usr/bin/python3 -c 'import onnx'") != 0) {
    GTEST_SKIP() << "python3-onnx is not importable by /usr/bin/python3: checker test skipped";
  }
  Graph g = all_ops_graph();
  ASSERT_FALSE(g.nodes.empty());
  const std::string path = test::temp_dir() + "/all_ops_checked.onnx";
  ASSERT_TRUE(save_onnx(g, path).is_ok());
  // Full check runs ONNX's strict shape inference; the output shape it infers must be [N, 5].
  const std::string cmd =
      "/usr/bin/python3 -c \"import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); "
      "i=onnx.shape_inference.infer_shapes(m, strict_mode=True); "
      "print('dims', [d.dim_value or d.dim_param for d in i.graph.output[0].type.tensor_type.shape.dim])\" '" +
      path + "'";
  std::string out;
  ASSERT_EQ(test::run_command(cmd, &out), 0) << out;
  EXPECT_NE(out.find("dims ['N', 5]"), std::string::npos) << out;
}

}  // namespace
}  // namespace pocket
