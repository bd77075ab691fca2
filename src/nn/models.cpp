#include "pocket/models.hpp"

#include <cmath>

#include "pocket/rng.hpp"

namespace pocket {
namespace {

Tensor uniform_init(Shape shape, int64_t fan_in, Rng& rng) {
  Tensor t(std::move(shape));
  const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
  for (float& x : t.data) x = rng.uniform(-bound, bound);
  return t;
}

int conv(Graph& g, const std::string& name, int x, int in_c, int out_c, int k, bool bias, Rng& rng) {
  const int64_t fan_in = static_cast<int64_t>(in_c) * k * k;
  std::vector<int> ins{x, g.add_param(name + ".weight", uniform_init({out_c, in_c, k, k}, fan_in, rng))};
  if (bias) ins.push_back(g.add_param(name + ".bias", uniform_init({out_c}, fan_in, rng)));
  Attrs a;
  a.kernel = {k, k};
  return g.add_node(OpKind::Conv, name, ins, a);
}

int linear(Graph& g, const std::string& name, int x, int in_f, int out_f, bool bias, Rng& rng) {
  std::vector<int> ins{x, g.add_param(name + ".weight", uniform_init({out_f, in_f}, in_f, rng))};
  if (bias) ins.push_back(g.add_param(name + ".bias", uniform_init({out_f}, in_f, rng)));
  return g.add_node(OpKind::Linear, name, ins);
}

int maxpool2(Graph& g, const std::string& name, int x) {
  Attrs a;
  a.kernel = {2, 2};
  a.stride = {2, 2};
  return g.add_node(OpKind::MaxPool, name, {x}, a);
}

}  // namespace

Graph make_lenet(bool bias, uint64_t seed) {
  Rng rng(seed);
  Graph g;
  int x = g.add_input("input", {1, 3, 32, 32});
  x = conv(g, "conv1", x, 3, 6, 5, bias, rng);
  x = g.add_node(OpKind::Relu, "relu1", {x});
  x = maxpool2(g, "pool1", x);
  x = conv(g, "conv2", x, 6, 16, 5, bias, rng);
  x = g.add_node(OpKind::Relu, "relu2", {x});
  x = maxpool2(g, "pool2", x);
  x = g.add_node(OpKind::Flatten, "flatten", {x});
  x = linear(g, "fc1", x, 400, 120, bias, rng);
  x = g.add_node(OpKind::Relu, "relu3", {x});
  x = linear(g, "fc2", x, 120, 84, bias, rng);
  x = g.add_node(OpKind::Relu, "relu4", {x});
  x = linear(g, "fc3", x, 84, 10, bias, rng);
  g.values[static_cast<size_t>(x)].name = "output";
  g.nodes.back().name = "fc3";
  g.normalization = Normalization::lab();
  g.metadata["pocket.model"] = bias ? "lenet" : "lenet-nobias";
  const Status st = infer_shapes(g);
  POCKET_CHECK(st.is_ok(), st.message());
  return g;
}

Result<Graph> make_model(const std::string& name, bool bias, uint64_t seed) {
  if (name == "lenet") return make_lenet(bias, seed);
  return Error{"unknown model '" + name + "': the built-in models are: lenet"};
}

}  // namespace pocket
