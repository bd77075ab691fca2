#include "pocket/tensor.hpp"

#include <string>

#include "pocket/status.hpp"

namespace pocket {

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Tensor::Tensor(Shape s, float fill) : shape(std::move(s)), data(static_cast<size_t>(pocket::numel(shape)), fill) {}

Tensor::Tensor(Shape s, std::vector<float> values) : shape(std::move(s)), data(std::move(values)) {
  POCKET_CHECK(static_cast<int64_t>(data.size()) == pocket::numel(shape), "tensor data does not match its shape");
}

void Tensor::reshape_to(const Shape& s) {
  shape = s;
  data.resize(static_cast<size_t>(pocket::numel(s)));
}

}  // namespace pocket
