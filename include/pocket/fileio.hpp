// File helpers: whole-file reads with clear errors, and atomic writes (temp file + rename), so an
// interrupted run never leaves a half-written output and never overwrites an input by accident.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pocket/status.hpp"

namespace pocket {

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path);
Result<std::string> read_file_text(const std::string& path);
// Writes `bytes` to `path` via `path.tmp.<pid>` and rename(2). The directory must exist.
Status write_file_atomic(const std::string& path, const void* bytes, size_t size);
Status write_file_atomic(const std::string& path, const std::string& text);
// Raw little-endian float32 files (`pocket infer` input and output).
Result<std::vector<float>> read_f32_file(const std::string& path);
Status write_f32_file(const std::string& path, const std::vector<float>& values);
// An error unless `out` differs from every path in `inputs` (same file after canonicalisation).
Status check_not_overwriting(const std::string& out, const std::vector<std::string>& inputs);
// SHA-256 of a byte buffer, as 64 hex digits (provenance of models and generated files).
std::string sha256_hex(const void* bytes, size_t size);

}  // namespace pocket
