// JSON form of quantization parameters and configurations: one definition shared by the .pqm
// header, the QDQ metadata and the CLI's --json output.
#pragma once

#include <nlohmann/json.hpp>

#include "pocket/quant.hpp"

namespace pocket {

nlohmann::json to_json(const TensorQuant& t);
TensorQuant tensor_quant_from_json(const nlohmann::json& j);  // throws nlohmann::json::exception
nlohmann::json to_json(const QuantConfig& c);
Result<QuantConfig> quant_config_from_json(const nlohmann::json& j);  // throws on missing keys

}  // namespace pocket
