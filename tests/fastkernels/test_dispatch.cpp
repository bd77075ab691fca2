// Variant selection: names, support, pocket_fast_select, and the POCKET_KERNELS override (in a
// fresh process, since the environment is read once).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "fastkernels/fast_tester.hpp"
#include "pocket/fastkernels.hpp"

namespace pocket::fast_test {
namespace {

pocket_fast_variant best_supported() {
  for (int v = POCKET_FAST_VARIANT_LAST; v >= POCKET_FAST_VARIANT_FIRST; --v) {
    if (pocket_fast_variant_supported(static_cast<pocket_fast_variant>(v))) return static_cast<pocket_fast_variant>(v);
  }
  return POCKET_FAST_REFERENCE;
}

TEST(Dispatch, NamesAndSupport) {
  EXPECT_STREQ(pocket_fast_variant_name(POCKET_FAST_REFERENCE), "reference");
  EXPECT_STREQ(pocket_fast_variant_name(POCKET_FAST_PORTABLE), "portable");
  EXPECT_STREQ(pocket_fast_variant_name(POCKET_FAST_AVX2), "avx2");
  EXPECT_STREQ(pocket_fast_variant_name(POCKET_FAST_AVX512), "avx512");
  EXPECT_TRUE(pocket_fast_variant_supported(POCKET_FAST_REFERENCE));
  EXPECT_TRUE(pocket_fast_variant_supported(POCKET_FAST_PORTABLE));
  EXPECT_FALSE(pocket_fast_variant_supported(static_cast<pocket_fast_variant>(5)));
  std::string all;
  for (const pocket_fast_variant v : variants_to_test()) all += std::string(" ") + pocket_fast_variant_name(v);
  std::printf("variants supported here:%s; selected: %s\n", all.c_str(), pocket_fast_isa());
}

TEST(Dispatch, DefaultIsTheBestSupportedUnlessTheEnvironmentSaysOtherwise) {
  const char* env = std::getenv("POCKET_KERNELS");
  pocket_fast_variant expected = best_supported();
  if (env != nullptr) {
    for (const pocket_fast_variant v : variants_to_test()) {
      if (std::strcmp(env, pocket_fast_variant_name(v)) == 0) expected = v;
    }
  }
  EXPECT_EQ(pocket_fast_selected(), expected);
  EXPECT_STREQ(pocket_fast_isa(), pocket_fast_variant_name(expected));
}

TEST(Dispatch, SelectAndRestore) {
  const pocket_fast_variant initial = pocket_fast_selected();
  for (const pocket_fast_variant v : variants_to_test()) {
    ASSERT_EQ(pocket_fast_select(v), 1);
    EXPECT_EQ(pocket_fast_selected(), v);
    EXPECT_STREQ(pocket_fast_isa(), pocket_fast_variant_name(v));
  }
  for (int v = POCKET_FAST_VARIANT_FIRST; v <= POCKET_FAST_VARIANT_LAST; ++v) {
    if (!pocket_fast_variant_supported(static_cast<pocket_fast_variant>(v))) {
      EXPECT_EQ(pocket_fast_select(static_cast<pocket_fast_variant>(v)), 0);
    }
  }
  ASSERT_EQ(pocket_fast_select(POCKET_FAST_SELECTED), 1);
  EXPECT_EQ(pocket_fast_selected(), initial);
}

// With the reference selected, the drop-ins ARE the reference kernels (what an engine compares).
TEST(Dispatch, ReferenceSelectionPacksTheReference) {
  ASSERT_EQ(pocket_fast_select(POCKET_FAST_REFERENCE), 1);
  int32_t multiplier[2] = {1 << 30, 1 << 30}, shift[2] = {3, 3};
  pocket_fully_connected_params p{};
  p.batches = 1; p.input_features = 4; p.output_features = 2;
  p.output_multiplier = multiplier; p.output_shift = shift; p.act_min = -128; p.act_max = 127;
  int64_t packed_bytes = 0, scratch_bytes = 0;
  ASSERT_EQ(pocket_fully_connected_s8_fast_plan(POCKET_FAST_SELECTED, &p, nullptr, &packed_bytes, &scratch_bytes),
            POCKET_OK);
  EXPECT_EQ(scratch_bytes, 0);
  std::vector<uint8_t> packed(static_cast<size_t>(packed_bytes));
  const int8_t weights[8] = {1, 2, 3, 4, -5, -6, -7, -8};
  ASSERT_EQ(pocket_fully_connected_s8_fast_pack(POCKET_FAST_SELECTED, &p, weights, nullptr, packed.data(), packed_bytes),
            POCKET_OK);
  EXPECT_EQ(pocket_fast_packed_variant(packed.data()), POCKET_FAST_REFERENCE);
  const int8_t input[4] = {10, 20, 30, 40};
  int8_t output[2] = {}, expected[2] = {};
  ASSERT_EQ(pocket_fully_connected_s8_fast_run(&p, packed.data(), input, output, nullptr), POCKET_OK);
  ASSERT_EQ(pocket_fully_connected_s8(&p, input, weights, nullptr, expected, nullptr), POCKET_OK);
  EXPECT_EQ(output[0], expected[0]);
  EXPECT_EQ(output[1], expected[1]);
  ASSERT_EQ(pocket_fast_select(POCKET_FAST_SELECTED), 1);
}

// POCKET_KERNELS is read once, at the first call: check it in a fresh process.
TEST(DispatchDeathTest, EnvironmentSelectsTheVariant) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  for (const pocket_fast_variant v : variants_to_test()) {
    const std::string name = pocket_fast_variant_name(v);
    EXPECT_EXIT(
        {
          setenv("POCKET_KERNELS", name.c_str(), 1);
          std::exit(pocket_fast_selected() == v ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "")
        << name;
  }
  const pocket_fast_variant best = best_supported();
  EXPECT_EXIT(
      {
        setenv("POCKET_KERNELS", "no-such-isa", 1);
        std::exit(pocket_fast_selected() == best ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace pocket::fast_test
