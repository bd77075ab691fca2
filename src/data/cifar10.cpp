// CIFAR-10 binary reader, batching (normalisation LUT, crop + flip augmentation) and sampling.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "cifar10_internal.hpp"
#include "pocket/data.hpp"
#include "pocket/fileio.hpp"

namespace pocket {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kOfficialRecords = 10000;
constexpr const char* kDefaultDir = "./data/cifar-10-batches-bin";
constexpr const char* kMetaFile = "batches.meta.txt";
constexpr const char* kGetIt = "download it with `pocket download` or pass --data DIR";
const std::array<const char*, kCifarClasses> kOfficialNames{
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

std::string join(const std::string& dir, const std::string& name) { return (fs::path(dir) / name).string(); }

// "DIR" or "DIR (= /abs/DIR)" when relative, so a message shows which directory that really was.
std::string describe_dir(const std::string& dir) {
  const fs::path p(dir);
  if (p.is_absolute()) return dir;
  std::error_code ec;
  const fs::path abs = fs::absolute(p, ec);
  return ec ? dir : dir + " (= " + abs.lexically_normal().string() + ")";
}

std::string lookup_order() {
  const char* env = std::getenv("POCKET_DATA");
  const std::string env_part =
      (env && *env) ? std::string("$POCKET_DATA (set to ") + env + ")" : std::string("$POCKET_DATA (not set)");
  return std::string("looked at: --data, else ") + env_part + ", else " + kDefaultDir;
}

Status check_dir(const std::string& dir) {
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  if (!fs::exists(st)) {
    return Error{"no CIFAR-10 data in " + describe_dir(dir) + ": the directory does not exist (" + lookup_order() +
                 "): " + kGetIt};
  }
  if (!fs::is_directory(st)) {
    return Error{"no CIFAR-10 data in " + describe_dir(dir) + ": it is not a directory (" + lookup_order() + "): " +
                 kGetIt};
  }
  return Status::ok();
}

// Strips spaces, tabs and carriage returns from both ends.
std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  const auto first = s.find_first_not_of(ws);
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(ws) - first + 1);
}

Result<std::vector<std::string>> read_class_names(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return Error{path + ": file not found: the dataset is incomplete (batches.meta.txt lists the 10 class names); " +
                 "download it again with `pocket download`"};
  }
  POCKET_ASSIGN_OR_RETURN(const std::string text, read_file_text(path));
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = trim(text.substr(start, end - start));
    if (!line.empty()) names.push_back(std::move(line));
    start = end + 1;
  }
  if (names.size() != static_cast<size_t>(kCifarClasses)) {
    return Error{path + ": malformed: found " + std::to_string(names.size()) + " class names, expected " +
                 std::to_string(kCifarClasses) + " (one per line, line i naming label i): " +
                 "restore the file or download the dataset again with `pocket download`"};
  }
  return names;
}

// The number of records in the batch file at `path`, after checking its size.
Result<int64_t> batch_records(const std::string& path, int64_t expected_records) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (!fs::exists(st)) {
    return Error{path + ": file not found: the dataset is incomplete; download it again with `pocket download`"};
  }
  if (!fs::is_regular_file(st)) return Error{path + ": not a regular file"};
  const auto size = static_cast<int64_t>(fs::file_size(path, ec));
  if (ec) return Error{path + ": cannot read its size: " + ec.message()};
  const std::string record_desc = std::to_string(kCifarRecordBytes) + " bytes (1 label byte + " +
                                  std::to_string(kCifarImageBytes) + " pixel bytes)";
  if (expected_records > 0 && size != expected_records * kCifarRecordBytes) {
    const std::string what = size < expected_records * kCifarRecordBytes ? "truncated" : "too large";
    return Error{path + ": " + what + ": " + std::to_string(size) + " bytes, expected " +
                 std::to_string(expected_records * kCifarRecordBytes) + " (" + std::to_string(expected_records) +
                 " records of " + record_desc + "): download the dataset again with `pocket download`"};
  }
  if (size == 0) return Error{path + ": empty file: expected records of " + record_desc};
  if (size % kCifarRecordBytes != 0) {
    return Error{path + ": size " + std::to_string(size) + " bytes is not a multiple of the record size " +
                 record_desc + ": the file is truncated or not a CIFAR-10 binary batch file " +
                 "(CIFAR-100 records have 2 label bytes)"};
  }
  return size / kCifarRecordBytes;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Reads `records` records of `path` into out.labels/out.pixels starting at image `first`.
