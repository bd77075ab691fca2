// MD5 (RFC 1321), for checking downloads against published checksums. Not for security: MD5 is
// broken as a cryptographic hash; it is used here only because CIFAR-10's checksum is an MD5.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pocket {

// Incremental MD5: update() any number of times with consecutive pieces, then digest() once.
class Md5 {
 public:
  Md5();
  void update(const void* bytes, size_t size);
  std::array<uint8_t, 16> digest();  // finishes the hash; the object must not be updated after
  std::string hex_digest();          // digest() as 32 lowercase hex digits

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 4> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
  bool finished_ = false;
};

// One-shot MD5 of a buffer, as 32 lowercase hex digits.
std::string md5_hex(const void* bytes, size_t size);
// True when `hex` is 32 hex digits (either case): a well-formed MD5 as users paste it.
bool is_md5_hex(std::string_view hex);

}  // namespace pocket
