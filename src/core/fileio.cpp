#include "pocket/fileio.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pocket {

namespace fs = std::filesystem;

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Error{path + ": file not found"};
  if (fs::is_directory(path, ec)) return Error{path + ": is a directory, expected a file"};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Error{path + ": cannot open: " + std::strerror(errno)};
  std::vector<uint8_t> bytes;
  std::array<uint8_t, 1 << 16> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) bytes.insert(bytes.end(), buf.begin(), buf.begin() + static_cast<long>(n));
  const bool err = std::ferror(f) != 0;
  std::fclose(f);
  if (err) return Error{path + ": read error"};
  return bytes;
}

Result<std::string> read_file_text(const std::string& path) {
  POCKET_ASSIGN_OR_RETURN(auto bytes, read_file_bytes(path));
  return std::string(bytes.begin(), bytes.end());
}

Status write_file_atomic(const std::string& path, const void* bytes, size_t size) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Error{path + ": cannot write: " + std::strerror(errno)};
  const bool ok = std::fwrite(bytes, 1, size, f) == size && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) {
    std::remove(tmp.c_str());
    return Error{path + ": write failed: " + std::strerror(errno)};
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return Error{path + ": cannot rename temporary file into place: " + why};
  }
  return Status::ok();
}

Status write_file_atomic(const std::string& path, const std::string& text) {
  return write_file_atomic(path, text.data(), text.size());
}

Result<std::vector<float>> read_f32_file(const std::string& path) {
  POCKET_ASSIGN_OR_RETURN(auto bytes, read_file_bytes(path));
  if (bytes.size() % 4 != 0) {
    return Error{path + ": size " + std::to_string(bytes.size()) + " bytes is not a multiple of 4 (raw float32 expected)"};
  }
  std::vector<float> v(bytes.size() / 4);
  for (size_t i = 0; i < v.size(); ++i) {
    const uint32_t u = static_cast<uint32_t>(bytes[4 * i]) | (static_cast<uint32_t>(bytes[4 * i + 1]) << 8) |
                       (static_cast<uint32_t>(bytes[4 * i + 2]) << 16) | (static_cast<uint32_t>(bytes[4 * i + 3]) << 24);
    std::memcpy(&v[i], &u, 4);
  }
  return v;
}

Status write_f32_file(const std::string& path, const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t u = 0;
    std::memcpy(&u, &values[i], 4);
    for (int b = 0; b < 4; ++b) bytes[4 * i + static_cast<size_t>(b)] = static_cast<uint8_t>(u >> (8 * b));
  }
  return write_file_atomic(path, bytes.data(), bytes.size());
}

Status check_not_overwriting(const std::string& out, const std::vector<std::string>& inputs) {
  std::error_code ec;
  const fs::path o = fs::weakly_canonical(out, ec);
  for (const auto& in : inputs) {
    std::error_code ec2;
    const fs::path i = fs::weakly_canonical(in, ec2);
    if (!ec && !ec2 && o == i) {
      return Error{"refusing to overwrite the input " + in + ": choose another output path"};
    }
  }
  return Status::ok();
}

namespace {

// SHA-256 (FIPS 180-4), written from the specification.
struct Sha256 {
  std::array<uint32_t, 8> h{0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                            0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
  static constexpr std::array<uint32_t, 64> k{
      0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
      0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
      0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
      0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
      0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
      0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
      0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
      0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};

  static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

  void block(const uint8_t* p) {
    std::array<uint32_t, 64> w{};
    for (int i = 0; i < 16; ++i) {
      w[static_cast<size_t>(i)] = (static_cast<uint32_t>(p[4 * i]) << 24) | (static_cast<uint32_t>(p[4 * i + 1]) << 16) |
                                  (static_cast<uint32_t>(p[4 * i + 2]) << 8) | static_cast<uint32_t>(p[4 * i + 3]);
    }
    for (size_t i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (size_t i = 0; i < 64; ++i) {
      const uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const uint32_t ch = (e & f) ^ (~e & g);
      const uint32_t t1 = hh + S1 + ch + k[i] + w[i];
      const uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
      const uint32_t t2 = S0 + maj;
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
};

}  // namespace

std::string sha256_hex(const void* bytes, size_t size) {
  Sha256 s;
  const auto* p = static_cast<const uint8_t*>(bytes);
  size_t i = 0;
  for (; i + 64 <= size; i += 64) s.block(p + i);
  std::array<uint8_t, 128> tail{};
  const size_t rem = size - i;
  if (rem) std::memcpy(tail.data(), p + i, rem);
  tail[rem] = 0x80;
  const size_t total = rem + 9 <= 64 ? 64 : 128;
  const uint64_t bits = static_cast<uint64_t>(size) * 8;
  for (int b = 0; b < 8; ++b) tail[total - 1 - static_cast<size_t>(b)] = static_cast<uint8_t>(bits >> (8 * b));
  s.block(tail.data());
  if (total == 128) s.block(tail.data() + 64);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (uint32_t word : s.h) {
    for (int b = 3; b >= 0; --b) {
      const auto byte = static_cast<uint8_t>(word >> (8 * b));
      out += hex[byte >> 4];
      out += hex[byte & 15];
    }
  }
  return out;
}

}  // namespace pocket
