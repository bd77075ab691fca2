// pocket info: what a model is: its ops and shapes, parameter count, input normalisation, metadata.
#include <cmath>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "model_loading.hpp"
#include "pocket/onnx.hpp"
#include "pocket/qdq.hpp"

namespace pocket::cli {
namespace {

struct InfoOptions {
  std::string model;
  bool json = false;
};

nlohmann::json attrs_json(const Node& n) {
  const Attrs& a = n.attrs;
  nlohmann::json j = nlohmann::json::object();
  switch (n.kind) {
    case OpKind::Conv:
      j["groups"] = a.groups;
      j["dilation"] = a.dilation;
      [[fallthrough]];
    case OpKind::MaxPool:
    case OpKind::AveragePool:
      j["kernel"] = a.kernel;
      j["stride"] = a.stride;
      j["pads"] = a.pads;
      if (n.kind == OpKind::AveragePool) j["count_include_pad"] = a.count_include_pad;
      break;
    case OpKind::Clip:
      // JSON has no infinity: an open bound is null.
      j["min"] = std::isinf(a.clip_min) ? nlohmann::json(nullptr) : nlohmann::json(a.clip_min);
      j["max"] = std::isinf(a.clip_max) ? nlohmann::json(nullptr) : nlohmann::json(a.clip_max);
      break;
    case OpKind::BatchNorm:
      j["epsilon"] = a.epsilon;
      break;
    case OpKind::Flatten:
    case OpKind::Softmax:
      j["axis"] = a.axis;
      break;
    case OpKind::Reshape:
      j["shape"] = a.target_shape;
      break;
    case OpKind::Pad:
      j["pads"] = a.pad_amounts;
      j["value"] = a.pad_value;
      break;
    case OpKind::GlobalAveragePool:
    case OpKind::Relu:
    case OpKind::Add:
    case OpKind::Linear:
      break;
  }
  return j;
}

nlohmann::json graph_json(const Graph& g) {
  nlohmann::json j;
  const Value& in = g.values[static_cast<size_t>(g.input)];
  const Value& out = g.values[static_cast<size_t>(g.output)];
  j["input"] = {{"name", in.name}, {"shape", in.shape}};
  j["output"] = {{"name", out.name}, {"shape", out.shape}};
  j["normalization"] = g.normalization.spec();
  j["parameters"] = g.parameter_count();
  j["metadata"] = g.metadata;
  nlohmann::json nodes = nlohmann::json::array();
  for (const Node& n : g.nodes) {
    nlohmann::json jn;
    jn["name"] = n.name;
    jn["op"] = op_name(n.kind);
    nlohmann::json ins = nlohmann::json::array();
    nlohmann::json params = nlohmann::json::array();
    int64_t count = 0;
    for (int id : n.inputs) {
      const Value& v = g.values[static_cast<size_t>(id)];
      if (v.kind == ValueKind::Param) {
        params.push_back({{"name", v.name}, {"shape", v.shape}});
        count += v.init.numel();
      } else {
        ins.push_back({{"name", v.name}, {"shape", v.shape}});
      }
    }
    jn["inputs"] = ins;
    jn["params"] = params;
    jn["parameters"] = count;
    jn["output_shape"] = g.values[static_cast<size_t>(n.output)].shape;
    jn["attrs"] = attrs_json(n);
    nodes.push_back(jn);
  }
  j["nodes"] = nodes;
  return j;
}

// A QDQ model (`pocket export --format onnx-qdq`): its float graph and its quantization.
void run_info_qdq(const InfoOptions& o) {
  auto m = load_qdq(o.model);
  if (!m) return fail("info", m.message());
  if (o.json) {
    nlohmann::json j = graph_json(m->graph);
    j["model"] = o.model;
    j["format"] = "onnx-qdq";
    j["quantization"] = qmodel_summary_json(*m);
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::printf("ONNX QDQ model (quantized by pocket): %s\n", m->config.describe().c_str());
  std::printf("%s", describe(m->graph).c_str());
  for (const auto& [name, t] : m->activations) {
    std::printf("activation %s: scale %.9g zero_point %d (%d-bit, range [%.6g, %.6g], %s)\n", name.c_str(), t.scale[0],
                t.zero_point[0], t.bits, t.range_lo.empty() ? 0.0 : t.range_lo[0],
                t.range_hi.empty() ? 0.0 : t.range_hi[0], t.method.c_str());
  }
  for (const auto& [name, t] : m->weights) {
    std::printf("weight %s: %d-bit, %zu scale(s)%s\n", name.c_str(), t.bits, t.scale.size(),
                t.scale.size() > 1 ? " (per channel)" : "");
  }
  for (const auto& [key, value] : m->provenance) std::printf("provenance %s = %s\n", key.c_str(), value.c_str());
}

void run_info(const InfoOptions& o) {
  if (is_qdq_file(o.model)) return run_info_qdq(o);
  auto graph = load_onnx(o.model);
  if (!graph) return fail("info", graph.message());
  if (o.json) {
    nlohmann::json j = graph_json(*graph);
    j["model"] = o.model;
    // Names and metadata come from the file and need not be UTF-8: replace bad bytes, do not throw.
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::printf("%s", describe(*graph).c_str());
  for (const auto& [key, value] : graph->metadata) std::printf("metadata %s = %s\n", key.c_str(), value.c_str());
}

}  // namespace

void register_info(CLI::App& app) {
  auto opts = std::make_shared<InfoOptions>();
  CLI::App* sub = app.add_subcommand("info", "Describe a model: ops, shapes, parameter count, input normalisation");
  sub->add_option("model", opts->model, "Model file (.onnx, float or QDQ from `pocket export`)")->required();
  sub->add_flag("--json", opts->json,
                "Print one JSON object: input, output, normalization, parameters, metadata, nodes (name, op, inputs, "
                "params, parameters, output_shape, attrs)");
  sub->callback([opts] { run_info(*opts); });
}

}  // namespace pocket::cli
