// Placeholder: `pocket train` is registered here by its implementation.
#include "commands.hpp"

namespace pocket::cli {
void register_train(CLI::App&) {}
}  // namespace pocket::cli
