// pocket_fully_connected_s8_fast* against the reference pocket_fully_connected_s8, byte for byte,
// for every variant this CPU supports.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "fastkernels/fast_tester.hpp"
#include "pocket/fastkernels.hpp"
#include "pocket_runtime.h"

namespace pocket::fast_test {
namespace {

class FastFcTester {
 public:
  FastFcTester& batches(int32_t v) { batches_ = v; return *this; }
  FastFcTester& features(int32_t in, int32_t out) { input_features_ = in; output_features_ = out; return *this; }
  FastFcTester& zero_points(int32_t input, int32_t output) { input_zero_point_ = input; output_zero_point_ = output; return *this; }
  FastFcTester& clamp(int32_t lo, int32_t hi) { act_min_ = lo; act_max_ = hi; return *this; }
  FastFcTester& per_channel(bool v) { per_channel_ = v; return *this; }
  FastFcTester& with_bias(bool v) { with_bias_ = v; return *this; }
  FastFcTester& multiplier_scale(double v) { multiplier_scale_ = v; return *this; }
  FastFcTester& input_range(int lo, int hi) { input_lo_ = lo; input_hi_ = hi; return *this; }
  FastFcTester& weight_range(int lo, int hi) { weight_lo_ = lo; weight_hi_ = hi; return *this; }
  FastFcTester& bias_range(int64_t v) { bias_range_ = v; return *this; }

  std::string describe(uint64_t seed) const {
    std::ostringstream s;
    s << "fully_connected seed=" << seed << " batches=" << batches_ << " features(in,out)=(" << input_features_
      << "," << output_features_ << ") zp(in,out)=(" << input_zero_point_ << "," << output_zero_point_
      << ") act=[" << act_min_ << "," << act_max_ << "] per_channel=" << per_channel_ << " bias=" << with_bias_
      << " multiplier_scale=" << multiplier_scale_ << " input_range=[" << input_lo_ << "," << input_hi_
      << "] weight_range=[" << weight_lo_ << "," << weight_hi_ << "]";
    return s.str();
  }

