// Image folders: calibration and test images as PNG files, read into a Dataset like CIFAR-10's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pocket/data.hpp"
#include "pocket/status.hpp"

namespace pocket {

// The label of an image whose class is not known (images from a folder).
inline constexpr uint8_t kUnknownLabel = 255;

// Every *.png file directly in `dir` (the extension in any case; subdirectories and other files
// are ignored), sorted by file name (byte order), as a Dataset: pixels CHW like CIFAR-10, every
// label kUnknownLabel, no class names, source = dir.
// Each image must be 32x32 with 8-bit samples: RGB, RGBA, grayscale, grayscale+alpha, or a
// palette. Grayscale is replicated into R, G and B; alpha is dropped, not composited (the colour
// samples are kept as stored, like PIL's convert("RGB")); no gamma correction is applied. Another
// size or a 16-bit or sub-8-bit grayscale image is an error naming the file: images are not
// resized, so that what calibrates a model is exactly what it will be given.
Result<Dataset> load_image_dir(const std::string& dir);

// One PNG file under the same rules: 3072 bytes, CHW (R plane, G, B), row-major.
Result<std::vector<uint8_t>> load_png_image(const std::string& path);

}  // namespace pocket
