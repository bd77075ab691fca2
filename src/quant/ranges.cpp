// Statistics of float values and range methods. See include/pocket/ranges.hpp.
#include "pocket/ranges.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <numeric>

#include "pocket/qmath.hpp"

namespace pocket {
namespace {

bool finite(float x) { return std::isfinite(x); }

std::vector<float> finite_copy(std::span<const float> values) {
  std::vector<float> out;
  out.reserve(values.size());
  for (const float x : values) {
    if (finite(x)) out.push_back(x);
  }
  return out;
}

// Uniform integer in [0, n), n >= 1, unbiased (Lemire's multiply-and-reject), from the portable Rng.
__extension__ using Uint128 = unsigned __int128;
uint64_t uniform_below(Rng& rng, uint64_t n) {
  Uint128 m = static_cast<Uint128>(rng.next_u64()) * n;
  auto low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (low < threshold) {
      m = static_cast<Uint128>(rng.next_u64()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

std::string number(double v) {
  std::array<char, 64> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), r.ptr);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Plain statistics
// ---------------------------------------------------------------------------------------------

Summary summarize(std::span<const float> values) {
  Summary s;
  s.count = static_cast<int64_t>(values.size());
  double sum = 0.0;
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  for (const float x : values) {
    if (std::isnan(x)) {
      ++s.nan;
    } else if (std::isinf(x)) {
      ++s.inf;
    } else {
      sum += x;
      lo = std::min(lo, static_cast<double>(x));
      hi = std::max(hi, static_cast<double>(x));
    }
  }
  const int64_t n = s.finite();
  if (n == 0) return s;
  s.min = lo;
  s.max = hi;
  s.mean = sum / static_cast<double>(n);
  double m2 = 0.0;
  for (const float x : values) {
    if (!finite(x)) continue;
    const double d = x - s.mean;
    m2 += d * d;
  }
  s.stddev = std::sqrt(m2 / static_cast<double>(n));
  return s;
}

int64_t count_outside(std::span<const float> values, double lo, double hi) {
  int64_t outside = 0;
  for (const float x : values) {
    if (finite(x) && (x < lo || x > hi)) ++outside;
  }
  return outside;
}

double percent_outside(std::span<const float> values, double lo, double hi) {
  int64_t n = 0;
  for (const float x : values) n += finite(x) ? 1 : 0;
  if (n == 0) return 0.0;
  return 100.0 * static_cast<double>(count_outside(values, lo, hi)) / static_cast<double>(n);
}

std::vector<double> percentiles(std::span<const float> values, std::span<const double> ps) {
  std::vector<float> x = finite_copy(values);
  POCKET_CHECK(!x.empty(), "percentile of no finite values");
  for (const double p : ps) POCKET_CHECK(p >= 0.0 && p <= 100.0, "percentile p must be in [0, 100]");
  // Visit the requested ranks in ascending order; after placing rank k with nth_element, every
  // element at or after k is >= x[k], so the next (larger) rank is searched in [k, end) only.
  std::vector<size_t> order(ps.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ps[a] < ps[b]; });
  const size_t n = x.size();
  std::vector<double> out(ps.size());
  size_t placed = 0;  // x[0..placed) are final and every later element is >= them
  for (const size_t which : order) {
    const double h = static_cast<double>(n - 1) * ps[which] / 100.0;
    const auto k = std::min(static_cast<size_t>(std::floor(h)), n - 1);
    const double frac = h - static_cast<double>(k);
    if (k + 1 > placed) {
      std::nth_element(x.begin() + static_cast<std::ptrdiff_t>(placed), x.begin() + static_cast<std::ptrdiff_t>(k), x.end());
      placed = k + 1;
    }
    double value = x[k];
    if (frac > 0.0 && k + 1 < n) {
      if (k + 2 > placed) {
        std::nth_element(x.begin() + static_cast<std::ptrdiff_t>(placed), x.begin() + static_cast<std::ptrdiff_t>(k + 1),
                         x.end());
        placed = k + 2;
      }
      value += frac * (static_cast<double>(x[k + 1]) - value);
    }
    out[which] = value;
  }
  return out;
}

double percentile(std::span<const float> values, double p) {
  const std::array<double, 1> ps{p};
  return percentiles(values, ps)[0];
}

int64_t Histogram::total() const { return std::accumulate(counts.begin(), counts.end(), int64_t{0}); }

Histogram make_histogram(std::span<const float> values, int bins, double lo, double hi) {
  POCKET_CHECK(bins >= 1, "histogram needs at least one bin");
  POCKET_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, "histogram bounds must be a finite range");
  Histogram h;
  h.lo = lo;
  h.hi = hi;
  h.counts.assign(static_cast<size_t>(bins), 0);
  const double per_unit = hi > lo ? static_cast<double>(bins) / (hi - lo) : 0.0;
  const auto last = static_cast<double>(bins - 1);
  for (const float x : values) {
    if (!finite(x)) continue;
    double bin = 0.0;
    if (x > hi) {
      bin = last;
    } else if (x > lo) {
      bin = std::min(std::floor((x - lo) * per_unit), last);
    }
    ++h.counts[static_cast<size_t>(bin)];
  }
  return h;
}

Histogram make_histogram(std::span<const float> values, int bins) {
  const Summary s = summarize(values);
  return make_histogram(values, bins, s.min, s.max);
}

// ---------------------------------------------------------------------------------------------
// Observer
// ---------------------------------------------------------------------------------------------

Observer::Observer(size_t sample_cap, uint64_t seed) : cap_(sample_cap), rng_(seed) {
  POCKET_CHECK(sample_cap >= 1, "Observer: the sample cap must be at least 1");
}

void Observer::add(std::span<const float> values) {
  count_ += static_cast<int64_t>(values.size());
  // Pass 1: this batch's finite count, sum, min, max; and the sample (algorithm R: the i-th finite
  // value, 1-based, replaces a uniformly chosen slot with probability cap / i).
  int64_t n = 0;
  double sum = 0.0;
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  for (const float x : values) {
    if (std::isnan(x)) {
      ++nan_;
      continue;
    }
    if (std::isinf(x)) {
      ++inf_;
      continue;
    }
    ++n;
    sum += x;
    lo = std::min(lo, static_cast<double>(x));
    hi = std::max(hi, static_cast<double>(x));
    const auto seen = static_cast<uint64_t>(finite_seen_ + n);
    if (sample_.size() < cap_) {
      sample_.push_back(x);
    } else {
      const uint64_t slot = uniform_below(rng_, seen);
      if (slot < cap_) sample_[slot] = x;
    }
  }
  if (n == 0) return;
  // Pass 2: squared deviations from this batch's mean, then Chan et al.'s pairwise combination.
  const double batch_mean = sum / static_cast<double>(n);
  double batch_m2 = 0.0;
  for (const float x : values) {
    if (!finite(x)) continue;
    const double d = x - batch_mean;
    batch_m2 += d * d;
  }
  if (finite_seen_ == 0) {
    mean_ = batch_mean;
    m2_ = batch_m2;
    min_ = lo;
    max_ = hi;
  } else {
    const auto na = static_cast<double>(finite_seen_);
    const auto nb = static_cast<double>(n);
    const double total = na + nb;
    const double delta = batch_mean - mean_;
    mean_ += delta * (nb / total);
    m2_ += batch_m2 + delta * delta * (na * nb / total);
    min_ = std::min(min_, lo);
    max_ = std::max(max_, hi);
  }
  finite_seen_ += n;
}

Summary Observer::summary() const {
  Summary s;
  s.count = count_;
  s.nan = nan_;
  s.inf = inf_;
  if (finite_seen_ == 0) return s;
  s.min = min_;
  s.max = max_;
  s.mean = mean_;
  s.stddev = std::sqrt(std::max(m2_, 0.0) / static_cast<double>(finite_seen_));
  return s;
}

// ---------------------------------------------------------------------------------------------
// RangeSpec
// ---------------------------------------------------------------------------------------------

namespace {

constexpr const char* kAcceptedMethods =
    "accepted: minmax, sigma:K (mu +- K sigma, K > 0, e.g. sigma:3), percentile:P (50 < P <= 100, e.g. "
    "percentile:99.99), mse, kl";

bool parse_number(const std::string& text, double* out) {
  if (text.empty()) return false;
  const char* begin = text.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end != begin + text.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace

Result<RangeSpec> RangeSpec::parse(const std::string& text) {
  const auto colon = text.find(':');
  const std::string name = text.substr(0, colon);
  const bool has_param = colon != std::string::npos;
  const std::string param_text = has_param ? text.substr(colon + 1) : std::string();
  const std::string quoted = "range method '" + text + "'";
  if (name == "minmax" || name == "mse" || name == "kl") {
    if (has_param) return Error{quoted + ": " + name + " takes no parameter; " + kAcceptedMethods};
    const RangeMethod m = name == "minmax" ? RangeMethod::MinMax : name == "mse" ? RangeMethod::Mse : RangeMethod::Kl;
    return RangeSpec{m, 0.0};
  }
  if (name == "sigma") {
    double k = 0.0;
    if (!has_param || !parse_number(param_text, &k) || !(k > 0.0)) {
      return Error{quoted + ": sigma needs a number K > 0 (sigma:K, the range mu +- K sigma); " + kAcceptedMethods};
    }
    return RangeSpec{RangeMethod::Sigma, k};
  }
  if (name == "percentile") {
    double p = 0.0;
    if (!has_param || !parse_number(param_text, &p) || !(p > 50.0 && p <= 100.0)) {
      return Error{quoted + ": percentile needs a number P with 50 < P <= 100 (percentile:P, the range "
                            "[pct(100-P), pct(P)]); " + kAcceptedMethods};
    }
    return RangeSpec{RangeMethod::Percentile, p};
  }
  return Error{quoted + " is not known; " + kAcceptedMethods};
}

std::string RangeSpec::str() const {
  switch (method) {
    case RangeMethod::MinMax:
      return "minmax";
    case RangeMethod::Sigma:
      return "sigma:" + number(param);
    case RangeMethod::Percentile:
      return "percentile:" + number(param);
    case RangeMethod::Mse:
      return "mse";
    case RangeMethod::Kl:
      return "kl";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Range methods
// ---------------------------------------------------------------------------------------------

namespace {

constexpr int kMseCoarseSteps = 100;
constexpr int kMseFineSteps = 40;
constexpr int kMseRounds = 2;
constexpr int kKlBins = 2048;
constexpr double kKlSmoothing = 1e-4;

qmath::QuantType quant_type(int bits, bool symmetric) { return qmath::QuantType{bits, symmetric}; }

// The exact mean squared quantization error of sorted values for many candidate ranges. Each
// quantization level's values are one contiguous run of the sorted array (quantize_value is
// monotonic), found by binary search; a run's error sum (x - r)^2 = S2 - 2 r S1 + m r^2 comes from
// prefix sums accumulated with Neumaier compensation, so the cost per candidate is
// O(levels * log n) instead of O(n).
class MseObjective {
 public:
  explicit MseObjective(std::span<const float> values, int bits, bool symmetric)
      : sorted_(finite_copy(values)), type_(quant_type(bits, symmetric)) {
    std::sort(sorted_.begin(), sorted_.end());
    const size_t n = sorted_.size();
    s1_.assign(n + 1, 0.0);
    s2_.assign(n + 1, 0.0);
    double sum1 = 0.0;
    double comp1 = 0.0;
    double sum2 = 0.0;
    double comp2 = 0.0;
    for (size_t i = 0; i < n; ++i) {
      const double x = sorted_[i];
      add_compensated(sum1, comp1, x);
      add_compensated(sum2, comp2, x * x);
      s1_[i + 1] = sum1 + comp1;
      s2_[i + 1] = sum2 + comp2;
    }
  }

  // Mean squared error for the quantizer of [lo, hi]; +inf if qmath refuses the range.
  double operator()(double lo, double hi) const {
    auto params = qmath::choose_quant_params(lo, hi, type_);
    if (!params) return std::numeric_limits<double>::infinity();
    const qmath::QuantParams qp = *params;
    const auto quant = [&](float x) { return qmath::quantize_value(x, qp, type_); };
    double total = 0.0;
    size_t begin = 0;
    const size_t n = sorted_.size();
    while (begin < n) {
      const int32_t q = quant(sorted_[begin]);
      const auto it = std::partition_point(sorted_.begin() + static_cast<std::ptrdiff_t>(begin), sorted_.end(),
                                           [&](float x) { return quant(x) <= q; });
      const auto end = static_cast<size_t>(it - sorted_.begin());
      const double r = qmath::dequantize_value(q, qp);
      const double m = static_cast<double>(end - begin);
      const double sum1 = s1_[end] - s1_[begin];
      const double sum2 = s2_[end] - s2_[begin];
      total += std::max(0.0, sum2 - 2.0 * r * sum1 + m * r * r);
      begin = end;
    }
    return n == 0 ? 0.0 : total / static_cast<double>(n);
  }

 private:
  static void add_compensated(double& sum, double& comp, double x) {
    const double t = sum + x;
    comp += std::fabs(sum) >= std::fabs(x) ? (sum - t) + x : (x - t) + sum;
    sum = t;
  }

  std::vector<float> sorted_;
  qmath::QuantType type_;
  std::vector<double> s1_;
  std::vector<double> s2_;
};

// Minimises error(t) over t in (0, top]: a grid of kMseCoarseSteps points top * i / steps, then
// kMseFineSteps + 1 points across the two coarse cells around the best. Ties keep the smaller t.
double grid_search(double top, const std::function<double(double)>& error) {
  double best_t = top;
  double best_e = std::numeric_limits<double>::infinity();
  const auto consider = [&](double t) {
    if (!(t > 0.0) || t > top) return;
    const double e = error(t);
    if (e < best_e) {
      best_e = e;
      best_t = t;
    }
  };
  const double cell = top / kMseCoarseSteps;
  for (int i = 1; i <= kMseCoarseSteps; ++i) consider(i == kMseCoarseSteps ? top : cell * i);
  const double from = std::max(best_t - cell, 0.0);
  const double to = std::min(best_t + cell, top);
  for (int j = 0; j <= kMseFineSteps; ++j) consider(from + (to - from) * j / kMseFineSteps);
  return best_t;
}

struct DoubleRange {
  double lo = 0.0;
  double hi = 0.0;
};

DoubleRange mse_range(std::span<const float> sample, const Summary& s, int bits, bool symmetric) {
  const MseObjective mse(sample, bits, symmetric);
  if (symmetric) {
    const double top = std::max(std::fabs(s.min), std::fabs(s.max));
    const double c = grid_search(top, [&](double t) { return mse(-t, t); });
    return {-c, c};
  }
  DoubleRange r{std::min(s.min, 0.0), std::max(s.max, 0.0)};
  const double top_hi = r.hi;
  const double top_lo = -r.lo;
  for (int round = 0; round < kMseRounds; ++round) {
    if (top_hi > 0.0) r.hi = grid_search(top_hi, [&](double t) { return mse(r.lo, t); });
    if (top_lo > 0.0) r.lo = -grid_search(top_lo, [&](double t) { return mse(-t, r.hi); });
  }
  return r;
}

// Zero-bin smoothing as in the open implementations of TensorRT's entropy calibration: every empty
// bin receives a small mass eps (in count units) and the non-empty bins give it up evenly, so the
// total is unchanged and log(p / q) is defined everywhere. eps = 1e-4 unless that would take more
// than half of the smallest non-empty bin (possible for the spread-out Q), in which case eps is
// reduced to keep every bin positive. Returns false if the distribution has no mass.
bool smooth(std::vector<double>& dist, size_t used) {
  size_t zeros = 0;
  double smallest = std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < used; ++k) {
    if (dist[k] == 0.0) {
      ++zeros;
    } else {
      smallest = std::min(smallest, dist[k]);
    }
  }
  const size_t nonzeros = used - zeros;
  if (nonzeros == 0) return false;
  if (zeros == 0) return true;
  double eps = kKlSmoothing;
  double taken = eps * static_cast<double>(zeros) / static_cast<double>(nonzeros);
  if (taken > 0.5 * smallest) {
    taken = 0.5 * smallest;
    eps = taken * static_cast<double>(nonzeros) / static_cast<double>(zeros);
  }
  for (size_t k = 0; k < used; ++k) dist[k] = dist[k] == 0.0 ? eps : dist[k] - taken;
  return true;
}

// Entropy calibration (the method NVIDIA described for TensorRT's int8 calibration, written from
// that description):
//  1. Histogram of the values v (x, or |x|) with kKlBins equal bins on [0, top].
//  2. For every candidate i = levels .. kKlBins (threshold = upper edge of bin i - 1):
//     P = the first i bins, with the mass of all bins >= i added to bin i - 1 (clipping moves the
//         outliers onto the threshold);
//     Q = the first i bins (without the outliers) merged into `levels` groups (group j covers bins
//         [floor(j i / levels), floor((j + 1) i / levels))), each group's mass then spread evenly
//         over the bins of the group where P is non-zero (empty bins stay empty);
//     both smoothed (smooth()), normalised, and KL(P || Q) = sum p log(p / q).
//  3. The threshold of the smallest divergence (ties: the smaller threshold).
// Returns the threshold; `top` itself when the quantizer has as many levels as the histogram bins.
double kl_threshold(std::span<const float> sample, bool absolute, double top, int64_t levels) {
  if (levels >= kKlBins || !(top > 0.0)) return top;
  std::vector<double> hist(kKlBins, 0.0);
  const double per_unit = kKlBins / top;
  for (const float x : sample) {
    const double v = absolute ? std::fabs(static_cast<double>(x)) : static_cast<double>(x);
    if (!(v > 0.0)) {
      hist[0] += 1.0;  // v = 0 (or a negative value in the non-negative case, impossible)
      continue;
    }
    const auto bin = std::min(static_cast<int64_t>(v * per_unit), int64_t{kKlBins - 1});
    hist[static_cast<size_t>(bin)] += 1.0;
  }
  std::vector<double> suffix(kKlBins + 1, 0.0);  // suffix[i] = mass of bins >= i
  for (int i = kKlBins - 1; i >= 0; --i) suffix[static_cast<size_t>(i)] = suffix[static_cast<size_t>(i) + 1] + hist[static_cast<size_t>(i)];

  std::vector<double> p(kKlBins);
  std::vector<double> q(kKlBins);
  double best_kl = std::numeric_limits<double>::infinity();
  int64_t best_i = kKlBins;
  for (int64_t i = levels; i <= kKlBins; ++i) {
    const auto used = static_cast<size_t>(i);
    std::copy(hist.begin(), hist.begin() + i, p.begin());
    p[used - 1] += suffix[used];
    for (int64_t j = 0; j < levels; ++j) {
      const auto start = static_cast<size_t>(j * i / levels);
      const auto stop = static_cast<size_t>((j + 1) * i / levels);
      double mass = 0.0;
      size_t nonzero = 0;
      for (size_t k = start; k < stop; ++k) {
        mass += hist[k];
        nonzero += p[k] != 0.0 ? 1 : 0;
      }
      const double each = nonzero > 0 ? mass / static_cast<double>(nonzero) : 0.0;
      for (size_t k = start; k < stop; ++k) q[k] = p[k] != 0.0 ? each : 0.0;
    }
    if (!smooth(p, used) || !smooth(q, used)) continue;
    const double p_total = std::accumulate(p.begin(), p.begin() + i, 0.0);
    const double q_total = std::accumulate(q.begin(), q.begin() + i, 0.0);
    double kl = 0.0;
    for (size_t k = 0; k < used; ++k) {
      const double pk = p[k] / p_total;
      const double qk = q[k] / q_total;
      kl += pk * std::log(pk / qk);
    }
    if (kl < best_kl) {
      best_kl = kl;
      best_i = i;
    }
  }
  return static_cast<double>(best_i) * (top / kKlBins);
}

DoubleRange kl_range(std::span<const float> sample, const Summary& s, int bits, bool symmetric) {
  if (!symmetric && s.min >= 0.0) {
    const double t = kl_threshold(sample, false, s.max, int64_t{1} << bits);
    return {0.0, t};
  }
  const double top = std::max(std::fabs(s.min), std::fabs(s.max));
  const double t = kl_threshold(sample, true, top, int64_t{1} << (bits - 1));
  if (symmetric) return {-t, t};
  return {std::max(-t, s.min), std::min(t, s.max)};
}

// The final form of a range: symmetric -> [-c, c]; asymmetric -> contains 0. Empty (hi <= lo after
// conversion to float) -> nothing.
bool finish(double lo, double hi, bool symmetric, Range* out) {
  float flo = 0.0f;
  float fhi = 0.0f;
  if (symmetric) {
    const auto c = static_cast<float>(std::max(std::fabs(lo), std::fabs(hi)));
    flo = -c;
    fhi = c;
  } else {
    flo = static_cast<float>(std::min(lo, 0.0));
    fhi = static_cast<float>(std::max(hi, 0.0));
  }
  if (!(fhi > flo) || !std::isfinite(flo) || !std::isfinite(fhi)) return false;
  *out = Range{flo, fhi};
  return true;
}

Result<Range> choose(const Summary& s, std::span<const float> sample, const RangeSpec& spec, int bits, bool symmetric) {
  if (bits < 2 || bits > 16) return Error{"quantization bit width must be in 2..16, got " + std::to_string(bits)};
  if (s.count == 0) return Error{"no values were observed: cannot choose a range for an empty tensor"};
  if (s.nan > 0 || s.inf > 0) {
    return Error{"the values contain " + std::to_string(s.nan) + " NaN and " + std::to_string(s.inf) +
                 " infinite entries (of " + std::to_string(s.count) +
                 "): no quantization range exists; find where the model or its input produces them"};
  }
  Range out;
  if (s.min == s.max) {  // constant data, including a single value
    const double c = s.min;
    if (c == 0.0) return Range{-1.0f, 1.0f};
    const bool ok = finish(std::min(c, 0.0), std::max(c, 0.0), symmetric, &out);
    POCKET_CHECK(ok, "a non-zero constant gives a non-empty range");
    return out;
  }
  if (sample.empty() && (spec.method == RangeMethod::Percentile || spec.method == RangeMethod::Mse ||
                         spec.method == RangeMethod::Kl)) {
    return Error{"range method " + spec.str() + " needs the observed values, but none were kept"};
  }
  DoubleRange r{s.min, s.max};
  switch (spec.method) {
    case RangeMethod::MinMax:
      break;
    case RangeMethod::Sigma:
      if (!(spec.param > 0.0) || !std::isfinite(spec.param)) return Error{"sigma:K needs K > 0"};
      r.lo = std::max(s.min, s.mean - spec.param * s.stddev);
      r.hi = std::min(s.max, s.mean + spec.param * s.stddev);
      break;
    case RangeMethod::Percentile: {
      if (!(spec.param > 50.0 && spec.param <= 100.0)) return Error{"percentile:P needs 50 < P <= 100"};
      const std::array<double, 2> ps{100.0 - spec.param, spec.param};
      const std::vector<double> v = percentiles(sample, ps);
      r = {v[0], v[1]};
      break;
    }
    case RangeMethod::Mse:
      r = mse_range(sample, s, bits, symmetric);
      break;
    case RangeMethod::Kl:
      r = kl_range(sample, s, bits, symmetric);
      break;
  }
  if (finish(r.lo, r.hi, symmetric, &out)) return out;
  // The method collapsed the range onto 0 although the data is not all zero: use min/max.
  const bool ok = finish(s.min, s.max, symmetric, &out);
  POCKET_CHECK(ok, "min/max of non-constant finite data gives a non-empty range");
  return out;
}

}  // namespace

Result<Range> choose_range(const Observer& observer, const RangeSpec& spec, int bits, bool symmetric) {
  return choose(observer.summary(), observer.sample(), spec, bits, symmetric);
}

Result<Range> choose_range(std::span<const float> values, const RangeSpec& spec, int bits, bool symmetric) {
  return choose(summarize(values), values, spec, bits, symmetric);
}

Result<double> quantization_mse(std::span<const float> values, double lo, double hi, int bits, bool symmetric) {
  const qmath::QuantType type = quant_type(bits, symmetric);
  if (bits < 2 || bits > 16) return Error{"quantization bit width must be in 2..16, got " + std::to_string(bits)};
  POCKET_ASSIGN_OR_RETURN(const qmath::QuantParams params, qmath::choose_quant_params(lo, hi, type));
  double total = 0.0;
  int64_t n = 0;
  for (const float x : values) {
    if (!finite(x)) continue;
    const double d = x - qmath::dequantize_value(qmath::quantize_value(x, params, type), params);
    total += d * d;
    ++n;
  }
  return n == 0 ? 0.0 : total / static_cast<double>(n);
}

}  // namespace pocket
