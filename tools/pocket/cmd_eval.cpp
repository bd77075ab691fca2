// Placeholder: `pocket eval` is registered here by its implementation.
#include "commands.hpp"

namespace pocket::cli {
void register_eval(CLI::App&) {}
}  // namespace pocket::cli
