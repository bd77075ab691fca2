// pocket_conv2d_s8 against an independent reference: the input is padded explicitly, the
// convolution accumulates in int64, requantization is exact 128-bit rational rounding, and the
// fused pool runs on the whole materialised conv output afterwards.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "pocket_runtime.h"
#include "runtime/conv_case.hpp"
#include "runtime/reference.hpp"

namespace pocket::rt_test {
namespace {

// The reference kernel against the independent reference below (parameters and data: conv_case.hpp).
class ConvTester : public ConvCase<ConvTester> {
 public:
  void Test(uint64_t seed) {
    const std::string description = describe(seed);
    SCOPED_TRACE(description);
    generate(seed);
    const pocket_conv2d_params p = params();
    const int32_t* bias = this->bias();

    const std::vector<int32_t> expected = reference(bias);
    int32_t output_height = 0, output_width = 0;
    ASSERT_EQ(pocket_conv2d_output_shape(&p, &output_height, &output_width), POCKET_OK);
    ASSERT_EQ(static_cast<size_t>(batches_) * output_height * output_width * output_channels_, expected.size());
    ASSERT_EQ(output_height, expected_height_);
    ASSERT_EQ(output_width, expected_width_);
    ASSERT_EQ(pocket_conv2d_s8_check(&p, bias), POCKET_OK);
    ASSERT_EQ(pocket_conv2d_s8_scratch_bytes(&p), 0);

    // Twice, with different prefills, so an output the kernel never writes cannot pass.
    for (const int8_t fill : {int8_t{0x55}, int8_t{-0x56}}) {
      GuardedOutput output(expected.size(), fill);
      ASSERT_EQ(pocket_conv2d_s8(&p, input_.data(), filter_.data(), bias, output.data(), nullptr), POCKET_OK);
      ASSERT_TRUE(output.guards_intact()) << "wrote outside the output";
      ASSERT_TRUE(same_outputs(expected, output.data(), description));
    }
  }

 private:
  // Independent reference: explicit padding, int64 accumulation, exact requantization, then
  // pooling over the materialised conv output.
  std::vector<int32_t> reference(const int32_t* bias) {
    const int32_t padded_height = input_height_ + pad_top_ + pad_bottom_;
    const int32_t padded_width = input_width_ + pad_left_ + pad_right_;
    std::vector<int64_t> padded(static_cast<size_t>(batches_) * padded_height * padded_width * input_channels_,
                                input_zero_point_);
    for (int32_t n = 0; n < batches_; ++n)
      for (int32_t y = 0; y < input_height_; ++y)
        for (int32_t x = 0; x < input_width_; ++x)
          for (int32_t c = 0; c < input_channels_; ++c)
            padded[((static_cast<size_t>(n) * padded_height + y + pad_top_) * padded_width + x + pad_left_) * input_channels_ + c] =
                input_[((static_cast<size_t>(n) * input_height_ + y) * input_width_ + x) * input_channels_ + c];

    const int32_t conv_height = (padded_height - filter_height_) / stride_height_ + 1;
    const int32_t conv_width = (padded_width - filter_width_) / stride_width_ + 1;
    const int32_t group_in = input_channels_ / groups_;
    const int32_t group_out = output_channels_ / groups_;
    std::vector<int32_t> conv(static_cast<size_t>(batches_) * conv_height * conv_width * output_channels_);
    for (int32_t n = 0; n < batches_; ++n)
      for (int32_t oy = 0; oy < conv_height; ++oy)
        for (int32_t ox = 0; ox < conv_width; ++ox)
          for (int32_t oc = 0; oc < output_channels_; ++oc) {
            const int32_t g = oc / group_out;
            int64_t acc = bias ? bias[oc] : 0;
            for (int32_t ky = 0; ky < filter_height_; ++ky)
              for (int32_t kx = 0; kx < filter_width_; ++kx)
                for (int32_t ic = 0; ic < group_in; ++ic) {
                  const int64_t x = padded[((static_cast<size_t>(n) * padded_height + oy * stride_height_ + ky) * padded_width +
                                            ox * stride_width_ + kx) * input_channels_ + g * group_in + ic];
                  const int64_t w = filter_[((static_cast<size_t>(oc) * filter_height_ + ky) * filter_width_ + kx) * group_in + ic];
                  acc += (x - input_zero_point_) * w;
                }
            conv[((static_cast<size_t>(n) * conv_height + oy) * conv_width + ox) * output_channels_ + oc] =
                ref_requant_s8(acc, multipliers_[static_cast<size_t>(oc)], shifts_[static_cast<size_t>(oc)],
                               output_zero_point_, act_min_, act_max_);
          }
    if (pool_kind_ == POCKET_POOL_NONE) {
      expected_height_ = conv_height;
      expected_width_ = conv_width;
      return conv;
    }
    expected_height_ = (conv_height - pool_height_) / pool_stride_height_ + 1;
    expected_width_ = (conv_width - pool_width_) / pool_stride_width_ + 1;
    std::vector<int32_t> pooled(static_cast<size_t>(batches_) * expected_height_ * expected_width_ * output_channels_);
    for (int32_t n = 0; n < batches_; ++n)
      for (int32_t py = 0; py < expected_height_; ++py)
        for (int32_t px = 0; px < expected_width_; ++px)
          for (int32_t oc = 0; oc < output_channels_; ++oc) {
            std::vector<int32_t> window;
            for (int32_t ky = 0; ky < pool_height_; ++ky)
              for (int32_t kx = 0; kx < pool_width_; ++kx)
                window.push_back(conv[((static_cast<size_t>(n) * conv_height + py * pool_stride_height_ + ky) * conv_width +
                                       px * pool_stride_width_ + kx) * output_channels_ + oc]);
            int64_t value = 0;
            if (pool_kind_ == POCKET_POOL_MAX) {
              value = *std::max_element(window.begin(), window.end());
            } else {
              int64_t sum = 0;
              for (int32_t v : window) sum += v;
              value = static_cast<int64_t>(ref_round_div(sum, static_cast<int64_t>(window.size())));
            }
            pooled[((static_cast<size_t>(n) * expected_height_ + py) * expected_width_ + px) * output_channels_ + oc] =
                static_cast<int32_t>(value);
          }
    return pooled;
  }

