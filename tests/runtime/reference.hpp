// Independent reference arithmetic for the runtime tests: exact rationals in 128-bit integers,
// floor division with an explicit remainder test for the tie (a different algorithm from the
// runtime's add-half-and-shift on magnitudes), and a deterministic random source.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace pocket::rt_test {

__extension__ typedef __int128 i128;

// round(num / den) to nearest, ties away from zero, for den > 0. Exact.
inline i128 ref_round_div(i128 num, i128 den) {
  i128 quotient = num / den;  // truncates toward zero
  i128 remainder = num % den;
  if (remainder < 0) {  // make it the floor: num = quotient * den + remainder, 0 <= remainder < den
    quotient -= 1;
    remainder += den;
  }
  if (2 * remainder > den) return quotient + 1;
  if (2 * remainder == den) return num > 0 ? quotient + 1 : quotient;  // floor is already away for num < 0
  return quotient;
}

inline i128 pow2(int exponent) { return static_cast<i128>(1) << exponent; }

// The exact value the runtime must produce for round(acc * multiplier / 2^(31 + shift)).
inline int64_t ref_multiply_round(int64_t acc, int64_t multiplier, int shift) {
  return static_cast<int64_t>(ref_round_div(static_cast<i128>(acc) * multiplier, pow2(31 + shift)));
}

inline int32_t ref_clamp(int64_t v, int64_t lo, int64_t hi) {
  return static_cast<int32_t>(std::min(std::max(v, lo), hi));
}

inline int32_t ref_requant_s8(int64_t acc, int32_t multiplier, int32_t shift, int32_t zero_point,
                              int32_t act_min, int32_t act_max) {
  return ref_clamp(ref_multiply_round(acc, multiplier, shift) + zero_point, act_min, act_max);
}

// Deterministic random numbers: mt19937_64 is fully specified; the mapping to ranges is ours
// (std distributions differ between standard libraries).
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  // Uniform in [lo, hi] (inclusive). The modulo bias is irrelevant for tests.
  int64_t uniform(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(engine_() % span);
  }
  int32_t int32(int64_t lo, int64_t hi) { return static_cast<int32_t>(uniform(lo, hi)); }
  bool coin() { return (engine_() & 1) != 0; }
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  std::vector<int8_t> int8s(size_t count, int lo = -128, int hi = 127) {
    std::vector<int8_t> out(count);
    for (auto& v : out) v = static_cast<int8_t>(uniform(lo, hi));
    return out;
  }

 private:
  std::mt19937_64 engine_;
};

// A normalised quantized multiplier close to `real` (0 < real < 2^31), with random low mantissa
// bits so the sweeps see arbitrary mantissas, not only round ones.
struct TestMultiplier {
  int32_t multiplier;
  int32_t shift;
};
inline TestMultiplier random_multiplier(Random& rng, double real) {
  int exponent = 0;
  std::frexp(real, &exponent);  // real in [2^(exponent-1), 2^exponent)
  const int shift = std::clamp(-exponent, -31, 31);
  return {rng.int32(int64_t{1} << 30, (int64_t{1} << 31) - 1), shift};
}

// Output buffer with guard bytes on both sides, so a kernel writing out of bounds is caught.
class GuardedOutput {
 public:
  static constexpr size_t kGuard = 64;
  GuardedOutput(size_t size, int8_t fill) : buffer_(size + 2 * kGuard, kGuardValue), size_(size) {
    std::fill(buffer_.begin() + kGuard, buffer_.begin() + static_cast<std::ptrdiff_t>(kGuard + size), fill);
  }
  int8_t* data() { return buffer_.data() + kGuard; }
  const int8_t* data() const { return buffer_.data() + kGuard; }
  size_t size() const { return size_; }
  bool guards_intact() const {
    for (size_t i = 0; i < kGuard; ++i) {
      if (buffer_[i] != kGuardValue || buffer_[kGuard + size_ + i] != kGuardValue) return false;
    }
    return true;
  }

 private:
  static constexpr int8_t kGuardValue = 0x3C;
  std::vector<int8_t> buffer_;
  size_t size_;
};

// Compares outputs element by element; reports the first few mismatches with the description.
inline ::testing::AssertionResult same_outputs(const std::vector<int32_t>& expected, const int8_t* actual,
                                               const std::string& description) {
  std::ostringstream out;
  size_t mismatches = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] != actual[i]) {
      if (mismatches < 5) {
        out << "\n  index " << i << ": expected " << expected[i] << ", got " << int{actual[i]};
      }
      ++mismatches;
    }
  }
  if (mismatches == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << mismatches << " of " << expected.size()
                                       << " outputs differ for " << description << out.str();
}

}  // namespace pocket::rt_test
