// pocket::qmath: float -> integer parameter math, against double math and hand-worked values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "pocket/qmath.hpp"
#include "pocket_requant.h"
#include "runtime/reference.hpp"

namespace pocket::qmath {
namespace {

using rt_test::Random;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QuantizedMultiplier qm(double real) {
  auto q = quantize_multiplier(real);
  EXPECT_TRUE(q.is_ok()) << "M=" << real << ": " << (q ? "" : q.message());
  return q ? *q : QuantizedMultiplier{};
}

TEST(QuantizeMultiplier, HandWorkedValues) {
  EXPECT_EQ(qm(0.0), (QuantizedMultiplier{0, 0}));
  EXPECT_EQ(qm(0.5), (QuantizedMultiplier{1 << 30, 0}));
  EXPECT_EQ(qm(0.75), (QuantizedMultiplier{1610612736, 0}));
  EXPECT_EQ(qm(1.0), (QuantizedMultiplier{1 << 30, -1}));
  EXPECT_EQ(qm(1.5), (QuantizedMultiplier{1610612736, -1}));
  EXPECT_EQ(qm(0.25), (QuantizedMultiplier{1 << 30, 1}));
  EXPECT_EQ(qm(1.0 / 3.0), (QuantizedMultiplier{1431655765, 1}));  // 2^32/3 = 1431655765.33
  // M just below 1: the mantissa rounds up to 2^31 and renormalises to exactly 1.
  EXPECT_EQ(qm(1.0 - 0x1.0p-40), (QuantizedMultiplier{1 << 30, -1}));
  // M = 1 - 2^-31 is representable: mantissa 2^31 - 1.
  EXPECT_EQ(qm(1.0 - 0x1.0p-31), (QuantizedMultiplier{2147483647, 0}));
  // Mantissa tie: f * 2^31 = 2^30 + 0.5 rounds away from zero.
  EXPECT_EQ(qm(0.5 + 0x1.0p-32), (QuantizedMultiplier{(1 << 30) + 1, 0}));
  // Largest and smallest normal M.
  EXPECT_EQ(qm(0x1.0p30), (QuantizedMultiplier{1 << 30, -31}));
  EXPECT_EQ(qm(0x1.fffffffcp30), (QuantizedMultiplier{2147483647, -31}));
  EXPECT_EQ(qm(0x1.0p-32), (QuantizedMultiplier{1 << 30, 31}));
  // Below 2^-32: flushed, which is exact (|acc * M| < 1/2 for every int32 acc) ...
  EXPECT_EQ(qm(0x1.0p-33), (QuantizedMultiplier{0, 0}));
  EXPECT_EQ(qm(0x1.fffffp-33), (QuantizedMultiplier{0, 0}));
  EXPECT_EQ(qm(std::numeric_limits<double>::denorm_min()), (QuantizedMultiplier{0, 0}));
  // ... except when the mantissa rounds up to 2^-32 exactly.
  EXPECT_EQ(qm(0x1.ffffffffffp-33), (QuantizedMultiplier{1 << 30, 31}));
}

TEST(QuantizeMultiplier, FlushToZeroIsExact) {
  // For every M < 2^-32, round(acc * M) = 0 for the extreme accumulators: check with rationals
  // at the largest M that flushes.
  const double largest_flushed = std::nextafter(0x1.0p-32 * (1.0 - 0x1.0p-32), 0.0);
  ASSERT_EQ(qm(largest_flushed), (QuantizedMultiplier{0, 0}));
  EXPECT_LT(std::ldexp(largest_flushed, 31), 0.5);
}

TEST(QuantizeMultiplier, Errors) {
  EXPECT_FALSE(quantize_multiplier(-1e-9).is_ok());
  EXPECT_FALSE(quantize_multiplier(-0.0 - 1.0).is_ok());
  EXPECT_FALSE(quantize_multiplier(kNaN).is_ok());
  EXPECT_FALSE(quantize_multiplier(kInf).is_ok());
  EXPECT_FALSE(quantize_multiplier(0x1.0p31).is_ok());
  EXPECT_FALSE(quantize_multiplier(0x1.fffffffffp30).is_ok());  // rounds up to 2^31
  EXPECT_FALSE(requantization_multiplier(0.0, 1.0, 1.0).is_ok());
  EXPECT_FALSE(requantization_multiplier(1.0, -1.0, 1.0).is_ok());
  EXPECT_FALSE(requantization_multiplier(1.0, 1.0, kNaN).is_ok());
  EXPECT_FALSE(requantization_multiplier(1.0, 1.0, kInf).is_ok());
  EXPECT_FALSE(requantization_multiplier(kInf, 1.0, 1.0).is_ok());
  const auto err = quantize_multiplier(kNaN);
  EXPECT_NE(err.message().find("finite"), std::string::npos) << err.message();
}

TEST(QuantizeMultiplier, RelativeErrorBoundAgainstDoubleMath) {
  Random rng(31);
  for (int i = 0; i < 200000; ++i) {
    // log-uniform over the whole normal range [2^-32, 2^31)
    const double real = std::exp2(-32.0 + 63.0 * rng.unit());
    const auto q = quantize_multiplier(real);
    ASSERT_TRUE(q.is_ok()) << "M=" << real;
    ASSERT_GE(q->multiplier, 1 << 30) << "M=" << real;
    ASSERT_GE(q->shift, POCKET_SHIFT_MIN);
    ASSERT_LE(q->shift, POCKET_SHIFT_MAX);
    const double relative_error = std::fabs(q->real() - real) / real;
    ASSERT_LE(relative_error, 0x1.0p-31) << "M=" << real << " multiplier=" << q->multiplier
                                        << " shift=" << q->shift;
    // The pair is the nearest representable: moving the mantissa by one is not closer.
    const double step = std::ldexp(1.0, -31 - q->shift);
    ASSERT_LE(std::fabs(q->real() - real), 0.5 * step * (1 + 1e-12)) << "M=" << real;
  }
}

TEST(QuantizeMultiplier, RequantizationMultiplierOfTypicalLayers) {
  const auto q = requantization_multiplier(0.02, 0.004, 0.05);  // M = 0.0016
  ASSERT_TRUE(q.is_ok());
  EXPECT_NEAR(q->real(), 0.0016, 0.0016 * 0x1.0p-31 * 2);
  EXPECT_EQ(q->shift, 9);  // 0.0016 = 0.8192 * 2^-9
  const std::vector<double> weight_scales = {0.004, 0.001, 0.0};
  EXPECT_FALSE(requantization_multipliers(0.02, weight_scales, 0.05).is_ok());  // zero scale
  const std::vector<double> good = {0.004, 0.001, 0.5};
  const auto channels = requantization_multipliers(0.02, good, 0.05);
  ASSERT_TRUE(channels.is_ok());
  ASSERT_EQ(channels->multiplier.size(), 3u);
  for (size_t c = 0; c < good.size(); ++c) {
    const auto single = quantize_multiplier(0.02 * good[c] / 0.05);
    EXPECT_EQ(channels->multiplier[c], single->multiplier);
    EXPECT_EQ(channels->shift[c], single->shift);
  }
}

TEST(QuantizeMultiplierPair, SharesTheShiftOfTheLarger) {
  const auto pair = quantize_multiplier_pair(0.75, 0.1875);  // 0.1875 = 0.75 / 4
  ASSERT_TRUE(pair.is_ok());
  EXPECT_EQ(*pair, (QuantizedMultiplierPair{1610612736, 402653184, 0}));
  const auto swapped = quantize_multiplier_pair(0.1875, 0.75);
  ASSERT_TRUE(swapped.is_ok());
  EXPECT_EQ(*swapped, (QuantizedMultiplierPair{402653184, 1610612736, 0}));
  EXPECT_EQ(*quantize_multiplier_pair(0.0, 0.0), (QuantizedMultiplierPair{0, 0, 0}));
  EXPECT_EQ(*quantize_multiplier_pair(0x1.0p-40, 0.0), (QuantizedMultiplierPair{0, 0, 0}));
  EXPECT_EQ(*quantize_multiplier_pair(1.0 - 0x1.0p-40, 0.5),
            (QuantizedMultiplierPair{1 << 30, 1 << 29, -1}));
  EXPECT_FALSE(quantize_multiplier_pair(-1.0, 0.5).is_ok());
  EXPECT_FALSE(quantize_multiplier_pair(0.5, kNaN).is_ok());
  EXPECT_FALSE(quantize_multiplier_pair(kNaN, 0.5).is_ok());
  EXPECT_FALSE(quantize_multiplier_pair(0.5, 0x1.0p31).is_ok());

  Random rng(5);
  for (int i = 0; i < 100000; ++i) {
    const double real1 = std::exp2(-30.0 + 50.0 * rng.unit());
    const double real2 = real1 * std::exp2(-40.0 + 80.0 * rng.unit());
    const auto q = quantize_multiplier_pair(real1, real2);
    if (std::max(real1, real2) >= 0x1.fffffffep30) continue;
    ASSERT_TRUE(q.is_ok()) << real1 << " " << real2;
    const double step = std::ldexp(1.0, -31 - q->shift);  // absolute resolution of both
    ASSERT_LE(std::fabs(std::ldexp(q->multiplier1, -31 - q->shift) - real1), 0.5 * step);
    ASSERT_LE(std::fabs(std::ldexp(q->multiplier2, -31 - q->shift) - real2), 0.5 * step);
    ASSERT_GE(std::max(q->multiplier1, q->multiplier2), 1 << 30);
    ASSERT_GE(std::min(q->multiplier1, q->multiplier2), 0);
  }
}

TEST(ChooseQuantParams, Int8AsymmetricHandWorked) {
  // [-1, 1]: scale 2/255, zero point round(-128 + 127.5) = round(-0.5) = -1 (ties away).
  auto p = choose_quant_params(-1.0, 1.0, QuantType::int8_activations());
  ASSERT_TRUE(p.is_ok());
  EXPECT_DOUBLE_EQ(p->scale, 2.0 / 255.0);
  EXPECT_EQ(p->zero_point, -1);
  // [0, 6] (ReLU6): scale 6/255, zero point -128 exactly.
  p = choose_quant_params(0.0, 6.0, QuantType::int8_activations());
  EXPECT_DOUBLE_EQ(p->scale, 6.0 / 255.0);
  EXPECT_EQ(p->zero_point, -128);
  // [2, 5] widens to [0, 5] so that 0 is representable.
  p = choose_quant_params(2.0, 5.0, QuantType::int8_activations());
  EXPECT_DOUBLE_EQ(p->scale, 5.0 / 255.0);
  EXPECT_EQ(p->zero_point, -128);
  // [-3, -1] widens to [-3, 0]: zero point at the top.
  p = choose_quant_params(-3.0, -1.0, QuantType::int8_activations());
  EXPECT_DOUBLE_EQ(p->scale, 3.0 / 255.0);
  EXPECT_EQ(p->zero_point, 127);
  // All zeros: scale 1, zero point round(-128 - 0) = -128.
  p = choose_quant_params(0.0, 0.0, QuantType::int8_activations());
  EXPECT_EQ(p->scale, 1.0);
  EXPECT_EQ(p->zero_point, -128);
}

TEST(ChooseQuantParams, SymmetricWeightsAndOtherWidths) {
  auto p = choose_quant_params(-0.5, 1.27, QuantType::int8_weights());
  ASSERT_TRUE(p.is_ok());
  EXPECT_DOUBLE_EQ(p->scale, 0.01);
  EXPECT_EQ(p->zero_point, 0);
  EXPECT_EQ(QuantType::int8_weights().qmin(), -127);
  EXPECT_EQ(QuantType::int8_weights().qmax(), 127);
  EXPECT_EQ(QuantType::int8_activations().qmin(), -128);
  EXPECT_EQ((QuantType{4, true}).qmin(), -7);
  EXPECT_EQ((QuantType{4, false}).qmin(), -8);
  EXPECT_EQ((QuantType{4, false}).qmax(), 7);
  EXPECT_EQ((QuantType{2, true}).qmin(), -1);
  EXPECT_EQ((QuantType{2, true}).qmax(), 1);
  EXPECT_EQ((QuantType{16, false}).qmin(), -32768);
  EXPECT_EQ((QuantType{16, true}).qmax(), 32767);
  p = choose_quant_params(-0.7, 0.35, QuantType{4, true});
  EXPECT_DOUBLE_EQ(p->scale, 0.1);
  p = choose_quant_params(-1.0, 2.0, QuantType{16, false});
  EXPECT_DOUBLE_EQ(p->scale, 3.0 / 65535.0);
  EXPECT_EQ(p->zero_point, static_cast<int32_t>(std::round(-32768 + 65535.0 / 3.0)));
  p = choose_quant_params(0.0, 0.0, QuantType::int8_weights());
  EXPECT_EQ(p->scale, 1.0);
}

TEST(ChooseQuantParams, PropertiesOverRandomRanges) {
  Random rng(17);
  const QuantType types[] = {{8, false}, {8, true}, {4, false}, {4, true}, {2, true}, {16, false}};
  for (int i = 0; i < 20000; ++i) {
    const double a = (rng.unit() - 0.5) * std::exp2(-10.0 + 20.0 * rng.unit());
    const double b = (rng.unit() - 0.5) * std::exp2(-10.0 + 20.0 * rng.unit());
    const double min = std::min(a, b), max = std::max(a, b);
    for (const QuantType type : types) {
      const auto p = choose_quant_params(min, max, type);
      ASSERT_TRUE(p.is_ok());
      ASSERT_GT(p->scale, 0.0);
      ASSERT_GE(p->zero_point, type.qmin());
      ASSERT_LE(p->zero_point, type.qmax());
      if (type.symmetric) {
        ASSERT_EQ(p->zero_point, 0);
      }
      // Real 0 is exact; min and max are within half a step of a representable value.
      ASSERT_EQ(dequantize_value(quantize_value(0.0, *p, type), *p), 0.0);
      for (const double real : {min, max}) {
        const int32_t q = quantize_value(real, *p, type);
        ASSERT_LE(std::fabs(dequantize_value(q, *p) - real), 0.5 * p->scale * (1 + 1e-9) + 1e-300)
            << "bits=" << type.bits << " symmetric=" << type.symmetric << " range=[" << min
            << ", " << max << "] scale=" << p->scale << " zp=" << p->zero_point;
      }
    }
  }
}

TEST(ChooseQuantParams, Errors) {
  EXPECT_FALSE(choose_quant_params(kNaN, 1.0, QuantType::int8_activations()).is_ok());
  EXPECT_FALSE(choose_quant_params(0.0, kInf, QuantType::int8_activations()).is_ok());
  EXPECT_FALSE(choose_quant_params(1.0, -1.0, QuantType::int8_activations()).is_ok());
  EXPECT_FALSE(choose_quant_params(-1.0, 1.0, QuantType{1, false}).is_ok());
  EXPECT_FALSE(choose_quant_params(-1.0, 1.0, QuantType{17, true}).is_ok());
  EXPECT_FALSE(choose_quant_params(-1e308, 1e308, QuantType::int8_activations()).is_ok());  // inf scale
}

TEST(QuantizeValue, RoundsTiesAwayAndClamps) {
  const QuantParams p{0.5, 3};
  const QuantType t = QuantType::int8_activations();
  EXPECT_EQ(quantize_value(0.25, p, t), 4);    // 0.5 -> 1, + 3
  EXPECT_EQ(quantize_value(-0.25, p, t), 2);   // -0.5 -> -1, + 3
  EXPECT_EQ(quantize_value(0.74, p, t), 4);    // 1.48 -> 1
  EXPECT_EQ(quantize_value(1000.0, p, t), 127);
  EXPECT_EQ(quantize_value(-1000.0, p, t), -128);
  EXPECT_EQ(quantize_value(kInf, p, t), 127);
  EXPECT_EQ(quantize_value(-kInf, p, t), -128);
  EXPECT_EQ(quantize_value(kNaN, p, t), 3);
  EXPECT_EQ(quantize_value(-1000.0, QuantParams{0.5, 0}, QuantType::int8_weights()), -127);
  EXPECT_DOUBLE_EQ(dequantize_value(7, p), 2.0);
}

TEST(QuantizeBias, RoundsAndRejectsOverflow) {
  EXPECT_EQ(*quantize_bias(1.0, 0.5, 0.25), 8);
  EXPECT_EQ(*quantize_bias(-0.0625, 0.5, 0.25), -1);  // -0.5 -> -1
  EXPECT_EQ(*quantize_bias(0.0625, 0.5, 0.25), 1);
  EXPECT_EQ(*quantize_bias(0.05, 0.5, 0.25), 0);      // 0.4
  EXPECT_EQ(*quantize_bias(2147483647.0, 1.0, 1.0), 2147483647);
  EXPECT_FALSE(quantize_bias(2147483648.0, 1.0, 1.0).is_ok());
  EXPECT_FALSE(quantize_bias(-2147483649.0, 1.0, 1.0).is_ok());
  EXPECT_FALSE(quantize_bias(1.0, 0.0, 1.0).is_ok());
  EXPECT_FALSE(quantize_bias(kNaN, 1.0, 1.0).is_ok());
  EXPECT_FALSE(quantize_bias(1.0, 1.0, kInf).is_ok());
}

TEST(ActivationRange, ReluRelu6AndNone) {
  const QuantParams out{6.0 / 255.0, -128};
  const auto relu6 = activation_range(out, 0.0, 6.0);
  ASSERT_TRUE(relu6.is_ok());
  EXPECT_EQ(relu6->act_min, -128);
  EXPECT_EQ(relu6->act_max, 127);
  const QuantParams wide{0.1, -10};
  const auto relu = activation_range(wide, 0.0, kInf);
  EXPECT_EQ(relu->act_min, -10);
  EXPECT_EQ(relu->act_max, 127);
  const auto relu6_wide = activation_range(wide, 0.0, 6.0);
  EXPECT_EQ(relu6_wide->act_max, 50);  // -10 + 60
  const auto none = activation_range(wide, -kInf, kInf);
  EXPECT_EQ(none->act_min, -128);
  EXPECT_EQ(none->act_max, 127);
  EXPECT_FALSE(activation_range(wide, 1.0, 0.0).is_ok());
  EXPECT_FALSE(activation_range(wide, kNaN, 0.0).is_ok());
  EXPECT_FALSE(activation_range(QuantParams{0.0, 0}, 0.0, 1.0).is_ok());
  // A clamp entirely above the representable range degenerates to the constant qmax.
  const auto above = activation_range(wide, 1000.0, 2000.0);
  ASSERT_TRUE(above.is_ok());
  EXPECT_EQ(above->act_min, 127);
  EXPECT_EQ(above->act_max, 127);
}

TEST(SoftmaxExpTable, ValuesAndErrors) {
  const auto table = softmax_exp_table(0.1, 1.0);
  ASSERT_TRUE(table.is_ok());
  EXPECT_EQ((*table)[0], 32768);
  EXPECT_EQ((*table)[1], static_cast<uint16_t>(std::llround(32768 * std::exp(-0.1))));  // 29650
  EXPECT_EQ((*table)[1], 29650);
  for (size_t d = 1; d < table->size(); ++d) EXPECT_LE((*table)[d], (*table)[d - 1]);
  EXPECT_EQ((*table)[255], static_cast<uint16_t>(std::llround(32768 * std::exp(-25.5))));
  const auto sharp = softmax_exp_table(0.5, 2.0);
  EXPECT_EQ((*sharp)[20], 0);  // 32768 e^-20 = 6.8e-5
  EXPECT_FALSE(softmax_exp_table(0.0).is_ok());
  EXPECT_FALSE(softmax_exp_table(0.1, -1.0).is_ok());
  EXPECT_FALSE(softmax_exp_table(kNaN).is_ok());
}

}  // namespace
}  // namespace pocket::qmath
