// Built-in model definitions.
#pragma once

#include <cstdint>
#include <string>

#include "pocket/graph.hpp"
#include "pocket/status.hpp"

namespace pocket {

// The lab's LeNet-5 for 3x32x32 inputs: conv1 3->6 5x5, ReLU, maxpool 2, conv2 6->16 5x5, ReLU,
// maxpool 2, flatten, fc1 400->120, ReLU, fc2 120->84, ReLU, fc3 84->10. Weights and biases are
// initialised like PyTorch's defaults (uniform in +-1/sqrt(fan_in)) from `seed`.
Graph make_lenet(bool bias, uint64_t seed);

// Names accepted by `pocket train --model`.
Result<Graph> make_model(const std::string& name, bool bias, uint64_t seed);

}  // namespace pocket
