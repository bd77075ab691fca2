// Helpers of the code generation tests: a quantized LeNet without training (the fixture lenet_bias
// with the lab normalisation, calibrated on 64 CIFAR-10 training images), `pocket gen` and `make`
// in a fresh directory, and reading files.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "pocket/codegen.hpp"
#include "pocket/engine.hpp"
#include "pocket/onnx.hpp"
#include "pocket/quant.hpp"
#include "support/quantized_fixture.hpp"
#include "support/test_env.hpp"

namespace pocket::codegen_test {

namespace fs = std::filesystem;

inline bool have_cifar() { return fs::exists(test::data_dir() + "/test_batch.bin"); }

inline bool have_tool(const std::string& tool) {
  return test::run_command("command -v " + tool + " >/dev/null") == 0;
}

// Device tests are not skipped: a missing cross toolchain or QEMU fails them (CI installs
// scripts/packages.txt).
inline void require_tools(std::initializer_list<const char*> tools) {
  for (const char* tool : tools) {
    ASSERT_TRUE(have_tool(tool)) << tool << " not found: install the packages of scripts/packages.txt";
  }
}

// A fixture model quantized with the default settings (tests/support/quantized_fixture.hpp), with
// its source named in the provenance.
inline QModel quantize_fixture(const std::string& name) {
  QModel m = test::quantize_fixture(name);
  m.provenance["source"] = name + ".onnx (test fixture)";
  return m;
}

// The quantized fixture saved as a .pqm in the test's temporary directory.
inline std::string fixture_pqm(const std::string& name) {
  const std::string path = test::temp_dir() + "/" + name + ".pqm";
  if (!fs::exists(path)) {
    const QModel m = quantize_fixture(name);
    const Status st = save_qmodel(m, path);
    EXPECT_TRUE(st) << st.message();
  }
  return path;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// `pocket gen` (run in `cwd`); returns the exit status, output in *out.
inline int pocket_gen(const std::string& cwd, const std::string& args, std::string* out) {
  return test::run_command("cd " + cwd + " && POCKET_DATA='" + test::data_dir() + "' '" + test::cli_path() +
                               "' gen " + args,
                           out);
}

// `make -C dir TARGET [VARS]`; returns the exit status, output in *out.
inline int make(const std::string& dir, const std::string& target, std::string* out) {
  return test::run_command("make --no-print-directory -C '" + dir + "' " + target, out);
}

// The key=value pairs of the line of `make size` / `make count` that starts with `prefix`.
inline std::map<std::string, int64_t> key_values(const std::string& text, const std::string& prefix) {
  std::map<std::string, int64_t> kv;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    std::istringstream words(line.substr(prefix.size()));
    std::string word;
    while (words >> word) {
      const auto eq = word.find('=');
      if (eq != std::string::npos) kv[word.substr(0, eq)] = std::stoll(word.substr(eq + 1));
    }
  }
  return kv;
}

// "pocket: stack used N bytes" from the startup code's report.
inline int64_t stack_used(const std::string& run_output) {
  const std::string key = "stack used ";
  const auto at = run_output.find(key);
  if (at == std::string::npos) return -1;
  return std::stoll(run_output.substr(at + key.size()));
}

// C source without its /* */ comments.
inline std::string strip_comments(const std::string& c) {
  std::string out;
  for (size_t i = 0; i < c.size();) {
    if (c.compare(i, 2, "/*") == 0) {
      const auto end = c.find("*/", i + 2);
      i = end == std::string::npos ? c.size() : end + 2;
    } else {
      out += c[i++];
    }
  }
  return out;
}

}  // namespace pocket::codegen_test
