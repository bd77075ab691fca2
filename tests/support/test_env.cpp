#include "support/test_env.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace pocket::test {

namespace {
std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : fallback;
}

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pocket-test-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    path = p ? p : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    if (path != "/tmp") std::filesystem::remove_all(path, ec);
  }
};
}  // namespace

std::string data_dir() { return env_or("POCKET_DATA", POCKET_TEST_DATA_DIR); }
std::string fixtures_dir() { return env_or("POCKET_FIXTURES", POCKET_TEST_FIXTURES_DIR); }
std::string cli_path() { return POCKET_CLI_PATH; }
std::string source_dir() { return POCKET_TEST_SOURCE_DIR; }

std::string temp_dir() {
  static TempDir dir;
  return dir.path;
}

int run_command(const std::string& cmd, std::string* output) {
  std::FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf{};
  size_t n = 0;
  std::string out;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int st = pclose(p);
  if (output) *output = out;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace pocket::test
