// Training losses.
#pragma once

#include <span>

#include "pocket/tensor.hpp"

namespace pocket {

// Mean softmax cross-entropy of `logits` [N, K] against class indices `labels` (N entries, each in
// [0, K)): L = (1/N) sum_n (log sum_k exp(logits[n, k]) - logits[n, labels[n]]), computed stably
// (log-sum-exp around the row maximum, in double). If `grad_logits` is not null it is resized to
// [N, K] and set to dL/dlogits of the MEAN loss: (softmax(logits[n]) - onehot(labels[n])) / N.
// Returns L. Wrong shapes or out-of-range labels are programming errors (checked, abort).
float softmax_cross_entropy(const Tensor& logits, std::span<const int> labels, Tensor* grad_logits);

}  // namespace pocket
