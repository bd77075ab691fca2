// The PyTorch-exported fixtures (fixtures_dir(): lenet_nobias, lenet_bias, resblock_bn, dwsep): each
// loads, reproduces PyTorch's output, survives a save/load round trip bit-exactly, and exports to a
// file that onnx.checker accepts.
//
// Error measure: max_i |ours_i - pytorch_i| / max(max_i |pytorch_i|, 1e-12), i.e. the largest absolute
// error relative to the largest reference magnitude (per-element relative error is meaningless for
// logits near zero). Tolerance 1e-4.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "io/graph_compare.hpp"
#include "pocket/executor.hpp"
#include "pocket/fileio.hpp"
#include "pocket/models.hpp"
#include "pocket/onnx.hpp"
#include "support/test_env.hpp"

namespace pocket {
namespace {

namespace fs = std::filesystem;

constexpr double kTolerance = 1e-4;

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(test::fixtures_dir(), ec)) {
    if (e.path().extension() == ".onnx") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string fixture(const std::string& name, const std::string& suffix) {
  return test::fixtures_dir() + "/" + name + suffix;
}

double relative_error(const std::vector<float>& ours, const std::vector<float>& ref) {
  double max_err = 0.0;
  double max_ref = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_err = std::max(max_err, std::fabs(static_cast<double>(ours[i]) - static_cast<double>(ref[i])));
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[i])));
  }
  return max_err / std::max(max_ref, 1e-12);
}

TEST(OnnxFixtures, AllFixturesAreListedInTheIndex) {
  const auto names = fixture_names();
  ASSERT_GE(names.size(), 4u) << "fixtures missing in " << test::fixtures_dir();
  auto index = read_file_text(fixture("index", ".json"));
  ASSERT_TRUE(index.is_ok()) << index.message();
  for (const auto& n : names) {
    EXPECT_NE(index->find("\"" + n + "\""), std::string::npos) << n;
  }
}

TEST(OnnxFixtures, ReproducePyTorchOutput) {
  for (const auto& name : fixture_names()) {
    SCOPED_TRACE(name);
    auto g = load_onnx(fixture(name, ".onnx"));
    ASSERT_TRUE(g.is_ok()) << g.message();
    EXPECT_EQ(g->input_shape(), (Shape{1, 3, 32, 32}));
    EXPECT_EQ(g->output_shape(), (Shape{1, 10}));
    EXPECT_FALSE(g->normalization.known());  // PyTorch does not record it
    auto x = read_f32_file(fixture(name, ".input.f32"));
    auto ref = read_f32_file(fixture(name, ".output.f32"));
    ASSERT_TRUE(x.is_ok()) << x.message();
    ASSERT_TRUE(ref.is_ok()) << ref.message();
    ASSERT_EQ(static_cast<int64_t>(x->size()), numel(g->input_shape()));

    Executor exec(*g);
    auto y = exec.run(Tensor(g->input_shape(), *x));
    ASSERT_TRUE(y.is_ok()) << y.message();
    ASSERT_EQ((*y)->data.size(), ref->size());
    const double err = relative_error((*y)->data, *ref);
    std::printf("[ fixture  ] %-14s max|ours - pytorch| / max|pytorch| = %.3g\n", name.c_str(), err);
    EXPECT_LE(err, kTolerance);

    // The same sample twice in one batch: batch-independent graphs (e.g. dwsep's Reshape [1, -1]).
    std::vector<float> two = *x;
    two.insert(two.end(), x->begin(), x->end());
    Shape s2 = g->input_shape();
    s2[0] = 2;
    auto y2 = exec.run(Tensor(s2, two));
    ASSERT_TRUE(y2.is_ok()) << y2.message();
    ASSERT_EQ((*y2)->shape, (Shape{2, 10}));
    const std::vector<float> first((*y2)->data.begin(), (*y2)->data.begin() + 10);
    const std::vector<float> second((*y2)->data.begin() + 10, (*y2)->data.end());
    EXPECT_LE(relative_error(first, *ref), kTolerance);
    EXPECT_LE(relative_error(second, *ref), kTolerance);
  }
}

