// The engine on the fast host kernels against the engine on the runtime's reference kernels (the
// specification): every fixture (lenet_nobias, lenet_bias, resblock_bn, dwsep), quantized with the
// lab normalisation on 64 CIFAR-10 images, compiled once per kernel variant the CPU supports and
// once with CompileOptions::kernels = POCKET_FAST_REFERENCE, and run on CIFAR-10 test images: the
// final outputs and the output of every layer (through the layer callback) must be byte-identical,
// and so must evaluate_int8's predictions.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "engine_test_util.hpp"
#include "pocket/onnx.hpp"
#include "support/quantized_fixture.hpp"
#include "support/test_env.hpp"

namespace pocket::engine_test {
namespace {

constexpr int64_t kImages = 64;

bool have_cifar() { return std::filesystem::exists(test::data_dir() + "/test_batch.bin"); }

using test::quantize_fixture;

// The int8 outputs of every layer for every image, concatenated (layer by layer, image by image).
struct Trace {
  std::vector<std::vector<int8_t>> layers;  // per layer
  std::vector<int8_t> outputs;              // the final outputs
};

Trace trace(const engine::Plan& plan, const Dataset& data) {
  Trace t;
  t.layers.resize(plan.layers().size());
  std::vector<int8_t> arena(static_cast<size_t>(plan.arena_bytes()), 0x5a);
  std::vector<uint8_t> scratch(static_cast<size_t>(plan.scratch_bytes()), 0xa5);
  std::vector<int8_t> in(static_cast<size_t>(plan.input().bytes)), out(static_cast<size_t>(plan.output().bytes));
  for (int64_t i = 0; i < data.size(); ++i) {
    plan.quantize_pixels(data.image(i), in.data());
    plan.run(in.data(), out.data(), arena, scratch, [&](size_t layer, std::span<const int8_t> y) {
      t.layers[layer].insert(t.layers[layer].end(), y.begin(), y.end());
    });
    t.outputs.insert(t.outputs.end(), out.begin(), out.end());
  }
  return t;
}

// Index of the first differing byte, or -1.
int64_t first_difference(const std::vector<int8_t>& a, const std::vector<int8_t>& b) {
  if (a.size() != b.size()) return 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return static_cast<int64_t>(i);
  return -1;
}

std::vector<pocket_fast_variant> fast_variants() {
  std::vector<pocket_fast_variant> v;
  for (int k = POCKET_FAST_PORTABLE; k <= POCKET_FAST_VARIANT_LAST; ++k) {
    const auto variant = static_cast<pocket_fast_variant>(k);
    if (pocket_fast_variant_supported(variant)) v.push_back(variant);
  }
  return v;
}

Dataset test_images() {
  auto test = load_cifar10(test::data_dir(), Split::Test);
  EXPECT_TRUE(test) << test.message();
  Dataset d;
  d.pixels.assign(test->pixels.begin(), test->pixels.begin() + kImages * kCifarImageBytes);
  d.labels.assign(test->labels.begin(), test->labels.begin() + kImages);
  return d;
}

TEST(FastVsReference, EveryFixtureAndVariantIsByteIdenticalToTheReferenceLayerByLayer) {
  if (!have_cifar()) GTEST_SKIP() << "CIFAR-10 not found in " << test::data_dir();
  const Dataset data = test_images();
  ASSERT_EQ(data.size(), kImages);
  for (const std::string name : {"lenet_nobias", "lenet_bias", "resblock_bn", "dwsep"}) {
    SCOPED_TRACE(name);
    const QModel m = quantize_fixture(name);
    engine::CompileOptions ref_options;
    ref_options.kernels = POCKET_FAST_REFERENCE;
    auto ref = engine::compile(m, ref_options);
    ASSERT_TRUE(ref) << ref.message();
    ASSERT_TRUE(ref->has_pixel_input());
    EXPECT_EQ(ref->kernels(), POCKET_FAST_REFERENCE);
    int packed_layers = 0;
    for (size_t i = 0; i < ref->layers().size(); ++i) {
      const auto kind = ref->layers()[i].kind;
      if (kind == engine::LayerKind::Conv2d || kind == engine::LayerKind::FullyConnected) {
        ++packed_layers;
        EXPECT_EQ(ref->layer_kernels(i), POCKET_FAST_REFERENCE) << ref->layers()[i].name;
      } else {
        EXPECT_EQ(ref->layer_kernels(i), POCKET_FAST_SELECTED) << ref->layers()[i].name;
      }
    }
    EXPECT_GT(packed_layers, 0);
    const Trace expected = trace(*ref, data);
    ASSERT_EQ(expected.outputs.size(), static_cast<size_t>(kImages * ref->output().bytes));

    auto ref_eval = engine::evaluate_int8(*ref, data);
    ASSERT_TRUE(ref_eval) << ref_eval.message();

    for (const pocket_fast_variant variant : fast_variants()) {
      SCOPED_TRACE(pocket_fast_variant_name(variant));
      engine::CompileOptions options;
      options.kernels = variant;
      auto fast = engine::compile(m, options);
      ASSERT_TRUE(fast) << fast.message();
      EXPECT_EQ(fast->kernels(), variant);
      EXPECT_STREQ(fast->kernels_name(), pocket_fast_variant_name(variant));
      // The Layer fields that code generation reads are the reference plan's.
      ASSERT_EQ(fast->layers().size(), ref->layers().size());
      for (size_t i = 0; i < fast->layers().size(); ++i) {
        const engine::Layer& a = fast->layers()[i];
        const engine::Layer& b = ref->layers()[i];
        EXPECT_EQ(a.weights, b.weights) << a.name;
        EXPECT_EQ(a.bias, b.bias) << a.name;
        EXPECT_EQ(a.multiplier, b.multiplier) << a.name;
        EXPECT_EQ(a.shift, b.shift) << a.name;
        if (a.kind == engine::LayerKind::Conv2d || a.kind == engine::LayerKind::FullyConnected) {
          EXPECT_EQ(fast->layer_kernels(i), variant) << a.name;
        }
      }
      EXPECT_EQ(fast->arena_bytes(), ref->arena_bytes());
      if (variant != POCKET_FAST_PORTABLE) {
        EXPECT_GT(fast->scratch_bytes(), 0);
      }

      const Trace got = trace(*fast, data);
      ASSERT_EQ(got.layers.size(), expected.layers.size());
      for (size_t l = 0; l < got.layers.size(); ++l) {
        ASSERT_EQ(got.layers[l].size(), expected.layers[l].size()) << fast->layers()[l].name;
        const int64_t at = first_difference(got.layers[l], expected.layers[l]);
        EXPECT_EQ(at, -1) << "layer " << l << " '" << fast->layers()[l].name << "' differs at byte " << at;
      }
      EXPECT_EQ(first_difference(got.outputs, expected.outputs), -1);

      // evaluate_int8 (OpenMP, one arena and scratch per thread) predicts the same classes.
      auto eval = engine::evaluate_int8(*fast, data);
      ASSERT_TRUE(eval) << eval.message();
      EXPECT_EQ(eval->predictions, ref_eval->predictions);
      EXPECT_EQ(eval->correct, ref_eval->correct);
    }
  }
}

TEST(FastVsReference, SelectedKernelsOwnArenaRunLayerAndCopiesAgree) {
  if (!have_cifar()) GTEST_SKIP() << "CIFAR-10 not found in " << test::data_dir();
  const Dataset data = test_images();
  const QModel m = quantize_fixture("lenet_bias");
  engine::CompileOptions ref_options;
  ref_options.kernels = POCKET_FAST_REFERENCE;
  auto ref = engine::compile(m, ref_options);
  ASSERT_TRUE(ref) << ref.message();
  auto fast = engine::compile(m);  // POCKET_FAST_SELECTED
  ASSERT_TRUE(fast) << fast.message();
  EXPECT_EQ(fast->kernels(), pocket_fast_selected());
  EXPECT_NE(fast->kernels(), POCKET_FAST_SELECTED);
  engine::CompileOptions bad;
  bad.kernels = static_cast<pocket_fast_variant>(POCKET_FAST_VARIANT_LAST + 1);
  auto refused = engine::compile(m, bad);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("not supported"), std::string::npos) << refused.message();

