// Placeholder: `pocket info` is registered here by its implementation.
#include "commands.hpp"

namespace pocket::cli {
void register_info(CLI::App&) {}
}  // namespace pocket::cli
