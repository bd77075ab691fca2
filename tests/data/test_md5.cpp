// MD5 against the RFC 1321 test suite, incremental use, and the published CIFAR-10 checksums.
#include <gtest/gtest.h>

#include <string>

#include "data_test_util.hpp"
#include "pocket/md5.hpp"

namespace pocket {
namespace {

std::string md5_of(const std::string& s) { return md5_hex(s.data(), s.size()); }

TEST(Md5, Rfc1321TestSuite) {
  EXPECT_EQ(md5_of(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_of("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(md5_of("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_of("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(md5_of("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(md5_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(md5_of("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5, PaddingBoundaries) {
  // Lengths around the 56- and 64-byte boundaries exercise both padding cases; a million 'a'
  // is the classic long vector.
  EXPECT_EQ(md5_of(std::string(55, 'a')), "ef1772b6dff9a122358552954ad0df65");
  EXPECT_EQ(md5_of(std::string(56, 'a')), "3b0c8ac703f828b04c6c197006d17218");
  EXPECT_EQ(md5_of(std::string(64, 'a')), "014842d480b571495a4a0363793f7367");
  EXPECT_EQ(md5_of(std::string(1000000, 'a')), "7707d6ae4e027c70eea2a935c2296f21");
}

TEST(Md5, IncrementalEqualsOneShot) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>((i * 31 + 7) % 256);
  const std::string expected = md5_of(text);
  for (size_t piece : {size_t{1}, size_t{3}, size_t{63}, size_t{64}, size_t{65}, size_t{500}}) {
    Md5 md5;
    for (size_t pos = 0; pos < text.size(); pos += piece) {
      md5.update(text.data() + pos, std::min(piece, text.size() - pos));
    }
    EXPECT_EQ(md5.hex_digest(), expected) << "piece size " << piece;
  }
  Md5 raw;
  raw.update("abc", 3);
  const auto digest = raw.digest();
  EXPECT_EQ(digest[0], 0x90);
  EXPECT_EQ(digest[15], 0x72);
}

TEST(Md5, HexValidation) {
  EXPECT_TRUE(is_md5_hex("c32a1d4ab5d03f1284b67883e8d87530"));
  EXPECT_TRUE(is_md5_hex("C32A1D4AB5D03F1284B67883E8D87530"));
  EXPECT_FALSE(is_md5_hex("c32a1d4ab5d03f1284b67883e8d8753"));    // 31 digits
  EXPECT_FALSE(is_md5_hex("c32a1d4ab5d03f1284b67883e8d875300"));  // 33 digits
  EXPECT_FALSE(is_md5_hex("g32a1d4ab5d03f1284b67883e8d87530"));
  EXPECT_FALSE(is_md5_hex(""));
}

TEST(Md5, PublishedChecksumsOfTheDataset) {
  // From the dataset README.
  const auto meta = test::read_bytes(test::data_dir() + "/batches.meta.txt");
  EXPECT_EQ(md5_hex(meta.data(), meta.size()), "40a0b180e208fe03a63ecc891b2555ad");
  const auto batch = test::read_bytes(test::data_dir() + "/data_batch_1.bin");
  ASSERT_EQ(batch.size(), size_t{30730000});
  EXPECT_EQ(md5_hex(batch.data(), batch.size()), "5dd7e06a14cb22eb9f671a540d1b7c25");
}

}  // namespace
}  // namespace pocket
