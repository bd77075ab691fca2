// Input normalisation: a property of the model, stored with it (ONNX metadata), never a hidden
// constant. A pixel p in 0..255 of channel c becomes x = (p/255 - mean[c]) / std[c].
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "pocket/status.hpp"

namespace pocket {

struct Normalization {
  enum class Kind : uint8_t { Unknown, Lab, Unit, Raw, MeanStd };
  Kind kind = Kind::Unknown;
  std::array<float, 3> mean{0.0f, 0.0f, 0.0f};  // on the 0..1 scale
  std::array<float, 3> stddev{1.0f, 1.0f, 1.0f};

  static Normalization lab();   // (p/255 - 0.5)/0.5 = p/127.5 - 1, range [-1, 1]
  static Normalization unit();  // p/255
  static Normalization raw();   // p itself, 0..255
  // "lab" | "unit" | "raw" | "R,G,B/R,G,B" (mean/std on the 0..1 scale).
  static Result<Normalization> parse(const std::string& spec);

  bool known() const { return kind != Kind::Unknown; }
  std::string spec() const;  // inverse of parse(); "unknown" when not known
  // x = pixel * scale(c) + offset(c): the affine form used by kernels and generated code.
  float scale(int channel) const { return 1.0f / (255.0f * stddev[static_cast<size_t>(channel)]); }
  float offset(int channel) const {
    return -mean[static_cast<size_t>(channel)] / stddev[static_cast<size_t>(channel)];
  }
  float apply(int channel, uint8_t pixel) const {
    return static_cast<float>(pixel) * scale(channel) + offset(channel);
  }
};

}  // namespace pocket
