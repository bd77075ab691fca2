// `pocket`: the command-line front end. Thin: parsing, progress and output formatting only.
#include <cstdio>
#include <iostream>

#include "commands.hpp"

namespace pocket::cli {

int& exit_code() {
  static int code = 0;
  return code;
}

void fail(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "pocket %s: %s\n", command.c_str(), message.c_str());
  exit_code() = 1;
}

namespace {
std::string& command_line_storage() {
  static std::string s;
  return s;
}
}  // namespace

const std::string& command_line() { return command_line_storage(); }

void set_command_line(int argc, char** argv) {
  std::string& s = command_line_storage();
  s.clear();
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += i == 0 ? std::string("pocket") : std::string(argv[i]);
  }
}

}  // namespace pocket::cli

int main(int argc, char** argv) {
  CLI::App app{"pocket: train, inspect, quantize and deploy small CNNs to microcontrollers", "pocket"};
  app.set_version_flag("--version", std::string("pocket ") + POCKET_VERSION);
  app.require_subcommand(1);
  pocket::cli::set_command_line(argc, argv);
  pocket::cli::register_train(app);
  pocket::cli::register_eval(app);
  pocket::cli::register_infer(app);
  pocket::cli::register_import(app);
  pocket::cli::register_info(app);
  pocket::cli::register_download(app);
  pocket::cli::register_stats(app);
  pocket::cli::register_quantize(app);
  pocket::cli::register_sweep(app);
  pocket::cli::register_export(app);
  pocket::cli::register_qerror(app);
  pocket::cli::register_gen(app);
  pocket::cli::register_lab(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return pocket::cli::exit_code();
}
