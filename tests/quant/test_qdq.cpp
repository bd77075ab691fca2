// ONNX QDQ export and import of quantized models (pocket/qdq.hpp): round trips that keep every
// quantization parameter bit-identical, fake-quantized evaluation unchanged, onnx.checker, an
// independent numpy check of the dequantized weights, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <numeric>

#include "../../src/io/onnx_proto.hpp"
#include "pocket/executor.hpp"
#include "pocket/fileio.hpp"
#include "pocket/images.hpp"
#include "pocket/models.hpp"
#include "pocket/onnx.hpp"
#include "pocket/qdq.hpp"
#include "pocket/quant.hpp"
#include "support/test_env.hpp"

namespace pocket {
namespace {

Dataset random_images(int n, uint64_t seed) {
  Dataset d;
  Rng rng(seed);
  d.pixels.resize(static_cast<size_t>(n) * kCifarImageBytes);
  for (auto& p : d.pixels) p = static_cast<uint8_t>(rng.uniform_int(256));
  d.labels.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) d.labels[static_cast<size_t>(i)] = static_cast<uint8_t>(i % 10);
  return d;
}

Graph fixture(const std::string& name) {
  auto g = load_onnx(test::fixtures_dir() + "/" + name + ".onnx");
  EXPECT_TRUE(g) << g.message();
  if (!g) return {};
  g->normalization = Normalization::lab();
  return *g;
}

Graph lenet() {
  Graph g = make_lenet(true, 7);
  g.normalization = Normalization::lab();
  return g;
}

enum class Scheme { PerChannel, PerTensor, WeightOnly, W4SymmetricActs };

const char* scheme_name(Scheme s) {
  switch (s) {
    case Scheme::PerChannel: return "w8 per-channel, a8";
    case Scheme::PerTensor: return "w8 per-tensor, a8";
    case Scheme::WeightOnly: return "w8 weight-only";
    case Scheme::W4SymmetricActs: return "w4 per-channel, a8 symmetric minmax";
  }
  return "?";
}

QuantConfig config_for(Scheme s) {
  QuantConfig c;
  c.calib_images = 40;
  c.per_channel = s != Scheme::PerTensor;
  c.weight_only = s == Scheme::WeightOnly;
  if (s == Scheme::W4SymmetricActs) {
    c.weight_bits = 4;
    c.act_symmetric = true;
    c.act_range = RangeSpec{RangeMethod::MinMax, 0.0};
  }
  return c;
}

Result<QModel> quantize_for_test(const Graph& g, const QuantConfig& config) {
  auto prepared = prepare_for_quantization(g);
  if (!prepared) return Error{prepared.message()};
  Calibration cal;
  if (!config.weight_only) {
    auto c = calibrate(*prepared, random_images(static_cast<int>(config.calib_images), 3), "40 random images");
    if (!c) return Error{c.message()};
    cal = std::move(*c);
  }
  auto m = quantize(*prepared, config, config.weight_only ? nullptr : &cal);
  if (!m) return m;
  m->provenance["source"] = "test";
  m->provenance["calibration"] = cal.description;
  return m;
}

void expect_same_tq(const TensorQuant& a, const TensorQuant& b, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(a.bits, b.bits);
  EXPECT_EQ(a.symmetric, b.symmetric);
  EXPECT_EQ(a.scale, b.scale);  // exact doubles
  EXPECT_EQ(a.zero_point, b.zero_point);
  EXPECT_EQ(a.range_lo, b.range_lo);
  EXPECT_EQ(a.range_hi, b.range_hi);
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.clipped, b.clipped);
  EXPECT_EQ(a.count, b.count);
}

template <class Map>
std::vector<std::string> keys(const Map& m) {
  std::vector<std::string> k;
  for (const auto& [name, v] : m) k.push_back(name);
  return k;
}