  // The plan keeps its variant when the process-wide selection changes after compile(), and a
  // copy of the plan shares (does not move) the packed kernels.
  const pocket_fast_variant before = fast->kernels();
  ASSERT_EQ(pocket_fast_select(POCKET_FAST_REFERENCE), 1);
  engine::Plan copy = *fast;
  auto under_reference_selection = engine::compile(m);
  ASSERT_EQ(pocket_fast_select(POCKET_FAST_SELECTED), 1);
  ASSERT_TRUE(under_reference_selection) << under_reference_selection.message();
  EXPECT_EQ(under_reference_selection->kernels(), POCKET_FAST_REFERENCE);
  EXPECT_EQ(copy.kernels(), before);

  std::vector<int8_t> in(static_cast<size_t>(ref->input().bytes));
  std::vector<int8_t> want(static_cast<size_t>(ref->output().bytes)), got(want.size()), got_copy(want.size());
  std::vector<int8_t> arena(static_cast<size_t>(fast->arena_bytes())), ref_arena(static_cast<size_t>(ref->arena_bytes()));
  for (int64_t i = 0; i < data.size(); ++i) {
    ref->quantize_pixels(data.image(i), in.data());
    ref->run(in.data(), want.data(), ref_arena);  // thread_local scratch form
    fast->run(in.data(), got.data());             // the plan's own arena and scratch
    EXPECT_EQ(got, want) << "image " << i;
    copy.run(in.data(), got_copy.data(), arena);
    EXPECT_EQ(got_copy, want) << "image " << i;

    // run_layer on the fast plan, layer by layer, reproduces the reference arena's tensors.
    std::memcpy(fast->tensor_data(arena, fast->input_tensor()).data(), in.data(), in.size());
    for (size_t l = 0; l < fast->layers().size(); ++l) fast->run_layer(l, arena);
    const auto out = fast->tensor_data(arena, fast->output_tensor());
    EXPECT_EQ(std::vector<int8_t>(out.begin(), out.end()), want) << "image " << i;
  }
}

}  // namespace
}  // namespace pocket::engine_test
