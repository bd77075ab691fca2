// The public op entry points (include/pocket/ops.hpp): one exhaustive switch over OpKind each
// (-Werror=switch), so a new op fails to compile until it is handled here.
#include <string>

#include "ops_internal.hpp"
#include "pocket/ops.hpp"

namespace pocket {

Result<Shape> infer_output_shape(const Node& node, std::span<const Shape* const> inputs) {
  for (const Shape* s : inputs) {
    POCKET_CHECK(s != nullptr, "infer_output_shape: null input shape");
    for (int64_t d : *s) {
      if (d < 1) return ops::node_error(node, "input shape " + shape_str(*s) + " has a dimension < 1");
    }
  }
  switch (node.kind) {
    case OpKind::Conv: return ops::conv_infer(node, inputs);
    case OpKind::MaxPool: return ops::max_pool_infer(node, inputs);
    case OpKind::AveragePool: return ops::average_pool_infer(node, inputs);
    case OpKind::GlobalAveragePool: return ops::global_average_pool_infer(node, inputs);
    case OpKind::Relu: return ops::relu_infer(node, inputs);
    case OpKind::Clip: return ops::clip_infer(node, inputs);
    case OpKind::Add: return ops::add_infer(node, inputs);
    case OpKind::Linear: return ops::linear_infer(node, inputs);
    case OpKind::Flatten: return ops::flatten_infer(node, inputs);
    case OpKind::Reshape: return ops::reshape_infer(node, inputs);
    case OpKind::BatchNorm: return ops::batch_norm_infer(node, inputs);
    case OpKind::Softmax: return ops::softmax_infer(node, inputs);
    case OpKind::Pad: return ops::pad_infer(node, inputs);
  }
  return ops::node_error(node, "unknown op kind");
}

void forward(const Node& node, std::span<const Tensor* const> inputs, Tensor& out) {
  switch (node.kind) {
    case OpKind::Conv: return ops::conv_forward(node, inputs, out);
    case OpKind::MaxPool: return ops::max_pool_forward(node, inputs, out);
    case OpKind::AveragePool: return ops::average_pool_forward(node, inputs, out);
    case OpKind::GlobalAveragePool: return ops::global_average_pool_forward(node, inputs, out);
    case OpKind::Relu: return ops::relu_forward(node, inputs, out);
    case OpKind::Clip: return ops::clip_forward(node, inputs, out);
    case OpKind::Add: return ops::add_forward(node, inputs, out);
    case OpKind::Linear: return ops::linear_forward(node, inputs, out);
    case OpKind::Flatten: return ops::flatten_forward(node, inputs, out);
    case OpKind::Reshape: return ops::reshape_forward(node, inputs, out);
    case OpKind::BatchNorm: return ops::batch_norm_forward(node, inputs, out);
    case OpKind::Softmax: return ops::softmax_forward(node, inputs, out);
    case OpKind::Pad: return ops::pad_forward(node, inputs, out);
  }
  POCKET_CHECK(false, "forward: unknown op kind");
}

bool has_backward(OpKind kind) {
  switch (kind) {
    case OpKind::Conv:
    case OpKind::MaxPool:
    case OpKind::AveragePool:
    case OpKind::GlobalAveragePool:
    case OpKind::Relu:
    case OpKind::Clip:
    case OpKind::Add:
    case OpKind::Linear:
    case OpKind::Flatten:
    case OpKind::Reshape:
    case OpKind::Softmax:
    case OpKind::Pad:
      return true;
    case OpKind::BatchNorm:
      return false;
  }
  return false;
}

void backward(const Node& node, std::span<const Tensor* const> inputs, const Tensor& out, const Tensor& grad_out,
              std::span<Tensor* const> grad_inputs) {
  POCKET_CHECK(grad_inputs.size() == inputs.size(), "backward of node '" + node.name + "': one gradient slot per input");
  POCKET_CHECK(grad_out.shape == out.shape, "backward of node '" + node.name + "': dL/d(out) " +
                                                shape_str(grad_out.shape) + " does not match the output " +
                                                shape_str(out.shape));
  for (size_t i = 0; i < inputs.size(); ++i) {
    POCKET_CHECK(grad_inputs[i] == nullptr || grad_inputs[i]->shape == inputs[i]->shape,
                 "backward of node '" + node.name + "': gradient " + std::to_string(i) + " is not sized like its input");
  }
  switch (node.kind) {
    case OpKind::Conv: return ops::conv_backward(node, inputs, out, grad_out, grad_inputs);
    case OpKind::MaxPool: return ops::max_pool_backward(node, inputs, out, grad_out, grad_inputs);
    case OpKind::AveragePool: return ops::average_pool_backward(node, inputs, out, grad_out, grad_inputs);
    case OpKind::GlobalAveragePool: return ops::global_average_pool_backward(node, inputs, out, grad_out, grad_inputs);
    case OpKind::Relu: return ops::relu_backward(node, inputs, out, grad_out, grad_inputs);
    case OpKind::Clip: return ops::clip_backward(node, inputs, out, grad_out, grad_inputs);
    case OpKind::Add: return ops::add_backward(node, inputs, out, grad_out, grad_inputs);
    case OpKind::Linear: return ops::linear_backward(node, inputs, out, grad_out, grad_inputs);
    case OpKind::Flatten: return ops::flatten_backward(node, inputs, out, grad_out, grad_inputs);
    case OpKind::Reshape: return ops::reshape_backward(node, inputs, out, grad_out, grad_inputs);
    case OpKind::Softmax: return ops::softmax_backward(node, inputs, out, grad_out, grad_inputs);
    case OpKind::Pad: return ops::pad_backward(node, inputs, out, grad_out, grad_inputs);
    case OpKind::BatchNorm:
      break;
  }
  POCKET_CHECK(false, std::string("node '") + node.name + "' (" + op_name(node.kind) + ") has no backward");
}

}  // namespace pocket