// Everything but the float values of quantized weights and biases (which the file holds only as
// integers) must come back identical.
void expect_same_qmodel(const QModel& a, const QModel& b) {
  EXPECT_EQ(a.config.describe(), b.config.describe());
  EXPECT_EQ(a.config.weight_bits, b.config.weight_bits);
  EXPECT_EQ(a.config.per_channel, b.config.per_channel);
  EXPECT_EQ(a.config.act_bits, b.config.act_bits);
  EXPECT_EQ(a.config.act_symmetric, b.config.act_symmetric);
  EXPECT_EQ(a.config.weight_only, b.config.weight_only);
  EXPECT_EQ(a.config.calib_images, b.config.calib_images);
  EXPECT_EQ(a.config.calib_seed, b.config.calib_seed);
  EXPECT_EQ(a.config.calib_dir, b.config.calib_dir);
  EXPECT_EQ(a.provenance, b.provenance);
  ASSERT_EQ(keys(a.activations), keys(b.activations));
  for (const auto& [name, t] : a.activations) expect_same_tq(t, b.activations.at(name), "activation " + name);
  ASSERT_EQ(keys(a.weights), keys(b.weights));
  for (const auto& [name, t] : a.weights) expect_same_tq(t, b.weights.at(name), "weight " + name);
  EXPECT_EQ(a.qweights, b.qweights);
  EXPECT_EQ(a.qbiases, b.qbiases);
  // The float graph: same nodes reading and writing the same values; unquantized parameters
  // bit-identical. (Value ids may differ: ONNX import numbers values in the order nodes use them,
  // while the passes append, e.g., the bias a BatchNorm fold creates.)
  const Graph &ga = a.graph, &gb = b.graph;
  auto name_of = [](const Graph& g, int id) { return g.values[static_cast<size_t>(id)].name; };
  ASSERT_EQ(ga.nodes.size(), gb.nodes.size());
  for (size_t i = 0; i < ga.nodes.size(); ++i) {
    const Node &na = ga.nodes[i], &nb = gb.nodes[i];
    EXPECT_EQ(na.kind, nb.kind);
    EXPECT_EQ(na.name, nb.name);
    ASSERT_EQ(na.inputs.size(), nb.inputs.size()) << na.name;
    for (size_t k = 0; k < na.inputs.size(); ++k) {
      const Value &va = ga.values[static_cast<size_t>(na.inputs[k])], &vb = gb.values[static_cast<size_t>(nb.inputs[k])];
      EXPECT_EQ(va.name, vb.name) << na.name;
      EXPECT_EQ(va.kind, vb.kind) << va.name;
      EXPECT_EQ(va.shape, vb.shape) << va.name;
      const bool quantized = a.qweights.count(va.name) != 0 || a.qbiases.count(va.name) != 0;
      if (va.kind == ValueKind::Param && !quantized) {
        EXPECT_EQ(va.init.data, vb.init.data) << va.name;
      }
    }
    EXPECT_EQ(name_of(ga, na.output), name_of(gb, nb.output)) << na.name;
    EXPECT_EQ(ga.values[static_cast<size_t>(na.output)].shape, gb.values[static_cast<size_t>(nb.output)].shape);
  }
  EXPECT_EQ(name_of(ga, ga.input), name_of(gb, gb.input));
  EXPECT_EQ(name_of(ga, ga.output), name_of(gb, gb.output));
  EXPECT_EQ(ga.input_shape(), gb.input_shape());
  EXPECT_EQ(ga.normalization.spec(), gb.normalization.spec());
  EXPECT_EQ(ga.metadata, gb.metadata);
}

// Fake-quantized outputs (logits) on `images`.
std::vector<float> fake_quant_outputs(const QModel& m, const Dataset& images) {
  const FakeQuant fq = make_fake_quant(m);
  Executor e(fq.graph);
  if (fq.hook) e.set_output_hook(fq.hook);
  std::vector<int64_t> idx(static_cast<size_t>(images.size()));
  std::iota(idx.begin(), idx.end(), 0);
  Tensor x;
  make_batch(images, idx, m.graph.normalization, x);
  auto out = e.run(x);
  EXPECT_TRUE(out) << out.message();
  return out ? (*out)->data : std::vector<float>{};
}

