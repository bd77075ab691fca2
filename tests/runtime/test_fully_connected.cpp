// pocket_fully_connected_s8 against an int64 / exact-rational reference.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "pocket_runtime.h"
#include "runtime/reference.hpp"

namespace pocket::rt_test {
namespace {

class FullyConnectedTester {
 public:
  FullyConnectedTester& batches(int32_t v) { batches_ = v; return *this; }
  FullyConnectedTester& features(int32_t in, int32_t out) { input_features_ = in; output_features_ = out; return *this; }
  FullyConnectedTester& zero_points(int32_t in, int32_t out) { input_zero_point_ = in; output_zero_point_ = out; return *this; }
  FullyConnectedTester& clamp(int32_t lo, int32_t hi) { act_min_ = lo; act_max_ = hi; return *this; }
  FullyConnectedTester& per_channel(bool v) { per_channel_ = v; return *this; }
  FullyConnectedTester& with_bias(bool v) { with_bias_ = v; return *this; }
  FullyConnectedTester& multiplier_scale(double v) { multiplier_scale_ = v; return *this; }

  std::string describe(uint64_t seed) const {
    std::ostringstream s;
    s << "fully_connected seed=" << seed << " batches=" << batches_ << " features(in,out)=(" << input_features_
      << "," << output_features_ << ") zp(in,out)=(" << input_zero_point_ << "," << output_zero_point_
      << ") act=[" << act_min_ << "," << act_max_ << "] per_channel=" << per_channel_ << " bias=" << with_bias_
      << " multiplier_scale=" << multiplier_scale_;
    return s.str();
  }

  void Test(uint64_t seed) const {
    const std::string description = describe(seed);
    SCOPED_TRACE(description);
    Random rng(seed);
    const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(batches_ * input_features_));
    const std::vector<int8_t> weights = rng.int8s(static_cast<size_t>(output_features_ * input_features_), -127, 127);
    const double input_rms = std::sqrt(5461.0 + (input_zero_point_ + 0.5) * (input_zero_point_ + 0.5));
    const double acc_rms = std::sqrt(static_cast<double>(input_features_)) * input_rms * 73.6;
    const double base = 60.0 / acc_rms * multiplier_scale_;
    std::vector<int32_t> multiplier, shift, bias;
    const TestMultiplier shared = random_multiplier(rng, base);
    for (int32_t o = 0; o < output_features_; ++o) {
      const TestMultiplier m = per_channel_ ? random_multiplier(rng, base * std::exp2(2.0 * rng.unit() - 1.0)) : shared;
      multiplier.push_back(m.multiplier);
      shift.push_back(m.shift);
      bias.push_back(rng.int32(-static_cast<int64_t>(acc_rms), static_cast<int64_t>(acc_rms)));
    }
    const int32_t* bias_ptr = with_bias_ ? bias.data() : nullptr;

    // Reference: int64 dot products, exact rational requantization.
    std::vector<int32_t> expected;
    for (int32_t b = 0; b < batches_; ++b)
      for (int32_t o = 0; o < output_features_; ++o) {
        int64_t acc = bias_ptr ? bias_ptr[o] : 0;
        for (int32_t i = 0; i < input_features_; ++i)
          acc += (int64_t{input[static_cast<size_t>(b * input_features_ + i)]} - input_zero_point_) *
                 weights[static_cast<size_t>(o * input_features_ + i)];
        expected.push_back(ref_requant_s8(acc, multiplier[static_cast<size_t>(o)], shift[static_cast<size_t>(o)],
                                          output_zero_point_, act_min_, act_max_));
      }

    pocket_fully_connected_params p{batches_, input_features_, output_features_, input_zero_point_, output_zero_point_,
                                    multiplier.data(), shift.data(), act_min_, act_max_};
    ASSERT_EQ(pocket_fully_connected_s8_check(&p, bias_ptr), POCKET_OK);
    ASSERT_EQ(pocket_fully_connected_s8_scratch_bytes(&p), 0);
    for (const int8_t fill : {int8_t{0x55}, int8_t{-0x56}}) {
      GuardedOutput output(expected.size(), fill);
      ASSERT_EQ(pocket_fully_connected_s8(&p, input.data(), weights.data(), bias_ptr, output.data(), nullptr), POCKET_OK);
      ASSERT_TRUE(output.guards_intact());
      ASSERT_TRUE(same_outputs(expected, output.data(), description));
    }
  }

