// Where tests find their inputs. Environment variables override the build-time defaults.
#pragma once

#include <string>

namespace pocket::test {

std::string data_dir();      // $POCKET_DATA or ../shared/data/cifar-10-batches-bin
std::string fixtures_dir();  // $POCKET_FIXTURES or ../shared/fixtures/onnx
std::string cli_path();      // the built `pocket` binary
std::string source_dir();    // the project's source tree
std::string temp_dir();      // a fresh directory for this test process (removed at exit)

// Runs a shell command, returns its exit status; stdout+stderr go to *output if given.
int run_command(const std::string& cmd, std::string* output = nullptr);

}  // namespace pocket::test
