// One conv2d test case for the kernel testers (XNNPACK style: set the parameters, then Test(seed)):
// the parameters, their description, the kernel's parameter struct and the seeded random data
// (input, filter, per-channel multipliers and shifts, bias). Shared by the reference kernel's tests
// (tests/runtime/test_conv2d.cpp) and the fast kernels' tests (tests/fastkernels), which derive a
// tester with their own Test(seed).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "pocket_runtime.h"
#include "runtime/reference.hpp"

namespace pocket::rt_test {

inline const char* pool_name(pocket_pool_kind kind) {
  switch (kind) {
    case POCKET_POOL_NONE: return "none";
    case POCKET_POOL_MAX: return "max";
    case POCKET_POOL_AVG: return "avg";
  }
  return "?";
}

template <class Tester>
class ConvCase {
 public:
  Tester& batches(int32_t v) { batches_ = v; return self(); }
  Tester& input_size(int32_t height, int32_t width) { input_height_ = height; input_width_ = width; return self(); }
  Tester& channels(int32_t in, int32_t out) { input_channels_ = in; output_channels_ = out; return self(); }
  Tester& kernel(int32_t height, int32_t width) { filter_height_ = height; filter_width_ = width; return self(); }
  Tester& stride(int32_t height, int32_t width) { stride_height_ = height; stride_width_ = width; return self(); }
  Tester& padding(int32_t top, int32_t left, int32_t bottom, int32_t right) {
    pad_top_ = top; pad_left_ = left; pad_bottom_ = bottom; pad_right_ = right; return self();
  }
  Tester& groups(int32_t v) { groups_ = v; return self(); }
  Tester& zero_points(int32_t input, int32_t output) { input_zero_point_ = input; output_zero_point_ = output; return self(); }
  Tester& clamp(int32_t lo, int32_t hi) { act_min_ = lo; act_max_ = hi; return self(); }
  Tester& pool(pocket_pool_kind kind, int32_t height, int32_t width, int32_t stride_height, int32_t stride_width) {
    pool_kind_ = kind; pool_height_ = height; pool_width_ = width;
    pool_stride_height_ = stride_height; pool_stride_width_ = stride_width; return self();
  }
  Tester& per_channel(bool v) { per_channel_ = v; return self(); }
  Tester& with_bias(bool v) { with_bias_ = v; return self(); }
  Tester& multiplier_scale(double v) { multiplier_scale_ = v; return self(); }
  Tester& input_range(int lo, int hi) { input_lo_ = lo; input_hi_ = hi; return self(); }
  Tester& weight_range(int lo, int hi) { weight_lo_ = lo; weight_hi_ = hi; return self(); }
  // Biases uniform in [-v, v] (default: about the accumulator's RMS).
  Tester& bias_range(int64_t v) { bias_range_ = v; return self(); }

  // A random awkward shape from `rng` (groups 1-3, every padding, stride and clamp, optional
  // pooling, bias and per-channel multipliers), with at most these many channels per group and this
  // input size.
  struct RandomLimits {
    int32_t in_per_group, out_per_group, height, width;
  };
  Tester& random_shape(Random& rng, const RandomLimits& limits) {
    const int32_t groups = rng.int32(1, 3);
    const int32_t in_per_group = rng.int32(1, limits.in_per_group);
    const int32_t out_per_group = rng.int32(1, limits.out_per_group);
    const int32_t kh = rng.int32(1, 5), kw = rng.int32(1, 5);
    const int32_t top = rng.int32(0, 3), left = rng.int32(0, 3), bottom = rng.int32(0, 3), right = rng.int32(0, 3);
    const int32_t height = rng.int32(std::max(1, kh - top - bottom), limits.height);
    const int32_t width = rng.int32(std::max(1, kw - left - right), limits.width);
    const int32_t sh = rng.int32(1, 3), sw = rng.int32(1, 3);
    const int32_t conv_h = (height + top + bottom - kh) / sh + 1;
    const int32_t conv_w = (width + left + right - kw) / sw + 1;
    int32_t lo = rng.int32(-128, 127), hi = rng.int32(-128, 127);
    if (lo > hi) std::swap(lo, hi);
    if (rng.coin()) { lo = -128; hi = 127; }
    batches(rng.int32(1, 3))
        .input_size(height, width)
        .channels(groups * in_per_group, groups * out_per_group)
        .groups(groups)
        .kernel(kh, kw)
        .stride(sh, sw)
        .padding(top, left, bottom, right)
        .zero_points(rng.int32(-128, 127), rng.int32(-128, 127))
        .clamp(lo, hi)
        .per_channel(rng.coin())
        .with_bias(rng.coin())
        .multiplier_scale(std::exp2(rng.unit() * 8.0 - 4.0));
    const int32_t pool_choice = rng.int32(0, 2);
    if (pool_choice != 0) {
      pool(pool_choice == 1 ? POCKET_POOL_MAX : POCKET_POOL_AVG, rng.int32(1, conv_h), rng.int32(1, conv_w),
           rng.int32(1, 3), rng.int32(1, 3));
    }
    return self();
  }