 private:
  int32_t batches_ = 1, input_features_ = 16, output_features_ = 10;
  int32_t input_zero_point_ = 0, output_zero_point_ = 0, act_min_ = -128, act_max_ = 127;
  bool per_channel_ = true, with_bias_ = true;
  double multiplier_scale_ = 1.0;
};

TEST(FullyConnected, OddFeatureCounts) {
  uint64_t seed = 1;
  for (int32_t in = 1; in <= 70; in += 3)
    for (int32_t out = 1; out <= 23; out += 2) {
      const uint64_t case_seed = seed++;
      FullyConnectedTester().features(in, out).zero_points(static_cast<int32_t>(case_seed % 256) - 128, 3).Test(case_seed);
      if (::testing::Test::HasFatalFailure()) return;
    }
}

TEST(FullyConnected, LeNetShapesAndBatches) {
  uint64_t seed = 100;
  for (const auto& [in, out] : {std::pair{400, 120}, std::pair{120, 84}, std::pair{84, 10}, std::pair{1024, 10}})
    for (int32_t batches : {1, 3}) {
      FullyConnectedTester().batches(batches).features(in, out).zero_points(-128, -5).clamp(-5, 127).Test(seed++);
      FullyConnectedTester().batches(batches).features(in, out).per_channel(false).with_bias(false).Test(seed++);
    }
}

TEST(FullyConnected, ClampsZeroPointsAndSaturation) {
  uint64_t seed = 200;
  for (const auto& [lo, hi] : {std::pair{-128, 127}, std::pair{0, 0}, std::pair{-128, -100}, std::pair{100, 127}})
    for (int32_t zp : {-128, 0, 127})
      for (double scale : {0.001, 1.0, 1000.0}) {
        FullyConnectedTester().features(37, 9).zero_points(zp, -zp / 2).clamp(lo, hi).multiplier_scale(scale).Test(seed++);
        if (::testing::Test::HasFatalFailure()) return;
      }
}

TEST(FullyConnected, RejectsBadParameters) {
  int32_t multiplier = 1 << 30, shift = 0;
  int8_t input[4] = {}, weights[4] = {}, output[4] = {};
  pocket_fully_connected_params good{1, 4, 1, 0, 0, &multiplier, &shift, -128, 127};
  ASSERT_EQ(pocket_fully_connected_s8(&good, input, weights, nullptr, output, nullptr), POCKET_OK);
  EXPECT_EQ(pocket_fully_connected_s8(&good, nullptr, weights, nullptr, output, nullptr), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_fully_connected_s8(nullptr, input, weights, nullptr, output, nullptr), POCKET_ERR_NULL_POINTER);
  pocket_fully_connected_params p = good;
  p.output_features = 0;
  EXPECT_EQ(pocket_fully_connected_s8(&p, input, weights, nullptr, output, nullptr), POCKET_ERR_BAD_SHAPE);
  p = good;
  p.input_features = 1 << 20;
  p.output_features = 1 << 12;
  EXPECT_EQ(pocket_fully_connected_s8_check(&p, nullptr), POCKET_ERR_BAD_SHAPE);  // weights > INT32_MAX
  p = good;
  p.input_zero_point = -129;
  EXPECT_EQ(pocket_fully_connected_s8(&p, input, weights, nullptr, output, nullptr), POCKET_ERR_BAD_QUANT);
  p = good;
  shift = -32;
  EXPECT_EQ(pocket_fully_connected_s8(&p, input, weights, nullptr, output, nullptr), POCKET_ERR_BAD_QUANT);
  shift = 0;
  p.input_features = 65794;  // worst zero point -128 -> |x - zp| <= 255
  p.input_zero_point = -128;
  EXPECT_EQ(pocket_fully_connected_s8_check(&p, nullptr), POCKET_ERR_ACC_RANGE);
  p.input_features = 65793;
  EXPECT_EQ(pocket_fully_connected_s8_check(&p, nullptr), POCKET_OK);
  int32_t bias = -128;
  EXPECT_EQ(pocket_fully_connected_s8_check(&p, &bias), POCKET_ERR_ACC_RANGE);
}

}  // namespace
}  // namespace pocket::rt_test
