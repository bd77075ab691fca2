// An ONNX fixture quantized the way the engine and codegen tests need it: the lab normalisation,
// the default quantization settings (per-channel min/max int8 weights, asymmetric int8 activations,
// percentile:99.99), calibrated on 64 CIFAR-10 training images (stratified, seed 1) and, with
// `noise_images` > 0, that many images of uniformly random pixels (seed 17): inputs distributed
// like the fixtures' own X.input.f32 (uniform noise in [-1, 1], which the lab normalisation of a
// uniform pixel gives). Failures are reported through EXPECT_* and give an empty result.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "pocket/onnx.hpp"
#include "pocket/quant.hpp"
#include "pocket/rng.hpp"
#include "support/test_env.hpp"

namespace pocket::test {

struct QuantizedFixture {
  Graph prepared;  // the float graph after the quantization passes (BN folded, ...)
  QModel model;
};

inline QuantizedFixture quantize_fixture_with(const std::string& name, int noise_images = 0) {
  auto g = load_onnx(fixtures_dir() + "/" + name + ".onnx");
  EXPECT_TRUE(g) << g.message();
  if (!g) return {};
  g->normalization = Normalization::lab();
  auto prepared = prepare_for_quantization(*g);
  EXPECT_TRUE(prepared) << prepared.message();
  if (!prepared) return {};
  std::string description;
  auto images = load_calibration_images({data_dir(), 64, 1, ""}, &description);
  EXPECT_TRUE(images) << images.message();
  if (!images) return {};
  Rng rng(17);
  for (int i = 0; i < noise_images; ++i) {
    for (int k = 0; k < kCifarImageBytes; ++k) images->pixels.push_back(static_cast<uint8_t>(rng.uniform_int(256)));
    images->labels.push_back(0);
  }
  auto cal = calibrate(*prepared, *images, description);
  EXPECT_TRUE(cal) << cal.message();
  if (!cal) return {};
  auto m = quantize(*prepared, QuantConfig{}, &*cal);
  EXPECT_TRUE(m) << m.message();
  if (!m) return {};
  return {*prepared, *m};
}

// Only the quantized model.
inline QModel quantize_fixture(const std::string& name) { return quantize_fixture_with(name).model; }

}  // namespace pocket::test
