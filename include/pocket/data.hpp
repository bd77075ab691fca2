// CIFAR-10 in its official binary layout, batching with normalisation, augmentation and sampling.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pocket/normalization.hpp"
#include "pocket/rng.hpp"
#include "pocket/status.hpp"
#include "pocket/tensor.hpp"

namespace pocket {

inline constexpr int kCifarClasses = 10;
inline constexpr int kCifarChannels = 3;
inline constexpr int kCifarSide = 32;
inline constexpr int kCifarImageBytes = kCifarChannels * kCifarSide * kCifarSide;  // 3072, CHW
inline constexpr int kCifarRecordBytes = 1 + kCifarImageBytes;                   // label + pixels

enum class Split : uint8_t { Train, Test };

struct Dataset {
  std::vector<uint8_t> pixels;  // size() * 3072 bytes, each image CHW (R plane, G, B), row-major
  std::vector<uint8_t> labels;  // 0..9
  std::vector<std::string> class_names;
  std::string source;  // the directory it was read from

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  const uint8_t* image(int64_t i) const { return pixels.data() + i * kCifarImageBytes; }
};

// The dataset directory: `flag` if not empty, else $POCKET_DATA, else ./data/cifar-10-batches-bin.
std::string resolve_data_dir(const std::string& flag);

// Reads data_batch_1..5.bin (Train) or test_batch.bin (Test) and batches.meta.txt from `dir`.
// A missing, truncated or wrong-sized file, or a label outside 0-9, is an error naming the file.
// A missing directory gives a message saying where it looked and how to get the data.
Result<Dataset> load_cifar10(const std::string& dir, Split split);
// Reads one batch file (any number of whole records).
// Class names come from a batches.meta.txt next to the file if there is one, else they are the
// official ten; `source` is the file's path.
Result<Dataset> load_cifar10_file(const std::string& path);

struct Augment {
  bool enabled = false;
  int crop_padding = 4;  // random crop of 32x32 from the image zero-padded by this many pixels
  bool hflip = true;     // random horizontal flip with probability 1/2
};

// Fills `out` ([n, 3, 32, 32]) with the normalised images `indices` of `data`. With augmentation,
// `rng` draws the crops and flips (deterministic for a given rng state).
// Augmentation, per image: a row offset dy and a column offset dx, each uniform in
// [-crop_padding, crop_padding] (drawn only when crop_padding > 0), then a flip with p = 1/2
// (drawn only when hflip); output(y, x) = image(y + dy, x' + dx) with x' = 31 - x when flipped.
// Padding is in pixel space: positions outside the image are black, pixel value 0, so they hold
// norm.apply(c, 0) (-1 with the lab normalisation), as torchvision's RandomCrop(32, padding=4)
// gives when it runs on the image before Normalize, the usual CIFAR-10 recipe.
// Values equal norm.apply(c, pixel) exactly (a 256-entry table per channel).
void make_batch(const Dataset& data, std::span<const int64_t> indices, const Normalization& norm,
                Tensor& out, const Augment& augment = {}, Rng* rng = nullptr);
// Labels of `indices`.
std::vector<int> batch_labels(const Dataset& data, std::span<const int64_t> indices);

// `n` indices drawn stratified by class (as equal per class as possible), seeded; sorted by class
// then index. An error if the dataset has fewer than n images or n <= 0.
Result<std::vector<int64_t>> stratified_sample(const Dataset& data, int64_t n, uint64_t seed);

}  // namespace pocket