  int32_t expected_height_ = 0, expected_width_ = 0;
};

TEST(Conv2d, EveryStrideAndPaddingCombination) {
  const std::pair<int32_t, int32_t> kernels[] = {{1, 1}, {3, 3}, {2, 3}};
  uint64_t seed = 1;
  for (const auto& [kh, kw] : kernels)
    for (int32_t sh = 1; sh <= 3; ++sh)
      for (int32_t sw = 1; sw <= 3; ++sw)
        for (int32_t top = 0; top <= 2; ++top)
          for (int32_t left = 0; left <= 2; ++left)
            for (int32_t bottom = 0; bottom <= 2; ++bottom)
              for (int32_t right = 0; right <= 2; ++right) {
                const uint64_t case_seed = seed++;
                ConvTester()
                    .input_size(6, 7)
                    .channels(3, 5)
                    .kernel(kh, kw)
                    .stride(sh, sw)
                    .padding(top, left, bottom, right)
                    .zero_points(static_cast<int32_t>(case_seed % 256) - 128,
                                 static_cast<int32_t>(case_seed * 7 % 256) - 128)
                    .Test(case_seed);
                if (::testing::Test::HasFatalFailure()) return;
              }
}

TEST(Conv2d, Depthwise) {
  uint64_t seed = 1000;
  for (int32_t channels = 1; channels <= 9; ++channels)
    for (int32_t multiplier = 1; multiplier <= 3; ++multiplier)
      for (int32_t k : {1, 3, 5})
        for (int32_t s : {1, 2})
          for (int32_t pad : {0, 1, 2}) {
            ConvTester()
                .input_size(7, 6)
                .channels(channels, channels * multiplier)
                .groups(channels)
                .kernel(k, k)
                .stride(s, s)
                .padding(pad, pad, k > 1 ? pad : 0, pad / 2)
                .zero_points(-3, 11)
                .Test(seed++);
            if (::testing::Test::HasFatalFailure()) return;
          }
}

TEST(Conv2d, Grouped) {
  uint64_t seed = 2000;
  for (int32_t groups : {2, 3, 4})
    for (int32_t in_per_group : {1, 2, 3, 5})
      for (int32_t out_per_group : {1, 2, 3})
        for (int32_t s : {1, 2}) {
          ConvTester()
              .batches(2)
              .input_size(5, 6)
              .channels(groups * in_per_group, groups * out_per_group)
              .groups(groups)
              .kernel(3, 2)
              .stride(s, 3 - s)
              .padding(1, 0, 1, 1)
              .zero_points(25, -40)
              .Test(seed++);
          if (::testing::Test::HasFatalFailure()) return;
        }
}

TEST(Conv2d, PointwiseOddChannelCounts) {
  uint64_t seed = 3000;
  for (int32_t in = 1; in <= 17; in += 2)
    for (int32_t out = 1; out <= 17; out += 3) {
      ConvTester().input_size(3, 5).channels(in, out).kernel(1, 1).zero_points(-128, 127).Test(seed++);
      ConvTester().input_size(1, 1).channels(in, out).kernel(1, 1).per_channel(false).Test(seed++);
      if (::testing::Test::HasFatalFailure()) return;
    }
}

TEST(Conv2d, ClampEdgesAndSaturation) {
  uint64_t seed = 4000;
  const std::pair<int32_t, int32_t> clamps[] = {{-128, 127}, {-20, 127}, {-20, 33}, {5, 5},
                                                {-128, -128}, {127, 127}, {-128, 0}};
  for (const auto& [lo, hi] : clamps)
    for (double scale : {1.0, 0.01, 30.0, 3000.0})
      for (int32_t zp : {-128, -20, 127}) {
        ConvTester()
            .input_size(6, 5)
            .channels(4, 6)
            .kernel(3, 3)
            .padding(1, 1, 1, 1)
            .zero_points(zp, -20)
            .clamp(lo, hi)
            .multiplier_scale(scale)
            .Test(seed++);
        if (::testing::Test::HasFatalFailure()) return;
      }
}

TEST(Conv2d, ExtremeDataAndZeroPoints) {
  uint64_t seed = 5000;
  for (int32_t in_zp : {-128, 127})
    for (int32_t out_zp : {-128, 127})
      for (const auto& [lo, hi] : {std::pair{-128, -128}, std::pair{127, 127}, std::pair{-128, 127}})
        for (bool bias : {false, true}) {
          ConvTester()
              .input_size(4, 4)
              .channels(5, 3)
              .kernel(3, 3)
              .padding(2, 0, 1, 2)
              .zero_points(in_zp, out_zp)
              .input_range(lo, hi)
              .weight_range(-128, 127)
              .with_bias(bias)
              .Test(seed++);
          if (::testing::Test::HasFatalFailure()) return;
        }
}

TEST(Conv2d, FusedPooling) {
  uint64_t seed = 6000;
  struct PoolShape { int32_t kh, kw, sh, sw; };
  const PoolShape pools[] = {{1, 1, 1, 1}, {2, 2, 2, 2}, {3, 3, 2, 2}, {2, 3, 1, 2}, {3, 3, 1, 1}, {3, 2, 3, 1}};
  for (pocket_pool_kind kind : {POCKET_POOL_MAX, POCKET_POOL_AVG})
    for (const PoolShape& pool : pools)
      for (int32_t stride : {1, 2})
        for (int32_t groups : {1, 3}) {
          ConvTester()
              .batches(2)
              .input_size(9, 8)
              .channels(3, 6)
              .groups(groups)
              .kernel(3, 3)
              .stride(stride, stride)
              .padding(1, 1, 1, 0)
              .zero_points(-7, 9)
              .clamp(-7 + (stride == 2 ? 10 : 0), 127)
              .pool(kind, pool.kh, pool.kw, pool.sh, pool.sw)
              .Test(seed++);
          if (::testing::Test::HasFatalFailure()) return;
        }
}

TEST(Conv2d, RandomAwkwardShapes) {
  for (uint64_t seed = 7000; seed < 7600; ++seed) {
    Random rng(seed);
    ConvTester().random_shape(rng, {5, 4, 11, 11}).Test(seed);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// The fused pool equals the separate kernels: conv then pocket_maxpool_s8 / pocket_avgpool_s8.
TEST(Conv2d, FusedPoolEqualsConvThenPoolKernel) {
  Random rng(8000);
  for (pocket_pool_kind kind : {POCKET_POOL_MAX, POCKET_POOL_AVG}) {
    for (int trial = 0; trial < 20; ++trial) {
      const int32_t channels = rng.int32(1, 6), out_channels = rng.int32(1, 7);
      std::vector<int8_t> input = rng.int8s(static_cast<size_t>(2 * 10 * 9 * channels));
      std::vector<int8_t> filter = rng.int8s(static_cast<size_t>(out_channels * 3 * 3 * channels), -127, 127);
      std::vector<int32_t> bias(static_cast<size_t>(out_channels)), multiplier(bias.size()), shift(bias.size());
      for (size_t c = 0; c < bias.size(); ++c) {
        bias[c] = rng.int32(-5000, 5000);
        const TestMultiplier m = random_multiplier(rng, 0.002);
        multiplier[c] = m.multiplier;
        shift[c] = m.shift;
      }
      pocket_conv2d_params conv{};
      conv.batches = 2; conv.input_height = 10; conv.input_width = 9; conv.input_channels = channels;
      conv.output_channels = out_channels; conv.filter_height = 3; conv.filter_width = 3;
      conv.stride_height = 1; conv.stride_width = 1; conv.pad_top = 1; conv.pad_left = 1;
      conv.pad_bottom = 1; conv.pad_right = 1; conv.groups = 1; conv.input_zero_point = rng.int32(-128, 127);
      conv.output_zero_point = rng.int32(-128, 127); conv.output_multiplier = multiplier.data();
      conv.output_shift = shift.data(); conv.act_min = -128; conv.act_max = 127;
      conv.pool.kind = POCKET_POOL_NONE;
      std::vector<int8_t> unpooled(static_cast<size_t>(2 * 10 * 9 * out_channels));
      ASSERT_EQ(pocket_conv2d_s8(&conv, input.data(), filter.data(), bias.data(), unpooled.data(), nullptr), POCKET_OK);

      const int32_t kh = rng.int32(1, 4), kw = rng.int32(1, 4), sh = rng.int32(1, 3), sw = rng.int32(1, 3);
      pocket_pool_params pool{2, 10, 9, out_channels, kh, kw, sh, sw, 0, 0, 0, 0, -128, 127};
      int32_t pooled_height = 0, pooled_width = 0;
      ASSERT_EQ(pocket_pool_output_shape(&pool, &pooled_height, &pooled_width), POCKET_OK);
      std::vector<int8_t> separate(static_cast<size_t>(2 * pooled_height * pooled_width * out_channels));
      ASSERT_EQ(kind == POCKET_POOL_MAX ? pocket_maxpool_s8(&pool, unpooled.data(), separate.data())
                                        : pocket_avgpool_s8(&pool, unpooled.data(), separate.data()),
                POCKET_OK);

      conv.pool = {kind, kh, kw, sh, sw};
      std::vector<int8_t> fused(separate.size());
      ASSERT_EQ(pocket_conv2d_s8(&conv, input.data(), filter.data(), bias.data(), fused.data(), nullptr), POCKET_OK);
      ASSERT_EQ(fused, separate) << "kind=" << pool_name(kind) << " pool " << kh << "x" << kw << "/" << sh << "x" << sw;
    }
  }
}

// The accumulator bound is tight: the largest accepted reduction reaches 2^31 - 128 exactly.
TEST(Conv2d, AccumulatorLimit) {
  const int32_t max_terms = 65793;  // floor((2^31 - 1) / (255 * 128))
  std::vector<int8_t> input(max_terms + 1, -128), filter(max_terms + 1, -128);
  int32_t multiplier = 1 << 30, shift = 31;  // M = 2^-32
  pocket_conv2d_params p{};
  p.batches = 1; p.input_height = 1; p.input_width = 1; p.input_channels = max_terms; p.output_channels = 1;
  p.filter_height = 1; p.filter_width = 1; p.stride_height = 1; p.stride_width = 1; p.groups = 1;
  p.input_zero_point = 127; p.output_zero_point = 0; p.output_multiplier = &multiplier; p.output_shift = &shift;
  p.act_min = -128; p.act_max = 127; p.pool.kind = POCKET_POOL_NONE;
  int8_t out = 0;
  // acc = 65793 * (-255) * (-128) = 2147483520; * 2^-32 = 0.49999997 -> 0
  ASSERT_EQ(pocket_conv2d_s8(&p, input.data(), filter.data(), nullptr, &out, nullptr), POCKET_OK);
  EXPECT_EQ(out, 0);
  shift = 30;  // 0.99999994 -> 1
  ASSERT_EQ(pocket_conv2d_s8(&p, input.data(), filter.data(), nullptr, &out, nullptr), POCKET_OK);
  EXPECT_EQ(out, 1);
  int32_t bias = 127;  // 2147483647: still fits
  EXPECT_EQ(pocket_conv2d_s8(&p, input.data(), filter.data(), &bias, &out, nullptr), POCKET_OK);
  EXPECT_EQ(out, 1);
  bias = 128;
  EXPECT_EQ(pocket_conv2d_s8(&p, input.data(), filter.data(), &bias, &out, nullptr), POCKET_ERR_ACC_RANGE);
  bias = -128;
  EXPECT_EQ(pocket_conv2d_s8_check(&p, &bias), POCKET_ERR_ACC_RANGE);
  p.input_channels = max_terms + 1;
  EXPECT_EQ(pocket_conv2d_s8(&p, input.data(), filter.data(), nullptr, &out, nullptr), POCKET_ERR_ACC_RANGE);
  p.input_zero_point = 0;  // max |x - zp| = 128: 65794 * 128 * 128 fits
  EXPECT_EQ(pocket_conv2d_s8(&p, input.data(), filter.data(), nullptr, &out, nullptr), POCKET_OK);
}

TEST(Conv2d, RejectsBadParameters) {
  int32_t multiplier[2] = {1 << 30, 1 << 30}, shift[2] = {3, 3};
  int8_t input[64] = {}, filter[64] = {}, output[64] = {};
  pocket_conv2d_params good{};
  good.batches = 1; good.input_height = 3; good.input_width = 3; good.input_channels = 2; good.output_channels = 2;
  good.filter_height = 2; good.filter_width = 2; good.stride_height = 1; good.stride_width = 1; good.groups = 1;
  good.output_multiplier = multiplier; good.output_shift = shift; good.act_min = -128; good.act_max = 127;
  ASSERT_EQ(pocket_conv2d_s8(&good, input, filter, nullptr, output, nullptr), POCKET_OK);

  EXPECT_EQ(pocket_conv2d_s8(nullptr, input, filter, nullptr, output, nullptr), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_conv2d_s8(&good, nullptr, filter, nullptr, output, nullptr), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_conv2d_s8(&good, input, nullptr, nullptr, output, nullptr), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_conv2d_s8(&good, input, filter, nullptr, nullptr, nullptr), POCKET_ERR_NULL_POINTER);
  int32_t h = 0, w = 0;
  EXPECT_EQ(pocket_conv2d_output_shape(&good, nullptr, &w), POCKET_ERR_NULL_POINTER);

  const auto expect = [&](pocket_status status, auto mutate, const char* what) {
    pocket_conv2d_params p = good;
    mutate(p);
    int8_t sentinel[64];
    std::fill(std::begin(sentinel), std::end(sentinel), int8_t{77});
    EXPECT_EQ(pocket_conv2d_s8(&p, input, filter, nullptr, sentinel, nullptr), status) << what;
    EXPECT_EQ(pocket_conv2d_s8_check(&p, nullptr), status) << what;
    for (int8_t v : sentinel) ASSERT_EQ(v, 77) << "wrote output on error: " << what;
  };
  using P = pocket_conv2d_params;
  expect(POCKET_ERR_NULL_POINTER, [](P& p) { p.output_multiplier = nullptr; }, "no multipliers");
  expect(POCKET_ERR_NULL_POINTER, [](P& p) { p.output_shift = nullptr; }, "no shifts");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.batches = 0; }, "batches 0");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.input_height = -1; }, "negative height");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.stride_width = 0; }, "stride 0");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.pad_left = -1; }, "negative pad");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.filter_height = 4; }, "filter larger than padded input");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.groups = 0; }, "groups 0");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.input_channels = 3; p.groups = 2; }, "groups do not divide input channels");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.output_channels = 1; p.groups = 2; }, "groups do not divide output channels");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.pad_top = 2147483647; }, "padded extent overflows");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.input_height = 100000; p.input_width = 100000; }, "tensor too large");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.pool = {POCKET_POOL_MAX, 3, 1, 1, 1}; }, "pool larger than conv output");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.pool = {POCKET_POOL_AVG, 1, 1, 0, 1}; }, "pool stride 0");
  expect(POCKET_ERR_BAD_SHAPE, [](P& p) { p.pool.kind = static_cast<pocket_pool_kind>(3); }, "unknown pool kind");
  expect(POCKET_ERR_BAD_QUANT, [](P& p) { p.input_zero_point = 128; }, "input zero point 128");
  expect(POCKET_ERR_BAD_QUANT, [](P& p) { p.output_zero_point = -129; }, "output zero point -129");
  expect(POCKET_ERR_BAD_QUANT, [](P& p) { p.act_min = 5; p.act_max = 4; }, "empty clamp");
  expect(POCKET_ERR_BAD_QUANT, [](P& p) { p.act_max = 128; }, "clamp beyond int8");
  static int32_t bad_shift[2] = {3, 32};
  static int32_t bad_multiplier[2] = {1 << 30, -1};
  expect(POCKET_ERR_BAD_QUANT, [](P& p) { p.output_shift = bad_shift; }, "shift 32");
  expect(POCKET_ERR_BAD_QUANT, [](P& p) { p.output_multiplier = bad_multiplier; }, "negative multiplier");
  EXPECT_EQ(pocket_conv2d_output_shape(&good, &h, &w), POCKET_OK);
  EXPECT_EQ(h, 2);
  EXPECT_EQ(w, 2);
}

}  // namespace
}  // namespace pocket::rt_test
