#include "pocket/loss.hpp"

#include <cmath>
#include <string>

#include "pocket/status.hpp"

namespace pocket {

float softmax_cross_entropy(const Tensor& logits, std::span<const int> labels, Tensor* grad_logits) {
  POCKET_CHECK(logits.rank() == 2, "softmax_cross_entropy: logits must be [N, K], got " + shape_str(logits.shape));
  const int64_t batch = logits.dim(0), classes = logits.dim(1);
  POCKET_CHECK(static_cast<int64_t>(labels.size()) == batch,
               "softmax_cross_entropy: " + std::to_string(labels.size()) + " labels for logits " + shape_str(logits.shape));
  POCKET_CHECK(batch > 0 && classes > 0, "softmax_cross_entropy: empty logits " + shape_str(logits.shape));
  if (grad_logits != nullptr) grad_logits->reshape_to(logits.shape);
  const double inv_batch = 1.0 / static_cast<double>(batch);
  double total = 0.0;
  for (int64_t n = 0; n < batch; ++n) {
    const int label = labels[static_cast<size_t>(n)];
    POCKET_CHECK(label >= 0 && label < classes, "softmax_cross_entropy: label " + std::to_string(label) +
                                                    " of sample " + std::to_string(n) + " is outside [0, " +
                                                    std::to_string(classes) + ")");
    const float* row = logits.ptr() + n * classes;
    double max = row[0];
    for (int64_t k = 1; k < classes; ++k) max = std::fmax(max, static_cast<double>(row[k]));
    double sum = 0.0;
    for (int64_t k = 0; k < classes; ++k) sum += std::exp(static_cast<double>(row[k]) - max);
    const double log_sum = std::log(sum);
    total += max + log_sum - static_cast<double>(row[label]);
    if (grad_logits != nullptr) {
      float* g = grad_logits->ptr() + n * classes;
      for (int64_t k = 0; k < classes; ++k) {
        const double p = std::exp(static_cast<double>(row[k]) - max - log_sum);
        g[k] = static_cast<float>((p - (k == label ? 1.0 : 0.0)) * inv_batch);
      }
    }
  }
  return static_cast<float>(total * inv_batch);
}

}  // namespace pocket
