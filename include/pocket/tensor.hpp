// Float tensors: a shape and a dense row-major buffer. Activations in the float graph are NCHW
// (ONNX order); the integer engine converts layouts once (see docs/quantization.md).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace pocket {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[1, 3, 32, 32]"

struct Tensor {
  Shape shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(Shape s, float fill = 0.0f);
  Tensor(Shape s, std::vector<float> values);  // checks that the sizes agree

  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  int64_t dim(size_t i) const { return shape.at(i); }
  size_t rank() const { return shape.size(); }
  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }
  // Resize to `s` (contents unspecified after a change of size); reuses the buffer.
  void reshape_to(const Shape& s);
};

}  // namespace pocket