TEST(OnnxFixtures, ImportedStructure) {
  {  // MatMul by [in, out] becomes Linear with W [out, in] = B^T, no bias
    auto g = load_onnx(fixture("lenet_nobias", ".onnx"));
    ASSERT_TRUE(g.is_ok()) << g.message();
    int linears = 0;
    for (const Node& n : g->nodes) {
      if (n.kind != OpKind::Linear) continue;
      ++linears;
      EXPECT_EQ(n.inputs.size(), 2u) << n.name;
    }
    EXPECT_EQ(linears, 3);
    EXPECT_EQ(g->parameter_count(), 6 * 75 + 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10);
  }
  {  // Gemm(transB=1): weight and bias as in the file
    auto g = load_onnx(fixture("lenet_bias", ".onnx"));
    ASSERT_TRUE(g.is_ok()) << g.message();
    ASSERT_EQ(g->nodes.size(), 12u);
    const Node& fc1 = g->nodes[7];
    EXPECT_EQ(fc1.kind, OpKind::Linear);
    ASSERT_EQ(fc1.inputs.size(), 3u);
    EXPECT_EQ(g->param(fc1.inputs[1]).shape, (Shape{120, 400}));
    EXPECT_EQ(g->param(fc1.inputs[2]).shape, (Shape{120}));
  }
  {  // Constants folded into Clip attributes; Pad, Reshape, Softmax
    auto g = load_onnx(fixture("dwsep", ".onnx"));
    ASSERT_TRUE(g.is_ok()) << g.message();
    int clips = 0;
    for (const Node& n : g->nodes) {
      if (n.kind == OpKind::Clip) {
        ++clips;
        EXPECT_EQ(n.attrs.clip_min, 0.0f);
        EXPECT_EQ(n.attrs.clip_max, 6.0f);
        EXPECT_EQ(n.inputs.size(), 1u);
      }
      if (n.kind == OpKind::Reshape) {
        EXPECT_EQ(n.attrs.target_shape, (std::vector<int64_t>{0, -1}));
      }
      if (n.kind == OpKind::Pad) {
        EXPECT_EQ(n.attrs.pad_amounts.size(), 8u);
      }
      if (n.kind == OpKind::Conv && n.name == "/dw/Conv") {
        EXPECT_EQ(n.attrs.groups, 16);
      }
    }
    EXPECT_EQ(clips, 3);
    EXPECT_EQ(g->nodes.back().kind, OpKind::Softmax);
  }
  {
    auto g = load_onnx(fixture("resblock_bn", ".onnx"));
    ASSERT_TRUE(g.is_ok()) << g.message();
    int bns = 0;
    for (const Node& n : g->nodes) {
      if (n.kind != OpKind::BatchNorm) continue;
      ++bns;
      EXPECT_EQ(n.inputs.size(), 5u);
      EXPECT_EQ(n.attrs.epsilon, 1e-5f);
    }
    EXPECT_EQ(bns, 3);
  }
}

TEST(OnnxFixtures, TruncatedFixtureIsRejected) {
  const std::string path = fixture("lenet_bias", ".onnx");
  auto bytes = read_file_bytes(path);
  ASSERT_TRUE(bytes.is_ok()) << bytes.message();
  const std::string out = test::temp_dir() + "/lenet_bias_half.onnx";
  ASSERT_TRUE(write_file_atomic(out, bytes->data(), bytes->size() / 2).is_ok());
  auto g = load_onnx(out);
  ASSERT_FALSE(g.is_ok());
  EXPECT_NE(g.message().find(out), std::string::npos) << g.message();
  EXPECT_NE(g.message().find("not a valid ONNX model"), std::string::npos) << g.message();
}

TEST(OnnxRoundTrip, FixturesAreBitExact) {
  for (const auto& name : fixture_names()) {
    SCOPED_TRACE(name);
    auto g = load_onnx(fixture(name, ".onnx"));
    ASSERT_TRUE(g.is_ok()) << g.message();
    g->normalization = Normalization::lab();
    g->metadata["note"] = "round trip";
    const std::string path = test::temp_dir() + "/" + name + ".rt.onnx";
    const Status saved = save_onnx(*g, path);
    ASSERT_TRUE(saved.is_ok()) << saved.message();
    auto back = load_onnx(path);
    ASSERT_TRUE(back.is_ok()) << back.message();
    test::expect_same_graph(*g, *back);
    // Export is deterministic: saving the reloaded graph gives the same bytes.
    auto b1 = serialize_onnx(*g);
    auto b2 = serialize_onnx(*back);
    ASSERT_TRUE(b1.is_ok() && b2.is_ok());
    EXPECT_TRUE(*b1 == *b2);
  }
}