struct Case {
  std::string name;
  Graph graph;
};

std::vector<Case> all_models() {
  std::vector<Case> cases{{"lenet", lenet()}};
  for (const char* f : {"lenet_bias", "lenet_nobias", "resblock_bn", "dwsep"}) cases.push_back({f, fixture(f)});
  return cases;
}

std::string tmp(const std::string& name) { return test::temp_dir() + "/" + name; }

bool have_python_onnx() {
  return test::run_command("/usr/bin/python3 -c 'import onnx, numpy' >/dev/null 2>&1") == 0;
}

std::string q(const std::string& s) { return "'" + s + "'"; }

}  // namespace

TEST(Qdq, RoundTripKeepsEveryParameterAndEveryPrediction) {
  const Dataset eval_images = random_images(30, 11);
  for (Scheme s : {Scheme::PerChannel, Scheme::PerTensor, Scheme::WeightOnly, Scheme::W4SymmetricActs}) {
    for (const Case& c : all_models()) {
      SCOPED_TRACE(c.name + ", " + scheme_name(s));
      auto m = quantize_for_test(c.graph, config_for(s));
      ASSERT_TRUE(m) << m.message();
      auto bytes = serialize_qdq(*m);
      ASSERT_TRUE(bytes) << bytes.message();
      EXPECT_TRUE(is_qdq_model(bytes->data(), bytes->size()));
      auto back = parse_qdq(bytes->data(), bytes->size(), c.name + ".qdq.onnx");
      ASSERT_TRUE(back) << back.message();
      expect_same_qmodel(*m, *back);
      // Fake-quantized evaluation: the very same logits, hence the same predictions.
      const std::vector<float> a = fake_quant_outputs(*m, eval_images), b = fake_quant_outputs(*back, eval_images);
      ASSERT_FALSE(a.empty());
      EXPECT_EQ(a, b);
      auto ea = evaluate_fake_quant(*m, eval_images), eb = evaluate_fake_quant(*back, eval_images);
      ASSERT_TRUE(ea && eb);
      EXPECT_EQ(ea->eval.predictions, eb->eval.predictions);
      // Export and load again: the same model, and from then on the same file (a fixed point).
      auto again = serialize_qdq(*back);
      ASSERT_TRUE(again) << again.message();
      auto back2 = parse_qdq(again->data(), again->size(), "again");
      ASSERT_TRUE(back2) << back2.message();
      expect_same_qmodel(*m, *back2);
      auto third = serialize_qdq(*back2);
      ASSERT_TRUE(third) << third.message();
      EXPECT_TRUE(*third == *again) << "export(load(.)) is not a fixed point";
    }
  }
}

TEST(Qdq, LoadedWeightsAreTheDequantizedIntegersAndQuantizeBackExactly) {
  auto m = quantize_for_test(lenet(), config_for(Scheme::PerChannel));
  ASSERT_TRUE(m) << m.message();
  const std::string path = tmp("lenet_q.onnx");
  ASSERT_TRUE(save_qdq(*m, path)) << path;
  auto back = load_qdq(path);
  ASSERT_TRUE(back) << back.message();
  const FakeQuant fq = make_fake_quant(*m);
  for (const auto& [name, qw] : m->qweights) {
    const int v = back->graph.find_value(name);
    ASSERT_GE(v, 0) << name;
    EXPECT_EQ(back->graph.values[static_cast<size_t>(v)].init.data,
              fq.graph.values[static_cast<size_t>(fq.graph.find_value(name))].init.data)
        << name;
  }
  // Quantizing the loaded float graph again (same weight config) gives the same integer weights.
  QuantConfig wo = m->config;
  wo.weight_only = true;
  auto re = quantize(back->graph, wo, nullptr);
  ASSERT_TRUE(re) << re.message();
  EXPECT_EQ(re->qweights, m->qweights);
}

