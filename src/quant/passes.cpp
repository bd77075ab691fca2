// Graph passes on the float graph and the grouping into integer layers.
#include <algorithm>
#include <cmath>
#include <string>

#include "pocket/quant.hpp"

namespace pocket {
namespace {

std::vector<int> consumer_counts(const Graph& g) {
  std::vector<int> n(g.values.size(), 0);
  for (const Node& node : g.nodes) {
    for (int id : node.inputs) n[static_cast<size_t>(id)]++;
  }
  if (g.output >= 0) n[static_cast<size_t>(g.output)]++;
  return n;
}

int producer(const Graph& g, int value) {
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].output == value) return static_cast<int>(i);
  }
  return -1;
}

// Replaces every use of value `from` by `to` (node inputs and the graph output).
void rewire(Graph& g, int from, int to) {
  for (Node& n : g.nodes) {
    for (int& id : n.inputs) {
      if (id == from) id = to;
    }
  }
  if (g.output == from) {
    // Keep the output's name: the graph output is called what it was called.
    std::swap(g.values[static_cast<size_t>(to)].name, g.values[static_cast<size_t>(from)].name);
    g.output = to;
  }
}

}  // namespace

Result<int> fold_batchnorm(Graph& g) {
  int folded = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node bn = g.nodes[i];
    if (bn.kind != OpKind::BatchNorm) continue;
    const int conv_index = producer(g, bn.inputs[0]);
    if (conv_index < 0 || g.nodes[static_cast<size_t>(conv_index)].kind != OpKind::Conv) continue;
    if (consumer_counts(g)[static_cast<size_t>(bn.inputs[0])] != 1) continue;
    Node& conv = g.nodes[static_cast<size_t>(conv_index)];
    const int64_t out_c = g.param(conv.inputs[1]).shape[0];
    if (conv.inputs.size() < 3) {
      // Added first: add_param may reallocate the values that the references below point into.
      conv.inputs.push_back(g.add_param(conv.name + ".bias", Tensor({out_c})));
    }
    Tensor& w = g.param(conv.inputs[1]);
    const int64_t per = w.numel() / out_c;
    const Tensor& gamma = g.param(bn.inputs[1]);
    const Tensor& beta = g.param(bn.inputs[2]);
    const Tensor& mean = g.param(bn.inputs[3]);
    const Tensor& var = g.param(bn.inputs[4]);
    if (gamma.numel() != out_c) {
      return Error{"node '" + bn.name + "' (BatchNormalization): " + std::to_string(gamma.numel()) +
                   " channels after a Conv with " + std::to_string(out_c) + " outputs"};
    }
    Tensor& b = g.param(conv.inputs[2]);
    for (int64_t o = 0; o < out_c; ++o) {
      const auto c = static_cast<size_t>(o);
      const double v = static_cast<double>(var.data[c]) + static_cast<double>(bn.attrs.epsilon);
      if (!(v > 0.0)) {
        return Error{"node '" + bn.name + "' (BatchNormalization): variance + epsilon of channel " + std::to_string(o) +
                     " is not positive"};
      }
      const double k = static_cast<double>(gamma.data[c]) / std::sqrt(v);
      for (int64_t j = 0; j < per; ++j) {
        auto& x = w.data[static_cast<size_t>(o * per + j)];
        x = static_cast<float>(static_cast<double>(x) * k);
      }
      b.data[c] = static_cast<float>((static_cast<double>(b.data[c]) - static_cast<double>(mean.data[c])) * k +
                                     static_cast<double>(beta.data[c]));
    }
    const int conv_out = conv.output;
    const int bn_out = bn.output;
    g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
    rewire(g, bn_out, conv_out);
    --i;
    ++folded;
  }
  if (folded) remove_dead_values(g);
  return folded;
}

