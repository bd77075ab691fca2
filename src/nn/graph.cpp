#include <sstream>
#include <string>

#include "pocket/graph.hpp"
#include "pocket/ops.hpp"

namespace pocket {

const char* op_name(OpKind kind) {
  switch (kind) {
    case OpKind::Conv: return "Conv";
    case OpKind::MaxPool: return "MaxPool";
    case OpKind::AveragePool: return "AveragePool";
    case OpKind::GlobalAveragePool: return "GlobalAveragePool";
    case OpKind::Relu: return "Relu";
    case OpKind::Clip: return "Clip";
    case OpKind::Add: return "Add";
    case OpKind::Linear: return "Linear";
    case OpKind::Flatten: return "Flatten";
    case OpKind::Reshape: return "Reshape";
    case OpKind::BatchNorm: return "BatchNormalization";
    case OpKind::Softmax: return "Softmax";
    case OpKind::Pad: return "Pad";
  }
  return "?";
}

int Graph::find_value(const std::string& name) const {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Graph::add_input(const std::string& name, Shape shape) {
  Value v;
  v.name = name;
  v.kind = ValueKind::Input;
  v.shape = std::move(shape);
  values.push_back(std::move(v));
  input = static_cast<int>(values.size()) - 1;
  return input;
}

int Graph::add_param(const std::string& name, Tensor init) {
  Value v;
  v.name = name;
  v.kind = ValueKind::Param;
  v.shape = init.shape;
  v.init = std::move(init);
  values.push_back(std::move(v));
  return static_cast<int>(values.size()) - 1;
}

int Graph::add_activation(const std::string& name) {
  Value v;
  v.name = name;
  v.kind = ValueKind::Activation;
  values.push_back(std::move(v));
  return static_cast<int>(values.size()) - 1;
}

int Graph::add_node(OpKind kind, const std::string& name, std::vector<int> inputs, Attrs attrs) {
  const int out = add_activation(name);
  nodes.push_back(Node{kind, name, std::move(inputs), out, std::move(attrs)});
  output = out;
  return out;
}

const Tensor& Graph::param(int value) const {
  const Value& v = values.at(static_cast<size_t>(value));
  POCKET_CHECK(v.kind == ValueKind::Param, "value '" + v.name + "' is not a parameter");
  return v.init;
}

Tensor& Graph::param(int value) {
  Value& v = values.at(static_cast<size_t>(value));
  POCKET_CHECK(v.kind == ValueKind::Param, "value '" + v.name + "' is not a parameter");
  return v.init;
}

int64_t Graph::parameter_count() const {
  int64_t n = 0;
  for (const auto& v : values) {
    if (v.kind == ValueKind::Param) n += v.init.numel();
  }
  return n;
}

namespace {

std::string where(const Node& n) { return std::string("node '") + n.name + "' (" + op_name(n.kind) + ")"; }

}  // namespace

Status infer_shapes(Graph& g) {
  const auto nv = static_cast<int>(g.values.size());
  if (g.input < 0 || g.input >= nv || g.values[static_cast<size_t>(g.input)].kind != ValueKind::Input) {
    return Error{"graph has no input"};
  }
  if (g.output < 0 || g.output >= nv) return Error{"graph has no output"};
  std::vector<bool> defined(g.values.size(), false);
  for (size_t i = 0; i < g.values.size(); ++i) {
    const Value& v = g.values[i];
    if (v.kind == ValueKind::Input) defined[i] = true;
    if (v.kind == ValueKind::Param) {
      if (numel(v.shape) != v.init.numel()) return Error{"parameter '" + v.name + "' has data that does not match its shape"};
      defined[i] = true;
    }
  }
  if (g.input_shape().empty() || g.input_shape()[0] != 1) {
    return Error{"graph input '" + g.values[static_cast<size_t>(g.input)].name + "' must have batch dimension 1, got " +
                 shape_str(g.input_shape())};
  }
  for (const Node& n : g.nodes) {
    std::vector<const Shape*> in_shapes;
    for (int id : n.inputs) {
      if (id < 0 || id >= nv) return Error{where(n) + ": input id " + std::to_string(id) + " out of range"};
      if (!defined[static_cast<size_t>(id)]) {
        return Error{where(n) + ": input '" + g.values[static_cast<size_t>(id)].name +
                     "' is not produced by an earlier node, nor an initializer, nor the graph input"};
      }
      in_shapes.push_back(&g.values[static_cast<size_t>(id)].shape);
    }
    if (n.output < 0 || n.output >= nv || g.values[static_cast<size_t>(n.output)].kind != ValueKind::Activation) {
      return Error{where(n) + ": bad output value"};
    }
    if (defined[static_cast<size_t>(n.output)]) {
      return Error{where(n) + ": output '" + g.values[static_cast<size_t>(n.output)].name + "' is produced twice"};
    }
    auto shape = infer_output_shape(n, in_shapes);
    if (!shape) return Error{shape.message()};
    g.values[static_cast<size_t>(n.output)].shape = std::move(*shape);
    defined[static_cast<size_t>(n.output)] = true;
  }
  if (!defined[static_cast<size_t>(g.output)]) return Error{"graph output is never produced"};
  return Status::ok();
}

std::string describe(const Graph& g) {
  std::ostringstream os;
  os << "input  " << g.values[static_cast<size_t>(g.input)].name << "  " << shape_str(g.input_shape())
     << "  normalisation " << g.normalization.spec() << "\n";
  for (const Node& n : g.nodes) {
    os << "  " << n.name << "  " << op_name(n.kind) << "  ";
    bool first = true;
    for (int id : n.inputs) {
      const Value& v = g.values[static_cast<size_t>(id)];
      if (v.kind == ValueKind::Param) continue;
      os << (first ? "" : " + ") << shape_str(v.shape);
      first = false;
    }
    os << " -> " << shape_str(g.values[static_cast<size_t>(n.output)].shape);
    const Attrs& a = n.attrs;
    switch (n.kind) {
      case OpKind::Conv:
        os << "  k" << a.kernel[0] << "x" << a.kernel[1] << " s" << a.stride[0] << " p" << a.pads[0] << "," << a.pads[1]
           << "," << a.pads[2] << "," << a.pads[3];
        if (a.groups != 1) os << " groups " << a.groups;
        os << (n.inputs.size() > 2 ? " +bias" : " no-bias");
        break;
      case OpKind::MaxPool:
      case OpKind::AveragePool:
        os << "  k" << a.kernel[0] << "x" << a.kernel[1] << " s" << a.stride[0];
        break;
      case OpKind::Linear:
        os << (n.inputs.size() > 2 ? "  +bias" : "  no-bias");
        break;
      case OpKind::Clip:
        os << "  [" << a.clip_min << ", " << a.clip_max << "]";
        break;
      case OpKind::GlobalAveragePool:
      case OpKind::Relu:
      case OpKind::Add:
      case OpKind::Flatten:
      case OpKind::Reshape:
      case OpKind::BatchNorm:
      case OpKind::Softmax:
      case OpKind::Pad:
        break;
    }
    os << "\n";
  }
  os << "output " << g.values[static_cast<size_t>(g.output)].name << "  " << shape_str(g.output_shape()) << "\n";
  os << "parameters " << g.parameter_count() << "\n";
  return os.str();
}

}  // namespace pocket
