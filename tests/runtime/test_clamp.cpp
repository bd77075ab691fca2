// pocket_clamp_s8: exhaustive over every int8 input for a sweep of clamp ranges (including the
// ReLU range [zero_point, 127] and a single-value range), in place, and parameter validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "pocket_runtime.h"

namespace pocket::rt_test {
namespace {

std::vector<int8_t> every_int8() {
  std::vector<int8_t> v;
  for (int q = -128; q <= 127; ++q) v.push_back(static_cast<int8_t>(q));
  return v;
}

}  // namespace

TEST(Clamp, EveryInputForASweepOfRanges) {
  const std::vector<int8_t> input = every_int8();
  for (int lo = -128; lo <= 127; lo += 17) {
    for (int hi = lo; hi <= 127; hi += 23) {
      SCOPED_TRACE(testing::Message() << "act=[" << lo << "," << hi << "]");
      const pocket_clamp_params p{static_cast<int32_t>(input.size()), lo, hi};
      std::vector<int8_t> out(input.size(), 99);
      ASSERT_EQ(pocket_clamp_s8(&p, input.data(), out.data()), POCKET_OK);
      for (size_t i = 0; i < input.size(); ++i) {
        ASSERT_EQ(out[i], std::clamp<int>(input[i], lo, hi)) << "input " << int{input[i]};
      }
    }
  }
}

TEST(Clamp, InPlaceAndPartialCount) {
  std::vector<int8_t> data = every_int8();
  // ReLU at zero point -5: [-5, 127]; only the first 200 elements are touched.
  const pocket_clamp_params p{200, -5, 127};
  ASSERT_EQ(pocket_clamp_s8(&p, data.data(), data.data()), POCKET_OK);
  for (int i = 0; i < 256; ++i) {
    const int q = i - 128;
    EXPECT_EQ(data[static_cast<size_t>(i)], i < 200 ? std::max(q, -5) : q) << i;
  }
}

TEST(Clamp, RejectsBadParameters) {
  int8_t in[4] = {1, 2, 3, 4};
  int8_t out[4] = {9, 9, 9, 9};
  const pocket_clamp_params ok{4, -128, 127};
  EXPECT_EQ(pocket_clamp_check(&ok), POCKET_OK);
  EXPECT_EQ(pocket_clamp_check(nullptr), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_clamp_s8(&ok, nullptr, out), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_clamp_s8(&ok, in, nullptr), POCKET_ERR_NULL_POINTER);
  const pocket_clamp_params empty{0, -128, 127};
  EXPECT_EQ(pocket_clamp_s8(&empty, in, out), POCKET_ERR_BAD_SHAPE);
  const pocket_clamp_params inverted{4, 3, 2};
  EXPECT_EQ(pocket_clamp_s8(&inverted, in, out), POCKET_ERR_BAD_QUANT);
  const pocket_clamp_params wide{4, -129, 127};
  EXPECT_EQ(pocket_clamp_s8(&wide, in, out), POCKET_ERR_BAD_QUANT);
  const pocket_clamp_params high{4, 0, 128};
  EXPECT_EQ(pocket_clamp_s8(&high, in, out), POCKET_ERR_BAD_QUANT);
  for (int8_t v : out) EXPECT_EQ(v, 9) << "nothing is written on an error";
}

}  // namespace pocket::rt_test
