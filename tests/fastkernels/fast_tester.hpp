// Shared helpers of the fastkernels tests: the variants to test and byte-exact comparison.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "pocket/fastkernels.hpp"
#include "runtime/reference.hpp"

namespace pocket::fast_test {

using rt_test::GuardedOutput;
using rt_test::Random;
using rt_test::TestMultiplier;
using rt_test::random_multiplier;

// Every variant this CPU can run, the reference included (it must pass through pack/run too).
inline std::vector<pocket_fast_variant> variants_to_test() {
  std::vector<pocket_fast_variant> out;
  for (int v = POCKET_FAST_VARIANT_FIRST; v <= POCKET_FAST_VARIANT_LAST; ++v) {
    const auto variant = static_cast<pocket_fast_variant>(v);
    if (pocket_fast_variant_supported(variant)) out.push_back(variant);
  }
  return out;
}

// Byte-for-byte comparison; reports the count and the first mismatches.
inline ::testing::AssertionResult same_bytes(const std::vector<int8_t>& expected, const int8_t* actual,
                                             const std::string& description) {
  std::ostringstream out;
  size_t mismatches = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] != actual[i]) {
      if (mismatches < 5) {
        out << "\n  index " << i << ": reference " << int{expected[i]} << ", fast " << int{actual[i]};
      }
      ++mismatches;
    }
  }
  if (mismatches == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << mismatches << " of " << expected.size() << " bytes differ for "
                                       << description << out.str();
}

inline const char* status_name(pocket_status status) {
  switch (status) {
    case POCKET_OK: return "ok";
    case POCKET_ERR_NULL_POINTER: return "null pointer";
    case POCKET_ERR_BAD_SHAPE: return "bad shape";
    case POCKET_ERR_BAD_QUANT: return "bad quant";
    case POCKET_ERR_ACC_RANGE: return "accumulator range";
  }
  return "?";
}

}  // namespace pocket::fast_test
