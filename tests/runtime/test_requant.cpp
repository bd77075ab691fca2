// The rounding rule of runtime/pocket_requant.h: hand-computed cases, then exhaustive sweeps over
// int16-sized domains against exact 128-bit rational arithmetic (tests/runtime/reference.hpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "pocket_requant.h"
#include "runtime/reference.hpp"

namespace pocket::rt_test {
namespace {

constexpr int32_t kHalf = int32_t{1} << 30;  // multiplier of M = 0.5 * 2^-shift
constexpr int32_t kThreeQuarters = 1610612736;  // 0.75 * 2^31
constexpr int32_t kThird = 1431655765;          // round(2^32 / 3), shift 1: M = 1/3
constexpr int32_t kMaxMultiplier = std::numeric_limits<int32_t>::max();
constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

struct HandCase {
  int32_t acc;
  int32_t multiplier;
  int32_t shift;
  int64_t expected;  // round(acc * multiplier / 2^(31 + shift)), ties away from zero
  const char* why;
};

// Every expected value below is worked out by hand in the comment.
const HandCase kHandCases[] = {
    {0, kHalf, 0, 0, "0 * anything = 0"},
    {1, kHalf, 0, 1, "1 * 0.5 = 0.5: tie, away from zero -> 1"},
    {-1, kHalf, 0, -1, "-0.5: tie, away from zero -> -1 (symmetric, not floor(x + 0.5) = 0)"},
    {3, kHalf, 0, 2, "1.5 -> 2"},
    {-3, kHalf, 0, -2, "-1.5 -> -2"},
    {2, kHalf, 0, 1, "exactly 1"},
    {1, kHalf, 1, 0, "M = 0.25: 0.25 -> 0 (two-step rounding would give 1)"},
    {2, kHalf, 1, 1, "0.5 -> 1"},
    {-2, kHalf, 1, -1, "-0.5 -> -1"},
    {5, kHalf, 1, 1, "1.25 -> 1"},
    {-6, kHalf, 1, -2, "-1.5 -> -2"},
    {7, kHalf, 1, 2, "1.75 -> 2"},
    {10, kThreeQuarters, 0, 8, "M = 0.75: 7.5 -> 8"},
    {-10, kThreeQuarters, 0, -8, "-7.5 -> -8"},
    {12345, kThreeQuarters, 0, 9259, "9258.75 -> 9259"},
    {-12345, kThreeQuarters, 0, -9259, "-9258.75 -> -9259"},
    {-3, kThreeQuarters, -1, -5, "M = 1.5 (shift -1): -4.5 -> -5"},
    {3, kThird, 1, 1, "M = 1431655765 / 2^32: 3M = 4294967295 / 2^32 = 0.99999999977 -> 1"},
    {3000, kThird, 1, 1000, "999.99999977 -> 1000"},
    {2, kHalf + 1, 0, 1, "2 * (2^30 + 1) / 2^31 = 1 + 2^-30 -> 1"},
    {kInt32Max, kMaxMultiplier, 0, 2147483646,
     "M = 1 - 2^-31: (2^31 - 1)^2 / 2^31 = 2^31 - 2 + 2^-31 -> 2^31 - 2"},
    {kInt32Min, kMaxMultiplier, 0, -2147483647, "-2^31 (2^31 - 1) / 2^31 = -(2^31 - 1), exact"},
    {kInt32Min, kHalf, 31, -1, "M = 2^-32 (smallest normal): -2^31 * 2^-32 = -0.5 -> -1"},
    {kInt32Max, kHalf, 31, 0, "(2^31 - 1) * 2^-32 = 0.49999999977 -> 0"},
    {kHalf, kHalf, 30, 1, "M = 2^-31: 2^30 * 2^-31 = 0.5 -> 1"},
    {kHalf - 1, kHalf, 30, 0, "(2^30 - 1) * 2^-31 just below 0.5 -> 0"},
    {-kHalf, kHalf, 30, -1, "-0.5 -> -1"},
    {-(kHalf - 1), kHalf, 30, 0, "just above -0.5 -> 0"},
    {1, kHalf, -31, int64_t{1} << 30, "M = 2^30 (shift -31, total shift 0): exact, no rounding"},
    {2, kHalf, -31, int64_t{1} << 31, "2^31: beyond int32, unsaturated here"},
    {-2, kHalf, -31, -(int64_t{1} << 31), "-2^31"},
    {kInt32Min, kMaxMultiplier, -31, -4611686016279904256, "-2^31 (2^31 - 1): the largest magnitude"},
    {1, 0, 0, 0, "M = 0"},
    {kInt32Min, 0, 5, 0, "M = 0, any accumulator"},
};

TEST(Requant, HandComputedCases) {
  for (const HandCase& c : kHandCases) {
    SCOPED_TRACE(::testing::Message() << "acc=" << c.acc << " multiplier=" << c.multiplier
                                      << " shift=" << c.shift << ": " << c.why);
    EXPECT_EQ(pocket_multiply_round(c.acc, c.multiplier, c.shift), c.expected);
    // The hand values agree with the independent rational reference too.
    EXPECT_EQ(ref_multiply_round(c.acc, c.multiplier, c.shift), c.expected);
    const int64_t saturated =
        std::clamp<int64_t>(c.expected, kInt32Min, kInt32Max);
    EXPECT_EQ(pocket_requantize(c.acc, c.multiplier, c.shift), saturated);
  }
}

TEST(Requant, HandComputedInt8WithZeroPointAndClamp) {
  // M = 0.75, zero point -5, act range [-128, 127]
  EXPECT_EQ(pocket_requantize_s8(10, kThreeQuarters, 0, -5, -128, 127), 3);       // 8 - 5
  EXPECT_EQ(pocket_requantize_s8(-10, kThreeQuarters, 0, -5, -128, 127), -13);    // -8 - 5
  EXPECT_EQ(pocket_requantize_s8(1000, kThreeQuarters, 0, -5, -128, 127), 127);   // 745 saturates
  EXPECT_EQ(pocket_requantize_s8(-1000, kThreeQuarters, 0, -5, -128, 127), -128); // -755 saturates
  EXPECT_EQ(pocket_requantize_s8(176, kThreeQuarters, 0, -5, -128, 127), 127);    // 132 - 5 = 127
  EXPECT_EQ(pocket_requantize_s8(178, kThreeQuarters, 0, -5, -128, 127), 127);    // 133.5 -> 134 - 5 = 129
  EXPECT_EQ(pocket_requantize_s8(-164, kThreeQuarters, 0, -5, -128, 127), -128);  // -123 - 5
  EXPECT_EQ(pocket_requantize_s8(-163, kThreeQuarters, 0, -5, -128, 127), -127);  // -122.25 -> -122 - 5
  // ReLU: act_min = zero point -5; ReLU6-like act_max = 20
  EXPECT_EQ(pocket_requantize_s8(-10, kThreeQuarters, 0, -5, -5, 20), -5);
  EXPECT_EQ(pocket_requantize_s8(30, kThreeQuarters, 0, -5, -5, 20), 18);  // 22.5 -> 23 - 5
  EXPECT_EQ(pocket_requantize_s8(40, kThreeQuarters, 0, -5, -5, 20), 20);  // 30 - 5 = 25 -> 20
  // Degenerate clamp: a constant output
  EXPECT_EQ(pocket_requantize_s8(kInt32Min, kMaxMultiplier, -31, 0, 7, 7), 7);
  // The largest products saturate instead of wrapping
  EXPECT_EQ(pocket_requantize_s8(kInt32Max, kMaxMultiplier, -31, 127, -128, 127), 127);
  EXPECT_EQ(pocket_requantize_s8(kInt32Min, kMaxMultiplier, -31, -128, -128, 127), -128);
}

TEST(Requant, RoundShiftPrimitive) {
  EXPECT_EQ(pocket_round_shift_s64(5, 0), 5);
  EXPECT_EQ(pocket_round_shift_s64(-5, 0), -5);
  EXPECT_EQ(pocket_round_shift_s64(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(pocket_round_shift_s64(-5, 1), -3);  // -2.5 -> -3
  EXPECT_EQ(pocket_round_shift_s64(-6, 2), -2);  // -1.5 -> -2
  EXPECT_EQ(pocket_round_shift_s64(-5, 2), -1);  // -1.25 -> -1
  EXPECT_EQ(pocket_round_shift_s64(int64_t{1} << 62, 63), 1);        // 0.5 -> 1
  EXPECT_EQ(pocket_round_shift_s64((int64_t{1} << 62) - 1, 63), 0);  // just below 0.5
  EXPECT_EQ(pocket_round_shift_s64(-(int64_t{1} << 62), 63), -1);
  EXPECT_EQ(pocket_round_shift_s64(std::numeric_limits<int64_t>::max(), 63), 1);
  EXPECT_EQ(pocket_round_shift_s64(std::numeric_limits<int64_t>::min() + 1, 1),
            -(int64_t{1} << 62));  // -(2^63 - 1) / 2 = -2^62 + 0.5 -> -2^62
}

TEST(Requant, RoundShiftExhaustiveInt16) {
  for (int exponent = 0; exponent <= 63; ++exponent) {
    for (int64_t value = -32768; value <= 32767; ++value) {
      const int64_t expected = static_cast<int64_t>(ref_round_div(value, pow2(exponent)));
      if (pocket_round_shift_s64(value, exponent) != expected) {
        FAIL() << "pocket_round_shift_s64(" << value << ", " << exponent << ") = "
               << pocket_round_shift_s64(value, exponent) << ", expected " << expected;
      }
    }
  }
}

TEST(Requant, RoundDivExhaustive) {
  // All int16 numerators for divisors 1..64 (the pooling counts), then large magnitudes.
  for (int32_t divisor = 1; divisor <= 64; ++divisor) {
    for (int32_t value = -32768; value <= 32767; ++value) {
      const int64_t expected = static_cast<int64_t>(ref_round_div(value, divisor));
      if (pocket_round_div_s32(value, divisor) != expected) {
        FAIL() << "pocket_round_div_s32(" << value << ", " << divisor << ") = "
               << pocket_round_div_s32(value, divisor) << ", expected " << expected;
      }
    }
  }
  Random rng(7);
  for (int i = 0; i < 200000; ++i) {
    const int32_t value = rng.int32(-kInt32Max, kInt32Max);
    const int32_t divisor = rng.coin() ? rng.int32(1, 1 << 16) : rng.int32(1, kInt32Max);
    ASSERT_EQ(pocket_round_div_s32(value, divisor), static_cast<int64_t>(ref_round_div(value, divisor)))
        << "value=" << value << " divisor=" << divisor;
  }
  EXPECT_EQ(pocket_round_div_s32(kInt32Max, 1), kInt32Max);
  EXPECT_EQ(pocket_round_div_s32(-kInt32Max, 2), -1073741824);  // -1073741823.5 -> away
  EXPECT_EQ(pocket_round_div_s32(kInt32Max, kInt32Max), 1);
  EXPECT_EQ(pocket_round_div_s32(-7, 14), -1);  // -0.5 -> -1
  EXPECT_EQ(pocket_round_div_s32(7, 14), 1);
  EXPECT_EQ(pocket_round_div_s32(4, 9), 0);
  EXPECT_EQ(pocket_round_div_s32(5, 9), 1);
}

// Multipliers covering the corners: M near 1 from below, tiny, large, round and arbitrary.
std::vector<std::pair<int32_t, int32_t>> sweep_multipliers() {
  std::vector<std::pair<int32_t, int32_t>> out = {
      {kHalf, 0},          {kHalf, 1},           {kHalf, 15},       {kHalf, 31},
      {kHalf, -1},         {kHalf, -16},         {kHalf, -31},      {kMaxMultiplier, 0},
      {kMaxMultiplier, -1}, {kMaxMultiplier, 31}, {kThreeQuarters, 3}, {kThird, 1},
      {kThird, 7},         {kHalf + 1, 8},       {0, 0},            {1, 0},
      {3, -31},            {1234567891, 12},     {2000000001, 20},  {1100000000, 9}};
  Random rng(2024);
  for (int i = 0; i < 12; ++i) {
    out.emplace_back(rng.int32(kHalf, kMaxMultiplier), rng.int32(-31, 31));
  }
  return out;
}

TEST(Requant, ExhaustiveInt16AccumulatorsAgainstRationalMath) {
  for (const auto& [multiplier, shift] : sweep_multipliers()) {
    for (int32_t acc = -32768; acc <= 32767; ++acc) {
      const int64_t expected = ref_multiply_round(acc, multiplier, shift);
      const int64_t got = pocket_multiply_round(acc, multiplier, shift);
      if (got != expected) {
        FAIL() << "acc=" << acc << " multiplier=" << multiplier << " shift=" << shift
               << ": got " << got << ", expected " << expected;
      }
      const int32_t saturated = ref_clamp(expected, kInt32Min, kInt32Max);
      if (pocket_requantize(acc, multiplier, shift) != saturated) {
        FAIL() << "pocket_requantize acc=" << acc << " multiplier=" << multiplier
               << " shift=" << shift << ": expected " << saturated;
      }
    }
  }
}

TEST(Requant, ExhaustiveInt8OutputAgainstRationalMath) {
  const int32_t zero_points[] = {-128, -5, 0, 77, 127};
  const std::pair<int32_t, int32_t> clamps[] = {{-128, 127}, {-5, 127}, {-5, 20}, {3, 3}};
  for (const auto& [multiplier, shift] : sweep_multipliers()) {
    for (int32_t zero_point : zero_points) {
      for (const auto& [act_min, act_max] : clamps) {
        for (int32_t acc = -32768; acc <= 32767; acc += 1) {
          const int32_t expected =
              ref_requant_s8(acc, multiplier, shift, zero_point, act_min, act_max);
          const int32_t got =
              pocket_requantize_s8(acc, multiplier, shift, zero_point, act_min, act_max);
          if (got != expected) {
            FAIL() << "acc=" << acc << " multiplier=" << multiplier << " shift=" << shift
                   << " zero_point=" << zero_point << " act=[" << act_min << ", " << act_max
                   << "]: got " << got << ", expected " << expected;
          }
        }
      }
    }
  }
}

TEST(Requant, RandomFullRangeAccumulators) {
  Random rng(99);
  for (int i = 0; i < 500000; ++i) {
    const int32_t acc = rng.int32(kInt32Min, kInt32Max);
    const int32_t multiplier = rng.coin() ? rng.int32(kHalf, kMaxMultiplier) : rng.int32(0, kMaxMultiplier);
    const int32_t shift = rng.int32(-31, 31);
    ASSERT_EQ(pocket_multiply_round(acc, multiplier, shift), ref_multiply_round(acc, multiplier, shift))
        << "acc=" << acc << " multiplier=" << multiplier << " shift=" << shift;
  }
}

TEST(Requant, MonotonicInTheAccumulator) {
  // Max-pool after requantization equals requantization after max-pool because of this.
  for (const auto& [multiplier, shift] : sweep_multipliers()) {
    int32_t previous = pocket_requantize_s8(-32768, multiplier, shift, 3, -128, 127);
    for (int32_t acc = -32767; acc <= 32767; ++acc) {
      const int32_t current = pocket_requantize_s8(acc, multiplier, shift, 3, -128, 127);
      ASSERT_LE(previous, current) << "acc=" << acc << " multiplier=" << multiplier << " shift=" << shift;
      previous = current;
    }
  }
}

}  // namespace
}  // namespace pocket::rt_test
