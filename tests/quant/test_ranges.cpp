// Statistics (summarize, percentile, percent_outside, histograms), the Observer and the range
// methods of include/pocket/ranges.hpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include "pocket/qmath.hpp"
#include "pocket/ranges.hpp"
#include "pocket/rng.hpp"

namespace pocket {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> uniform_values(size_t n, float lo, float hi, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform(lo, hi);
  return v;
}

// N(0, 1) plus `outliers` values at +50 and -50 alternately (+50 only if one_sided).
std::vector<float> gaussian_with_outliers(size_t n, size_t outliers, uint64_t seed, bool one_sided = false) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = rng.normal();
  for (size_t i = 0; i < outliers; ++i) v[i * 997 % n] = (one_sided || i % 2 == 0) ? 50.0f : -50.0f;
  return v;
}

RangeSpec spec(const std::string& text) {
  auto s = RangeSpec::parse(text);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return s.is_ok() ? *s : RangeSpec{};
}

const std::vector<std::string> kAllMethods{"minmax", "sigma:3", "percentile:99.9", "mse", "kl"};

// The range must give qmath a finite positive scale.
void expect_usable(const Range& r, int bits, bool symmetric, const std::string& what) {
  EXPECT_TRUE(std::isfinite(r.lo) && std::isfinite(r.hi)) << what;
  EXPECT_GT(r.hi, r.lo) << what;
  if (symmetric) {
    EXPECT_EQ(r.lo, -r.hi) << what;
  } else {
    EXPECT_LE(r.lo, 0.0f) << what;
    EXPECT_GE(r.hi, 0.0f) << what;
  }
  auto p = qmath::choose_quant_params(r.lo, r.hi, qmath::QuantType{bits, symmetric});
  ASSERT_TRUE(p.is_ok()) << what << ": " << p.message();
  EXPECT_TRUE(std::isfinite(p->scale) && p->scale > 0.0) << what;
}

// ---------------------------------------------------------------------------------------------
// summarize, percent_outside, percentile, histograms
// ---------------------------------------------------------------------------------------------

TEST(Summarize, HandComputed) {
  const std::vector<float> v{4.0f, 1.0f, 3.0f, 2.0f};
  const Summary s = summarize(v);
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.finite(), 4);
  EXPECT_EQ(s.min, 1.0);
  EXPECT_EQ(s.max, 4.0);
  EXPECT_EQ(s.mean, 2.5);
  // Population variance: (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25.
  EXPECT_DOUBLE_EQ(s.stddev, std::sqrt(1.25));
}

TEST(Summarize, NonFiniteValuesAreCountedAndExcluded) {
  const std::vector<float> v{1.0f, kNaN, 3.0f, kInf, -kInf};
  const Summary s = summarize(v);
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(s.nan, 1);
  EXPECT_EQ(s.inf, 2);
  EXPECT_EQ(s.finite(), 2);
  EXPECT_EQ(s.min, 1.0);
  EXPECT_EQ(s.max, 3.0);
  EXPECT_EQ(s.mean, 2.0);
  EXPECT_EQ(s.stddev, 1.0);
}

TEST(Summarize, EmptyAndConstant) {
  const Summary empty = summarize({});
  EXPECT_EQ(empty.count, 0);
  EXPECT_EQ(empty.mean, 0.0);
  EXPECT_EQ(empty.stddev, 0.0);
  const std::vector<float> constant(1000, 0.1f);
  const Summary s = summarize(constant);
  EXPECT_EQ(s.mean, static_cast<double>(0.1f));
  EXPECT_EQ(s.stddev, 0.0);  // exactly: two passes
}

TEST(Summarize, DoubleAccumulation) {
  // 1e8 + many small values: float accumulation would lose the small ones entirely.
  std::vector<float> v(10001, 1.0f);
  v[0] = 1e8f;
  const Summary s = summarize(v);
  EXPECT_DOUBLE_EQ(s.mean, (1e8 + 10000.0) / 10001.0);
}

