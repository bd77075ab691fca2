// pocket_softmax_s8 against exact rationals over the same exp table, and against real softmax.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <vector>

#include "pocket/qmath.hpp"
#include "pocket_runtime.h"
#include "runtime/reference.hpp"

namespace pocket::rt_test {
namespace {

std::vector<int32_t> reference(const std::vector<int8_t>& input, int32_t rows, int32_t depth, const uint16_t* table) {
  std::vector<int32_t> out;
  for (int32_t r = 0; r < rows; ++r) {
    const auto begin = input.begin() + static_cast<std::ptrdiff_t>(r) * depth;
    const int32_t max = *std::max_element(begin, begin + depth);
    int64_t sum = 0;
    for (int32_t j = 0; j < depth; ++j) sum += table[max - begin[j]];
    for (int32_t j = 0; j < depth; ++j) {
      const int64_t q = static_cast<int64_t>(ref_round_div(int64_t{256} * table[max - begin[j]], sum)) - 128;
      out.push_back(ref_clamp(q, -128, 127));
    }
  }
  return out;
}

TEST(Softmax, HandWorkedRows) {
  const auto table = qmath::softmax_exp_table(0.1);
  ASSERT_TRUE(table.is_ok());
  const auto run = [&](std::vector<int8_t> row) {
    pocket_softmax_params p{1, static_cast<int32_t>(row.size()), table->data()};
    std::vector<int8_t> out(row.size());
    EXPECT_EQ(pocket_softmax_s8(&p, row.data(), out.data()), POCKET_OK);
    return out;
  };
  EXPECT_EQ(run({42}), std::vector<int8_t>({127}));            // 256 -> 128 -> clamped to 127
  EXPECT_EQ(run({-5, -5}), std::vector<int8_t>({0, 0}));       // 128 - 128
  EXPECT_EQ(run({9, 9, 9}), std::vector<int8_t>({-43, -43, -43}));  // 85.33 -> 85
  EXPECT_EQ(run({1, 1, 1, 1}), std::vector<int8_t>({-64, -64, -64, -64}));
  // {0, -1} with s = 0.1: t = {32768, 29650}: 256 * 32768 / 62418 = 134.39 -> 134; 121.61 -> 122
  EXPECT_EQ(run({0, -1}), std::vector<int8_t>({6, -6}));
  // A dominant entry: 127 vs -128 (d = 255): t[255] = round(32768 e^-25.5) = 0
  EXPECT_EQ(run({127, -128}), std::vector<int8_t>({127, -128}));
}

TEST(Softmax, RandomRowsAgainstRationalsAndRealSoftmax) {
  Random rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    const int32_t rows = rng.int32(1, 4), depth = rng.int32(1, 40);
    const double scale = std::exp2(-7.0 + 6.0 * rng.unit());
    const double beta = trial % 3 == 0 ? 1.0 : 0.25 + 2.0 * rng.unit();
    const auto table = qmath::softmax_exp_table(scale, beta);
    ASSERT_TRUE(table.is_ok());
    const int lo = rng.int32(-128, 0), hi = rng.int32(lo, 127);
    const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(rows * depth), lo, hi);
    std::ostringstream what;
    what << "softmax trial=" << trial << " rows=" << rows << " depth=" << depth << " scale=" << scale
         << " beta=" << beta << " input_range=[" << lo << "," << hi << "]";
    const std::vector<int32_t> expected = reference(input, rows, depth, table->data());
    const pocket_softmax_params p{rows, depth, table->data()};
    GuardedOutput output(expected.size(), 0x55);
    ASSERT_EQ(pocket_softmax_s8(&p, input.data(), output.data()), POCKET_OK);
    ASSERT_TRUE(output.guards_intact());
    ASSERT_TRUE(same_outputs(expected, output.data(), what.str()));
    // Real softmax: output scale 1/256, zero point -128, within half an LSB plus the table error.
    for (int32_t r = 0; r < rows; ++r) {
      double denominator = 0;
      for (int32_t j = 0; j < depth; ++j) denominator += std::exp(beta * scale * input[static_cast<size_t>(r * depth + j)]);
      for (int32_t j = 0; j < depth; ++j) {
        const size_t i = static_cast<size_t>(r * depth + j);
        const double real = std::exp(beta * scale * input[i]) / denominator * 256.0 - 128.0;
        const double bound = 0.5 + (1.0 + depth) / 256.0;
        ASSERT_LE(std::fabs(output.data()[i] - std::min(real, 127.0)), bound) << what.str() << " index " << i;
      }
    }
  }
}

TEST(Softmax, LargestDepthDoesNotOverflow) {
  std::vector<uint16_t> table(POCKET_SOFTMAX_EXP_TABLE_SIZE, 65535);
  const std::vector<int8_t> input(POCKET_SOFTMAX_MAX_DEPTH, 7);
  std::vector<int8_t> output(input.size(), 0);
  const pocket_softmax_params p{1, POCKET_SOFTMAX_MAX_DEPTH, table.data()};
  ASSERT_EQ(pocket_softmax_s8(&p, input.data(), output.data()), POCKET_OK);
  // 256 / 32768 = 1/128 -> 0 - 128
  for (int8_t v : output) ASSERT_EQ(v, -128);
}

TEST(Softmax, RejectsBadParameters) {
  const auto table = qmath::softmax_exp_table(0.1);
  int8_t in[4] = {}, out[4] = {};
  pocket_softmax_params p{1, 4, table->data()};
  ASSERT_EQ(pocket_softmax_s8(&p, in, out), POCKET_OK);
  EXPECT_EQ(pocket_softmax_s8(nullptr, in, out), POCKET_ERR_NULL_POINTER);
  EXPECT_EQ(pocket_softmax_s8(&p, nullptr, out), POCKET_ERR_NULL_POINTER);
  p.exp_table = nullptr;
  EXPECT_EQ(pocket_softmax_check(&p), POCKET_ERR_NULL_POINTER);
  p = {1, 0, table->data()};
  EXPECT_EQ(pocket_softmax_check(&p), POCKET_ERR_BAD_SHAPE);
  p = {1, POCKET_SOFTMAX_MAX_DEPTH + 1, table->data()};
  EXPECT_EQ(pocket_softmax_check(&p), POCKET_ERR_BAD_SHAPE);
  const uint16_t zeros[POCKET_SOFTMAX_EXP_TABLE_SIZE] = {};
  p = {1, 4, zeros};
  EXPECT_EQ(pocket_softmax_check(&p), POCKET_ERR_BAD_QUANT);
}

}  // namespace
}  // namespace pocket::rt_test
