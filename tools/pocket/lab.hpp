// `pocket lab`: the whole lab in one run. cmd_lab.cpp runs the stages and collects every number in
// one JSON object (results.json); lab_report.cpp turns that object, and nothing else, into the
// report (so every number in the report is in results.json); lab_device.cpp generates the C code
// and runs it on the host and on an emulated Cortex-M4.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "pocket/engine.hpp"
#include "pocket/quant.hpp"
#include "pocket/report.hpp"

namespace pocket::cli {

// The report of a finished lab run, from its results.json object.
report::Document lab_report(const nlohmann::json& results);

// Generated C for the host and the Cortex-M4: writes out_dir/host and out_dir/cortex-m4, runs
// `make run` (both), `make size` and `make count` (Cortex-M4). A target whose tools are missing is
// reported as {"status": "not run", "reason": ...}; a failing build or run as "failed" with the end
// of its output. Never an error for the lab as a whole, except when the code cannot be generated.
struct DeviceOptions {
  std::string out_dir;
  std::string model_path;  // the .pqm (its SHA-256 goes into the generated files)
  int64_t images = 10;     // test images embedded in main.c
  std::string command_line;
  std::function<void(const std::string&)> progress;
};
Result<nlohmann::json> run_devices(const QModel& model, const engine::Plan& plan, const Dataset& test,
                                   const DeviceOptions& options);

}  // namespace pocket::cli
