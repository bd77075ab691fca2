// Placeholder: `pocket infer` is registered here by its implementation.
#include "commands.hpp"

namespace pocket::cli {
void register_infer(CLI::App&) {}
}  // namespace pocket::cli
