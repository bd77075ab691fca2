// Runs a float graph on a batch. Keeps every activation (for training, statistics and per-layer
// error) and reuses buffers between runs.
#pragma once

#include <functional>
#include <vector>

#include "pocket/graph.hpp"
#include "pocket/status.hpp"
#include "pocket/tensor.hpp"

namespace pocket {

class Executor {
 public:
  // The graph must have passed infer_shapes(); it must outlive the executor.
  explicit Executor(const Graph& graph);

  // Runs the graph on `input` ([N, ...] with the graph's per-sample shape). Returns the output, or
  // an error if the input's shape does not match.
  Result<const Tensor*> run(const Tensor& input);

  // Called after every node with the node's output value id and tensor, which it may modify in
  // place (fake quantization simulates integer rounding this way). The input is passed too, as
  // value graph().input, before the first node.
  using OutputHook = std::function<void(int value, Tensor& tensor)>;
  void set_output_hook(OutputHook hook) { hook_ = std::move(hook); }

  // The value computed for `value` by the last run (parameters: their initializer).
  const Tensor& value(int value) const;
  const Graph& graph() const { return graph_; }

  // Backward pass after run(): seeds dL/d(output) with `grad_output` and fills param_grads()[v]
  // for every Param value v (and activation gradients, internally). Every op on the path from a
  // parameter to the output must have a backward; otherwise an error names it.
  Status backward(const Tensor& grad_output);
  const Tensor& grad(int value) const { return grads_.at(static_cast<size_t>(value)); }

 private:
  const Graph& graph_;
  std::vector<Tensor> acts_;   // by value id; Params are left empty (read from the graph)
  std::vector<Tensor> grads_;  // by value id
  OutputHook hook_;
};

}  // namespace pocket
