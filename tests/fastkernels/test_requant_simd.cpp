// The variants' requantization (SIMD in avx2/avx512) against pocket_requantize_s8, the rule of
// pocket_requant.h: exhaustively over every int16 accumulator for every shift and a set of
// multipliers, at the int32 extremes and every power of two, and over random full-range
// accumulators with a different multiplier and shift in every lane.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "fastkernels/fast_tester.hpp"
#include "pocket/fastkernels.hpp"
#include "pocket_requant.h"

namespace pocket::fast_test {
namespace {

struct Clamp {
  int32_t zero_point, act_min, act_max;
};
const Clamp kClamps[] = {{0, -128, 127}, {-128, -128, 127}, {127, -128, 127}, {-5, -5, 127},
                         {3, -20, 33},   {0, 5, 5},         {-128, -128, -128}, {127, 127, 127}};

// Compares one call of the variant with the header, element by element.
::testing::AssertionResult check(pocket_fast_variant variant, const std::vector<int32_t>& acc,
                                 const std::vector<int32_t>& multiplier, const std::vector<int32_t>& shift,
                                 const Clamp& c) {
  std::vector<int8_t> out(acc.size(), 0x55);
  if (!pocket_fast_requantize_s8(variant, static_cast<int32_t>(acc.size()), acc.data(), multiplier.data(),
                                 shift.data(), c.zero_point, c.act_min, c.act_max, out.data())) {
    return ::testing::AssertionFailure() << "variant not supported";
  }
  for (size_t i = 0; i < acc.size(); ++i) {
    const int8_t expected =
        pocket_requantize_s8(acc[i], multiplier[i], shift[i], c.zero_point, c.act_min, c.act_max);
    if (out[i] != expected) {
      return ::testing::AssertionFailure()
             << pocket_fast_variant_name(variant) << ": acc=" << acc[i] << " multiplier=" << multiplier[i]
             << " shift=" << shift[i] << " zero_point=" << c.zero_point << " act=[" << c.act_min << ","
             << c.act_max << "] (lane " << i << "): expected " << int{expected} << ", got " << int{out[i]};
    }
  }
  return ::testing::AssertionSuccess();
}

std::vector<int32_t> every_int16_and_extremes() {
  std::vector<int32_t> acc;
  for (int32_t v = -32768; v <= 32767; ++v) acc.push_back(v);
  acc.push_back(INT32_MIN);
  acc.push_back(INT32_MIN + 1);
  acc.push_back(INT32_MAX);
  acc.push_back(INT32_MAX - 1);
  for (int k = 15; k <= 30; ++k) {
    for (int32_t d : {-1, 0, 1}) {
      acc.push_back((int32_t{1} << k) + d);
      acc.push_back(-(int32_t{1} << k) + d);
    }
  }
  acc.push_back(7);  // an odd count, so every call ends with a partial register
  return acc;
}

TEST(RequantSimd, EveryInt16AccumulatorEveryShift) {
  const std::vector<int32_t> acc = every_int16_and_extremes();
  const int32_t multipliers[] = {0, 1, 1 << 30, 1610612736, 1431655765, 2147483647, 1234567891};
  for (const pocket_fast_variant variant : variants_to_test()) {
    size_t clamp_index = 0;
    for (int32_t shift = POCKET_SHIFT_MIN; shift <= POCKET_SHIFT_MAX; ++shift) {
      for (const int32_t m : multipliers) {
        const std::vector<int32_t> multiplier(acc.size(), m), shifts(acc.size(), shift);
        const Clamp& c = kClamps[clamp_index++ % std::size(kClamps)];
        ASSERT_TRUE(check(variant, acc, multiplier, shifts, c));
      }
    }
  }
}

TEST(RequantSimd, EveryClampOverSmallAccumulators) {
  std::vector<int32_t> acc;
  for (int32_t v = -600; v <= 600; ++v) acc.push_back(v);
  for (const pocket_fast_variant variant : variants_to_test()) {
    for (const Clamp& c : kClamps) {
      for (int32_t shift : {-31, -1, 0, 1, 2, 31}) {
        const std::vector<int32_t> multiplier(acc.size(), 1 << 30), shifts(acc.size(), shift);
        ASSERT_TRUE(check(variant, acc, multiplier, shifts, c));
      }
    }
  }
}

// Lanes with different multipliers and shifts (the per-channel case), random accumulators.
TEST(RequantSimd, RandomLanes) {
  Random rng(4242);
  for (const pocket_fast_variant variant : variants_to_test()) {
    for (int round = 0; round < 64; ++round) {
      const size_t count = static_cast<size_t>(rng.int32(1, 4099));
      std::vector<int32_t> acc(count), multiplier(count), shift(count);
      for (size_t i = 0; i < count; ++i) {
        switch (rng.int32(0, 3)) {
          case 0: acc[i] = rng.int32(INT32_MIN, INT32_MAX); break;
          case 1: acc[i] = rng.int32(-70000, 70000); break;
          case 2: acc[i] = rng.int32(-300, 300); break;
          default: acc[i] = rng.coin() ? INT32_MIN : INT32_MAX; break;
        }
        multiplier[i] = rng.int32(0, 9) == 0 ? 0 : rng.int32(int64_t{1} << 30, INT32_MAX);
        shift[i] = rng.int32(POCKET_SHIFT_MIN, POCKET_SHIFT_MAX);
      }
      Clamp c{rng.int32(-128, 127), rng.int32(-128, 127), 127};
      c.act_min = rng.int32(-128, 127);
      c.act_max = rng.int32(c.act_min, 127);
      ASSERT_TRUE(check(variant, acc, multiplier, shift, c));
    }
  }
}

}  // namespace
}  // namespace pocket::fast_test