  std::string describe(uint64_t seed) const {
    std::ostringstream s;
    s << "conv2d seed=" << seed << " batches=" << batches_ << " input=" << input_height_ << "x"
      << input_width_ << "x" << input_channels_ << " output_channels=" << output_channels_
      << " kernel=" << filter_height_ << "x" << filter_width_ << " stride=" << stride_height_ << "x"
      << stride_width_ << " pad(t,l,b,r)=(" << pad_top_ << "," << pad_left_ << "," << pad_bottom_
      << "," << pad_right_ << ") groups=" << groups_ << " zp(in,out)=(" << input_zero_point_ << ","
      << output_zero_point_ << ") act=[" << act_min_ << "," << act_max_ << "] pool=" << pool_name(pool_kind_)
      << " " << pool_height_ << "x" << pool_width_ << "/" << pool_stride_height_ << "x" << pool_stride_width_
      << " per_channel=" << per_channel_ << " bias=" << with_bias_ << " multiplier_scale=" << multiplier_scale_
      << " input_range=[" << input_lo_ << "," << input_hi_ << "] weight_range=[" << weight_lo_ << ","
      << weight_hi_ << "]";
    return s.str();
  }

  pocket_conv2d_params params() const {
    pocket_conv2d_params p{};
    p.batches = batches_;
    p.input_height = input_height_;
    p.input_width = input_width_;
    p.input_channels = input_channels_;
    p.output_channels = output_channels_;
    p.filter_height = filter_height_;
    p.filter_width = filter_width_;
    p.stride_height = stride_height_;
    p.stride_width = stride_width_;
    p.pad_top = pad_top_;
    p.pad_left = pad_left_;
    p.pad_bottom = pad_bottom_;
    p.pad_right = pad_right_;
    p.groups = groups_;
    p.input_zero_point = input_zero_point_;
    p.output_zero_point = output_zero_point_;
    p.output_multiplier = multipliers_.data();
    p.output_shift = shifts_.data();
    p.act_min = act_min_;
    p.act_max = act_max_;
    p.pool = {pool_kind_, pool_height_, pool_width_, pool_stride_height_, pool_stride_width_};
    return p;
  }

 protected:
  // Fills input_, filter_, multipliers_, shifts_ and bias_ from `seed`; multipliers are scaled so
  // that outputs spread over the int8 range (then by multiplier_scale).
  void generate(uint64_t seed) {
    Random rng(seed);
    const int32_t group_channels = input_channels_ / groups_;
    input_ = rng.int8s(static_cast<size_t>(batches_) * input_height_ * input_width_ * input_channels_, input_lo_,
                       input_hi_);
    filter_ = rng.int8s(static_cast<size_t>(output_channels_) * filter_height_ * filter_width_ * group_channels,
                        weight_lo_, weight_hi_);
    const double terms = static_cast<double>(filter_height_) * filter_width_ * group_channels;
    const double input_rms = std::sqrt(5461.0 + (input_zero_point_ + 0.5) * (input_zero_point_ + 0.5));
    const double acc_rms = std::sqrt(terms) * input_rms * 73.6;
    const double base = 60.0 / acc_rms * multiplier_scale_;
    multipliers_.clear();
    shifts_.clear();
    bias_.clear();
    const TestMultiplier shared = random_multiplier(rng, base);
    const int64_t bias_range = bias_range_ >= 0 ? bias_range_ : static_cast<int64_t>(acc_rms);
    for (int32_t c = 0; c < output_channels_; ++c) {
      const TestMultiplier m = per_channel_ ? random_multiplier(rng, base * std::exp2(2.0 * rng.unit() - 1.0)) : shared;
      multipliers_.push_back(m.multiplier);
      shifts_.push_back(m.shift);
      bias_.push_back(rng.int32(-bias_range, bias_range));
    }
  }
  const int32_t* bias() const { return with_bias_ ? bias_.data() : nullptr; }

  int32_t batches_ = 1, input_height_ = 5, input_width_ = 5, input_channels_ = 3, output_channels_ = 4;
  int32_t filter_height_ = 3, filter_width_ = 3, stride_height_ = 1, stride_width_ = 1;
  int32_t pad_top_ = 0, pad_left_ = 0, pad_bottom_ = 0, pad_right_ = 0, groups_ = 1;
  int32_t input_zero_point_ = 0, output_zero_point_ = 0, act_min_ = -128, act_max_ = 127;
  pocket_pool_kind pool_kind_ = POCKET_POOL_NONE;
  int32_t pool_height_ = 1, pool_width_ = 1, pool_stride_height_ = 1, pool_stride_width_ = 1;
  bool per_channel_ = true, with_bias_ = true;
  double multiplier_scale_ = 1.0;
  int input_lo_ = -128, input_hi_ = 127, weight_lo_ = -127, weight_hi_ = 127;
  int64_t bias_range_ = -1;
  std::vector<int8_t> input_, filter_;
  std::vector<int32_t> multipliers_, shifts_, bias_;

 private:
  Tester& self() { return static_cast<Tester&>(*this); }
};

}  // namespace pocket::rt_test
