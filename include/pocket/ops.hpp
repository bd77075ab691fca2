// Float op kernels: one file per op under src/nn/ops/, forward and backward side by side.
// Dispatch over OpKind lives in src/nn/ops/dispatch.cpp (exhaustive switches).
#pragma once

#include <span>
#include <vector>

#include "pocket/graph.hpp"
#include "pocket/status.hpp"
#include "pocket/tensor.hpp"

namespace pocket {

// Output shape of `node` for the given input shapes (dimension 0 is the batch). An error names the
// node, its op and the offending shape.
Result<Shape> infer_output_shape(const Node& node, std::span<const Shape* const> inputs);

// out = node(inputs). `out` is resized as needed (its buffer is reused across calls).
void forward(const Node& node, std::span<const Tensor* const> inputs, Tensor& out);

// Whether backward() is implemented for this op.
bool has_backward(OpKind kind);

// Given the forward inputs, the forward output and dL/d(out), ACCUMULATES (+=) dL/d(input i) into
// *grad_inputs[i] for every non-null entry (the caller zeroes and sizes them). Parameter gradients
// are summed over the batch.
void backward(const Node& node, std::span<const Tensor* const> inputs, const Tensor& out,
              const Tensor& grad_out, std::span<Tensor* const> grad_inputs);

}  // namespace pocket
