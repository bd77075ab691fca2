// The backward() contract for every op that has one: it ACCUMULATES into the given buffers, skips
// null ones, and reads only the shape of the forward output (an executor output hook may have
// changed its values, e.g. fake quantization).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "op_harness.hpp"

namespace pocket::test {
namespace {

struct OpCase {
  std::string what;
  Node node;
  std::vector<Tensor> inputs;
};

std::vector<OpCase> cases() {
  Rng rng(21);
  std::vector<OpCase> c;
  Attrs conv;
  conv.kernel = {3, 3};
  conv.pads = {1, 0, 1, 2};
  c.push_back({"Conv", make_node(OpKind::Conv, 3, conv),
               {random_tensor({2, 3, 6, 5}, rng), random_tensor({4, 3, 3, 3}, rng), random_tensor({4}, rng)}});
  Attrs pool2;
  pool2.kernel = {2, 2};
  pool2.stride = {2, 2};
  c.push_back({"MaxPool 2x2", make_node(OpKind::MaxPool, 1, pool2), {distinct_values({2, 3, 6, 6}, rng, 0.01f)}});
  Attrs pool3;
  pool3.kernel = {3, 3};
  pool3.pads = {1, 1, 1, 1};
  c.push_back({"MaxPool 3x3", make_node(OpKind::MaxPool, 1, pool3), {distinct_values({2, 3, 5, 6}, rng, 0.01f)}});
  c.push_back({"AveragePool", make_node(OpKind::AveragePool, 1, pool3), {random_tensor({2, 3, 5, 6}, rng)}});
  c.push_back({"GlobalAveragePool", make_node(OpKind::GlobalAveragePool, 1), {random_tensor({2, 3, 5, 6}, rng)}});
  c.push_back({"Relu", make_node(OpKind::Relu, 1), {random_tensor({2, 10}, rng)}});
  Attrs clip;
  clip.clip_min = -0.5f;
  clip.clip_max = 0.5f;
  c.push_back({"Clip", make_node(OpKind::Clip, 1, clip), {random_tensor({2, 10}, rng)}});
  c.push_back({"Add", make_node(OpKind::Add, 2), {random_tensor({2, 3, 4, 4}, rng), random_tensor({1, 3, 1, 1}, rng)}});
  c.push_back({"Linear", make_node(OpKind::Linear, 3),
               {random_tensor({3, 8}, rng), random_tensor({5, 8}, rng), random_tensor({5}, rng)}});
  c.push_back({"Flatten", make_node(OpKind::Flatten, 1), {random_tensor({2, 3, 2, 2}, rng)}});
  Attrs reshape;
  reshape.target_shape = {0, 4, -1};
  c.push_back({"Reshape", make_node(OpKind::Reshape, 1, reshape), {random_tensor({2, 3, 2, 2}, rng)}});
  Attrs softmax;
  softmax.axis = 1;
  c.push_back({"Softmax", make_node(OpKind::Softmax, 1, softmax), {random_tensor({2, 3, 4}, rng)}});
  Attrs pad;
  pad.pad_amounts = {0, 1, 0, 2, 0, 0, 1, 1};
  c.push_back({"Pad", make_node(OpKind::Pad, 1, pad), {random_tensor({2, 3, 2, 2}, rng)}});
  return c;
}

TEST(BackwardContract, CoversEveryOpWithBackward) {
  std::vector<bool> covered(kOpKindCount, false);
  for (const OpCase& c : cases()) covered[static_cast<size_t>(c.node.kind)] = true;
  for (int k = 0; k < kOpKindCount; ++k) {
    const auto kind = static_cast<OpKind>(k);
    if (has_backward(kind)) {
      EXPECT_TRUE(covered[static_cast<size_t>(k)]) << op_name(kind) << " is not covered";
    }
  }
}

TEST(BackwardContract, AccumulatesSkipsNullAndIgnoresOutputValues) {
  for (const OpCase& c : cases()) {
    SCOPED_TRACE(c.what);
    const std::vector<const Tensor*> ins = ptrs(c.inputs);
    Tensor out;
    forward(c.node, ins, out);
    Rng rng(5);
    const Tensor dy = random_tensor(out.shape, rng);
    // Reference: every gradient, from zero, with the true forward output.
    std::vector<Tensor> ref;
    std::vector<Tensor*> ref_ptrs;
    for (const Tensor& t : c.inputs) ref.emplace_back(t.shape, 0.0f);
    for (Tensor& t : ref) ref_ptrs.push_back(&t);
    backward(c.node, ins, out, dy, ref_ptrs);
    // Same with an output full of garbage: bit-identical.
    const Tensor garbage(out.shape, 123.0f);
    std::vector<Tensor> again;
    std::vector<Tensor*> again_ptrs;
    for (const Tensor& t : c.inputs) again.emplace_back(t.shape, 0.0f);
    for (Tensor& t : again) again_ptrs.push_back(&t);
    backward(c.node, ins, garbage, dy, again_ptrs);
    for (size_t i = 0; i < ref.size(); ++i) EXPECT_EQ(again[i].data, ref[i].data) << "input " << i;
    // One gradient at a time, into buffers holding 1.5: 1.5 + the reference.
    for (size_t k = 0; k < c.inputs.size(); ++k) {
      std::vector<Tensor> one(c.inputs.size());
      std::vector<Tensor*> one_ptrs(c.inputs.size(), nullptr);
      one[k] = Tensor(c.inputs[k].shape, 1.5f);
      one_ptrs[k] = &one[k];
      backward(c.node, ins, out, dy, one_ptrs);
      for (size_t i = 0; i < one[k].data.size(); ++i) {
        ASSERT_FLOAT_EQ(one[k].data[i], 1.5f + ref[k].data[i]) << "input " << k << " [" << i << "]";
      }
    }
  }
}

}  // namespace
}  // namespace pocket::test
