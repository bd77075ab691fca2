// pocket_conv2d_s8_fast* against the reference kernel pocket_conv2d_s8, byte for byte, for every
// variant this CPU supports: seeded sweeps over awkward shapes (odd sizes, channel counts around
// the register widths, every stride/padding combination, 1x1, depthwise and grouped, fused max and
// average pooling, clamp edges, extreme zero points and data, no bias, the accumulator limit).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "fastkernels/fast_tester.hpp"
#include "runtime/conv_case.hpp"
#include "pocket/fastkernels.hpp"
#include "pocket_runtime.h"

namespace pocket::fast_test {
namespace {

// The fast kernels against the reference kernel (parameters and data: tests/runtime/conv_case.hpp).
class FastConvTester : public rt_test::ConvCase<FastConvTester> {
 public:
  void Test(uint64_t seed) {
    const std::string description = describe(seed);
    SCOPED_TRACE(description);
    generate(seed);
    const pocket_conv2d_params p = params();
    const int32_t* bias = this->bias();

    int32_t output_height = 0, output_width = 0;
    ASSERT_EQ(pocket_conv2d_output_shape(&p, &output_height, &output_width), POCKET_OK);
    const size_t size = static_cast<size_t>(batches_) * output_height * output_width * output_channels_;
    std::vector<int8_t> expected(size);
    ASSERT_EQ(pocket_conv2d_s8(&p, input_.data(), filter_.data(), bias, expected.data(), nullptr), POCKET_OK);

    for (const pocket_fast_variant variant : variants_to_test()) {
      SCOPED_TRACE(std::string("variant ") + pocket_fast_variant_name(variant));
      int64_t packed_bytes = 0, scratch_bytes = 0;
      ASSERT_EQ(pocket_conv2d_s8_fast_plan(variant, &p, bias, &packed_bytes, &scratch_bytes), POCKET_OK);
      // Buffers at an odd offset, prefilled with garbage: the kernels align themselves and must
      // not depend on what the scratch held.
      const size_t skew = static_cast<size_t>(seed % 13);
      std::vector<uint8_t> packed(static_cast<size_t>(packed_bytes) + skew, 0xA5);
      std::vector<uint8_t> scratch(static_cast<size_t>(scratch_bytes) + skew + 1, 0x5A);
      ASSERT_EQ(pocket_conv2d_s8_fast_pack(variant, &p, filter_.data(), bias, packed.data() + skew, packed_bytes),
                POCKET_OK);
      ASSERT_EQ(pocket_fast_packed_variant(packed.data() + skew), variant) << "fell back to another variant";
      for (const int8_t fill : {int8_t{0x55}, int8_t{-0x56}}) {
        GuardedOutput output(size, fill);
        ASSERT_EQ(pocket_conv2d_s8_fast_run(&p, packed.data() + skew, input_.data(), output.data(),
                                            scratch.data() + skew),
                  POCKET_OK);
        ASSERT_TRUE(output.guards_intact()) << "wrote outside the output";
        ASSERT_TRUE(same_bytes(expected, output.data(), description));
      }
    }

    // The drop-in entry point with the selected variant.
    std::vector<uint8_t> scratch(static_cast<size_t>(pocket_conv2d_s8_fast_scratch_bytes(&p)) + 1, 0x33);
    GuardedOutput output(size, 0x11);
    ASSERT_EQ(pocket_conv2d_s8_fast(&p, input_.data(), filter_.data(), bias, output.data(), scratch.data()),
              POCKET_OK);
    ASSERT_TRUE(output.guards_intact());
    ASSERT_TRUE(same_bytes(expected, output.data(), description + " (drop-in, " + pocket_fast_isa() + ")"));
  }
};

#define RETURN_ON_FATAL() \
  if (::testing::Test::HasFatalFailure()) return

TEST(Conv2dFast, EveryStrideAndPaddingCombination) {
  const std::pair<int32_t, int32_t> kernels[] = {{1, 1}, {3, 3}, {2, 3}, {5, 4}};
  uint64_t seed = 1;
  for (const auto& [kh, kw] : kernels)
    for (int32_t sh = 1; sh <= 3; ++sh)
      for (int32_t sw = 1; sw <= 3; ++sw)
        for (int32_t top = 0; top <= 2; ++top)
          for (int32_t left = 0; left <= 2; ++left)
            for (int32_t bottom = 0; bottom <= 2; ++bottom)
              for (int32_t right = 0; right <= 2; ++right) {
                const uint64_t case_seed = seed++;
                FastConvTester()
                    .input_size(6, 11)
                    .channels(3, 5)
                    .kernel(kh, kw)
                    .stride(sh, sw)
                    .padding(top, left, bottom, right)
                    .zero_points(static_cast<int32_t>(case_seed % 256) - 128,
                                 static_cast<int32_t>(case_seed * 7 % 256) - 128)
                    .Test(case_seed);
                RETURN_ON_FATAL();
              }
}

// Output channels around the register widths (8 and 16 lanes) and input channels around the
// dot-product widths (2 and 4 bytes), with rows wider than a register tile of pixels.
TEST(Conv2dFast, ChannelCountsAroundRegisterWidths) {
  uint64_t seed = 10000;
  for (int32_t in : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33})
    for (int32_t out : {1, 2, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48}) {
      const uint64_t case_seed = seed++;
      FastConvTester()
          .input_size(4, 13)
          .channels(in, out)
          .kernel(3, 3)
          .padding(1, 1, 1, 1)
          .zero_points(static_cast<int32_t>(case_seed % 251) - 128, -3)
          .per_channel(case_seed % 2 == 0)
          .Test(case_seed);
      RETURN_ON_FATAL();
    }
}

// Every conv row width from 1 to 40: full register tiles and every tail length.
TEST(Conv2dFast, RowWidths) {
  uint64_t seed = 11000;
  for (int32_t width = 5; width <= 44; ++width)
    for (int32_t stride : {1, 2}) {
      FastConvTester()
          .input_size(6, width)
          .channels(3, stride == 1 ? 6 : 16)
          .kernel(5, 5)
          .stride(1, stride)
          .zero_points(-1, 5)
          .Test(seed++);
      RETURN_ON_FATAL();
    }
}

TEST(Conv2dFast, Depthwise) {
  uint64_t seed = 1000;
  for (int32_t channels = 1; channels <= 9; ++channels)
    for (int32_t multiplier = 1; multiplier <= 3; ++multiplier)
      for (int32_t k : {1, 3, 5})
        for (int32_t s : {1, 2})
          for (int32_t pad : {0, 1, 2}) {
            FastConvTester()
                .input_size(7, 6)
                .channels(channels, channels * multiplier)
                .groups(channels)
                .kernel(k, k)
                .stride(s, s)
                .padding(pad, pad, k > 1 ? pad : 0, pad / 2)
                .zero_points(-3, 11)
                .Test(seed++);
            RETURN_ON_FATAL();
          }
  // Depthwise with many channels and a channel multiplier beyond one register.
  FastConvTester().input_size(9, 10).channels(32, 32).groups(32).kernel(3, 3).padding(1, 1, 1, 1).Test(seed++);
  RETURN_ON_FATAL();
  FastConvTester().input_size(5, 6).channels(3, 60).groups(3).kernel(3, 3).stride(2, 2).Test(seed++);
}

TEST(Conv2dFast, Grouped) {
  uint64_t seed = 2000;
  for (int32_t groups : {2, 3, 4})
    for (int32_t in_per_group : {1, 2, 3, 5})
      for (int32_t out_per_group : {1, 2, 3, 9, 17})
        for (int32_t s : {1, 2}) {
          FastConvTester()
              .batches(2)
              .input_size(5, 10)
              .channels(groups * in_per_group, groups * out_per_group)
              .groups(groups)
              .kernel(3, 2)
              .stride(s, 3 - s)
              .padding(1, 0, 1, 1)
              .zero_points(25, -40)
              .Test(seed++);
          RETURN_ON_FATAL();
        }
}

TEST(Conv2dFast, PointwiseOddChannelCounts) {
  uint64_t seed = 3000;
  for (int32_t in = 1; in <= 17; in += 2)
    for (int32_t out = 1; out <= 35; out += 3) {
      FastConvTester().input_size(3, 9).channels(in, out).kernel(1, 1).zero_points(-128, 127).Test(seed++);
      RETURN_ON_FATAL();
      FastConvTester().input_size(1, 1).channels(in, out).kernel(1, 1).per_channel(false).Test(seed++);
      RETURN_ON_FATAL();
    }
}

TEST(Conv2dFast, ClampEdgesAndSaturation) {
  uint64_t seed = 4000;
  const std::pair<int32_t, int32_t> clamps[] = {{-128, 127}, {-20, 127}, {-20, 33}, {5, 5},
                                                {-128, -128}, {127, 127}, {-128, 0}};
  for (const auto& [lo, hi] : clamps)
    for (double scale : {1.0, 0.01, 30.0, 3000.0, 1e6})
      for (int32_t zp : {-128, -20, 127})
        for (int32_t out : {6, 16}) {
          FastConvTester()
              .input_size(6, 9)
              .channels(4, out)
              .kernel(3, 3)
              .padding(1, 1, 1, 1)
              .zero_points(zp, -20)
              .clamp(lo, hi)
              .multiplier_scale(scale)
              .Test(seed++);
          RETURN_ON_FATAL();
        }
}

TEST(Conv2dFast, ExtremeDataAndZeroPoints) {
  uint64_t seed = 5000;
  for (int32_t in_zp : {-128, 0, 127})
    for (int32_t out_zp : {-128, 127})
      for (const auto& [lo, hi] : {std::pair{-128, -128}, std::pair{127, 127}, std::pair{-128, 127}})
        for (const auto& [wlo, whi] : {std::pair{-128, -128}, std::pair{127, 127}, std::pair{-128, 127}})
          for (bool bias : {false, true}) {
            FastConvTester()
                .input_size(4, 10)
                .channels(5, 9)
                .kernel(3, 3)
                .padding(2, 0, 1, 2)
                .zero_points(in_zp, out_zp)
                .input_range(lo, hi)
                .weight_range(wlo, whi)
                .with_bias(bias)
                .Test(seed++);
            RETURN_ON_FATAL();
          }
}

TEST(Conv2dFast, FusedPooling) {
  uint64_t seed = 6000;
  struct PoolShape { int32_t kh, kw, sh, sw; };
  const PoolShape pools[] = {{1, 1, 1, 1}, {2, 2, 2, 2}, {3, 3, 2, 2}, {2, 3, 1, 2}, {3, 3, 1, 1}, {3, 2, 3, 1}, {5, 7, 1, 1}};
  for (pocket_pool_kind kind : {POCKET_POOL_MAX, POCKET_POOL_AVG})
    for (const PoolShape& pool : pools)
      for (int32_t stride : {1, 2})
        for (int32_t groups : {1, 3})
          for (int32_t out_per_group : {2, 6}) {
            FastConvTester()
                .batches(2)
                .input_size(9, 16)
                .channels(3 * groups, out_per_group * groups)
                .groups(groups)
                .kernel(3, 3)
                .stride(stride, stride)
                .padding(1, 1, 1, 0)
                .zero_points(-7, 9)
                .clamp(-7 + (stride == 2 ? 10 : 0), 127)
                .pool(kind, pool.kh, pool.kw, pool.sh, pool.sw)
                .Test(seed++);
            RETURN_ON_FATAL();
          }
}

// The two convolutions of the lab's LeNet (Conv + ReLU + MaxPool 2, fused), batch 1 and 3.
TEST(Conv2dFast, LeNetLayers) {
  uint64_t seed = 6500;
  for (int32_t batches : {1, 3}) {
    FastConvTester().batches(batches).input_size(32, 32).channels(3, 6).kernel(5, 5)
        .zero_points(-9, -128).clamp(-128, 127).pool(POCKET_POOL_MAX, 2, 2, 2, 2).Test(seed++);
    RETURN_ON_FATAL();
    FastConvTester().batches(batches).input_size(14, 14).channels(6, 16).kernel(5, 5)
        .zero_points(-128, -128).clamp(-128, 127).pool(POCKET_POOL_MAX, 2, 2, 2, 2).Test(seed++);
    RETURN_ON_FATAL();
    FastConvTester().batches(batches).input_size(32, 32).channels(3, 6).kernel(5, 5)
        .zero_points(3, -100).clamp(-100, 127).Test(seed++);
    RETURN_ON_FATAL();
  }
}

TEST(Conv2dFast, RandomAwkwardShapes) {
  for (uint64_t seed = 7000; seed < 7600; ++seed) {
    Random rng(seed);
    FastConvTester().random_shape(rng, {7, 20, 11, 21}).Test(seed);
    RETURN_ON_FATAL();
  }
}

// Near the accumulator limit the u8 x s8 path's partial sums exceed int32 and wrap; the result
// must still be exact. K = 131071 with zp 0 is the largest accepted fan-in for int8 data.
TEST(Conv2dFast, AccumulatorLimitWrapsExactly) {
  uint64_t seed = 9000;
  for (const auto& [lo, hi, wlo, whi] : {std::tuple{127, 127, -128, -128}, std::tuple{-128, -128, -128, -128},
                                         std::tuple{-128, 127, -128, 127}, std::tuple{127, 127, 127, 127}}) {
    FastConvTester()
        .input_size(1, 3)
        .channels(131071, 3)
        .kernel(1, 1)
        .zero_points(0, 0)
        .input_range(lo, hi)
        .weight_range(wlo, whi)
        .bias_range(16383)
        .multiplier_scale(100.0)
        .Test(seed++);
    RETURN_ON_FATAL();
  }
  // 65793 terms at the worst zero point (|x - zp| = 255).
  FastConvTester()
      .input_size(1, 2)
      .channels(65793, 2)
      .kernel(1, 1)
      .zero_points(127, 0)
      .input_range(-128, -128)
      .weight_range(-128, -128)
      .bias_range(127)
      .Test(seed++);
}

// A layer whose padded input would not fit a variant's scratch layout (here 40001 x 40001 padded
// positions) is packed as the reference, with no scratch, whatever variant was asked for.
TEST(Conv2dFast, HugePaddedLayerFallsBackToTheReference) {
  int32_t multiplier = 1 << 30, shift = 3;
  pocket_conv2d_params p{};
  p.batches = 1; p.input_height = 1; p.input_width = 1; p.input_channels = 1; p.output_channels = 1;
  p.filter_height = 1; p.filter_width = 1; p.stride_height = 1; p.stride_width = 1; p.groups = 1;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 20000;
  p.output_multiplier = &multiplier; p.output_shift = &shift; p.act_min = -128; p.act_max = 127;
  ASSERT_EQ(pocket_conv2d_s8_check(&p, nullptr), POCKET_OK);
  const int8_t filter = 1;
  for (const pocket_fast_variant variant : variants_to_test()) {
    int64_t packed_bytes = 0, scratch_bytes = -1;
    ASSERT_EQ(pocket_conv2d_s8_fast_plan(variant, &p, nullptr, &packed_bytes, &scratch_bytes), POCKET_OK);
    EXPECT_EQ(scratch_bytes, 0) << pocket_fast_variant_name(variant);
    std::vector<uint8_t> packed(static_cast<size_t>(packed_bytes));
    ASSERT_EQ(pocket_conv2d_s8_fast_pack(variant, &p, &filter, nullptr, packed.data(), packed_bytes), POCKET_OK);
    EXPECT_EQ(pocket_fast_packed_variant(packed.data()), POCKET_FAST_REFERENCE) << pocket_fast_variant_name(variant);
  }
  EXPECT_EQ(pocket_conv2d_s8_fast_scratch_bytes(&p), 0);
}

TEST(Conv2dFast, SameStatusesAsReference) {
  int32_t multiplier[2] = {1 << 30, 1 << 30}, shift[2] = {3, 3};
  int8_t input[64] = {}, filter[64] = {};
  pocket_conv2d_params good{};
  good.batches = 1; good.input_height = 3; good.input_width = 3; good.input_channels = 2; good.output_channels = 2;
  good.filter_height = 2; good.filter_width = 2; good.stride_height = 1; good.stride_width = 1; good.groups = 1;
  good.output_multiplier = multiplier; good.output_shift = shift; good.act_min = -128; good.act_max = 127;

  const auto expect = [&](auto mutate, const char* what, const int32_t* bias = nullptr) {
    pocket_conv2d_params p = good;
    mutate(p);
    const pocket_status reference = pocket_conv2d_s8_check(&p, bias);
    std::vector<uint8_t> scratch(1 << 16, 0);
    int8_t sentinel[64];
    std::fill(std::begin(sentinel), std::end(sentinel), int8_t{77});
    EXPECT_EQ(pocket_conv2d_s8_fast(&p, input, filter, bias, sentinel, scratch.data()), reference) << what;
    if (reference != POCKET_OK) {
      for (int8_t v : sentinel) ASSERT_EQ(v, 77) << "wrote output on error: " << what;
    }
    for (const pocket_fast_variant variant : variants_to_test()) {
      int64_t packed_bytes = 0, scratch_bytes = 0;
      EXPECT_EQ(pocket_conv2d_s8_fast_plan(variant, &p, bias, &packed_bytes, &scratch_bytes), reference)
          << what << " " << pocket_fast_variant_name(variant);
      EXPECT_EQ(pocket_conv2d_s8_fast_pack(variant, &p, filter, bias, scratch.data(), 1 << 16), reference)
          << what << " " << pocket_fast_variant_name(variant);
    }
  };
  using P = pocket_conv2d_params;
  expect([](P&) {}, "good");
  expect([](P& p) { p.output_multiplier = nullptr; }, "no multipliers");
  expect([](P& p) { p.output_shift = nullptr; }, "no shifts");
  expect([](P& p) { p.batches = 0; }, "batches 0");
  expect([](P& p) { p.input_height = -1; }, "negative height");
  expect([](P& p) { p.stride_width = 0; }, "stride 0");
  expect([](P& p) { p.pad_left = -1; }, "negative pad");
  expect([](P& p) { p.filter_height = 4; }, "filter larger than padded input");
  expect([](P& p) { p.groups = 0; }, "groups 0");
  expect([](P& p) { p.input_channels = 3; p.groups = 2; }, "groups do not divide input channels");
  expect([](P& p) { p.pad_top = 2147483647; }, "padded extent overflows");
  expect([](P& p) { p.input_height = 100000; p.input_width = 100000; }, "tensor too large");
  expect([](P& p) { p.pool = {POCKET_POOL_MAX, 3, 1, 1, 1}; }, "pool larger than conv output");
  expect([](P& p) { p.pool.kind = static_cast<pocket_pool_kind>(3); }, "unknown pool kind");
  expect([](P& p) { p.input_zero_point = 128; }, "input zero point 128");
  expect([](P& p) { p.act_min = 5; p.act_max = 4; }, "empty clamp");
  static int32_t bad_shift[2] = {3, 32};
  expect([](P& p) { p.output_shift = bad_shift; }, "shift 32");
  static const int32_t huge_bias[2] = {2147483647, 0};
  expect([](P&) {}, "bias beyond the accumulator range", huge_bias);

  // Null data pointers, as the reference.
  int8_t output[64];
  std::vector<uint8_t> scratch(1 << 16);
  EXPECT_EQ(pocket_conv2d_s8_fast(&good, nullptr, filter, nullptr, output, scratch.data()), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_conv2d_s8_fast(&good, input, nullptr, nullptr, output, scratch.data()), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_conv2d_s8_fast(&good, input, filter, nullptr, nullptr, scratch.data()), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_conv2d_s8_fast(nullptr, input, filter, nullptr, output, scratch.data()), POCKET_ERR_NULL_POINTER);
  // NULL scratch: the drop-in runs the reference.
  EXPECT_EQ(pocket_conv2d_s8_fast(&good, input, filter, nullptr, output, nullptr), POCKET_OK);
  EXPECT_EQ(pocket_conv2d_s8_fast_scratch_bytes(nullptr), 0);
}

// run() refuses a blob packed for other parameters, and anything that is not a blob.
TEST(Conv2dFast, RunChecksTheBlob) {
  int32_t multiplier[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30}, shift[4] = {3, 3, 3, 3};
  int8_t input[256] = {}, filter[256] = {}, output[256] = {};
  pocket_conv2d_params p{};
  p.batches = 1; p.input_height = 4; p.input_width = 4; p.input_channels = 2; p.output_channels = 4;
  p.filter_height = 2; p.filter_width = 2; p.stride_height = 1; p.stride_width = 1; p.groups = 1;
  p.output_multiplier = multiplier; p.output_shift = shift; p.act_min = -128; p.act_max = 127;
  for (const pocket_fast_variant variant : variants_to_test()) {
    SCOPED_TRACE(pocket_fast_variant_name(variant));
    int64_t packed_bytes = 0, scratch_bytes = 0;
    ASSERT_EQ(pocket_conv2d_s8_fast_plan(variant, &p, nullptr, &packed_bytes, &scratch_bytes), POCKET_OK);
    std::vector<uint8_t> packed(static_cast<size_t>(packed_bytes)), scratch(static_cast<size_t>(scratch_bytes) + 1);
    EXPECT_EQ(pocket_conv2d_s8_fast_pack(variant, &p, filter, nullptr, packed.data(), packed_bytes - 1),
              POCKET_ERR_BAD_SHAPE);
    ASSERT_EQ(pocket_conv2d_s8_fast_pack(variant, &p, filter, nullptr, packed.data(), packed_bytes), POCKET_OK);
    EXPECT_EQ(pocket_conv2d_s8_fast_run(&p, packed.data(), input, output, scratch.data()), POCKET_OK);
    pocket_conv2d_params other = p;
    other.act_min = 0;
    EXPECT_EQ(pocket_conv2d_s8_fast_run(&other, packed.data(), input, output, scratch.data()), POCKET_ERR_BAD_SHAPE);
    other = p;
    other.pad_bottom = 1;
    EXPECT_EQ(pocket_conv2d_s8_fast_run(&other, packed.data(), input, output, scratch.data()), POCKET_ERR_BAD_SHAPE);
    int32_t other_shift[4] = {3, 3, 4, 3};
    other = p;
    other.output_shift = other_shift;
    EXPECT_EQ(pocket_conv2d_s8_fast_run(&other, packed.data(), input, output, scratch.data()), POCKET_ERR_BAD_SHAPE);
    other = p;
    other.output_channels = 2;
    EXPECT_EQ(pocket_conv2d_s8_fast_run(&other, packed.data(), input, output, scratch.data()), POCKET_ERR_BAD_SHAPE);
    EXPECT_EQ(pocket_conv2d_s8_fast_run(&p, packed.data(), nullptr, output, scratch.data()), POCKET_ERR_NULL_POINTER);
    EXPECT_EQ(pocket_conv2d_s8_fast_run(&p, nullptr, input, output, scratch.data()), POCKET_ERR_NULL_POINTER);
    if (scratch_bytes > 0) {
      EXPECT_EQ(pocket_conv2d_s8_fast_run(&p, packed.data(), input, output, nullptr), POCKET_ERR_NULL_POINTER);
    }
    std::vector<uint8_t> not_a_blob(static_cast<size_t>(packed_bytes), 0);
    EXPECT_EQ(pocket_conv2d_s8_fast_run(&p, not_a_blob.data(), input, output, scratch.data()), POCKET_ERR_BAD_SHAPE);
    EXPECT_EQ(pocket_fast_packed_variant(not_a_blob.data()), POCKET_FAST_SELECTED);
  }
  // A variant this build or CPU cannot run is refused, not silently replaced.
  for (int v = POCKET_FAST_VARIANT_FIRST; v <= POCKET_FAST_VARIANT_LAST; ++v) {
    const auto variant = static_cast<pocket_fast_variant>(v);
    if (pocket_fast_variant_supported(variant)) continue;
    int64_t packed_bytes = 0, scratch_bytes = 0;
    EXPECT_EQ(pocket_conv2d_s8_fast_plan(variant, &p, nullptr, &packed_bytes, &scratch_bytes), POCKET_ERR_BAD_SHAPE);
  }
  int64_t packed_bytes = 0, scratch_bytes = 0;
  EXPECT_EQ(pocket_conv2d_s8_fast_plan(static_cast<pocket_fast_variant>(5), &p, nullptr, &packed_bytes, &scratch_bytes),
            POCKET_ERR_BAD_SHAPE);
}

}  // namespace
}  // namespace pocket::fast_test
