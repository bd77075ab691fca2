// Helpers for the data tests: small CIFAR-10 style datasets written to temporary directories.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "pocket/data.hpp"
#include "support/test_env.hpp"

namespace pocket::test {

// A fresh, empty directory temp_dir()/name.
inline std::string fresh_dir(const std::string& name) {
  const auto p = std::filesystem::path(temp_dir()) / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

inline std::vector<uint8_t> read_bytes(const std::string& path, size_t max = SIZE_MAX) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  f.seekg(0, std::ios::end);
  const auto size = std::min(static_cast<size_t>(f.tellg()), max);
  f.seekg(0);
  std::vector<uint8_t> out(size);
  f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(size));
  out.resize(static_cast<size_t>(f.gcount()));
  return out;
}

// Records with label(i) and pixel(i, k) for k in 0..3071 (CHW).
inline std::vector<uint8_t> make_records(int64_t n, const std::function<uint8_t(int64_t)>& label,
                                         const std::function<uint8_t(int64_t, int)>& pixel) {
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(n * kCifarRecordBytes));
  for (int64_t i = 0; i < n; ++i) {
    out.push_back(label(i));
    for (int k = 0; k < kCifarImageBytes; ++k) out.push_back(pixel(i, k));
  }
  return out;
}

inline const std::string kMetaText =
    "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";

// A complete dataset directory with `records` records per file; record i of file f has label
// (i + f) % 10 and pixels (i * 7 + k + f) % 256.
inline void make_fake_cifar(const std::string& dir, int64_t records) {
  std::filesystem::create_directories(dir);
  const std::vector<std::string> files{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                       "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
  for (size_t f = 0; f < files.size(); ++f) {
    const auto fi = static_cast<int64_t>(f);
    write_bytes(dir + "/" + files[f],
                make_records(
                    records, [fi](int64_t i) { return static_cast<uint8_t>((i + fi) % 10); },
                    [fi](int64_t i, int k) { return static_cast<uint8_t>((i * 7 + k + fi) % 256); }));
  }
  write_text(dir + "/batches.meta.txt", kMetaText);
}

// A full-size dataset of zero bytes (labels 0) made of sparse files: instant to create.
inline void make_sparse_cifar(const std::string& dir) {
  std::filesystem::create_directories(dir);
  for (const char* name : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                           "data_batch_5.bin", "test_batch.bin"}) {
    const std::string path = dir + "/" + name;
    { std::ofstream f(path, std::ios::binary | std::ios::trunc); }
    std::filesystem::resize_file(path, 10000 * kCifarRecordBytes);
  }
  write_text(dir + "/batches.meta.txt", kMetaText);
}

}  // namespace pocket::test
