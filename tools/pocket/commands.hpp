// Subcommands of the `pocket` CLI. Each registers itself on the app and runs from a callback;
// commands report errors by returning a non-zero exit code after printing the message.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace pocket::cli {

// Set by a command's callback: the process exit code.
int& exit_code();
// Prints "pocket <cmd>: <message>" to stderr and sets exit code 1.
void fail(const std::string& command, const std::string& message);
// The command line as typed (for provenance records).
const std::string& command_line();
void set_command_line(int argc, char** argv);

void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_infer(CLI::App& app);
void register_import(CLI::App& app);
void register_info(CLI::App& app);
void register_download(CLI::App& app);
void register_stats(CLI::App& app);
void register_quantize(CLI::App& app);
void register_sweep(CLI::App& app);
void register_export(CLI::App& app);
void register_qerror(CLI::App& app);
void register_gen(CLI::App& app);
void register_lab(CLI::App& app);

}  // namespace pocket::cli