TEST(Qdq, FileStructure) {
  auto m = quantize_for_test(lenet(), config_for(Scheme::PerChannel));
  ASSERT_TRUE(m) << m.message();
  auto bytes = serialize_qdq(*m);
  ASSERT_TRUE(bytes) << bytes.message();
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(*bytes));
  EXPECT_EQ(model.ir_version(), 8);
  ASSERT_EQ(model.opset_import_size(), 1);
  EXPECT_EQ(model.opset_import(0).version(), 13);
  int quantize = 0, dequantize = 0, per_axis = 0;
  for (const auto& n : model.graph().node()) {
    quantize += n.op_type() == "QuantizeLinear" ? 1 : 0;
    if (n.op_type() == "DequantizeLinear") {
      ++dequantize;
      for (const auto& a : n.attribute()) per_axis += a.name() == "axis" && a.i() == 0 ? 1 : 0;
    }
  }
  // LeNet: input, pool1, pool2, flatten (keeps pool2's parameters), fc1, fc2, output = 7 Q/DQ pairs;
  // 5 weights and 5 biases dequantized per channel.
  EXPECT_EQ(quantize, 7);
  EXPECT_EQ(dequantize, 7 + 10);
  EXPECT_EQ(per_axis, 10);
  int int8 = 0, int32 = 0, floats = 0;
  for (const auto& t : model.graph().initializer()) {
    int8 += t.data_type() == onnx::TensorProto_DataType_INT8 ? 1 : 0;
    int32 += t.data_type() == onnx::TensorProto_DataType_INT32 ? 1 : 0;
    floats += t.data_type() == onnx::TensorProto_DataType_FLOAT && t.dims_size() > 0 && t.dims(0) > 1 ? 1 : 0;
  }
  EXPECT_EQ(int8, 5 + 5 + 6) << "5 weights, their 5 zero points, 6 activation zero points";
  EXPECT_EQ(int32, 5 + 5) << "5 biases and their zero points";
  EXPECT_EQ(floats, 10) << "only the per-channel scales are float vectors: no float weights";
  EXPECT_EQ(model.graph().output(0).name(), "output");
  EXPECT_EQ(model.graph().input(0).name(), "input");
  bool meta = false;
  for (const auto& p : model.metadata_props()) meta |= p.key() == kQdqMetadataKey;
  EXPECT_TRUE(meta);
}

TEST(Qdq, WeightOnlyHasNoActivationQuantization) {
  auto m = quantize_for_test(fixture("resblock_bn"), config_for(Scheme::WeightOnly));
  ASSERT_TRUE(m) << m.message();
  auto bytes = serialize_qdq(*m);
  ASSERT_TRUE(bytes) << bytes.message();
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(*bytes));
  int quantize = 0, dequantize = 0;
  for (const auto& n : model.graph().node()) {
    quantize += n.op_type() == "QuantizeLinear" ? 1 : 0;
    dequantize += n.op_type() == "DequantizeLinear" ? 1 : 0;
  }
  EXPECT_EQ(quantize, 0);
  EXPECT_EQ(dequantize, static_cast<int>(m->weights.size()));
  EXPECT_GT(dequantize, 0);
  for (const auto& t : model.graph().initializer()) EXPECT_NE(t.data_type(), onnx::TensorProto_DataType_INT32) << t.name();
}