// Whole chunks of records are read at once and split into labels and pixel planes.
Status read_records(const std::string& path, int64_t records, Dataset& out, int64_t first) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return Error{path + ": cannot open: " + std::strerror(errno)};
  constexpr int64_t kChunkRecords = 1024;
  std::vector<uint8_t> chunk(static_cast<size_t>(std::min(records, kChunkRecords) * kCifarRecordBytes));
  for (int64_t done = 0; done < records;) {
    const int64_t count = std::min(records - done, kChunkRecords);
    const auto bytes = static_cast<size_t>(count * kCifarRecordBytes);
    if (std::fread(chunk.data(), 1, bytes, file.get()) != bytes) {
      return Error{path + ": read error or file shrank while reading (expected " + std::to_string(records) +
                   " records)"};
    }
    for (int64_t r = 0; r < count; ++r) {
      const uint8_t* rec = chunk.data() + r * kCifarRecordBytes;
      if (rec[0] >= kCifarClasses) {
        return Error{path + ": record " + std::to_string(done + r) + " has label " + std::to_string(rec[0]) +
                     ", expected 0-9: the file is corrupt or not CIFAR-10 (CIFAR-100 records have 2 label "
                     "bytes); download the dataset again with `pocket download`"};
      }
      const int64_t image = first + done + r;
      out.labels[static_cast<size_t>(image)] = rec[0];
      std::memcpy(out.pixels.data() + image * kCifarImageBytes, rec + 1, kCifarImageBytes);
    }
    done += count;
  }
  return Status::ok();
}

}  // namespace

std::string resolve_data_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("POCKET_DATA");
  if (env && *env) return env;
  return kDefaultDir;
}

namespace detail {

Result<Dataset> load_cifar10_records(const std::string& dir, Split split, int64_t expected_records) {
  POCKET_TRY(check_dir(dir));
  std::vector<std::string> files;
  switch (split) {
    case Split::Train:
      for (int b = 1; b <= 5; ++b) files.push_back(join(dir, "data_batch_" + std::to_string(b) + ".bin"));
      break;
    case Split::Test:
      files.push_back(join(dir, "test_batch.bin"));
      break;
  }
  // A directory that holds the dataset one level down: the user passed the download directory.
  std::error_code ec;
  if (!fs::exists(files.front(), ec) && fs::exists(join(join(dir, "cifar-10-batches-bin"), "batches.meta.txt"), ec)) {
    return Error{"no CIFAR-10 data in " + describe_dir(dir) + ", but it has a cifar-10-batches-bin directory: pass --data " +
                 join(dir, "cifar-10-batches-bin")};
  }
  std::vector<int64_t> records;
  int64_t total = 0;
  for (const auto& f : files) {
    POCKET_ASSIGN_OR_RETURN(const int64_t n, batch_records(f, expected_records));
    records.push_back(n);
    total += n;
  }
  Dataset data;
  POCKET_ASSIGN_OR_RETURN(data.class_names, read_class_names(join(dir, kMetaFile)));
  data.labels.resize(static_cast<size_t>(total));
  data.pixels.resize(static_cast<size_t>(total * kCifarImageBytes));
  int64_t first = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    POCKET_TRY(read_records(files[i], records[i], data, first));
    first += records[i];
  }
  data.source = dir;
  return data;
}

}  // namespace detail

Result<Dataset> load_cifar10(const std::string& dir, Split split) {
  return detail::load_cifar10_records(dir, split, kOfficialRecords);
}

Result<Dataset> load_cifar10_file(const std::string& path) {
  POCKET_ASSIGN_OR_RETURN(const int64_t records, batch_records(path, 0));
  Dataset data;
  const std::string meta = (fs::path(path).parent_path() / kMetaFile).string();
  std::error_code ec;
  if (fs::exists(meta, ec)) {
    POCKET_ASSIGN_OR_RETURN(data.class_names, read_class_names(meta));
  } else {
    data.class_names.assign(kOfficialNames.begin(), kOfficialNames.end());
  }
  data.labels.resize(static_cast<size_t>(records));
  data.pixels.resize(static_cast<size_t>(records * kCifarImageBytes));
  POCKET_TRY(read_records(path, records, data, 0));
  data.source = path;
  return data;
}

namespace {

using ChannelLut = std::array<float, 256>;
constexpr int kPlane = kCifarSide * kCifarSide;

// One augmented image: output(y, x) = image(y + dy, x' + dx) with x' = 31 - x when flipped, else
// x; positions outside the image are black (pixel value 0, normalised).
void render_augmented(const uint8_t* src, float* dst, const std::array<ChannelLut, 3>& lut, int dy, int dx,
                      bool flip) {
  for (int c = 0; c < kCifarChannels; ++c) {
    const ChannelLut& l = lut[static_cast<size_t>(c)];
    const float black = l[0];
    const uint8_t* plane = src + c * kPlane;
    for (int out_y = 0; out_y < kCifarSide; ++out_y) {
      float* row = dst + c * kPlane + out_y * kCifarSide;
      const int in_y = out_y + dy;
      if (in_y < 0 || in_y >= kCifarSide) {
        std::fill(row, row + kCifarSide, black);
        continue;
      }
      const uint8_t* in_row = plane + in_y * kCifarSide;
      // Columns out_x in [x_begin, x_end) map inside the image; the rest is padding.
      const int x_begin = flip ? std::max(0, dx) : std::max(0, -dx);
      const int x_end = flip ? std::min(kCifarSide, kCifarSide + dx) : std::min(kCifarSide, kCifarSide - dx);
      std::fill(row, row + x_begin, black);
      if (flip) {
        for (int out_x = x_begin; out_x < x_end; ++out_x) row[out_x] = l[in_row[kCifarSide - 1 - out_x + dx]];
      } else {
        for (int out_x = x_begin; out_x < x_end; ++out_x) row[out_x] = l[in_row[out_x + dx]];
      }
      std::fill(row + x_end, row + kCifarSide, black);
    }
  }
}

}  // namespace

