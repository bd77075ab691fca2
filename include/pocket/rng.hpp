// A small, fast, seedable RNG with the same stream on every platform (std:: distributions are
// not portable across standard libraries, so we derive our own).
#pragma once

#include <cstdint>

namespace pocket {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0x9E3779B97F4A7C15ull);
  uint64_t next_u64();                  // xoshiro256** step
  uint32_t next_u32() { return static_cast<uint32_t>(next_u64() >> 32); }
  uint32_t uniform_int(uint32_t n);     // in [0, n), unbiased; n > 0
  float uniform();                      // in [0, 1)
  float uniform(float lo, float hi);    // in [lo, hi)
  float normal();                       // standard normal (Box-Muller, cached pair)
  Rng split(uint64_t stream) const;     // an independent generator derived from this one's state

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  float spare_ = 0.0f;
};

}  // namespace pocket
