// pocket_add_s8: exhaustive over all 256 x 256 input pairs for several parameter sets, against
// exact rationals, and against real-number math for parameters from qmath.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <vector>

#include "pocket/qmath.hpp"
#include "pocket_runtime.h"
#include "runtime/reference.hpp"

namespace pocket::rt_test {
namespace {

std::string describe(const pocket_add_params& p) {
  std::ostringstream s;
  s << "add zp(in1,in2,out)=(" << p.input1_zero_point << "," << p.input2_zero_point << "," << p.output_zero_point
    << ") multipliers=(" << p.input1_multiplier << "," << p.input2_multiplier << ") shift=" << p.shift << " act=["
    << p.act_min << "," << p.act_max << "]";
  return s.str();
}

// Runs the kernel on every (a, b) pair and compares with the exact formula.
void check_all_pairs(pocket_add_params p) {
  std::vector<int8_t> input1, input2;
  for (int a = -128; a <= 127; ++a)
    for (int b = -128; b <= 127; ++b) {
      input1.push_back(static_cast<int8_t>(a));
      input2.push_back(static_cast<int8_t>(b));
    }
  p.element_count = static_cast<int32_t>(input1.size());
  std::vector<int32_t> expected;
  for (size_t i = 0; i < input1.size(); ++i) {
    const i128 sum = static_cast<i128>(input1[i] - p.input1_zero_point) * p.input1_multiplier +
                     static_cast<i128>(input2[i] - p.input2_zero_point) * p.input2_multiplier;
    expected.push_back(ref_clamp(static_cast<int64_t>(ref_round_div(sum, pow2(31 + p.shift))) + p.output_zero_point,
                                 p.act_min, p.act_max));
  }
  const std::string description = describe(p);
  GuardedOutput output(expected.size(), 0x55);
  ASSERT_EQ(pocket_add_s8(&p, input1.data(), input2.data(), output.data()), POCKET_OK) << description;
  ASSERT_TRUE(output.guards_intact());
  ASSERT_TRUE(same_outputs(expected, output.data(), description));
  // In place: output aliasing input1, then input2.
  std::vector<int8_t> in_place = input1;
  ASSERT_EQ(pocket_add_s8(&p, in_place.data(), input2.data(), in_place.data()), POCKET_OK);
  ASSERT_TRUE(same_outputs(expected, in_place.data(), description + " (in place on input1)"));
  in_place = input2;
  ASSERT_EQ(pocket_add_s8(&p, input1.data(), in_place.data(), in_place.data()), POCKET_OK);
  ASSERT_TRUE(same_outputs(expected, in_place.data(), description + " (in place on input2)"));
}

TEST(Add, ExhaustivePairsHandPickedParameters) {
  const int32_t half = 1 << 30;
  // {element_count (set later), zp1, zp2, zp_out, m1, m2, shift, act_min, act_max}
  const pocket_add_params cases[] = {
      {0, 0, 0, 0, half, half, -1, -128, 127},             // out = in1 + in2 (M = 1 each)
      {0, 0, 0, 0, half, half, 0, -128, 127},              // out = (in1 + in2) / 2: ties away
      {0, -3, 5, 7, half, half / 2, 1, -128, 127},         // 0.25 a + 0.125 b
      {0, 127, -128, 0, 2147483647, 1, 0, -128, 127},      // M2 tiny
      {0, -128, 127, -128, 1234567890, 2000000000, -2, -128, 127},
      {0, 10, -20, 3, 1610612736, 1073741824, 0, 3, 60},  // ReLU-like clamp
      {0, 0, 0, 0, 0, 0, 0, -128, 127},                    // M = 0: constant zero point
      {0, 0, 0, 9, half, half, 31, 9, 9},                  // degenerate clamp
      {0, 5, 6, 7, 2147483647, 2147483647, -31, -128, 127},  // saturating
  };
  for (const pocket_add_params& p : cases) {
    check_all_pairs(p);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(Add, ExhaustivePairsRandomParameters) {
  Random rng(77);
  for (int trial = 0; trial < 24; ++trial) {
    pocket_add_params p{};
    p.input1_zero_point = rng.int32(-128, 127);
    p.input2_zero_point = rng.int32(-128, 127);
    p.output_zero_point = rng.int32(-128, 127);
    p.input1_multiplier = rng.int32(0, 2147483647);
    p.input2_multiplier = rng.int32(0, 2147483647);
    p.shift = rng.int32(-2, 12);
    p.act_min = rng.int32(-128, 0);
    p.act_max = rng.int32(0, 127);
    check_all_pairs(p);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// With parameters from qmath, the integer add is within half an LSB (plus the multiplier error)
// of real arithmetic, and exact away from ties.
TEST(Add, MatchesRealArithmeticWithQmathParameters) {
  Random rng(78);
  for (int trial = 0; trial < 30; ++trial) {
    const double s1 = std::exp2(-8.0 + 6.0 * rng.unit()), s2 = std::exp2(-8.0 + 6.0 * rng.unit());
    const double s_out = (s1 + s2) * (0.5 + rng.unit());
    const int32_t zp1 = rng.int32(-128, 127), zp2 = rng.int32(-128, 127), zp_out = rng.int32(-128, 127);
    const auto pair = qmath::quantize_multiplier_pair(s1 / s_out, s2 / s_out);
    ASSERT_TRUE(pair.is_ok());
    pocket_add_params p{1, zp1, zp2, zp_out, pair->multiplier1, pair->multiplier2, pair->shift, -128, 127};
    for (int a = -128; a <= 127; ++a)
      for (int b = -128; b <= 127; ++b) {
        const int8_t in1 = static_cast<int8_t>(a), in2 = static_cast<int8_t>(b);
        int8_t out = 0;
        ASSERT_EQ(pocket_add_s8(&p, &in1, &in2, &out), POCKET_OK);
        const double real = (s1 * (a - zp1) + s2 * (b - zp2)) / s_out + zp_out;
        const double clamped = std::clamp(real, -128.0, 127.0);
        ASSERT_LE(std::fabs(out - clamped), 0.5 + 1e-6) << describe(p) << " a=" << a << " b=" << b;
        if (std::fabs(real - std::floor(real) - 0.5) > 1e-6 && real > -128.5 && real < 127.5) {
          ASSERT_EQ(out, std::round(real)) << describe(p) << " a=" << a << " b=" << b;
        }
      }
  }
}

TEST(Add, RejectsBadParameters) {
  int8_t a[2] = {}, b[2] = {}, out[2] = {};
  const pocket_add_params good{2, 0, 0, 0, 1 << 30, 1 << 30, 0, -128, 127};
  ASSERT_EQ(pocket_add_s8(&good, a, b, out), POCKET_OK);
  EXPECT_EQ(pocket_add_s8(nullptr, a, b, out), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_add_s8(&good, a, nullptr, out), POCKET_ERR_NULL_POINTER);
  pocket_add_params p = good;
  p.element_count = 0;
  EXPECT_EQ(pocket_add_check(&p), POCKET_ERR_BAD_SHAPE);
  p = good;
  p.shift = 32;
  EXPECT_EQ(pocket_add_check(&p), POCKET_ERR_BAD_QUANT);
  p = good;
  p.input2_multiplier = -1;
  EXPECT_EQ(pocket_add_check(&p), POCKET_ERR_BAD_QUANT);
  p = good;
  p.output_zero_point = 128;
  EXPECT_EQ(pocket_add_check(&p), POCKET_ERR_BAD_QUANT);
  p = good;
  p.act_min = 3;
  p.act_max = 2;
  EXPECT_EQ(pocket_add_check(&p), POCKET_ERR_BAD_QUANT);
}

}  // namespace
}  // namespace pocket::rt_test