void make_batch(const Dataset& data, std::span<const int64_t> indices, const Normalization& norm, Tensor& out,
                const Augment& augment, Rng* rng) {
  POCKET_CHECK(!augment.enabled || rng != nullptr, "make_batch: augmentation needs an Rng");
  POCKET_CHECK(augment.crop_padding >= 0, "make_batch: crop_padding must be >= 0");
  const auto n = static_cast<int64_t>(indices.size());
  out.reshape_to({n, kCifarChannels, kCifarSide, kCifarSide});
  // x = norm.apply(c, p) for every byte value: identical floats to the per-pixel formula.
  std::array<ChannelLut, 3> lut{};
  for (int c = 0; c < kCifarChannels; ++c) {
    for (int p = 0; p < 256; ++p) {
      lut[static_cast<size_t>(c)][static_cast<size_t>(p)] = norm.apply(c, static_cast<uint8_t>(p));
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    const int64_t index = indices[static_cast<size_t>(i)];
    POCKET_CHECK(index >= 0 && index < data.size(), "make_batch: image index out of range");
    const uint8_t* src = data.image(index);
    float* dst = out.ptr() + i * kCifarImageBytes;
    if (!augment.enabled) {
      for (int c = 0; c < kCifarChannels; ++c) {
        const ChannelLut& l = lut[static_cast<size_t>(c)];
        for (int k = 0; k < kPlane; ++k) dst[c * kPlane + k] = l[src[c * kPlane + k]];
      }
      continue;
    }
    // Draw order per image: row offset, column offset (only with padding), then the flip.
    int dy = 0;
    int dx = 0;
    bool flip = false;
    if (augment.crop_padding > 0) {
      const auto choices = static_cast<uint32_t>(2 * augment.crop_padding + 1);
      dy = static_cast<int>(rng->uniform_int(choices)) - augment.crop_padding;
      dx = static_cast<int>(rng->uniform_int(choices)) - augment.crop_padding;
    }
    if (augment.hflip) flip = rng->uniform_int(2) == 1;
    render_augmented(src, dst, lut, dy, dx, flip);
  }
}

std::vector<int> batch_labels(const Dataset& data, std::span<const int64_t> indices) {
  std::vector<int> labels;
  labels.reserve(indices.size());
  for (const int64_t index : indices) {
    POCKET_CHECK(index >= 0 && index < data.size(), "batch_labels: image index out of range");
    labels.push_back(data.labels[static_cast<size_t>(index)]);
  }
  return labels;
}

Result<std::vector<int64_t>> stratified_sample(const Dataset& data, int64_t n, uint64_t seed) {
  if (n <= 0) return Error{"sample size must be at least 1 (got " + std::to_string(n) + ")"};
  if (n > data.size()) {
    return Error{"cannot sample " + std::to_string(n) + " images from a dataset of " + std::to_string(data.size()) +
                 " (" + data.source + "): ask for at most " + std::to_string(data.size())};
  }
  std::array<std::vector<int64_t>, 256> by_label;
  for (int64_t i = 0; i < data.size(); ++i) by_label[data.labels[static_cast<size_t>(i)]].push_back(i);
  // Water-filling: every class gets min(count, level) with the largest level that fits in n;
  // what is left goes one each to the classes that still have images, lowest label first.
  auto filled = [&](int64_t level) {
    int64_t sum = 0;
    for (const auto& members : by_label) sum += std::min(static_cast<int64_t>(members.size()), level);
    return sum;
  };
  int64_t lo = 0;
  int64_t hi = n;  // filled(n) >= n because n <= size
  while (lo < hi) {  // largest level with filled(level) <= n
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (filled(mid) <= n) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const int64_t level = lo;
  int64_t extra = n - filled(level);
  const Rng base(seed);
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(n));
  for (size_t label = 0; label < by_label.size(); ++label) {
    std::vector<int64_t>& members = by_label[label];
    const auto count = static_cast<int64_t>(members.size());
    int64_t quota = std::min(count, level);
    if (count > level && extra > 0) {
      ++quota;
      --extra;
    }
    // Partial Fisher-Yates with a per-class stream: the choice within a class depends only on
    // the seed, the label and the quota.
    Rng rng = base.split(label);
    for (int64_t j = 0; j < quota; ++j) {
      const auto k = j + static_cast<int64_t>(rng.uniform_int(static_cast<uint32_t>(count - j)));
      std::swap(members[static_cast<size_t>(j)], members[static_cast<size_t>(k)]);
    }
    std::sort(members.begin(), members.begin() + quota);
    out.insert(out.end(), members.begin(), members.begin() + quota);
  }
  POCKET_CHECK(extra == 0 && static_cast<int64_t>(out.size()) == n, "stratified_sample: allocation mismatch");
  return out;
}

}  // namespace pocket