Result<int> fold_pad_into_conv(Graph& g) {
  int folded = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node pad = g.nodes[i];
    if (pad.kind != OpKind::Pad) continue;
    const auto& p = pad.attrs.pad_amounts;
    if (std::all_of(p.begin(), p.end(), [](int64_t v) { return v == 0; })) {
      // A no-op Pad (PyTorch exports one before some pools): drop it.
      rewire(g, pad.output, pad.inputs[0]);
      g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
      --i;
      ++folded;
      continue;
    }
    if (p.size() != 8 || pad.attrs.pad_value != 0.0f || p[0] || p[1] || p[4] || p[5]) continue;
    if (consumer_counts(g)[static_cast<size_t>(pad.output)] != 1) continue;
    Node* conv = nullptr;
    for (Node& n : g.nodes) {
      if (n.kind == OpKind::Conv && n.inputs[0] == pad.output) conv = &n;
    }
    if (!conv) continue;
    // ONNX pads: begins (N, C, H, W) then ends (N, C, H, W); ours are {top, left, bottom, right}.
    conv->attrs.pads[0] += static_cast<int>(p[2]);
    conv->attrs.pads[1] += static_cast<int>(p[3]);
    conv->attrs.pads[2] += static_cast<int>(p[6]);
    conv->attrs.pads[3] += static_cast<int>(p[7]);
    conv->inputs[0] = pad.inputs[0];
    g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
    --i;
    ++folded;
  }
  if (folded) remove_dead_values(g);
  return folded;
}

void remove_dead_values(Graph& g) {
  std::vector<bool> used(g.values.size(), false);
  used[static_cast<size_t>(g.input)] = true;
  used[static_cast<size_t>(g.output)] = true;
  for (const Node& n : g.nodes) {
    used[static_cast<size_t>(n.output)] = true;
    for (int id : n.inputs) used[static_cast<size_t>(id)] = true;
  }
  std::vector<int> remap(g.values.size(), -1);
  std::vector<Value> kept;
  for (size_t i = 0; i < g.values.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(g.values[i]));
  }
  g.values = std::move(kept);
  for (Node& n : g.nodes) {
    for (int& id : n.inputs) id = remap[static_cast<size_t>(id)];
    n.output = remap[static_cast<size_t>(n.output)];
  }
  g.input = remap[static_cast<size_t>(g.input)];
  g.output = remap[static_cast<size_t>(g.output)];
}

std::vector<QuantGroup> quant_groups(const Graph& g) {
  const std::vector<int> consumers = consumer_counts(g);
  std::vector<QuantGroup> groups;
  for (size_t i = 0; i < g.nodes.size();) {
    const Node& anchor = g.nodes[i];
    QuantGroup grp;
    grp.nodes.push_back(static_cast<int>(i));
    grp.output = anchor.output;
    bool can_act = false, can_pool = false;
    switch (anchor.kind) {
      case OpKind::Conv:
        can_act = can_pool = true;
        grp.own_params = true;
        break;
      case OpKind::Linear:
      case OpKind::Add:
        can_act = true;
        grp.own_params = true;
        break;
      case OpKind::Softmax:
        grp.own_params = true;
        break;
      case OpKind::MaxPool:
      case OpKind::AveragePool:
      case OpKind::GlobalAveragePool:
      case OpKind::Relu:
      case OpKind::Clip:
      case OpKind::Flatten:
      case OpKind::Reshape:
      case OpKind::BatchNorm:
      case OpKind::Pad:
        break;
    }
    size_t j = i + 1;
    // Absorb followers that consume the group's output directly and are its only consumer.
    while (j < g.nodes.size() && (can_act || can_pool)) {
      const Node& f = g.nodes[j];
      if (f.inputs.empty() || f.inputs[0] != grp.output || consumers[static_cast<size_t>(grp.output)] != 1 ||
          grp.output == g.output) {
        break;
      }
      if (can_act && (f.kind == OpKind::Relu || f.kind == OpKind::Clip)) {
        // Several activations in a row (PyTorch's ReLU6 can export as Relu + Clip) intersect.
      } else if (can_pool && f.kind == OpKind::MaxPool) {
        can_pool = false;  // at most one pool; activations may still follow it
      } else {
        break;
      }
      grp.nodes.push_back(static_cast<int>(j));
      grp.output = f.output;
      ++j;
    }
    groups.push_back(std::move(grp));
    i = j;
  }
  return groups;
}

std::vector<int> activation_sources(const Graph& g) {
  std::vector<int> src(g.values.size(), -1);
  src[static_cast<size_t>(g.input)] = g.input;
  for (const QuantGroup& grp : quant_groups(g)) {
    if (grp.own_params) {
      src[static_cast<size_t>(grp.output)] = grp.output;
    } else {
      // A pass-through layer (a single node): its output keeps its first input's quantization.
      const Node& n = g.nodes[static_cast<size_t>(grp.nodes[0])];
      src[static_cast<size_t>(grp.output)] = src[static_cast<size_t>(n.inputs[0])];
    }
  }
  return src;
}

}  // namespace pocket
