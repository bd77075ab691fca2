// softmax_cross_entropy: value against a naive double computation, stability for large logits,
// gradient of the mean loss by central differences.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "op_harness.hpp"
#include "pocket/loss.hpp"

namespace pocket::test {
namespace {

double naive_loss(const Tensor& logits, const std::vector<int>& labels) {
  const int64_t n = logits.dim(0), k = logits.dim(1);
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0.0;
    for (int64_t j = 0; j < k; ++j) sum += std::exp(static_cast<double>(logits.data[static_cast<size_t>(i * k + j)]));
    total += std::log(sum) - logits.data[static_cast<size_t>(i * k + labels[static_cast<size_t>(i)])];
  }
  return total / static_cast<double>(n);
}

TEST(SoftmaxCrossEntropy, MatchesNaiveComputation) {
  Rng rng(11);
  const Tensor logits = random_tensor({6, 10}, rng, -3.0f, 3.0f);
  const std::vector<int> labels{0, 9, 3, 3, 7, 1};
  Tensor grad;
  const float loss = softmax_cross_entropy(logits, labels, &grad);
  EXPECT_NEAR(loss, naive_loss(logits, labels), 1e-6);
  ASSERT_EQ(grad.shape, logits.shape);
  // Without a gradient buffer: the same value.
  EXPECT_EQ(softmax_cross_entropy(logits, labels, nullptr), loss);
  // Each row of dL/dlogits sums to zero (softmax sums to one, the one-hot too).
  for (int64_t i = 0; i < 6; ++i) {
    double row = 0.0;
    for (int64_t j = 0; j < 10; ++j) row += grad.data[static_cast<size_t>(i * 10 + j)];
    EXPECT_NEAR(row, 0.0, 1e-7);
  }
}

TEST(SoftmaxCrossEntropy, StableForLargeLogits) {
  const Tensor logits({2, 3}, std::vector<float>{1000.0f, 0.0f, -1000.0f, 1000.0f, 0.0f, -1000.0f});
  Tensor grad;
  const float loss = softmax_cross_entropy(logits, std::vector<int>{0, 2}, &grad);
  ASSERT_TRUE(std::isfinite(loss));
  EXPECT_NEAR(loss, (0.0 + 2000.0) / 2.0, 1e-3);
  for (float g : grad.data) EXPECT_TRUE(std::isfinite(g));
  EXPECT_NEAR(grad.data[0], 0.0, 1e-7);          // sample 0: already right
  EXPECT_NEAR(grad.data[3], 0.5, 1e-7);          // sample 1: softmax = (1, 0, 0), label 2, / N
  EXPECT_NEAR(grad.data[5], -0.5, 1e-7);
}

TEST(SoftmaxCrossEntropy, GradientMatchesCentralDifferences) {
  Rng rng(12);
  Tensor logits = random_tensor({4, 7}, rng, -2.0f, 2.0f);
  const std::vector<int> labels{6, 0, 2, 2};
  Tensor grad;
  softmax_cross_entropy(logits, labels, &grad);
  // The loss is returned as float (~2): its rounding (~1.2e-7) over 2 eps bounds the numeric error
  // near 1e-4, against gradients of ~0.02..0.25.
  const double eps = 1e-3;
  for (size_t i = 0; i < logits.data.size(); ++i) {
    const float saved = logits.data[i];
    logits.data[i] = static_cast<float>(saved + eps);
    const double plus = softmax_cross_entropy(logits, labels, nullptr);
    logits.data[i] = static_cast<float>(saved - eps);
    const double minus = softmax_cross_entropy(logits, labels, nullptr);
    logits.data[i] = saved;
    const double h = static_cast<double>(static_cast<float>(saved + eps)) - static_cast<double>(static_cast<float>(saved - eps));
    EXPECT_NEAR(grad.data[i], (plus - minus) / h, 3e-4) << "logit " << i;
  }
}

}  // namespace
}  // namespace pocket::test