  void Test(uint64_t seed) {
    const std::string description = describe(seed);
    SCOPED_TRACE(description);
    Random rng(seed);
    input_ = rng.int8s(static_cast<size_t>(batches_) * input_features_, input_lo_, input_hi_);
    weights_ = rng.int8s(static_cast<size_t>(output_features_) * input_features_, weight_lo_, weight_hi_);
    const double input_rms = std::sqrt(5461.0 + (input_zero_point_ + 0.5) * (input_zero_point_ + 0.5));
    const double acc_rms = std::sqrt(static_cast<double>(input_features_)) * input_rms * 73.6;
    const double base = 60.0 / acc_rms * multiplier_scale_;
    const TestMultiplier shared = random_multiplier(rng, base);
    const int64_t bias_range = bias_range_ >= 0 ? bias_range_ : static_cast<int64_t>(acc_rms);
    multipliers_.clear();
    shifts_.clear();
    bias_.clear();
    for (int32_t o = 0; o < output_features_; ++o) {
      const TestMultiplier m = per_channel_ ? random_multiplier(rng, base * std::exp2(2.0 * rng.unit() - 1.0)) : shared;
      multipliers_.push_back(m.multiplier);
      shifts_.push_back(m.shift);
      bias_.push_back(rng.int32(-bias_range, bias_range));
    }
    pocket_fully_connected_params p{};
    p.batches = batches_;
    p.input_features = input_features_;
    p.output_features = output_features_;
    p.input_zero_point = input_zero_point_;
    p.output_zero_point = output_zero_point_;
    p.output_multiplier = multipliers_.data();
    p.output_shift = shifts_.data();
    p.act_min = act_min_;
    p.act_max = act_max_;
    const int32_t* bias = with_bias_ ? bias_.data() : nullptr;

    const size_t size = static_cast<size_t>(batches_) * output_features_;
    std::vector<int8_t> expected(size);
    ASSERT_EQ(pocket_fully_connected_s8(&p, input_.data(), weights_.data(), bias, expected.data(), nullptr), POCKET_OK);

    for (const pocket_fast_variant variant : variants_to_test()) {
      SCOPED_TRACE(std::string("variant ") + pocket_fast_variant_name(variant));
      int64_t packed_bytes = 0, scratch_bytes = 0;
      ASSERT_EQ(pocket_fully_connected_s8_fast_plan(variant, &p, bias, &packed_bytes, &scratch_bytes), POCKET_OK);
      const size_t skew = static_cast<size_t>(seed % 11);
      std::vector<uint8_t> packed(static_cast<size_t>(packed_bytes) + skew, 0xA5);
      std::vector<uint8_t> scratch(static_cast<size_t>(scratch_bytes) + skew + 1, 0x5A);
      ASSERT_EQ(pocket_fully_connected_s8_fast_pack(variant, &p, weights_.data(), bias, packed.data() + skew,
                                                    packed_bytes),
                POCKET_OK);
      ASSERT_EQ(pocket_fast_packed_variant(packed.data() + skew), variant);
      for (const int8_t fill : {int8_t{0x55}, int8_t{-0x56}}) {
        GuardedOutput output(size, fill);
        ASSERT_EQ(pocket_fully_connected_s8_fast_run(&p, packed.data() + skew, input_.data(), output.data(),
                                                     scratch.data() + skew),
                  POCKET_OK);
        ASSERT_TRUE(output.guards_intact()) << "wrote outside the output";
        ASSERT_TRUE(same_bytes(expected, output.data(), description));
      }
    }

    std::vector<uint8_t> scratch(static_cast<size_t>(pocket_fully_connected_s8_fast_scratch_bytes(&p)) + 1, 0x33);
    GuardedOutput output(size, 0x11);
    ASSERT_EQ(pocket_fully_connected_s8_fast(&p, input_.data(), weights_.data(), bias, output.data(), scratch.data()),
              POCKET_OK);
    ASSERT_TRUE(output.guards_intact());
    ASSERT_TRUE(same_bytes(expected, output.data(), description + " (drop-in, " + pocket_fast_isa() + ")"));
  }

