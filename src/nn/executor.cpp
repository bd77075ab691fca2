#include "pocket/executor.hpp"

#include <algorithm>
#include <string>

#include "pocket/ops.hpp"

namespace pocket {

Executor::Executor(const Graph& graph) : graph_(graph), acts_(graph.values.size()), grads_(graph.values.size()) {}

Result<const Tensor*> Executor::run(const Tensor& input) {
  const Shape& want = graph_.input_shape();
  const Value& in = graph_.values[static_cast<size_t>(graph_.input)];
  if (input.rank() != want.size() || !std::equal(want.begin() + 1, want.end(), input.shape.begin() + 1) ||
      input.shape.empty() || input.shape[0] < 1) {
    return Error{"input '" + in.name + "' has shape " + shape_str(input.shape) + ", the model expects " +
                 shape_str(want) + " (any batch size)"};
  }
  acts_[static_cast<size_t>(graph_.input)] = input;
  if (hook_) hook_(graph_.input, acts_[static_cast<size_t>(graph_.input)]);
  std::vector<const Tensor*> ins;
  for (const Node& n : graph_.nodes) {
    ins.clear();
    for (int id : n.inputs) ins.push_back(&value(id));
    forward(n, ins, acts_[static_cast<size_t>(n.output)]);
    if (hook_) hook_(n.output, acts_[static_cast<size_t>(n.output)]);
  }
  return &acts_[static_cast<size_t>(graph_.output)];
}

const Tensor& Executor::value(int v) const {
  const Value& val = graph_.values.at(static_cast<size_t>(v));
  if (val.kind == ValueKind::Param) return val.init;
  return acts_[static_cast<size_t>(v)];
}

Status Executor::backward(const Tensor& grad_output) {
  const auto nv = graph_.values.size();
  // Which values lead to a parameter (so their gradient is needed)?
  std::vector<bool> needs(nv, false);
  for (size_t i = 0; i < nv; ++i) needs[i] = graph_.values[i].kind == ValueKind::Param;
  for (const Node& n : graph_.nodes) {
    for (int id : n.inputs) {
      if (needs[static_cast<size_t>(id)]) needs[static_cast<size_t>(n.output)] = true;
    }
  }
  for (size_t i = 0; i < nv; ++i) {
    if (needs[i]) {
      grads_[i].reshape_to(value(static_cast<int>(i)).shape);
      std::fill(grads_[i].data.begin(), grads_[i].data.end(), 0.0f);
    }
  }
  const auto out = static_cast<size_t>(graph_.output);
  if (!needs[out]) return Status::ok();
  if (grad_output.shape != acts_[out].shape) {
    return Error{"backward: gradient shape " + shape_str(grad_output.shape) + " does not match the output " +
                 shape_str(acts_[out].shape)};
  }
  grads_[out] = grad_output;
  std::vector<const Tensor*> ins;
  std::vector<Tensor*> gins;
  for (auto it = graph_.nodes.rbegin(); it != graph_.nodes.rend(); ++it) {
    const Node& n = *it;
    if (!needs[static_cast<size_t>(n.output)]) continue;
    if (!has_backward(n.kind)) {
      return Error{std::string("node '") + n.name + "' (" + op_name(n.kind) + ") has no backward: it cannot be trained"};
    }
    ins.clear();
    gins.clear();
    for (int id : n.inputs) {
      ins.push_back(&value(id));
      gins.push_back(needs[static_cast<size_t>(id)] ? &grads_[static_cast<size_t>(id)] : nullptr);
    }
    pocket::backward(n, ins, acts_[static_cast<size_t>(n.output)], grads_[static_cast<size_t>(n.output)], gins);
  }
  return Status::ok();
}

}  // namespace pocket
