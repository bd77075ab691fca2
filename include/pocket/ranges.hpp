// Statistics of float values and the choice of a quantization range from them.
//
//  - Summary, percentile, percent_outside, Histogram: exact statistics of a span of floats.
//  - Observer: accumulates one tensor over many batches (exact count/min/max/mean/std over every
//    value, plus a bounded, deterministic sample of the values for percentiles, histograms and the
//    MSE/KL range searches).
//  - RangeSpec + choose_range: the calibration methods of the lab (min/max, mu +- K sigma,
//    percentile, MSE-optimal clipping, KL/entropy clipping). The quantizer a range stands for is the
//    one qmath builds (qmath::choose_quant_params); this file never chooses scales or zero points
//    itself.
//
// Conventions
//  - Every sum is accumulated in double. Standard deviations are population ones (divide by n).
//  - Non-finite values (NaN, +-inf) are counted separately and excluded from min/max/mean/std,
//    percentiles and histograms; choose_range refuses data that contains any.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pocket/rng.hpp"
#include "pocket/status.hpp"

namespace pocket {

// ---------------------------------------------------------------------------------------------
// Plain statistics
// ---------------------------------------------------------------------------------------------

struct Summary {
  int64_t count = 0;  // every value, finite or not
  int64_t nan = 0;    // NaN values among them (excluded from min/max/mean/stddev)
  int64_t inf = 0;    // +-inf values among them (excluded likewise)
  double min = 0.0;   // of the finite values; min/max/mean/stddev are 0 when there are none
  double max = 0.0;
  double mean = 0.0;
  double stddev = 0.0;  // population standard deviation (divides by the number of finite values)

  int64_t finite() const { return count - nan - inf; }
};

// Two passes in double (mean, then the sum of squared deviations): a constant span has stddev 0
// exactly.
Summary summarize(std::span<const float> values);

// Percent (0..100) of the finite values that are < lo or > hi (strictly: a value equal to a bound
// is inside). 0 for a span without finite values.
double percent_outside(std::span<const float> values, double lo, double hi);
// The same as a count of values (the exact numerator of percent_outside).
int64_t count_outside(std::span<const float> values, double lo, double hi);

// The p-th percentile (0 <= p <= 100) of the finite values, exact, computed on a copy.
// Interpolation rule: linear between closest ranks (numpy's default, Hyndman & Fan type 7): with
// the n values sorted ascending as x[0..n-1] and h = (n - 1) * p / 100, the result is
// x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]); p = 0 is the minimum and
// p = 100 the maximum. Requires at least one finite value and p in [0, 100] (checked).
double percentile(std::span<const float> values, double p);
// Several percentiles at once (one copy, selection instead of a full sort); same rule as above.
std::vector<double> percentiles(std::span<const float> values, std::span<const double> ps);

// Equal-width bins over [lo, hi]: bin i covers [lo + i*w, lo + (i+1)*w) with w = (hi - lo) / bins,
// the last bin also includes hi. Values below lo go to bin 0 and values above hi to the last bin
// (so the counts always add up to the number of finite values); non-finite values are not counted.
struct Histogram {
  double lo = 0.0;
  double hi = 0.0;
  std::vector<int64_t> counts;

  double bin_width() const { return counts.empty() ? 0.0 : (hi - lo) / static_cast<double>(counts.size()); }
  int64_t total() const;
};
// `bins` >= 1 (checked). lo == hi puts every value into one bin (the one holding lo).
Histogram make_histogram(std::span<const float> values, int bins, double lo, double hi);
// Over [min, max] of the finite values ([0, 0] when there are none).
Histogram make_histogram(std::span<const float> values, int bins);

// ---------------------------------------------------------------------------------------------
// Observer
// ---------------------------------------------------------------------------------------------

inline constexpr size_t kDefaultSampleCap = size_t{4} << 20;  // 4M values (16 MiB)

// Accumulates a tensor's values over many add() calls.
//  - summary(): exact count, min, max; mean and population std from per-batch two-pass sums
//    combined in double (Chan et al.'s parallel update), so a constant stream has std 0 exactly.
//  - sample(): every finite value, in order, while there are at most `sample_cap`; after that a
//    uniform random sample of `sample_cap` of them (reservoir sampling, Vitter's algorithm R)
//    drawn from an Rng seeded with `seed`. The sample depends only on the seed and the sequence
//    of values, not on how the values were split into add() calls.
class Observer {
 public:
  explicit Observer(size_t sample_cap = kDefaultSampleCap, uint64_t seed = 0);

  void add(std::span<const float> values);