 private:
  int32_t batches_ = 1, input_features_ = 7, output_features_ = 5;
  int32_t input_zero_point_ = 0, output_zero_point_ = 0, act_min_ = -128, act_max_ = 127;
  bool per_channel_ = true, with_bias_ = true;
  double multiplier_scale_ = 1.0;
  int input_lo_ = -128, input_hi_ = 127, weight_lo_ = -127, weight_hi_ = 127;
  int64_t bias_range_ = -1;
  std::vector<int8_t> input_, weights_;
  std::vector<int32_t> multipliers_, shifts_, bias_;
};

#define RETURN_ON_FATAL() \
  if (::testing::Test::HasFatalFailure()) return

// Every feature count around the register widths (2/4 inputs per lane step, 8/16 lanes, 8 blocks
// per register tile).
TEST(FullyConnectedFast, FeatureCounts) {
  uint64_t seed = 1;
  for (int32_t in = 1; in <= 70; ++in)
    for (int32_t out : {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 120, 127, 128, 129, 140, 257}) {
      FastFcTester()
          .features(in, out)
          .zero_points(static_cast<int32_t>(seed % 256) - 128, static_cast<int32_t>(seed * 5 % 256) - 128)
          .per_channel(seed % 3 != 0)
          .Test(seed);
      ++seed;
      RETURN_ON_FATAL();
    }
}

TEST(FullyConnectedFast, LeNetLayers) {
  uint64_t seed = 500;
  for (int32_t batches : {1, 2, 5}) {
    FastFcTester().batches(batches).features(400, 120).zero_points(-128, -128).Test(seed++);
    RETURN_ON_FATAL();
    FastFcTester().batches(batches).features(120, 84).zero_points(-128, -128).Test(seed++);
    RETURN_ON_FATAL();
    FastFcTester().batches(batches).features(84, 10).zero_points(-128, 17).Test(seed++);
    RETURN_ON_FATAL();
  }
}

TEST(FullyConnectedFast, ClampEdgesExtremeDataAndZeroPoints) {
  uint64_t seed = 1000;
  const std::pair<int32_t, int32_t> clamps[] = {{-128, 127}, {-20, 33}, {5, 5}, {-128, -128}, {127, 127}};
  const std::pair<int, int> ranges[] = {{-128, -128}, {127, 127}, {-128, 127}};
  for (const auto& [lo, hi] : clamps)
    for (int32_t in_zp : {-128, 0, 127})
      for (const auto& [dlo, dhi] : ranges)
        for (const auto& [wlo, whi] : ranges)
          for (bool bias : {false, true}) {
            const uint64_t case_seed = seed++;
            FastFcTester()
                .batches(2)
                .features(37, 19)
                .zero_points(in_zp, -5)
                .clamp(lo, hi)
                .input_range(dlo, dhi)
                .weight_range(wlo, whi)
                .with_bias(bias)
                .multiplier_scale(case_seed % 4 == 0 ? 1000.0 : 1.0)
                .Test(case_seed);
            RETURN_ON_FATAL();
          }
}

TEST(FullyConnectedFast, RandomShapes) {
  for (uint64_t seed = 2000; seed < 2400; ++seed) {
    Random rng(seed);
    int32_t lo = rng.int32(-128, 127), hi = rng.int32(-128, 127);
    if (lo > hi) std::swap(lo, hi);
    if (rng.coin()) { lo = -128; hi = 127; }
    FastFcTester()
        .batches(rng.int32(1, 4))
        .features(rng.int32(1, 600), rng.int32(1, 150))
        .zero_points(rng.int32(-128, 127), rng.int32(-128, 127))
        .clamp(lo, hi)
        .per_channel(rng.coin())
        .with_bias(rng.coin())
        .multiplier_scale(std::exp2(rng.unit() * 10.0 - 5.0))
        .Test(seed);
    RETURN_ON_FATAL();
  }
}

// The largest accepted fan-ins: wrapped partial sums must still give the exact result.
TEST(FullyConnectedFast, AccumulatorLimitWrapsExactly) {
  uint64_t seed = 3000;
  for (const auto& [lo, hi, wlo, whi] : {std::tuple{127, 127, -128, -128}, std::tuple{-128, 127, -128, 127},
                                         std::tuple{127, 127, 127, 127}}) {
    FastFcTester()
        .features(131071, 5)
        .zero_points(0, 3)
        .input_range(lo, hi)
        .weight_range(wlo, whi)
        .bias_range(16383)
        .multiplier_scale(50.0)
        .Test(seed++);
    RETURN_ON_FATAL();
  }
  FastFcTester().features(65793, 3).zero_points(127, 0).input_range(-128, -128).weight_range(-128, -128)
      .bias_range(127).Test(seed++);
}

TEST(FullyConnectedFast, SameStatusesAsReference) {
  int32_t multiplier[2] = {1 << 30, 1 << 30}, shift[2] = {3, 3};
  int8_t input[64] = {}, weights[64] = {};
  pocket_fully_connected_params good{};
  good.batches = 1; good.input_features = 4; good.output_features = 2;
  good.output_multiplier = multiplier; good.output_shift = shift; good.act_min = -128; good.act_max = 127;
  const auto expect = [&](auto mutate, const char* what, const int32_t* bias = nullptr) {
    pocket_fully_connected_params p = good;
    mutate(p);
    const pocket_status reference = pocket_fully_connected_s8_check(&p, bias);
    std::vector<uint8_t> scratch(1 << 16, 0);
    int8_t sentinel[64];
    std::fill(std::begin(sentinel), std::end(sentinel), int8_t{77});
    EXPECT_EQ(pocket_fully_connected_s8_fast(&p, input, weights, bias, sentinel, scratch.data()), reference) << what;
    if (reference != POCKET_OK) {
      for (int8_t v : sentinel) ASSERT_EQ(v, 77) << "wrote output on error: " << what;
    }
    for (const pocket_fast_variant variant : variants_to_test()) {
      int64_t packed_bytes = 0, scratch_bytes = 0;
      EXPECT_EQ(pocket_fully_connected_s8_fast_plan(variant, &p, bias, &packed_bytes, &scratch_bytes), reference)
          << what << " " << pocket_fast_variant_name(variant);
      EXPECT_EQ(pocket_fully_connected_s8_fast_pack(variant, &p, weights, bias, scratch.data(), 1 << 16), reference)
          << what << " " << pocket_fast_variant_name(variant);
    }
  };
  using P = pocket_fully_connected_params;
  expect([](P&) {}, "good");
  expect([](P& p) { p.output_multiplier = nullptr; }, "no multipliers");
  expect([](P& p) { p.batches = 0; }, "batches 0");
  expect([](P& p) { p.input_features = 0; }, "no inputs");
  expect([](P& p) { p.input_features = 70000; p.output_features = 70000; }, "too large");
  expect([](P& p) { p.output_zero_point = 128; }, "zero point 128");
  expect([](P& p) { p.act_min = 1; p.act_max = 0; }, "empty clamp");
  static int32_t bad_multiplier[2] = {-1, 1};
  expect([](P& p) { p.output_multiplier = bad_multiplier; }, "negative multiplier");
  static const int32_t huge_bias[2] = {0, -2147483647};
  expect([](P&) {}, "bias beyond the accumulator range", huge_bias);

  int8_t output[64];
  std::vector<uint8_t> scratch(1 << 16);
  EXPECT_EQ(pocket_fully_connected_s8_fast(&good, nullptr, weights, nullptr, output, scratch.data()), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_fully_connected_s8_fast(&good, input, nullptr, nullptr, output, scratch.data()), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_fully_connected_s8_fast(&good, input, weights, nullptr, nullptr, scratch.data()), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_fully_connected_s8_fast(&good, input, weights, nullptr, output, nullptr), POCKET_OK);

  // run() refuses other parameters.
  for (const pocket_fast_variant variant : variants_to_test()) {
    int64_t packed_bytes = 0, scratch_bytes = 0;
    ASSERT_EQ(pocket_fully_connected_s8_fast_plan(variant, &good, nullptr, &packed_bytes, &scratch_bytes), POCKET_OK);
    std::vector<uint8_t> packed(static_cast<size_t>(packed_bytes)), run_scratch(static_cast<size_t>(scratch_bytes) + 1);
    ASSERT_EQ(pocket_fully_connected_s8_fast_pack(variant, &good, weights, nullptr, packed.data(), packed_bytes), POCKET_OK);
    EXPECT_EQ(pocket_fully_connected_s8_fast_run(&good, packed.data(), input, output, run_scratch.data()), POCKET_OK);
    P other = good;
    other.input_zero_point = 1;
    EXPECT_EQ(pocket_fully_connected_s8_fast_run(&other, packed.data(), input, output, run_scratch.data()),
              POCKET_ERR_BAD_SHAPE);
    other = good;
    other.batches = 2;
    EXPECT_EQ(pocket_fully_connected_s8_fast_run(&other, packed.data(), input, output, run_scratch.data()),
              POCKET_ERR_BAD_SHAPE);
    int32_t other_multiplier[2] = {1 << 30, (1 << 30) + 1};
    other = good;
    other.output_multiplier = other_multiplier;
    EXPECT_EQ(pocket_fully_connected_s8_fast_run(&other, packed.data(), input, output, run_scratch.data()),
              POCKET_ERR_BAD_SHAPE);
    // Zeros are not a blob.
    EXPECT_EQ(pocket_fully_connected_s8_fast_run(&good, scratch.data(), input, output, run_scratch.data()),
              POCKET_ERR_BAD_SHAPE);
  }
}

}  // namespace
}  // namespace pocket::fast_test
