// Helpers for tests that run the built `pocket` binary.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/test_env.hpp"

namespace pocket::test {

inline std::string quoted(const std::string& s) { return "'" + s + "'"; }
inline std::string fixture_path(const std::string& name) { return fixtures_dir() + "/" + name; }
inline std::string temp_path(const std::string& name) { return temp_dir() + "/" + name; }

// Runs `pocket ARGS` with POCKET_DATA pointing at the test data; stdout and stderr go to *out.
inline int pocket_cli(const std::string& args, std::string* out) {
  return run_command("POCKET_DATA=" + quoted(data_dir()) + " " + quoted(cli_path()) + " " + args, out);
}

// The JSON object in a command's output (the only thing on stdout with --json; progress goes to
// stderr and never contains a brace).
inline nlohmann::json json_of(const std::string& out) {
  const auto start = out.find('{');
  EXPECT_NE(start, std::string::npos) << out;
  return nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start), nullptr, false);
}

}  // namespace pocket::test
