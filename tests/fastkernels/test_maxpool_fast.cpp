// pocket_maxpool_s8_fast against the reference pocket_maxpool_s8, byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "fastkernels/fast_tester.hpp"
#include "pocket/fastkernels.hpp"
#include "pocket_runtime.h"

namespace pocket::fast_test {
namespace {

std::string describe(const pocket_pool_params& p, uint64_t seed) {
  std::ostringstream s;
  s << "maxpool seed=" << seed << " batches=" << p.batches << " input=" << p.input_height << "x" << p.input_width
    << "x" << p.channels << " filter=" << p.filter_height << "x" << p.filter_width << " stride=" << p.stride_height
    << "x" << p.stride_width << " pad(t,l,b,r)=(" << p.pad_top << "," << p.pad_left << "," << p.pad_bottom << ","
    << p.pad_right << ") act=[" << p.act_min << "," << p.act_max << "]";
  return s.str();
}

void test_pool(const pocket_pool_params& p, uint64_t seed) {
  const std::string description = describe(p, seed);
  SCOPED_TRACE(description);
  Random rng(seed);
  const std::vector<int8_t> input =
      rng.int8s(static_cast<size_t>(p.batches) * p.input_height * p.input_width * p.channels);
  int32_t height = 0, width = 0;
  ASSERT_EQ(pocket_pool_output_shape(&p, &height, &width), POCKET_OK);
  const size_t size = static_cast<size_t>(p.batches) * height * width * p.channels;
  std::vector<int8_t> expected(size);
  ASSERT_EQ(pocket_maxpool_s8(&p, input.data(), expected.data()), POCKET_OK);
  for (const int8_t fill : {int8_t{0x55}, int8_t{-0x56}}) {
    GuardedOutput output(size, fill);
    ASSERT_EQ(pocket_maxpool_s8_fast(&p, input.data(), output.data()), POCKET_OK);
    ASSERT_TRUE(output.guards_intact());
    ASSERT_TRUE(same_bytes(expected, output.data(), description));
  }
}

TEST(MaxPoolFast, EveryFilterStrideAndPadding) {
  uint64_t seed = 1;
  for (int32_t channels : {1, 3, 16, 17, 64})
    for (int32_t kh = 1; kh <= 3; ++kh)
      for (int32_t kw = 1; kw <= 3; ++kw)
        for (int32_t s = 1; s <= 3; ++s)
          for (int32_t pad = 0; pad < std::min(kh, kw); ++pad) {
            const pocket_pool_params p{2, 7, 9, channels, kh, kw, s, 4 - s, pad, pad, kh - 1 - pad, pad, -128, 127};
            test_pool(p, seed++);
            if (::testing::Test::HasFatalFailure()) return;
          }
}

TEST(MaxPoolFast, ClampsAndRandomShapes) {
  for (uint64_t seed = 100; seed < 400; ++seed) {
    Random rng(seed);
    pocket_pool_params p{};
    p.batches = rng.int32(1, 3);
    p.filter_height = rng.int32(1, 4);
    p.filter_width = rng.int32(1, 4);
    p.pad_top = rng.int32(0, p.filter_height - 1);
    p.pad_bottom = rng.int32(0, p.filter_height - 1);
    p.pad_left = rng.int32(0, p.filter_width - 1);
    p.pad_right = rng.int32(0, p.filter_width - 1);
    p.input_height = rng.int32(std::max(1, p.filter_height - p.pad_top - p.pad_bottom), 12);
    p.input_width = rng.int32(std::max(1, p.filter_width - p.pad_left - p.pad_right), 12);
    p.channels = rng.int32(1, 40);
    p.stride_height = rng.int32(1, 3);
    p.stride_width = rng.int32(1, 3);
    p.act_min = rng.int32(-128, 127);
    p.act_max = rng.int32(p.act_min, 127);
    test_pool(p, seed);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(MaxPoolFast, SameStatusesAsReference) {
  const pocket_pool_params good{1, 4, 4, 2, 2, 2, 2, 2, 0, 0, 0, 0, -128, 127};
  int8_t input[64] = {};
  const auto expect = [&](auto mutate, const char* what) {
    pocket_pool_params p = good;
    mutate(p);
    int8_t reference[64], fast[64];
    std::fill(std::begin(reference), std::end(reference), int8_t{77});
    std::fill(std::begin(fast), std::end(fast), int8_t{77});
    EXPECT_EQ(pocket_maxpool_s8_fast(&p, input, fast), pocket_maxpool_s8(&p, input, reference)) << what;
    EXPECT_TRUE(std::equal(std::begin(reference), std::end(reference), std::begin(fast))) << what;
  };
  using P = pocket_pool_params;
  expect([](P&) {}, "good");
  expect([](P& p) { p.batches = 0; }, "batches 0");
  expect([](P& p) { p.pad_top = 2; }, "pad as large as the filter");
  expect([](P& p) { p.stride_width = 0; }, "stride 0");
  expect([](P& p) { p.act_min = 3; p.act_max = 2; }, "empty clamp");
  int8_t output[64];
  EXPECT_EQ(pocket_maxpool_s8_fast(nullptr, input, output), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_maxpool_s8_fast(&good, nullptr, output), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_maxpool_s8_fast(&good, input, nullptr), POCKET_ERR_NULL_POINTER);
}

}  // namespace
}  // namespace pocket::fast_test