TEST(PercentOutside, StrictBounds) {
  const std::vector<float> v{-3.0f, -1.0f, 0.0f, 1.0f, 3.0f};
  EXPECT_EQ(count_outside(v, -1.0, 1.0), 2);  // -1 and 1 are inside
  EXPECT_DOUBLE_EQ(percent_outside(v, -1.0, 1.0), 40.0);
  EXPECT_DOUBLE_EQ(percent_outside(v, -0.5, 0.5), 80.0);
  EXPECT_DOUBLE_EQ(percent_outside(v, -10.0, 10.0), 0.0);
  const std::vector<float> with_nan{kNaN, 5.0f, 0.0f, 0.0f};
  EXPECT_DOUBLE_EQ(percent_outside(with_nan, -1.0, 1.0), 100.0 / 3.0);  // NaN is not a value
  EXPECT_EQ(percent_outside({}, 0.0, 1.0), 0.0);
}

TEST(Percentile, LinearInterpolationBetweenClosestRanks) {
  const std::vector<float> v{5.0f, 1.0f, 4.0f, 2.0f, 3.0f};
  EXPECT_EQ(percentile(v, 0.0), 1.0);
  EXPECT_EQ(percentile(v, 100.0), 5.0);
  EXPECT_EQ(percentile(v, 50.0), 3.0);
  EXPECT_EQ(percentile(v, 25.0), 2.0);         // h = 4 * 0.25 = 1
  EXPECT_DOUBLE_EQ(percentile(v, 10.0), 1.4);  // h = 0.4: 1 + 0.4 * (2 - 1)
  EXPECT_DOUBLE_EQ(percentile(v, 90.0), 4.6);  // h = 3.6
  const std::vector<float> two{10.0f, 20.0f};
  EXPECT_DOUBLE_EQ(percentile(two, 50.0), 15.0);
  EXPECT_DOUBLE_EQ(percentile(two, 75.0), 17.5);
  const std::vector<float> one{7.0f};
  EXPECT_EQ(percentile(one, 0.0), 7.0);
  EXPECT_EQ(percentile(one, 99.99), 7.0);
  const std::vector<float> with_nan{kNaN, 2.0f, kInf, 0.0f};
  EXPECT_EQ(percentile(with_nan, 50.0), 1.0);  // of {0, 2}
  // The input is not modified.
  EXPECT_EQ(v, (std::vector<float>{5.0f, 1.0f, 4.0f, 2.0f, 3.0f}));
}

TEST(Percentile, ManyAtOnceEqualSortedReference) {
  std::vector<float> v = uniform_values(10007, -3.0f, 7.0f, 11);
  for (size_t i = 0; i < 500; ++i) v[i * 13] = 1.0f;  // ties
  std::vector<float> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  const std::vector<double> ps{99.99, 0.01, 50.0, 0.0, 100.0, 1.0, 99.0, 0.1, 99.9, 50.0, 33.3};
  const std::vector<double> got = percentiles(v, ps);
  ASSERT_EQ(got.size(), ps.size());
  for (size_t i = 0; i < ps.size(); ++i) {
    const double h = static_cast<double>(sorted.size() - 1) * ps[i] / 100.0;
    const auto k = static_cast<size_t>(std::floor(h));
    const double want = k + 1 < sorted.size() ? sorted[k] + (h - static_cast<double>(k)) * (double{sorted[k + 1]} - sorted[k])
                                              : double{sorted[k]};
    EXPECT_DOUBLE_EQ(got[i], want) << "p = " << ps[i];
    EXPECT_EQ(got[i], percentile(v, ps[i])) << "p = " << ps[i];
  }
}

