#include "pocket/quant_json.hpp"

namespace pocket {

using nlohmann::json;

json to_json(const TensorQuant& t) {
  return json{{"bits", t.bits},         {"symmetric", t.symmetric}, {"scale", t.scale},
              {"zero_point", t.zero_point}, {"range_lo", t.range_lo}, {"range_hi", t.range_hi},
              {"method", t.method},     {"clipped", t.clipped},     {"count", t.count}};
}

TensorQuant tensor_quant_from_json(const json& j) {
  TensorQuant t;
  t.bits = j.at("bits").get<int>();
  t.symmetric = j.at("symmetric").get<bool>();
  t.scale = j.at("scale").get<std::vector<double>>();
  t.zero_point = j.at("zero_point").get<std::vector<int32_t>>();
  t.range_lo = j.at("range_lo").get<std::vector<double>>();
  t.range_hi = j.at("range_hi").get<std::vector<double>>();
  t.method = j.at("method").get<std::string>();
  t.clipped = j.at("clipped").get<int64_t>();
  t.count = j.at("count").get<int64_t>();
  return t;
}

json to_json(const QuantConfig& c) {
  return json{{"weight_bits", c.weight_bits},   {"per_channel", c.per_channel},
              {"weight_range", c.weight_range.str()}, {"act_bits", c.act_bits},
              {"act_symmetric", c.act_symmetric}, {"act_range", c.act_range.str()},
              {"weight_only", c.weight_only},   {"calib_images", c.calib_images},
              {"calib_seed", c.calib_seed},     {"calib_dir", c.calib_dir}};
}

Result<QuantConfig> quant_config_from_json(const json& j) {
  QuantConfig c;
  c.weight_bits = j.at("weight_bits").get<int>();
  c.per_channel = j.at("per_channel").get<bool>();
  auto wr = RangeSpec::parse(j.at("weight_range").get<std::string>());
  if (!wr) return Error{"config: " + wr.message()};
  c.weight_range = *wr;
  c.act_bits = j.at("act_bits").get<int>();
  c.act_symmetric = j.at("act_symmetric").get<bool>();
  auto ar = RangeSpec::parse(j.at("act_range").get<std::string>());
  if (!ar) return Error{"config: " + ar.message()};
  c.act_range = *ar;
  c.weight_only = j.at("weight_only").get<bool>();
  c.calib_images = j.at("calib_images").get<int64_t>();
  c.calib_seed = j.at("calib_seed").get<uint64_t>();
  c.calib_dir = j.at("calib_dir").get<std::string>();
  return c;
}

}  // namespace pocket
