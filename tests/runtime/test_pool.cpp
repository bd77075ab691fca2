// pocket_maxpool_s8, pocket_avgpool_s8, pocket_global_avgpool_s8 against a reference that walks
// the padded window coordinate by coordinate and rounds averages with exact rationals.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "pocket_runtime.h"
#include "runtime/reference.hpp"

namespace pocket::rt_test {
namespace {

enum class PoolKind { Max, Avg };

class PoolTester {
 public:
  PoolTester& kind(PoolKind v) { kind_ = v; return *this; }
  PoolTester& batches(int32_t v) { batches_ = v; return *this; }
  PoolTester& input(int32_t height, int32_t width, int32_t channels) {
    height_ = height; width_ = width; channels_ = channels; return *this;
  }
  PoolTester& kernel(int32_t height, int32_t width) { filter_height_ = height; filter_width_ = width; return *this; }
  PoolTester& stride(int32_t height, int32_t width) { stride_height_ = height; stride_width_ = width; return *this; }
  PoolTester& padding(int32_t top, int32_t left, int32_t bottom, int32_t right) {
    pad_top_ = top; pad_left_ = left; pad_bottom_ = bottom; pad_right_ = right; return *this;
  }
  PoolTester& clamp(int32_t lo, int32_t hi) { act_min_ = lo; act_max_ = hi; return *this; }
  PoolTester& input_range(int lo, int hi) { input_lo_ = lo; input_hi_ = hi; return *this; }

  std::string describe(uint64_t seed) const {
    std::ostringstream s;
    s << (kind_ == PoolKind::Max ? "maxpool" : "avgpool") << " seed=" << seed << " batches=" << batches_
      << " input=" << height_ << "x" << width_ << "x" << channels_ << " kernel=" << filter_height_ << "x"
      << filter_width_ << " stride=" << stride_height_ << "x" << stride_width_ << " pad(t,l,b,r)=(" << pad_top_
      << "," << pad_left_ << "," << pad_bottom_ << "," << pad_right_ << ") act=[" << act_min_ << "," << act_max_
      << "] input_range=[" << input_lo_ << "," << input_hi_ << "]";
    return s.str();
  }

  void Test(uint64_t seed) const {
    const std::string description = describe(seed);
    SCOPED_TRACE(description);
    Random rng(seed);
    const std::vector<int8_t> input =
        rng.int8s(static_cast<size_t>(batches_ * height_ * width_ * channels_), input_lo_, input_hi_);
    const int32_t out_height = (height_ + pad_top_ + pad_bottom_ - filter_height_) / stride_height_ + 1;
    const int32_t out_width = (width_ + pad_left_ + pad_right_ - filter_width_) / stride_width_ + 1;
    std::vector<int32_t> expected;
    for (int32_t n = 0; n < batches_; ++n)
      for (int32_t oy = 0; oy < out_height; ++oy)
        for (int32_t ox = 0; ox < out_width; ++ox)
          for (int32_t c = 0; c < channels_; ++c) {
            int64_t sum = 0, count = 0, best = -1000;
            for (int32_t ky = 0; ky < filter_height_; ++ky)
              for (int32_t kx = 0; kx < filter_width_; ++kx) {
                const int32_t y = oy * stride_height_ + ky - pad_top_;
                const int32_t x = ox * stride_width_ + kx - pad_left_;
                if (y < 0 || y >= height_ || x < 0 || x >= width_) continue;
                const int64_t v = input[static_cast<size_t>(((n * height_ + y) * width_ + x) * channels_ + c)];
                sum += v;
                ++count;
                best = std::max(best, v);
              }
            EXPECT_GT(count, 0);
            const int64_t value = kind_ == PoolKind::Max ? best : static_cast<int64_t>(ref_round_div(sum, count));
            expected.push_back(ref_clamp(value, act_min_, act_max_));
          }

    const pocket_pool_params p{batches_, height_, width_, channels_, filter_height_, filter_width_, stride_height_,
                               stride_width_, pad_top_, pad_left_, pad_bottom_, pad_right_, act_min_, act_max_};
    int32_t h = 0, w = 0;
    ASSERT_EQ(pocket_pool_output_shape(&p, &h, &w), POCKET_OK);
    ASSERT_EQ(h, out_height);
    ASSERT_EQ(w, out_width);
    ASSERT_EQ(pocket_pool_check(&p), POCKET_OK);
    for (const int8_t fill : {int8_t{0x55}, int8_t{-0x56}}) {
      GuardedOutput output(expected.size(), fill);
      const pocket_status status = kind_ == PoolKind::Max ? pocket_maxpool_s8(&p, input.data(), output.data())
                                                          : pocket_avgpool_s8(&p, input.data(), output.data());
      ASSERT_EQ(status, POCKET_OK);
      ASSERT_TRUE(output.guards_intact());
      ASSERT_TRUE(same_outputs(expected, output.data(), description));
    }
  }