TEST(Histogram, BinsEdgesAndOutliers) {
  const std::vector<float> v{0.0f, 0.5f, 1.0f, 1.5f, 2.0f, -1.0f, 5.0f, kNaN};
  const Histogram h = make_histogram(v, 4, 0.0, 2.0);
  EXPECT_EQ(h.lo, 0.0);
  EXPECT_EQ(h.hi, 2.0);
  EXPECT_DOUBLE_EQ(h.bin_width(), 0.5);
  // [0, .5): 0 and -1 (below lo); [.5, 1): .5; [1, 1.5): 1; [1.5, 2]: 1.5, 2 and 5 (above hi).
  EXPECT_EQ(h.counts, (std::vector<int64_t>{2, 1, 1, 3}));
  EXPECT_EQ(h.total(), 7);
  const Histogram auto_range = make_histogram(v, 7);
  EXPECT_EQ(auto_range.lo, -1.0);
  EXPECT_EQ(auto_range.hi, 5.0);
  EXPECT_EQ(auto_range.total(), 7);
  EXPECT_EQ(auto_range.counts.front(), 1);
  EXPECT_EQ(auto_range.counts.back(), 1);
  const std::vector<float> constant(10, 3.0f);
  const Histogram c = make_histogram(constant, 8);
  EXPECT_EQ(c.counts[0], 10);
  EXPECT_EQ(c.total(), 10);
}

// ---------------------------------------------------------------------------------------------
// Observer
// ---------------------------------------------------------------------------------------------

TEST(Observer, EqualsExactComputationUnderTheCap) {
  const std::vector<float> all = gaussian_with_outliers(30011, 5, 3);
  Observer obs;
  size_t pos = 0;
  for (const size_t len : {size_t{1}, size_t{10000}, size_t{7}, size_t{0}, size_t{20003}}) {
    obs.add(std::span<const float>(all).subspan(pos, len));
    pos += len;
  }
  ASSERT_EQ(pos, all.size());
  const Summary want = summarize(all);
  const Summary got = obs.summary();
  EXPECT_EQ(got.count, want.count);
  EXPECT_EQ(got.min, want.min);
  EXPECT_EQ(got.max, want.max);
  EXPECT_NEAR(got.mean, want.mean, 1e-12 * std::max(1.0, std::fabs(want.mean)));
  EXPECT_NEAR(got.stddev, want.stddev, 1e-12 * want.stddev);
  EXPECT_FALSE(obs.sampled());
  ASSERT_EQ(obs.sample().size(), all.size());
  EXPECT_TRUE(std::equal(all.begin(), all.end(), obs.sample().begin()));
  for (const double p : {0.01, 1.0, 50.0, 99.99}) EXPECT_EQ(percentile(obs.sample(), p), percentile(all, p));
}

TEST(Observer, ConstantStreamHasZeroStd) {
  Observer obs;
  const std::vector<float> batch(333, -2.75f);
  for (int i = 0; i < 10; ++i) obs.add(batch);
  const Summary s = obs.summary();
  EXPECT_EQ(s.count, 3330);
  EXPECT_EQ(s.mean, -2.75);
  EXPECT_EQ(s.stddev, 0.0);
}

TEST(Observer, CountsNonFiniteValuesSeparately) {
  Observer obs;
  obs.add(std::vector<float>{1.0f, kNaN, 2.0f});
  obs.add(std::vector<float>{kInf, kNaN, kNaN});
  const Summary s = obs.summary();
  EXPECT_EQ(s.count, 6);
  EXPECT_EQ(s.nan, 3);
  EXPECT_EQ(s.inf, 1);
  EXPECT_EQ(s.mean, 1.5);
  EXPECT_EQ(obs.sample().size(), 2u);
}

std::vector<float> sample_of(const std::vector<float>& values, size_t batch, uint64_t seed, size_t cap) {
  Observer obs(cap, seed);
  for (size_t i = 0; i < values.size(); i += batch) {
    obs.add(std::span<const float>(values).subspan(i, std::min(batch, values.size() - i)));
  }
  EXPECT_TRUE(obs.sampled());
  return {obs.sample().begin(), obs.sample().end()};
}

