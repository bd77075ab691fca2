// pocket_quantize_input_u8 with qmath::fold_input_normalization: exact against 128-bit rationals
// over the folded integers, and against real normalisation + quantization in double.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <sstream>
#include <vector>

#include "pocket/normalization.hpp"
#include "pocket/qmath.hpp"
#include "pocket_runtime.h"
#include "runtime/reference.hpp"

namespace pocket::rt_test {
namespace {

pocket_quantize_input_params make_params(const qmath::InputQuantization& q, int32_t batches, int32_t height,
                                         int32_t width, pocket_pixel_layout layout) {
  return {batches, height, width, static_cast<int32_t>(q.multiplier.size()), layout, q.multiplier.data(),
          q.shift.data(), q.offset.data(), q.zero_point};
}

// All 256 pixel values in every channel, as one 1 x 1 x 256 image (HWC).
std::vector<int8_t> quantize_every_pixel_value(const qmath::InputQuantization& q) {
  const size_t channels = q.multiplier.size();
  std::vector<uint8_t> pixels(256 * channels);
  for (size_t p = 0; p < 256; ++p)
    for (size_t c = 0; c < channels; ++c) pixels[p * channels + c] = static_cast<uint8_t>(p);
  std::vector<int8_t> out(pixels.size());
  const pocket_quantize_input_params params = make_params(q, 1, 1, 256, POCKET_PIXELS_HWC);
  EXPECT_EQ(pocket_quantize_input_u8(&params, pixels.data(), out.data()), POCKET_OK);
  return out;
}

TEST(QuantizeInput, UnitAndRawNormalisationsAreExact) {
  // unit: x = p / 255 on [0, 1] -> scale 1/255, zero point -128: q = p - 128 exactly.
  const auto unit_params = qmath::choose_quant_params(0.0, 1.0, qmath::QuantType::int8_activations());
  const auto unit = qmath::fold_input_normalization(Normalization::unit(), 3, *unit_params);
  ASSERT_TRUE(unit.is_ok()) << unit.message();
  std::vector<int8_t> out = quantize_every_pixel_value(*unit);
  for (int p = 0; p < 256; ++p)
    for (int c = 0; c < 3; ++c) ASSERT_EQ(out[static_cast<size_t>(p * 3 + c)], p - 128) << "pixel " << p;
  // raw: x = p on [0, 255] -> scale 1, zero point -128.
  const auto raw_params = qmath::choose_quant_params(0.0, 255.0, qmath::QuantType::int8_activations());
  const auto raw = qmath::fold_input_normalization(Normalization::raw(), 1, *raw_params);
  ASSERT_TRUE(raw.is_ok()) << raw.message();
  out = quantize_every_pixel_value(*raw);
  for (int p = 0; p < 256; ++p) ASSERT_EQ(out[static_cast<size_t>(p)], p - 128) << "pixel " << p;
}

TEST(QuantizeInput, LabNormalisationTiesRoundAwayFromZero) {
  // lab: x = p / 127.5 - 1 on [-1, 1] -> scale 2/255, zero point -1 (round(-0.5) away from 0).
  // q = round(p - 127.5) - 1: every value is a tie, p >= 128 -> p - 128, p <= 127 -> p - 129.
  const auto params = qmath::choose_quant_params(-1.0, 1.0, qmath::QuantType::int8_activations());
  ASSERT_EQ(params->zero_point, -1);
  const auto lab = qmath::fold_input_normalization(Normalization::lab(), 3, *params);
  ASSERT_TRUE(lab.is_ok()) << lab.message();
  EXPECT_EQ(lab->multiplier[0], 1 << 30);
  EXPECT_EQ(lab->shift[0], -1);  // M = 1 exactly
  EXPECT_EQ(lab->offset[0], -(int64_t{255} << 29));  // -127.5 * 2^30
  const std::vector<int8_t> out = quantize_every_pixel_value(*lab);
  for (int p = 0; p < 256; ++p) {
    const int expected = std::max(p >= 128 ? p - 128 : p - 129, -128);
    for (int c = 0; c < 3; ++c) ASSERT_EQ(out[static_cast<size_t>(p * 3 + c)], expected) << "pixel " << p;
  }
}

// Random mean/std normalisations and input quantizations, every pixel value, both layouts.
TEST(QuantizeInput, RandomNormalisationsAgainstRationalsAndDoubles) {
  Random rng(123);
  for (int trial = 0; trial < 300; ++trial) {
    const int32_t channels = rng.int32(1, 4);
    std::vector<double> scale, offset;
    double lo = 0, hi = 0;
    for (int32_t c = 0; c < channels; ++c) {
      const double stddev = 0.05 + rng.unit(), mean = rng.unit();
      scale.push_back(1.0 / (255.0 * stddev));
      offset.push_back(-mean / stddev);
      lo = std::min(lo, offset.back());
      hi = std::max(hi, 255.0 * scale.back() + offset.back());
    }
    // Sometimes a range narrower than the data, so that the clamp matters.
    const double shrink = trial % 4 == 0 ? 0.3 : 1.0;
    const auto qparams = qmath::choose_quant_params(lo * shrink, hi * shrink, qmath::QuantType::int8_activations());
    ASSERT_TRUE(qparams.is_ok());
    const auto folded = qmath::fold_input_normalization(scale, offset, *qparams);
    ASSERT_TRUE(folded.is_ok()) << folded.message();
    std::ostringstream what;
    what << "trial " << trial << " channels=" << channels << " input scale=" << qparams->scale
         << " zero_point=" << qparams->zero_point;

    const std::vector<int8_t> out = quantize_every_pixel_value(*folded);
    for (int32_t p = 0; p < 256; ++p)
      for (int32_t c = 0; c < channels; ++c) {
        const size_t i = static_cast<size_t>(p * channels + c);
        const i128 scaled = static_cast<i128>(p) * folded->multiplier[static_cast<size_t>(c)] + folded->offset[static_cast<size_t>(c)];
        const int64_t exact = static_cast<int64_t>(ref_round_div(scaled, pow2(31 + folded->shift[static_cast<size_t>(c)])));
        ASSERT_EQ(out[i], ref_clamp(exact + qparams->zero_point, -128, 127)) << what.str() << " pixel " << p << " channel " << c;
        // Real arithmetic: equal unless within 1e-6 of a tie.
        const double real = (p * scale[static_cast<size_t>(c)] + offset[static_cast<size_t>(c)]) / qparams->scale + qparams->zero_point;
        const double clamped = std::clamp(real, -128.0, 127.0);
        ASSERT_LE(std::fabs(out[i] - clamped), 0.5 + 1e-6) << what.str() << " pixel " << p;
        if (std::fabs(real - std::floor(real) - 0.5) > 1e-6) {
          ASSERT_EQ(out[i], std::clamp(std::round(real), -128.0, 127.0)) << what.str() << " pixel " << p;
        }
      }
  }
}

TEST(QuantizeInput, HwcAndChwLayoutsAgree) {
  Random rng(9);
  const auto qparams = qmath::choose_quant_params(-2.0, 2.5, qmath::QuantType::int8_activations());
  Normalization cifar;
  cifar.kind = Normalization::Kind::MeanStd;
  cifar.mean = {0.4914f, 0.4822f, 0.4465f};
  cifar.stddev = {0.2470f, 0.2435f, 0.2616f};
  const auto folded = qmath::fold_input_normalization(cifar, 3, *qparams);
  ASSERT_TRUE(folded.is_ok()) << folded.message();
  for (int trial = 0; trial < 20; ++trial) {
    const int32_t batches = rng.int32(1, 3), height = rng.int32(1, 9), width = rng.int32(1, 9), channels = 3;
    std::vector<uint8_t> hwc(static_cast<size_t>(batches * height * width * channels));
    for (auto& v : hwc) v = static_cast<uint8_t>(rng.int32(0, 255));
    std::vector<uint8_t> chw(hwc.size());
    for (int32_t n = 0; n < batches; ++n)
      for (int32_t y = 0; y < height; ++y)
        for (int32_t x = 0; x < width; ++x)
          for (int32_t c = 0; c < channels; ++c)
            chw[static_cast<size_t>(((n * channels + c) * height + y) * width + x)] =
                hwc[static_cast<size_t>(((n * height + y) * width + x) * channels + c)];
    GuardedOutput from_hwc(hwc.size(), 0x55), from_chw(hwc.size(), -0x56);
    const auto hwc_params = make_params(*folded, batches, height, width, POCKET_PIXELS_HWC);
    const auto chw_params = make_params(*folded, batches, height, width, POCKET_PIXELS_CHW);
    ASSERT_EQ(pocket_quantize_input_u8(&hwc_params, hwc.data(), from_hwc.data()), POCKET_OK);
    ASSERT_EQ(pocket_quantize_input_u8(&chw_params, chw.data(), from_chw.data()), POCKET_OK);
    ASSERT_TRUE(from_hwc.guards_intact());
    ASSERT_TRUE(from_chw.guards_intact());
    for (size_t i = 0; i < hwc.size(); ++i) {
      ASSERT_EQ(from_hwc.data()[i], from_chw.data()[i]) << "index " << i;
      // The output is NHWC: element i holds channel i % 3 of pixel value hwc[i].
      const size_t c = i % 3;
      const double real = (hwc[i] / 255.0 - cifar.mean[c]) / cifar.stddev[c] / qparams->scale + qparams->zero_point;
      ASSERT_LE(std::fabs(from_hwc.data()[i] - std::clamp(real, -128.0, 127.0)), 0.5 + 1e-5);
    }
  }
}

TEST(QuantizeInput, OffsetClampKeepsSaturatedOutputs) {
  // An offset far beyond the output range saturates every pixel; the folded offset is clamped.
  const std::vector<double> scale = {0.001, 0.001}, offset = {1e12, -1e12};
  const auto folded = qmath::fold_input_normalization(scale, offset, {0.01, 0});
  ASSERT_TRUE(folded.is_ok()) << folded.message();
  EXPECT_LE(std::llabs(folded->offset[0]), int64_t{1} << 61);
  EXPECT_LE(std::llabs(folded->offset[1]), int64_t{1} << 61);
  const std::vector<int8_t> out = quantize_every_pixel_value(*folded);
  for (int p = 0; p < 256; ++p) {
    EXPECT_EQ(out[static_cast<size_t>(2 * p)], 127);
    EXPECT_EQ(out[static_cast<size_t>(2 * p + 1)], -128);
  }
}

TEST(QuantizeInput, FoldErrors) {
  const std::vector<double> one = {1.0}, two = {1.0, 1.0}, zero = {0.0}, nan = {std::nan("")};
  EXPECT_FALSE(qmath::fold_input_normalization(one, two, {1.0, 0}).is_ok());
  EXPECT_FALSE(qmath::fold_input_normalization(zero, one, {1.0, 0}).is_ok());
  EXPECT_FALSE(qmath::fold_input_normalization(one, nan, {1.0, 0}).is_ok());
  EXPECT_FALSE(qmath::fold_input_normalization(one, one, {0.0, 0}).is_ok());
  EXPECT_FALSE(qmath::fold_input_normalization(one, one, {1.0, 128}).is_ok());
  EXPECT_FALSE(qmath::fold_input_normalization(one, one, {1e7, 0}).is_ok());   // M < 2^-20
  EXPECT_FALSE(qmath::fold_input_normalization(one, one, {1e-10, 0}).is_ok()); // M >= 2^31
  EXPECT_FALSE(qmath::fold_input_normalization(Normalization{}, 3, {1.0, 0}).is_ok());  // unknown
  EXPECT_FALSE(qmath::fold_input_normalization(Normalization::lab(), 4, {1.0, 0}).is_ok());
}

TEST(QuantizeInput, RejectsBadParameters) {
  const int32_t multiplier = 1 << 30, shift = 0;
  const int64_t offset = 0;
  const uint8_t pixels[4] = {};
  int8_t out[4] = {};
  pocket_quantize_input_params p{1, 2, 2, 1, POCKET_PIXELS_HWC, &multiplier, &shift, &offset, 0};
  ASSERT_EQ(pocket_quantize_input_u8(&p, pixels, out), POCKET_OK);
  EXPECT_EQ(pocket_quantize_input_u8(&p, nullptr, out), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_quantize_input_u8(nullptr, pixels, out), POCKET_ERR_NULL_POINTER);
  pocket_quantize_input_params bad = p;
  bad.offset = nullptr;
  EXPECT_EQ(pocket_quantize_input_check(&bad), POCKET_ERR_NULL_POINTER);
  bad = p;
  bad.width = 0;
  EXPECT_EQ(pocket_quantize_input_check(&bad), POCKET_ERR_BAD_SHAPE);
  bad = p;
  // Not a layout (written as bytes: the value is outside the C++ range of the enum).
  static_assert(sizeof(bad.layout) == sizeof(int32_t));
  const int32_t not_a_layout = 2;
  std::memcpy(&bad.layout, &not_a_layout, sizeof not_a_layout);
  EXPECT_EQ(pocket_quantize_input_check(&bad), POCKET_ERR_BAD_SHAPE);
  bad = p;
  bad.output_zero_point = 200;
  EXPECT_EQ(pocket_quantize_input_check(&bad), POCKET_ERR_BAD_QUANT);
  const int64_t huge_offset = (int64_t{1} << 61) + 1;
  bad = p;
  bad.offset = &huge_offset;
  EXPECT_EQ(pocket_quantize_input_check(&bad), POCKET_ERR_BAD_QUANT);
  const int32_t bad_shift = -32;
  bad = p;
  bad.shift = &bad_shift;
  EXPECT_EQ(pocket_quantize_input_check(&bad), POCKET_ERR_BAD_QUANT);
}

}  // namespace
}  // namespace pocket::rt_test