 private:
  PoolKind kind_ = PoolKind::Max;
  int32_t batches_ = 1, height_ = 7, width_ = 6, channels_ = 3;
  int32_t filter_height_ = 2, filter_width_ = 2, stride_height_ = 2, stride_width_ = 2;
  int32_t pad_top_ = 0, pad_left_ = 0, pad_bottom_ = 0, pad_right_ = 0;
  int32_t act_min_ = -128, act_max_ = 127;
  int input_lo_ = -128, input_hi_ = 127;
};

TEST(Pool, EveryKernelStrideAndPadding) {
  uint64_t seed = 1;
  for (PoolKind kind : {PoolKind::Max, PoolKind::Avg})
    for (int32_t kh = 1; kh <= 3; ++kh)
      for (int32_t kw = 1; kw <= 3; ++kw)
        for (int32_t sh = 1; sh <= 3; ++sh)
          for (int32_t sw = 1; sw <= 3; ++sw)
            for (int32_t top = 0; top < kh; ++top)
              for (int32_t bottom = 0; bottom < kh; ++bottom)
                for (int32_t left = 0; left < kw; ++left)
                  for (int32_t right = 0; right < kw; ++right) {
                    PoolTester().kind(kind).input(7, 6, 3).kernel(kh, kw).stride(sh, sw)
                        .padding(top, left, bottom, right).Test(seed++);
                    if (::testing::Test::HasFatalFailure()) return;
                  }
}

TEST(Pool, OddShapesClampsAndLargeWindows) {
  uint64_t seed = 10000;
  for (PoolKind kind : {PoolKind::Max, PoolKind::Avg})
    for (int32_t channels : {1, 5, 7, 16})
      for (const auto& [lo, hi] : {std::pair{-128, 127}, std::pair{-10, 20}, std::pair{0, 0}})
        for (const auto& [kh, kw] : {std::pair{5, 5}, std::pair{4, 7}, std::pair{9, 11}}) {
          PoolTester().kind(kind).batches(2).input(9, 11, channels).kernel(kh, kw).stride(2, 3)
              .padding(kh / 2, kw / 2, (kh - 1) / 2, kw - 1).clamp(lo, hi).Test(seed++);
          if (::testing::Test::HasFatalFailure()) return;
        }
}

TEST(Pool, AverageTiesRoundAwayFromZero) {
  // Constant-ish data makes exact ties frequent: windows of 2 with values {-1, 0} and {0, 1}.
  uint64_t seed = 20000;
  for (const auto& [lo, hi] : {std::pair{-1, 0}, std::pair{0, 1}, std::pair{-128, -127}, std::pair{126, 127}}) {
    PoolTester().kind(PoolKind::Avg).input(8, 8, 2).kernel(1, 2).stride(1, 1).input_range(lo, hi).Test(seed++);
    PoolTester().kind(PoolKind::Avg).input(8, 8, 2).kernel(2, 2).stride(1, 2).padding(1, 1, 0, 0)
        .input_range(lo, hi).Test(seed++);
  }
  // Hand-worked: window {-1, 0} averages -0.5 -> -1; window {1, 0} averages 0.5 -> 1.
  const int8_t input[4] = {-1, 0, 1, 0};
  int8_t output[2] = {};
  const pocket_pool_params p{1, 1, 4, 1, 1, 2, 1, 2, 0, 0, 0, 0, -128, 127};
  ASSERT_EQ(pocket_avgpool_s8(&p, input, output), POCKET_OK);
  EXPECT_EQ(output[0], -1);
  EXPECT_EQ(output[1], 1);
}

TEST(Pool, Global) {
  Random rng(30000);
  for (int trial = 0; trial < 200; ++trial) {
    const int32_t batches = rng.int32(1, 3), height = rng.int32(1, 9), width = rng.int32(1, 9), channels = rng.int32(1, 11);
    int32_t lo = rng.int32(-128, 127), hi = rng.int32(-128, 127);
    if (lo > hi) std::swap(lo, hi);
    if (rng.coin()) { lo = -128; hi = 127; }
    const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(batches * height * width * channels));
    std::vector<int32_t> expected;
    for (int32_t n = 0; n < batches; ++n)
      for (int32_t c = 0; c < channels; ++c) {
        int64_t sum = 0;
        for (int32_t i = 0; i < height * width; ++i) sum += input[static_cast<size_t>((n * height * width + i) * channels + c)];
        expected.push_back(ref_clamp(static_cast<int64_t>(ref_round_div(sum, height * width)), lo, hi));
      }
    const pocket_global_pool_params p{batches, height, width, channels, lo, hi};
    GuardedOutput output(expected.size(), 0x55);
    ASSERT_EQ(pocket_global_avgpool_s8(&p, input.data(), output.data()), POCKET_OK);
    ASSERT_TRUE(output.guards_intact());
    ASSERT_TRUE(same_outputs(expected, output.data(), "global avgpool trial " + std::to_string(trial)));
    // The same as pocket_avgpool_s8 with a full-size window.
    const pocket_pool_params full{batches, height, width, channels, height, width, 1, 1, 0, 0, 0, 0, lo, hi};
    std::vector<int8_t> via_avgpool(expected.size());
    ASSERT_EQ(pocket_avgpool_s8(&full, input.data(), via_avgpool.data()), POCKET_OK);
    ASSERT_TRUE(same_outputs(expected, via_avgpool.data(), "avgpool full window"));
  }
}

TEST(Pool, RejectsBadParameters) {
  int8_t input[64] = {}, output[64] = {};
  const pocket_pool_params good{1, 4, 4, 2, 2, 2, 2, 2, 1, 1, 1, 1, -128, 127};
  ASSERT_EQ(pocket_maxpool_s8(&good, input, output), POCKET_OK);
  EXPECT_EQ(pocket_maxpool_s8(nullptr, input, output), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_avgpool_s8(&good, nullptr, output), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_avgpool_s8(&good, input, nullptr), POCKET_ERR_NULL_POINTER);
  pocket_pool_params p = good;
  p.pad_top = 2;  // == filter height: a window could be all padding
  EXPECT_EQ(pocket_pool_check(&p), POCKET_ERR_BAD_SHAPE);
  p = good;
  p.pad_right = -1;
  EXPECT_EQ(pocket_pool_check(&p), POCKET_ERR_BAD_SHAPE);
  p = good;
  p.stride_height = 0;
  EXPECT_EQ(pocket_pool_check(&p), POCKET_ERR_BAD_SHAPE);
  p = good;
  p.filter_width = 7;
  p.pad_left = 0;
  p.pad_right = 0;
  EXPECT_EQ(pocket_pool_check(&p), POCKET_ERR_BAD_SHAPE);  // window wider than the input
  p = good;
  p.filter_height = 5000;
  p.filter_width = 5000;
  EXPECT_EQ(pocket_pool_check(&p), POCKET_ERR_BAD_SHAPE);  // count * 128 would overflow
  p = good;
  p.act_min = 1;
  p.act_max = 0;
  EXPECT_EQ(pocket_avgpool_s8(&p, input, output), POCKET_ERR_BAD_QUANT);
  const pocket_global_pool_params global{1, 4096, 4097, 1, -128, 127};
  EXPECT_EQ(pocket_global_avgpool_s8(&global, input, output), POCKET_ERR_BAD_SHAPE);
  const pocket_global_pool_params empty{1, 0, 4, 1, -128, 127};
  EXPECT_EQ(pocket_global_avgpool_s8(&empty, input, output), POCKET_ERR_BAD_SHAPE);
  const pocket_global_pool_params bad_clamp{1, 2, 2, 1, 3, -3};
  EXPECT_EQ(pocket_global_avgpool_check(&bad_clamp), POCKET_ERR_BAD_QUANT);
  EXPECT_EQ(pocket_global_avgpool_s8(nullptr, input, output), POCKET_ERR_NULL_POINTER);
  const pocket_global_pool_params fine{1, 2, 2, 1, -128, 127};
  EXPECT_EQ(pocket_global_avgpool_check(&fine), POCKET_OK);
}

}  // namespace
}  // namespace pocket::rt_test
