// MD5 as specified by RFC 1321: 64-byte blocks, four rounds of 16 steps, little-endian words.
#include "pocket/md5.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "pocket/status.hpp"

namespace pocket {
namespace {

// T[i] = floor(2^32 * |sin(i + 1)|) (RFC 1321, section 3.4).
constexpr std::array<uint32_t, 64> kSine{
    0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu, 0xf57c0fafu, 0x4787c62au, 0xa8304613u, 0xfd469501u,
    0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu, 0x6b901122u, 0xfd987193u, 0xa679438eu, 0x49b40821u,
    0xf61e2562u, 0xc040b340u, 0x265e5a51u, 0xe9b6c7aau, 0xd62f105du, 0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u,
    0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu, 0xa9e3e905u, 0xfcefa3f8u, 0x676f02d9u, 0x8d2a4c8au,
    0xfffa3942u, 0x8771f681u, 0x6d9d6122u, 0xfde5380cu, 0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u,
    0x289b7ec6u, 0xeaa127fau, 0xd4ef3085u, 0x04881d05u, 0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u,
    0xf4292244u, 0x432aff97u, 0xab9423a7u, 0xfc93a039u, 0x655b59c3u, 0x8f0ccc92u, 0xffeff47du, 0x85845dd1u,
    0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u, 0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu, 0xeb86d391u};

// Left-rotation amounts per round, four per round, repeated over the round's 16 steps.
constexpr std::array<int, 16> kShift{7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};

uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

}  // namespace

Md5::Md5() : state_{0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u} {}

void Md5::block(const uint8_t* p) {
  std::array<uint32_t, 16> word{};
  for (size_t i = 0; i < 16; ++i) {
    word[i] = static_cast<uint32_t>(p[4 * i]) | (static_cast<uint32_t>(p[4 * i + 1]) << 8) |
              (static_cast<uint32_t>(p[4 * i + 2]) << 16) | (static_cast<uint32_t>(p[4 * i + 3]) << 24);
  }
  uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
  for (size_t step = 0; step < 64; ++step) {
    const size_t round = step / 16;
    uint32_t f = 0;
    size_t word_index = 0;
    switch (round) {
      case 0:  // F(b, c, d) = (b & c) | (~b & d)
        f = (b & c) | (~b & d);
        word_index = step;
        break;
      case 1:  // G(b, c, d) = (b & d) | (c & ~d)
        f = (b & d) | (c & ~d);
        word_index = (5 * step + 1) % 16;
        break;
      case 2:  // H(b, c, d) = b ^ c ^ d
        f = b ^ c ^ d;
        word_index = (3 * step + 5) % 16;
        break;
      default:  // I(b, c, d) = c ^ (b | ~d)
        f = c ^ (b | ~d);
        word_index = (7 * step) % 16;
        break;
    }
    const uint32_t rotated = rotl(a + f + kSine[step] + word[word_index], kShift[round * 4 + step % 4]);
    a = d;
    d = c;
    c = b;
    b = b + rotated;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
}

void Md5::update(const void* bytes, size_t size) {
  POCKET_CHECK(!finished_, "Md5::update after digest()");
  const auto* p = static_cast<const uint8_t*>(bytes);
  total_bytes_ += size;
  if (buffered_ > 0) {
    const size_t take = std::min(size, buffer_.size() - buffered_);
    std::memcpy(buffer_.data() + buffered_, p, take);
    buffered_ += take;
    p += take;
    size -= take;
    if (buffered_ < buffer_.size()) return;
    block(buffer_.data());
    buffered_ = 0;
  }
  for (; size >= 64; size -= 64, p += 64) block(p);
  if (size > 0) {
    std::memcpy(buffer_.data(), p, size);
    buffered_ = size;
  }
}

std::array<uint8_t, 16> Md5::digest() {
  POCKET_CHECK(!finished_, "Md5::digest called twice");
  // Padding: a 1 bit, zeros up to 56 mod 64 bytes, then the message length in bits (LE 64-bit).
  const uint64_t bits = total_bytes_ * 8;
  std::array<uint8_t, 72> pad{};
  pad[0] = 0x80;
  const size_t pad_len = buffered_ < 56 ? 56 - buffered_ : 120 - buffered_;
  update(pad.data(), pad_len);
  std::array<uint8_t, 8> length{};
  for (size_t i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(bits >> (8 * i));
  update(length.data(), length.size());
  POCKET_CHECK(buffered_ == 0, "MD5 padding did not end on a block boundary");
  finished_ = true;
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < 4; ++i) {
    for (size_t byte = 0; byte < 4; ++byte) out[4 * i + byte] = static_cast<uint8_t>(state_[i] >> (8 * byte));
  }
  return out;
}

std::string Md5::hex_digest() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (uint8_t byte : digest()) {
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

std::string md5_hex(const void* bytes, size_t size) {
  Md5 md5;
  md5.update(bytes, size);
  return md5.hex_digest();
}

bool is_md5_hex(std::string_view hex) {
  if (hex.size() != 32) return false;
  for (char ch : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return false;
  }
  return true;
}

}  // namespace pocket