TEST(Observer, ReservoirIsDeterministicAndUniform) {
  constexpr size_t kN = 100000;
  constexpr size_t kCap = 1000;
  std::vector<float> values(kN);
  for (size_t i = 0; i < kN; ++i) values[i] = static_cast<float>(i);  // exact, distinct

  const std::vector<float> a = sample_of(values, 777, 42, kCap);
  ASSERT_EQ(a.size(), kCap);
  EXPECT_EQ(sample_of(values, 777, 42, kCap), a);     // same seed: same sample
  EXPECT_EQ(sample_of(values, kN, 42, kCap), a);      // independent of the batch split
  EXPECT_EQ(sample_of(values, 1, 42, kCap), a);
  EXPECT_NE(sample_of(values, 777, 43, kCap), a);     // another seed: another sample

  // A sample of distinct input values, spread over the whole stream (not just the first kCap).
  const std::set<float> distinct(a.begin(), a.end());
  EXPECT_EQ(distinct.size(), kCap);
  int64_t late = 0;
  double sum = 0.0;
  for (const float x : a) {
    ASSERT_TRUE(x >= 0.0f && x < static_cast<float>(kN) && x == std::floor(x)) << x;
    late += x >= kN / 2 ? 1 : 0;
    sum += x;
  }
  // Uniform: mean (N-1)/2 = 49999.5 with standard error 28868 / sqrt(1000) = 913; half the
  // values from the second half, standard error 16.
  EXPECT_NEAR(sum / kCap, 49999.5, 4 * 913.0);
  EXPECT_NEAR(static_cast<double>(late), 500.0, 4 * 16.0);

  // The summary stays exact over every value.
  Observer obs(kCap, 42);
  obs.add(values);
  EXPECT_EQ(obs.summary().count, static_cast<int64_t>(kN));
  EXPECT_EQ(obs.summary().mean, 49999.5);
  EXPECT_EQ(obs.summary().max, kN - 1.0);
}

// ---------------------------------------------------------------------------------------------
// RangeSpec
// ---------------------------------------------------------------------------------------------

TEST(RangeSpec, ParsesAndPrints) {
  struct Case {
    const char* text;
    RangeMethod method;
    double param;
  };
  for (const Case& c : {Case{"minmax", RangeMethod::MinMax, 0.0}, Case{"sigma:3", RangeMethod::Sigma, 3.0},
                        Case{"sigma:2.5", RangeMethod::Sigma, 2.5}, Case{"percentile:99.99", RangeMethod::Percentile, 99.99},
                        Case{"percentile:100", RangeMethod::Percentile, 100.0}, Case{"mse", RangeMethod::Mse, 0.0},
                        Case{"kl", RangeMethod::Kl, 0.0}}) {
    auto s = RangeSpec::parse(c.text);
    ASSERT_TRUE(s.is_ok()) << c.text << ": " << s.message();
    EXPECT_EQ(s->method, c.method) << c.text;
    EXPECT_EQ(s->param, c.param) << c.text;
    EXPECT_EQ(s->str(), c.text);
  }
}

