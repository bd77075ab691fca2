// The quantized-model file (.pqm), version 1. Layout (all integers little-endian):
//   "PQM1"  u32 format version  u64 n  JSON header (n bytes)
//   u64 n  the float graph as ONNX (n bytes)   u64 n  integer tensor blob (n bytes)
// The JSON header holds the config, the provenance, every TensorQuant, and the offset, type and
// element count in the blob of every integer tensor. See docs/quantization.md.
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "pocket/fileio.hpp"
#include "pocket/onnx.hpp"
#include "pocket/quant.hpp"
#include "pocket/quant_json.hpp"

namespace pocket {
namespace {

using nlohmann::json;
constexpr char kMagic[4] = {'P', 'Q', 'M', '1'};

void put_u64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_u32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}


}  // namespace

bool is_qmodel_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char m[4] = {};
  const bool ok = std::fread(m, 1, 4, f) == 4 && std::memcmp(m, kMagic, 4) == 0;
  std::fclose(f);
  return ok;
}

Status save_qmodel(const QModel& m, const std::string& path) {
  auto onnx = serialize_onnx(m.graph);
  if (!onnx) return Error{onnx.message()};
  std::string blob;
  json tensors = json::array();
  for (const auto& [name, q] : m.qweights) {
    tensors.push_back({{"name", name}, {"type", "int8"}, {"offset", blob.size()}, {"count", q.size()}});
    blob.append(reinterpret_cast<const char*>(q.data()), q.size());
  }
  for (const auto& [name, b] : m.qbiases) {
    tensors.push_back({{"name", name}, {"type", "int32"}, {"offset", blob.size()}, {"count", b.size()}});
    for (int32_t v : b) put_u32(blob, static_cast<uint32_t>(v));
  }
  json h;
  h["format"] = "pocket-qmodel";
  h["version"] = QModel::kFormatVersion;
  h["config"] = to_json(m.config);
  h["provenance"] = m.provenance;
  h["activations"] = json::object();
  for (const auto& [name, t] : m.activations) h["activations"][name] = to_json(t);
  h["weights"] = json::object();
  for (const auto& [name, t] : m.weights) h["weights"][name] = to_json(t);
  h["tensors"] = tensors;
  const std::string header = h.dump(1);
  std::string out(kMagic, 4);
  put_u32(out, QModel::kFormatVersion);
  put_u64(out, header.size());
  out += header;
  put_u64(out, onnx->size());
  out += *onnx;
  put_u64(out, blob.size());
  out += blob;
  return write_file_atomic(path, out);
}

Result<QModel> load_qmodel(const std::string& path) {
  POCKET_ASSIGN_OR_RETURN(auto bytes, read_file_bytes(path));
  size_t pos = 0;
  auto need = [&](size_t n) { return pos + n <= bytes.size(); };
  auto get_u64 = [&]() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(bytes[pos + static_cast<size_t>(i)]) << (8 * i);
    pos += 8;
    return v;
  };
  if (!need(16) || std::memcmp(bytes.data(), kMagic, 4) != 0) {
    return Error{path + ": not a pocket quantized model (no PQM1 header); quantize a model with `pocket quantize`"};
  }
  pos = 4;
  uint32_t version = 0;
  for (int i = 0; i < 4; ++i) version |= static_cast<uint32_t>(bytes[pos + static_cast<size_t>(i)]) << (8 * i);
  pos += 4;
  if (version != static_cast<uint32_t>(QModel::kFormatVersion)) {
    return Error{path + ": quantized-model format version " + std::to_string(version) + ", this pocket reads version " +
                 std::to_string(QModel::kFormatVersion) + ": quantize the model again"};
  }
  const uint64_t hlen = get_u64();
  if (!need(hlen)) return Error{path + ": truncated (header)"};
  const std::string header(reinterpret_cast<const char*>(bytes.data() + pos), hlen);
  pos += hlen;
  if (!need(8)) return Error{path + ": truncated (model)"};
  const uint64_t olen = get_u64();
  if (!need(olen)) return Error{path + ": truncated (model)"};
  auto graph = parse_onnx(bytes.data() + pos, olen, path + " (embedded float model)");
  if (!graph) return Error{graph.message()};
  pos += olen;
  if (!need(8)) return Error{path + ": truncated (tensors)"};
  const uint64_t blen = get_u64();
  if (!need(blen)) return Error{path + ": truncated (tensors)"};
  const uint8_t* blob = bytes.data() + pos;
  QModel m;
  m.graph = std::move(*graph);
  try {
    const json h = json::parse(header);
    auto c = quant_config_from_json(h.at("config"));
    if (!c) return Error{path + ": " + c.message()};
    m.config = *c;
    m.provenance = h.at("provenance").get<std::map<std::string, std::string>>();
    for (const auto& [name, t] : h.at("activations").items()) m.activations[name] = tensor_quant_from_json(t);
    for (const auto& [name, t] : h.at("weights").items()) m.weights[name] = tensor_quant_from_json(t);
    for (const json& t : h.at("tensors")) {
      const auto name = t.at("name").get<std::string>();
      const auto type = t.at("type").get<std::string>();
      const auto off = t.at("offset").get<uint64_t>();
      const auto count = t.at("count").get<uint64_t>();
      const uint64_t size = count * (type == "int8" ? 1u : 4u);
      if (off > blen || size > blen - off) return Error{path + ": tensor '" + name + "' lies outside the file"};
      if (m.graph.find_value(name) < 0) return Error{path + ": tensor '" + name + "' is not in the model"};
      if (type == "int8") {
        std::vector<int8_t> q(count);
        std::memcpy(q.data(), blob + off, count);
        m.qweights[name] = std::move(q);
      } else if (type == "int32") {
        std::vector<int32_t> q(count);
        for (uint64_t i = 0; i < count; ++i) {
          uint32_t u = 0;
          for (int b = 0; b < 4; ++b) u |= static_cast<uint32_t>(blob[off + 4 * i + static_cast<uint64_t>(b)]) << (8 * b);
          q[i] = static_cast<int32_t>(u);
        }
        m.qbiases[name] = std::move(q);
      } else {
        return Error{path + ": tensor '" + name + "' has unknown type '" + type + "'"};
      }
    }
  } catch (const json::exception& e) {
    return Error{path + ": malformed header: " + e.what()};
  }
  // Every quantized weight must match its parameter.
  for (const auto& [name, t] : m.weights) {
    const int v = m.graph.find_value(name);
    const auto q = m.qweights.find(name);
    if (v < 0 || q == m.qweights.end() || static_cast<int64_t>(q->second.size()) != m.graph.values[static_cast<size_t>(v)].init.numel()) {
      return Error{path + ": weight '" + name + "' is missing or has the wrong size"};
    }
    for (double s : t.scale) {
      if (!(s > 0.0) || !std::isfinite(s)) return Error{path + ": weight '" + name + "' has a scale that is not positive"};
    }
  }
  for (const auto& [name, t] : m.activations) {
    if (t.scale.size() != 1 || t.zero_point.size() != 1 || !(t.scale[0] > 0.0) || !std::isfinite(t.scale[0])) {
      return Error{path + ": activation '" + name + "' has invalid quantization parameters"};
    }
  }
  return m;
}

}  // namespace pocket
