// pocket lab, stage "generated C": pocket gen's library for the host and the Cortex-M4, then the
// generated Makefiles' run / size / count targets, their output captured and parsed.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "lab.hpp"
#include "summaries.hpp"
#include "pocket/codegen.hpp"
#include "pocket/fileio.hpp"

namespace pocket::cli {
namespace {

using nlohmann::json;

struct CommandResult {
  int status = -1;  // exit status, or -1 if it could not be started or was killed
  std::string output;
};

// Runs `command` through /bin/sh with stdout and stderr captured.
CommandResult capture(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.status = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool have_tool(const std::string& tool) { return capture("command -v " + shell_quote(tool)).status == 0; }

// The last `count` lines of `text`.
std::string tail(const std::string& text, size_t count) {
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (size_t lines = 0; pos > 0; --pos) {
    if (text[pos - 1] == '\n' && ++lines == count) break;
  }
  return text.substr(pos);
}

// "size: flash=85288 model_flash=69756 ..." -> {"flash": 85288, ...} (the line starting with `key:`).
json key_values(const std::string& output, const std::string& key) {
  json values = json::object();
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream words(line.substr(key.size() + 1));
    std::string word;
    while (words >> word) {
      const size_t eq = word.find('=');
      if (eq == std::string::npos) continue;
      const std::string name = word.substr(0, eq), value = word.substr(eq + 1);
      try {
        size_t used = 0;
        const long long v = std::stoll(value, &used);
        if (used == value.size()) {
          values[name] = v;
          continue;
        }
      } catch (const std::exception&) {
      }
      values[name] = value;
    }
  }
  return values;
}

json make_step(const std::string& dir, const std::string& target) {
  // -s --no-print-directory: only what the program and the reports print, not the compiler lines.
  const CommandResult r = capture("make -s --no-print-directory -C " + shell_quote(dir) + " " + target);
  json j = {{"command", "make -C " + dir + " " + target}, {"exit_status", r.status}, {"ok", r.status == 0},
            {"output_tail", tail(r.output, 12)}};
  if (target == "size") j["values"] = key_values(r.output, "size");
  if (target == "count") j["values"] = key_values(r.output, "count");
  return j;
}

// Every #define of model.h with a value (continuation lines joined), in file order.
json model_h_defines(const std::string& model_h) {
  json out = json::array();
  std::istringstream lines(model_h);
  std::string line, logical;
  while (std::getline(lines, line)) {
    if (logical.empty() && line.rfind("#define ", 0) != 0) continue;
    const bool continued = !line.empty() && line.back() == '\\';
    if (continued) line.pop_back();
    logical += line;
    if (continued) continue;
    // A define without a value (the include guard) is not a constant.
    if (logical.find(' ', 8) != std::string::npos) out.push_back(logical);
    logical.clear();
  }
  return out;
}

}  // namespace

Result<json> run_devices(const QModel& model, const engine::Plan& plan, const Dataset& test, const DeviceOptions& o) {
  namespace fs = std::filesystem;
  auto bytes = read_file_bytes(o.model_path);
  if (!bytes) return Error{bytes.message()};
  Dataset images = test;
  if (o.images < images.size()) {
    images.labels.resize(static_cast<size_t>(o.images));
    images.pixels.resize(static_cast<size_t>(o.images) * kCifarImageBytes);
  }
  json result;
  result["images"] = images.size();
  const std::array<codegen::Target, 2> targets{codegen::Target::Host, codegen::Target::CortexM4};
  for (const codegen::Target target : targets) {
    const std::string name = codegen::target_name(target);
    const std::string dir = (fs::path(o.out_dir) / name).string();
    codegen::GenOptions g;
    g.prefix = "model";
    g.target = target;
    g.main_images = images.size();
    g.tool_version = std::string("pocket ") + POCKET_VERSION;
    g.command_line = o.command_line;
    g.model_sha256 = sha256_hex(bytes->data(), bytes->size());
    if (o.progress) o.progress("generating C for " + name);
    auto generated = codegen::generate(model, plan, g, &images);
    if (!generated) return Error{"generating C for " + name + ": " + generated.message()};
    POCKET_TRY(codegen::write_files(*generated, dir));
    json t = {{"dir", dir}, {"files", generated->files.size()}};
    if (target == codegen::Target::Host) {
      const codegen::Footprint& f = generated->footprint;
      result["footprint"] = codegen_footprint_json(f)["totals"];
      for (const codegen::File& file : generated->files) {
        if (file.path == "model.h") result["model_h_defines"] = model_h_defines(file.contents);
      }
    }
    // What the target's Makefile needs.
    std::vector<std::string> tools = {"make"};
    if (target == codegen::Target::Host) {
      tools.push_back("cc");
    } else {
      tools.insert(tools.end(), {"arm-none-eabi-gcc", "qemu-system-arm"});
    }
    std::string missing;
    for (const std::string& tool : tools) {
      if (!have_tool(tool)) missing += (missing.empty() ? "" : ", ") + tool;
    }
    if (!missing.empty()) {
      t["status"] = "not run";
      t["reason"] = "not found on PATH: " + missing + " (scripts/setup.sh installs them)";
      result[name] = t;
      continue;
    }
    const std::vector<std::string> steps =
        target == codegen::Target::Host ? std::vector<std::string>{"run"} : std::vector<std::string>{"run", "size", "count"};
    bool ok = true;
    for (const std::string& step : steps) {
      if (o.progress) o.progress("make -C " + dir + " " + step);
      const json s = make_step(dir, step);
      ok = ok && s["ok"].get<bool>();
      t[step] = s;
    }
    t["status"] = ok ? "passed" : "failed";
    result[name] = t;
  }
  return result;
}

}  // namespace pocket::cli
