// Placeholder: `pocket import` is registered here by its implementation.
#include "commands.hpp"

namespace pocket::cli {
void register_import(CLI::App&) {}
}  // namespace pocket::cli