TEST(Qdq, CheckerAcceptsAndNumpyDequantizesToTheFakeQuantWeights) {
  if (!have_python_onnx()) GTEST_SKIP() << "python3-onnx / numpy not importable by /usr/bin/python3";
  // The python side: onnx.checker (full check, with shape inference) on every file; then, with
  // numpy, every DequantizeLinear of an initializer computed from the file alone,
  // (q - zero_point) * scale broadcast on `axis`, compared with the fake-quantized float weights
  // of the same name that pocket wrote to a separate float ONNX file.
  const std::string script = tmp("check_qdq.py");
  std::ofstream(script) << R"PY(
import sys
import numpy as np
import onnx
from onnx import checker, numpy_helper

def dq(q, scale, zp, axis):
    q = q.astype(np.float64); scale = scale.astype(np.float64); zp = zp.astype(np.float64)
    if scale.ndim == 0:
        return (q - zp) * scale
    shape = [1] * q.ndim
    shape[axis] = -1
    return (q - zp.reshape(shape)) * scale.reshape(shape)

checked = 0
for qdq_path, float_path in zip(sys.argv[1::2], sys.argv[2::2]):
    m = onnx.load(qdq_path)
    checker.check_model(m, full_check=True)
    ref = {t.name: numpy_helper.to_array(t) for t in onnx.load(float_path).graph.initializer}
    init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "QuantizeLinear":
            assert init[n.input[1]].dtype == np.float32 and init[n.input[1]].ndim == 0, n.name
            assert init[n.input[2]].dtype == np.int8, n.name
        if n.op_type != "DequantizeLinear" or n.input[0] not in init:
            continue
        axis = 1
        for a in n.attribute:
            if a.name == "axis":
                axis = a.i
        q, scale, zp = init[n.input[0]], init[n.input[1]], init[n.input[2]]
        assert q.dtype in (np.int8, np.int32), (n.name, q.dtype)
        assert not np.any(zp), n.name + ": nonzero zero point"
        got = dq(q, scale, zp, axis)
        want = ref[n.output[0]].astype(np.float64)
        assert got.shape == want.shape, (n.name, got.shape, want.shape)
        tol = 1e-6 * max(1e-30, float(np.max(np.abs(want))))
        err = float(np.max(np.abs(got - want)))
        assert err <= tol, (n.name, err, tol)
        checked += 1
print("OK", checked)
)PY";
  std::string args;
  int expected = 0;
  for (Scheme s : {Scheme::PerChannel, Scheme::PerTensor, Scheme::WeightOnly}) {
    for (const Case& c : all_models()) {
      auto m = quantize_for_test(c.graph, config_for(s));
      ASSERT_TRUE(m) << m.message();
      const std::string stem = tmp(c.name + "_" + std::to_string(static_cast<int>(s)));
      ASSERT_TRUE(save_qdq(*m, stem + ".qdq.onnx"));
      ASSERT_TRUE(save_onnx(make_fake_quant(*m).graph, stem + ".fq.onnx"));
      args += " " + q(stem + ".qdq.onnx") + " " + q(stem + ".fq.onnx");
      expected += static_cast<int>(m->qweights.size() + m->qbiases.size());
    }
  }
  std::string out;
  ASSERT_EQ(test::run_command("/usr/bin/python3 " + q(script) + args, &out), 0) << out;
  EXPECT_NE(out.find("OK " + std::to_string(expected)), std::string::npos) << out;
}

TEST(Qdq, SixteenBitActivationsAreRefused) {
  QuantConfig c = config_for(Scheme::PerChannel);
  c.act_bits = 16;
  auto m = quantize_for_test(lenet(), c);
  ASSERT_TRUE(m) << m.message();
  auto bytes = serialize_qdq(*m);
  ASSERT_FALSE(bytes);
  EXPECT_NE(bytes.message().find("16-bit activations cannot be expressed in ONNX opset 13 QDQ"), std::string::npos)
      << bytes.message();
  const Status st = save_qdq(*m, tmp("a16.onnx"));
  EXPECT_FALSE(st);
  EXPECT_FALSE(std::ifstream(tmp("a16.onnx")).good()) << "nothing written";
}