TEST(OnnxRoundTrip, BuiltInLenetAndNormalizations) {
  for (bool bias : {false, true}) {
    Graph g = make_lenet(bias, 7);
    for (const std::string spec : {"lab", "unit", "raw", "0.4914,0.4822,0.4465/0.247,0.243,0.261"}) {
      g.normalization = *Normalization::parse(spec);
      auto bytes = serialize_onnx(g);
      ASSERT_TRUE(bytes.is_ok()) << bytes.message();
      auto back = parse_onnx(bytes->data(), bytes->size(), "lenet");
      ASSERT_TRUE(back.is_ok()) << back.message();
      test::expect_same_graph(g, *back);
      EXPECT_EQ(back->normalization.spec(), g.normalization.spec());
      EXPECT_EQ(back->metadata.at("pocket.model"), bias ? "lenet" : "lenet-nobias");
    }
    g.normalization = Normalization{};
    auto bytes = serialize_onnx(g);
    ASSERT_TRUE(bytes.is_ok());
    auto back = parse_onnx(bytes->data(), bytes->size(), "lenet");
    ASSERT_TRUE(back.is_ok()) << back.message();
    EXPECT_FALSE(back->normalization.known());
    EXPECT_EQ(back->metadata.count("pocket.normalization"), 0u);
  }
}

// ---------------------------------------------------------------------------------------------
// onnx.checker (python3-onnx)

bool have_python_onnx() { return test::run_command("/usr/bin/python3 -c 'import onnx'") == 0; }

// Runs the full checker (with strict shape inference) and prints a few facts about the model.
int check_with_onnx(const std::string& path, std::string* out) {
  const std::string script =
      "import onnx,sys\n"
      "m = onnx.load(sys.argv[1])\n"
      "onnx.checker.check_model(m, full_check=True)\n"
      "print('ok', m.ir_version, m.opset_import[0].version, m.producer_name, m.graph.input[0].name,\n"
      "      m.graph.output[0].name, m.graph.input[0].type.tensor_type.shape.dim[0].dim_param,\n"
      "      sorted(set(n.op_type for n in m.graph.node)),\n"
      "      dict((p.key, p.value) for p in m.metadata_props).get('pocket.normalization'))\n";
  const std::string script_path = test::temp_dir() + "/check_onnx.py";
  if (!write_file_atomic(script_path, script).is_ok()) return -1;
  return test::run_command("/usr/bin/python3 " + script_path + " '" + path + "'", out);
}

TEST(OnnxExport, CheckerAcceptsFixturesAndLenet) {
  if (!have_python_onnx()) GTEST_SKIP() << "python3-onnx is not importable by /usr/bin/python3: checker test skipped";
  for (const auto& name : fixture_names()) {
    SCOPED_TRACE(name);
    auto g = load_onnx(fixture(name, ".onnx"));
    ASSERT_TRUE(g.is_ok()) << g.message();
    g->normalization = Normalization::unit();
    const std::string path = test::temp_dir() + "/" + name + ".checked.onnx";
    ASSERT_TRUE(save_onnx(*g, path).is_ok());
    std::string out;
    ASSERT_EQ(check_with_onnx(path, &out), 0) << out;
    EXPECT_NE(out.find("ok 8 13 pocket input output N"), std::string::npos) << out;
    EXPECT_NE(out.find("] unit"), std::string::npos) << out;
    EXPECT_EQ(out.find("MatMul"), std::string::npos) << out;  // Linear is written as Gemm
  }
  Graph lenet = make_lenet(true, 1);
  const std::string path = test::temp_dir() + "/lenet.checked.onnx";
  ASSERT_TRUE(save_onnx(lenet, path).is_ok());
  std::string out;
  ASSERT_EQ(check_with_onnx(path, &out), 0) << out;
  EXPECT_NE(out.find("['Conv', 'Flatten', 'Gemm', 'MaxPool', 'Relu'] lab"), std::string::npos) << out;
}

TEST(OnnxExport, CheckerRejectsABrokenFile) {
  // Guards the checker test itself: a file the checker must refuse makes it fail.
  if (!have_python_onnx()) GTEST_SKIP() << "python3-onnx is not importable by /usr/bin/python3";
  const std::string path = test::temp_dir() + "/broken.onnx";
  ASSERT_TRUE(write_file_atomic(path, std::string("not a model")).is_ok());
  std::string out;
  EXPECT_NE(check_with_onnx(path, &out), 0) << out;
}

TEST(OnnxExport, SaveIsAtomicAndReportsUnwritablePaths) {
  Graph g = make_lenet(false, 3);
  const Status st = save_onnx(g, test::temp_dir() + "/no-such-dir/model.onnx");
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("no-such-dir/model.onnx"), std::string::npos) << st.message();
  const std::string path = test::temp_dir() + "/atomic.onnx";
  ASSERT_TRUE(save_onnx(g, path).is_ok());
  for (const auto& e : fs::directory_iterator(test::temp_dir())) {
    EXPECT_EQ(e.path().filename().string().find("atomic.onnx.tmp"), std::string::npos) << "temporary file left behind";
  }
}

}  // namespace
}  // namespace pocket