  Summary summary() const;
  int64_t count() const { return count_; }
  // The retained finite values: all of them unless sampled().
  std::span<const float> sample() const { return sample_; }
  bool sampled() const { return finite_seen_ > static_cast<int64_t>(sample_.size()); }
  size_t sample_cap() const { return cap_; }

 private:
  size_t cap_;
  Rng rng_;
  std::vector<float> sample_;
  int64_t count_ = 0;
  int64_t nan_ = 0;
  int64_t inf_ = 0;
  int64_t finite_seen_ = 0;
  double min_ = 0.0;
  double max_ = 0.0;
  double mean_ = 0.0;
  double m2_ = 0.0;  // sum of squared deviations from the mean
};

// ---------------------------------------------------------------------------------------------
// Range methods
// ---------------------------------------------------------------------------------------------

enum class RangeMethod : uint8_t { MinMax, Sigma, Percentile, Mse, Kl };

struct RangeSpec {
  RangeMethod method = RangeMethod::MinMax;
  double param = 0.0;  // K of sigma:K, P of percentile:P; 0 otherwise

  // "minmax" | "sigma:K" (K > 0) | "percentile:P" (50 < P <= 100) | "mse" | "kl".
  static Result<RangeSpec> parse(const std::string& text);
  std::string str() const;  // inverse of parse() ("sigma:3", "percentile:99.99")
};

struct Range {
  float lo = 0.0f;
  float hi = 0.0f;
};

// The real range a tensor should be quantized to with a `bits`-bit type (2..16), symmetric
// (zero point 0, range [-c, c]) or asymmetric (the range always contains 0, as qmath requires).
// The result is finite with hi > lo. MinMax and Sigma use the observer's exact summary; the other
// methods use its sample (exact while nothing was dropped).
//
//  minmax        [min, max].
//  sigma:K       [mu - K sigma, mu + K sigma] intersected with [min, max] (a bound beyond the data
//                would only waste levels).
//  percentile:P  [pct(100 - P), pct(P)] with the interpolation rule of percentile().
//  mse           the clipping that minimises the mean squared error sum (x - deq(quant(x)))^2 / n
//                over the values, with quant/deq exactly qmath's choose_quant_params +
//                quantize_value + dequantize_value for the candidate range. Search: for a
//                threshold t over [0, T] (T the largest magnitude on that side) a grid of 100
//                candidates t = T * i / 100, i = 1..100, then a finer grid of 40 candidates
//                across the two coarse cells around the best one. Symmetric: one threshold c,
//                range [-c, c]. Asymmetric: lo and hi are searched separately in alternation
//                (coordinate descent, 2 rounds, starting from [min, max]); a side without data
//                stays at 0. The error of a candidate is computed exactly on the sorted values
//                with prefix sums (each quantization level's values form one run).
//  kl            entropy calibration in the style of TensorRT (see ranges.cpp): a 2048-bin
//                histogram of x on [0, max] with 2^bits levels for non-negative data and an
//                asymmetric type, else of |x| on [0, max|x|] with 2^(bits-1) levels; the threshold
//                minimising KL(P || Q) over bins levels..2048. The range is [0, t] or [-t, t]
//                (asymmetric: intersected with [min, max]). From 11 bits on, the quantizer resolves
//                the histogram itself and KL returns the minmax threshold.
//
// Then for every method: symmetric -> [-c, c] with c = max(|lo|, |hi|); asymmetric -> widened to
// contain 0.
//
// Degenerate data:
//  - no values, or any NaN/inf value -> Error naming the problem;
//  - all values equal to c != 0 (includes a single value) -> asymmetric [min(c, 0), max(c, 0)],
//    symmetric [-|c|, |c|]: c itself is exactly representable;
//  - all values 0 -> [-1, 1] (any scale represents 0 exactly; 1 keeps the scale well-conditioned);
//  - a method whose range collapses to [0, 0] while the data is not all zero (e.g. percentile:99
//    of a mostly-zero ReLU output) falls back to minmax.
Result<Range> choose_range(const Observer& observer, const RangeSpec& spec, int bits, bool symmetric);
Result<Range> choose_range(std::span<const float> values, const RangeSpec& spec, int bits, bool symmetric);

// The squared-error objective of the mse method for one candidate range (exposed for tests and
// reports): mean over `values` of (x - deq(quant(x)))^2 under qmath's quantizer for [lo, hi].
// Direct O(n) evaluation.
Result<double> quantization_mse(std::span<const float> values, double lo, double hi, int bits, bool symmetric);

}  // namespace pocket
