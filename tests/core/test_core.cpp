#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "pocket/fileio.hpp"
#include "pocket/normalization.hpp"
#include "pocket/rng.hpp"
#include "pocket/tensor.hpp"
#include "support/test_env.hpp"

namespace pocket {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_hex(two_blocks.data(), two_blocks.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(sha256_hex(million.data(), million.size()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Rng, SameSeedSameStreamAndUnbiasedRange) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs |= x != c.next_u64();
  }
  EXPECT_TRUE(differs);
  std::array<int, 7> counts{};
  for (int i = 0; i < 70000; ++i) counts[a.uniform_int(7)]++;
  for (int n : counts) EXPECT_NEAR(n, 10000, 500);
  double sum = 0, sq = 0;
  for (int i = 0; i < 100000; ++i) {
    const double v = a.normal();
    sum += v;
    sq += v * v;
  }
  EXPECT_NEAR(sum / 100000, 0.0, 0.02);
  EXPECT_NEAR(sq / 100000, 1.0, 0.02);
}

TEST(Normalization, ParseAndApply) {
  auto lab = Normalization::parse("lab");
  ASSERT_TRUE(lab);
  EXPECT_FLOAT_EQ(lab->apply(0, 0), -1.0f);
  EXPECT_FLOAT_EQ(lab->apply(1, 255), 1.0f);
  auto unit = Normalization::parse("unit");
  ASSERT_TRUE(unit);
  EXPECT_FLOAT_EQ(unit->apply(2, 255), 1.0f);
  auto raw = Normalization::parse("raw");
  ASSERT_TRUE(raw);
  EXPECT_NEAR(raw->apply(0, 200), 200.0f, 1e-4f);
  auto ms = Normalization::parse("0.5,0.4,0.3/0.2,0.25,0.5");
  ASSERT_TRUE(ms);
  EXPECT_NEAR(ms->apply(1, 51), (0.2f - 0.4f) / 0.25f, 1e-6f);
  auto back = Normalization::parse(ms->spec());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->mean, ms->mean);
  EXPECT_EQ(back->stddev, ms->stddev);
  EXPECT_FALSE(Normalization::parse("bogus"));
  EXPECT_FALSE(Normalization::parse("1,2/3,4,5"));
  EXPECT_FALSE(Normalization::parse("0,0,0/1,0,1"));
  EXPECT_NE(Normalization::parse("nan,0,0/1,1,1").message().find("invalid"), std::string::npos);
}

TEST(FileIo, AtomicWriteAndFloatRoundTrip) {
  const std::string path = test::temp_dir() + "/x.f32";
  const std::vector<float> v{1.0f, -2.5f, 3.25e-7f, 1e30f};
  ASSERT_TRUE(write_f32_file(path, v));
  auto r = read_f32_file(path);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, v);
  for (const auto& e : std::filesystem::directory_iterator(test::temp_dir())) {
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  }
  ASSERT_TRUE(write_file_atomic(path, std::string("abc")));
  auto bad = read_f32_file(path);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("not a multiple of 4"), std::string::npos);
  auto missing = read_file_bytes(test::temp_dir() + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("not found"), std::string::npos);
  EXPECT_FALSE(check_not_overwriting(path, {path}));
  EXPECT_TRUE(check_not_overwriting(path + "2", {path}));
  EXPECT_FALSE(write_file_atomic(test::temp_dir() + "/no/such/dir/x", std::string("a")));
}

TEST(Tensor, ShapeHelpers) {
  Tensor t({2, 3, 4});
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(shape_str(t.shape), "[2, 3, 4]");
  t.reshape_to({5});
  EXPECT_EQ(t.numel(), 5);
}

}  // namespace pocket