TEST(Qdq, BadFilesAreErrors) {
  const std::string garbage = tmp("garbage.onnx");
  ASSERT_TRUE(write_file_atomic(garbage, std::string("\xff\xfe not onnx \x01\x02", 15)));
  auto g = load_qdq(garbage);
  ASSERT_FALSE(g);
  EXPECT_NE(g.message().find(garbage + ": not a valid ONNX model"), std::string::npos) << g.message();
  EXPECT_FALSE(is_qdq_file(garbage));

  auto missing = load_qdq(tmp("does_not_exist.onnx"));
  EXPECT_FALSE(missing);

  // A float model is not a QDQ model.
  const std::string float_model = test::fixtures_dir() + "/lenet_bias.onnx";
  EXPECT_FALSE(is_qdq_file(float_model));
  auto f = load_qdq(float_model);
  ASSERT_FALSE(f);
  EXPECT_NE(f.message().find("pocket.qmodel"), std::string::npos) << f.message();
}

TEST(Qdq, TamperedFilesAreErrors) {
  auto m = quantize_for_test(lenet(), config_for(Scheme::PerChannel));
  ASSERT_TRUE(m) << m.message();
  auto bytes = serialize_qdq(*m);
  ASSERT_TRUE(bytes) << bytes.message();
  auto reload = [](const onnx::ModelProto& model) {
    std::string b;
    EXPECT_TRUE(model.SerializeToString(&b));
    return parse_qdq(b.data(), b.size(), "tampered.onnx");
  };
  // A weight scale that no longer matches the metadata.
  {
    onnx::ModelProto model;
    ASSERT_TRUE(model.ParseFromString(*bytes));
    bool changed = false;
    for (auto& t : *model.mutable_graph()->mutable_initializer()) {
      if (t.name() == "conv1.weight_scale") {
        std::string raw = t.raw_data();
        raw[0] = static_cast<char>(raw[0] ^ 1);
        t.set_raw_data(raw);
        changed = true;
      }
    }
    ASSERT_TRUE(changed) << "no initializer conv1.weight_scale";
    auto r = reload(model);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("conv1.weight"), std::string::npos) << r.message();
  }
  // An activation zero point that no longer matches.
  {
    onnx::ModelProto model;
    ASSERT_TRUE(model.ParseFromString(*bytes));
    for (auto& t : *model.mutable_graph()->mutable_initializer()) {
      if (t.name() == "input_zero_point") t.set_raw_data(std::string(1, static_cast<char>(t.raw_data()[0] + 1)));
    }
    auto r = reload(model);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("'input'"), std::string::npos) << r.message();
  }
  // Metadata removed or damaged.
  {
    onnx::ModelProto model;
    ASSERT_TRUE(model.ParseFromString(*bytes));
    for (auto& p : *model.mutable_metadata_props()) {
      if (p.key() == kQdqMetadataKey) p.set_value("{\"format\": \"pocket-qdq\"");
    }
    auto r = reload(model);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("malformed pocket.qmodel"), std::string::npos) << r.message();
  }
  // A Q/DQ pair removed: the tensor it quantized is then used unquantized.
  {
    onnx::ModelProto model;
    ASSERT_TRUE(model.ParseFromString(*bytes));
    auto* nodes = model.mutable_graph()->mutable_node();
    std::string from, to;
    for (int i = 0; i < nodes->size(); ++i) {
      if (nodes->Get(i).op_type() == "QuantizeLinear" && nodes->Get(i).input(0) == "pool1") {
        to = "pool1";
        from = nodes->Get(i + 1).output(0);
        nodes->DeleteSubrange(i, 2);
        break;
      }
    }
    ASSERT_FALSE(from.empty());
    for (auto& n : *nodes) {
      for (int i = 0; i < n.input_size(); ++i) {
        if (n.input(i) == from) n.set_input(i, to);
      }
    }
    auto r = reload(model);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("'pool1'"), std::string::npos) << r.message();
  }
}

}  // namespace pocket