TEST(RangeSpec, ErrorsSayWhatIsAccepted) {
  for (const char* bad : {"", "foo", "MinMax", "sigma", "sigma:", "sigma:0", "sigma:-1", "sigma:abc", "sigma:3x",
                          "sigma:inf", "sigma:nan", "percentile", "percentile:50", "percentile:100.5", "percentile:-99",
                          "minmax:3", "mse:1", "kl:2", ":3"}) {
    auto s = RangeSpec::parse(bad);
    ASSERT_FALSE(s.is_ok()) << "'" << bad << "' parsed";
    EXPECT_NE(s.message().find(std::string("'") + bad + "'"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("accepted: minmax, sigma:K"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("percentile:P (50 < P <= 100"), std::string::npos) << s.message();
  }
  EXPECT_NE(RangeSpec::parse("sigma:0").message().find("K > 0"), std::string::npos);
  EXPECT_NE(RangeSpec::parse("minmax:3").message().find("takes no parameter"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Range methods on known distributions
// ---------------------------------------------------------------------------------------------

TEST(ChooseRange, MinMaxIsTheDataRange) {
  const std::vector<float> v = uniform_values(50000, -0.5f, 2.0f, 5);
  const Summary s = summarize(v);
  auto r = choose_range(v, spec("minmax"), 8, false);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->lo, static_cast<float>(s.min));
  EXPECT_EQ(r->hi, static_cast<float>(s.max));
  auto sym = choose_range(v, spec("minmax"), 8, true);
  ASSERT_TRUE(sym.is_ok());
  EXPECT_EQ(sym->hi, static_cast<float>(s.max));
  EXPECT_EQ(sym->lo, -sym->hi);
  // Positive data: the asymmetric range is widened to contain 0.
  const std::vector<float> positive = uniform_values(1000, 1.0f, 3.0f, 6);
  auto p = choose_range(positive, spec("minmax"), 8, false);
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p->lo, 0.0f);
  EXPECT_EQ(p->hi, static_cast<float>(summarize(positive).max));
}

TEST(ChooseRange, SigmaIsExactlyMuPlusMinusKSigma) {
  const std::vector<float> v = gaussian_with_outliers(100000, 10, 7);
  const Summary s = summarize(v);
  for (const double k : {1.0, 2.0, 3.0, 4.5}) {
    RangeSpec sp{RangeMethod::Sigma, k};
    auto r = choose_range(v, sp, 8, false);
    ASSERT_TRUE(r.is_ok()) << r.message();
    EXPECT_EQ(r->lo, static_cast<float>(s.mean - k * s.stddev)) << k;
    EXPECT_EQ(r->hi, static_cast<float>(s.mean + k * s.stddev)) << k;
    auto sym = choose_range(v, sp, 8, true);
    ASSERT_TRUE(sym.is_ok());
    EXPECT_EQ(sym->hi, static_cast<float>(std::max(std::fabs(s.mean - k * s.stddev), s.mean + k * s.stddev))) << k;
    EXPECT_EQ(sym->lo, -sym->hi);
  }
  // Beyond the data the band is cut at min/max: uniform [0, 1] has mu + 3 sigma = 1.37.
  const std::vector<float> u = uniform_values(10000, 0.0f, 1.0f, 8);
  auto r = choose_range(u, spec("sigma:3"), 8, false);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->lo, 0.0f);
  EXPECT_EQ(r->hi, static_cast<float>(summarize(u).max));
}

TEST(ChooseRange, PercentileUsesBothTails) {
  const std::vector<float> v = uniform_values(100001, -1.0f, 3.0f, 9);
  auto r = choose_range(v, spec("percentile:99"), 8, false);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->lo, static_cast<float>(percentile(v, 1.0)));
  EXPECT_EQ(r->hi, static_cast<float>(percentile(v, 99.0)));
  EXPECT_NEAR(r->lo, -0.96, 0.01);
  EXPECT_NEAR(r->hi, 2.96, 0.01);
  auto sym = choose_range(v, spec("percentile:99"), 8, true);
  ASSERT_TRUE(sym.is_ok());
  EXPECT_EQ(sym->hi, static_cast<float>(percentile(v, 99.0)));
  auto all = choose_range(v, spec("percentile:100"), 8, false);
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(all->hi, static_cast<float>(summarize(v).max));
}

// Sparse, far outliers: min/max keeps them; KL clips them; MSE clips them where the rounding error
// they cause outweighs their own clipping error: at 4 bits (10 outliers at 50 sigma in 1e5 values),
// not at 8 bits (there only a fraction below about 1 / (3 * 255^2) of such outliers would be
// clipped, since clipping costs (50 - c)^2 per outlier).
TEST(ChooseRange, MseAndKlClipOutliersMinMaxDoesNot) {
  const std::vector<float> v = gaussian_with_outliers(100000, 10, 21);
  for (const bool symmetric : {true, false}) {
    const std::string what = symmetric ? "symmetric" : "asymmetric";
    auto minmax = choose_range(v, spec("minmax"), 8, symmetric);
    ASSERT_TRUE(minmax.is_ok());
    EXPECT_EQ(minmax->hi, 50.0f) << what;
    EXPECT_EQ(minmax->lo, -50.0f) << what;
    for (const auto& [method, bits] : {std::pair<const char*, int>{"mse", 4}, {"kl", 8}, {"kl", 4}}) {
      const std::string where = std::string(method) + " " + std::to_string(bits) + " bits " + what;
      auto r = choose_range(v, spec(method), bits, symmetric);
      ASSERT_TRUE(r.is_ok()) << where << ": " << r.message();
      expect_usable(*r, bits, symmetric, where);
      EXPECT_LT(r->hi, 12.0f) << where;
      EXPECT_GT(r->hi, 1.0f) << where;
      EXPECT_GT(r->lo, -12.0f) << where;
      EXPECT_LT(r->lo, -1.0f) << where;
    }
    auto mse8 = choose_range(v, spec("mse"), 8, symmetric);
    ASSERT_TRUE(mse8.is_ok());
    EXPECT_GT(mse8->hi, 40.0f) << what;
  }
}

TEST(ChooseRange, MseClipsHeavyTailsAt8Bits) {
  // Laplace(0, 1): 200000 values reach about ln(100000) = 11.5; the MSE-optimal 8-bit clipping of
  // a Laplace distribution is near 9.9 b (Banner et al., ACIQ), 4 bits near 5 b.
  Rng rng(44);
  std::vector<float> v(200000);
  for (float& x : v) {
    const float u = rng.uniform() - 0.5f;
    x = u < 0 ? std::log(1.0f + 2.0f * u) : -std::log(1.0f - 2.0f * u);
  }
  const float max = static_cast<float>(std::max(-summarize(v).min, summarize(v).max));
  auto r8 = choose_range(v, spec("mse"), 8, true);
  ASSERT_TRUE(r8.is_ok());
  EXPECT_LT(r8->hi, 0.98f * max);
  EXPECT_GT(r8->hi, 7.0f);
  auto r4 = choose_range(v, spec("mse"), 4, true);
  ASSERT_TRUE(r4.is_ok());
  EXPECT_NEAR(r4->hi, 5.0f, 1.0f);
}

TEST(ChooseRange, MseMinimisesTheQuantizationError) {
  const std::vector<float> v = gaussian_with_outliers(40000, 6, 33, /*one_sided=*/true);
  for (const int bits : {4, 8}) {
    // Symmetric: compare with a dense direct scan of c.
    auto r = choose_range(v, spec("mse"), bits, true);
    ASSERT_TRUE(r.is_ok()) << r.message();
    auto chosen = quantization_mse(v, r->lo, r->hi, bits, true);
    ASSERT_TRUE(chosen.is_ok());
    double best = std::numeric_limits<double>::infinity();
    for (int i = 1; i <= 400; ++i) {
      const double c = 50.0 * i / 400.0;
      best = std::min(best, *quantization_mse(v, -c, c, bits, true));
    }
    EXPECT_LE(*chosen, best * 1.01) << bits << " bits";
    EXPECT_LE(*chosen, *quantization_mse(v, -50.0, 50.0, bits, true)) << bits << " bits";
    // Asymmetric, outliers on the upper side only: never worse than symmetric, nor than a set of
    // hand-picked ranges. At 4 bits the outliers are clipped (to about a quarter of their value).
    auto a = choose_range(v, spec("mse"), bits, false);
    ASSERT_TRUE(a.is_ok());
    expect_usable(*a, bits, false, "asymmetric mse");
    const double asym = *quantization_mse(v, a->lo, a->hi, bits, false);
    EXPECT_LE(asym, *chosen * 1.01) << bits << " bits";
    if (bits == 4) {
      EXPECT_LT(a->hi, 25.0f);
    }
    for (const double lo : {-2.0, -3.0, -4.0, -5.0}) {
      for (const double hi : {3.0, 4.0, 6.0, 50.0}) {
        EXPECT_LE(asym, *quantization_mse(v, lo, hi, bits, false) * 1.01) << bits << " bits, [" << lo << ", " << hi << "]";
      }
    }
  }
}

TEST(ChooseRange, UniformDataIsHardlyClipped) {
  const std::vector<float> v = uniform_values(100000, -1.0f, 1.0f, 12);
  const float max = static_cast<float>(summarize(v).max);
  for (const char* method : {"mse", "kl"}) {
    auto r = choose_range(v, spec(method), 8, true);
    ASSERT_TRUE(r.is_ok()) << method;
    EXPECT_GT(r->hi, 0.95f * max) << method;
    EXPECT_LE(r->hi, max) << method;
  }
}

TEST(ChooseRange, NonNegativeDataKeepsZeroAsLowerBound) {
  // A ReLU output: 40% zeros, the rest exponential with a long tail.
  Rng rng(17);
  std::vector<float> v(50000);
  for (float& x : v) x = rng.uniform() < 0.4f ? 0.0f : -std::log(1.0f - rng.uniform());
  for (const std::string& m : kAllMethods) {
    auto r = choose_range(v, spec(m), 8, false);
    ASSERT_TRUE(r.is_ok()) << m << ": " << r.message();
    EXPECT_EQ(r->lo, 0.0f) << m;
    EXPECT_GT(r->hi, 1.0f) << m;
    EXPECT_LE(r->hi, static_cast<float>(summarize(v).max)) << m;
  }
  auto kl = choose_range(v, spec("kl"), 8, false);
  auto mm = choose_range(v, spec("minmax"), 8, false);
  EXPECT_LT(kl->hi, mm->hi);  // the exponential tail is clipped
}

TEST(ChooseRange, EveryMethodGivesAUsableRange) {
  const std::vector<float> v = gaussian_with_outliers(20000, 3, 5);
  for (const std::string& m : kAllMethods) {
    for (const int bits : {2, 4, 8, 12, 16}) {
      for (const bool symmetric : {true, false}) {
        auto r = choose_range(v, spec(m), bits, symmetric);
        ASSERT_TRUE(r.is_ok()) << m << " " << bits << ": " << r.message();
        expect_usable(*r, bits, symmetric, m + " " + std::to_string(bits) + (symmetric ? " sym" : " asym"));
      }
    }
  }
}

TEST(ChooseRange, ObserverMatchesTheValues) {
  const std::vector<float> v = gaussian_with_outliers(30000, 4, 8);
  Observer obs;
  for (size_t i = 0; i < v.size(); i += 4096) obs.add(std::span<const float>(v).subspan(i, std::min<size_t>(4096, v.size() - i)));
  for (const std::string& m : kAllMethods) {
    for (const bool symmetric : {true, false}) {
      auto a = choose_range(obs, spec(m), 8, symmetric);
      auto b = choose_range(v, spec(m), 8, symmetric);
      ASSERT_TRUE(a.is_ok() && b.is_ok()) << m;
      // Sigma uses the observer's combined mean/std: equal up to rounding.
      EXPECT_NEAR(a->lo, b->lo, 1e-6 * std::fabs(b->lo)) << m;
      EXPECT_NEAR(a->hi, b->hi, 1e-6 * std::fabs(b->hi)) << m;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Degenerate input
// ---------------------------------------------------------------------------------------------

TEST(ChooseRange, ConstantTensors) {
  const std::vector<float> five(100, 5.0f);
  const std::vector<float> minus_three(10, -3.0f);
  const std::vector<float> single{2.5f};
  const std::vector<float> zeros(64, 0.0f);
  for (const std::string& m : kAllMethods) {
    auto a = choose_range(five, spec(m), 8, false);
    ASSERT_TRUE(a.is_ok()) << m << ": " << a.message();
    EXPECT_EQ(a->lo, 0.0f) << m;
    EXPECT_EQ(a->hi, 5.0f) << m;
    auto s = choose_range(five, spec(m), 8, true);
    ASSERT_TRUE(s.is_ok());
    EXPECT_EQ(s->lo, -5.0f) << m;
    EXPECT_EQ(s->hi, 5.0f) << m;
    auto n = choose_range(minus_three, spec(m), 8, false);
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(n->lo, -3.0f) << m;
    EXPECT_EQ(n->hi, 0.0f) << m;
    auto one = choose_range(single, spec(m), 4, false);
    ASSERT_TRUE(one.is_ok());
    EXPECT_EQ(one->lo, 0.0f) << m;
    EXPECT_EQ(one->hi, 2.5f) << m;
    for (const bool symmetric : {true, false}) {
      auto z = choose_range(zeros, spec(m), 8, symmetric);
      ASSERT_TRUE(z.is_ok()) << m;
      EXPECT_EQ(z->lo, -1.0f) << m;
      EXPECT_EQ(z->hi, 1.0f) << m;
      expect_usable(*z, 8, symmetric, m + " zeros");
    }
    // The constant itself is exactly representable.
    auto p = qmath::choose_quant_params(a->lo, a->hi, qmath::QuantType{8, false});
    ASSERT_TRUE(p.is_ok());
    EXPECT_DOUBLE_EQ(qmath::dequantize_value(qmath::quantize_value(5.0, *p, {8, false}), *p), 5.0);
  }
}

TEST(ChooseRange, CollapsedRangeFallsBackToMinMax) {
  // 99.9% zeros: percentile:99 is [0, 0], which would quantize the one real value to 0.
  std::vector<float> v(1000, 0.0f);
  v[500] = 4.0f;
  auto r = choose_range(v, spec("percentile:99"), 8, false);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->lo, 0.0f);
  EXPECT_EQ(r->hi, 4.0f);
  auto s = choose_range(v, RangeSpec{RangeMethod::Sigma, 1e-300}, 8, true);
  ASSERT_TRUE(s.is_ok());
  expect_usable(*s, 8, true, "tiny sigma");
}

TEST(ChooseRange, NonFiniteAndEmptyInputAreErrors) {
  std::vector<float> with_nan = uniform_values(100, -1.0f, 1.0f, 1);
  with_nan[3] = kNaN;
  std::vector<float> with_inf = uniform_values(100, -1.0f, 1.0f, 1);
  with_inf[7] = -kInf;
  for (const std::string& m : kAllMethods) {
    auto a = choose_range(with_nan, spec(m), 8, false);
    ASSERT_FALSE(a.is_ok()) << m;
    EXPECT_NE(a.message().find("1 NaN"), std::string::npos) << a.message();
    auto b = choose_range(with_inf, spec(m), 8, true);
    ASSERT_FALSE(b.is_ok()) << m;
    EXPECT_NE(b.message().find("1 infinite"), std::string::npos) << b.message();
    auto e = choose_range(std::span<const float>(), spec(m), 8, false);
    ASSERT_FALSE(e.is_ok()) << m;
    EXPECT_NE(e.message().find("no values"), std::string::npos) << e.message();
    Observer obs;
    obs.add(with_nan);
    EXPECT_FALSE(choose_range(obs, spec(m), 8, false).is_ok()) << m;
  }
  const std::vector<float> fine{1.0f, 2.0f};
  for (const int bits : {0, 1, 17}) {
    auto r = choose_range(fine, spec("minmax"), bits, false);
    ASSERT_FALSE(r.is_ok()) << bits;
    EXPECT_NE(r.message().find("2..16"), std::string::npos) << r.message();
  }
}

}  // namespace
}  // namespace pocket
