// make_batch (normalisation, crop + flip augmentation), batch_labels and stratified_sample.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <set>

#include "data_test_util.hpp"
#include "pocket/data.hpp"

namespace pocket {
namespace {

const Dataset& real_test_set() {
  static const Dataset data = [] {
    auto r = load_cifar10(test::data_dir(), Split::Test);
    POCKET_CHECK(r.is_ok(), r.message());
    return std::move(r).value();
  }();
  return data;
}

std::vector<Normalization> normalizations() {
  return {Normalization::lab(), Normalization::unit(), Normalization::raw(),
          Normalization::parse("0.4914,0.4822,0.4465/0.247,0.243,0.261").value()};
}

float at(const Tensor& t, int64_t n, int c, int y, int x) {
  return t.data[static_cast<size_t>(((n * 3 + c) * 32 + y) * 32 + x)];
}

TEST(MakeBatch, EqualsNormalizationApplyPerPixel) {
  const Dataset& data = real_test_set();
  const std::vector<int64_t> indices{0, 9999, 5, 5, 1234};  // any order, repeats allowed
  for (const Normalization& norm : normalizations()) {
    Tensor out;
    make_batch(data, indices, norm, out);
    ASSERT_EQ(out.shape, (Shape{5, 3, 32, 32})) << norm.spec();
    for (size_t i = 0; i < indices.size(); ++i) {
      const uint8_t* img = data.image(indices[i]);
      for (int c = 0; c < 3; ++c) {
        for (int k = 0; k < 1024; ++k) {
          ASSERT_EQ(out.data[i * 3072 + static_cast<size_t>(c * 1024 + k)], norm.apply(c, img[c * 1024 + k]))
              << norm.spec() << " image " << indices[i] << " channel " << c << " pixel " << k;
        }
      }
    }
  }
  // The lab normalisation maps 0..255 onto [-1, 1].
  Tensor out;
  make_batch(data, indices, Normalization::lab(), out);
  for (float v : out.data) ASSERT_TRUE(v >= -1.0f && v <= 1.0f) << v;
}

TEST(MakeBatch, ReusesAndResizesTheOutput) {
  const Dataset& data = real_test_set();
  Tensor out({7, 1}, 3.0f);
  const std::vector<int64_t> one{42};
  make_batch(data, one, Normalization::unit(), out);
  EXPECT_EQ(out.shape, (Shape{1, 3, 32, 32}));
  EXPECT_EQ(out.numel(), 3072);
  EXPECT_EQ(out.data[0], Normalization::unit().apply(0, data.image(42)[0]));
  make_batch(data, std::span<const int64_t>(), Normalization::unit(), out);
  EXPECT_EQ(out.shape, (Shape{0, 3, 32, 32}));
}

TEST(MakeBatch, DisabledAugmentationIgnoresTheRng) {
  const Dataset& data = real_test_set();
  const std::vector<int64_t> indices{1, 2, 3};
  Tensor plain;
  make_batch(data, indices, Normalization::lab(), plain);
  Rng rng(7);
  Tensor with_rng;
  make_batch(data, indices, Normalization::lab(), with_rng, Augment{}, &rng);
  EXPECT_EQ(plain.data, with_rng.data);
  Rng fresh(7);
  EXPECT_EQ(rng.next_u64(), fresh.next_u64());  // no draws were made
}

TEST(MakeBatch, AugmentationIsDeterministicForASeed) {
  const Dataset& data = real_test_set();
  std::vector<int64_t> indices(64);
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<int64_t>(i * 101);
  Augment aug;
  aug.enabled = true;
  Tensor a, b, c;
  Rng rng_a(1234), rng_b(1234), rng_c(4321);
  make_batch(data, indices, Normalization::lab(), a, aug, &rng_a);
  make_batch(data, indices, Normalization::lab(), b, aug, &rng_b);
  make_batch(data, indices, Normalization::lab(), c, aug, &rng_c);
  EXPECT_EQ(a.data, b.data);
  EXPECT_NE(a.data, c.data);
  Tensor plain;
  make_batch(data, indices, Normalization::lab(), plain);
  EXPECT_NE(a.data, plain.data);
  // The next batch from the same generator differs from the first (the state advanced).
  Tensor next;
  make_batch(data, indices, Normalization::lab(), next, aug, &rng_a);
  EXPECT_NE(a.data, next.data);
}

TEST(MakeBatch, FlipIsAMirror) {
  const Dataset& data = real_test_set();
  std::vector<int64_t> indices(200);
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<int64_t>(i);
  Augment aug;
  aug.enabled = true;
  aug.crop_padding = 0;  // flips only
  Rng rng(99);
  Tensor plain, flipped;
  make_batch(data, indices, Normalization::lab(), plain);
  make_batch(data, indices, Normalization::lab(), flipped, aug, &rng);
  int mirrored = 0;
  for (int64_t n = 0; n < 200; ++n) {
    bool same = true, mirror = true;
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 32; ++y) {
        for (int x = 0; x < 32; ++x) {
          same = same && at(flipped, n, c, y, x) == at(plain, n, c, y, x);
          mirror = mirror && at(flipped, n, c, y, x) == at(plain, n, c, y, 31 - x);
        }
      }
    }
    ASSERT_TRUE(same || mirror) << "image " << n << " is neither itself nor its mirror";
    if (mirror && !same) ++mirrored;
  }
  EXPECT_GT(mirrored, 70);  // p = 1/2 over 200 images
  EXPECT_LT(mirrored, 130);
  // hflip = false and no padding: augmentation changes nothing.
  aug.hflip = false;
  Tensor none;
  make_batch(data, indices, Normalization::lab(), none, aug, &rng);
  EXPECT_EQ(none.data, plain.data);
}

// An image whose pixels encode their own coordinates: R = 1 + x, G = 1 + y, B = 200. From an
// augmented copy we can read back the crop offset and flip of every output pixel.
Dataset coordinate_dataset() {
  Dataset d;
  d.labels = {0};
  d.pixels.resize(3072);
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) {
      d.pixels[static_cast<size_t>(y * 32 + x)] = static_cast<uint8_t>(1 + x);
      d.pixels[static_cast<size_t>(1024 + y * 32 + x)] = static_cast<uint8_t>(1 + y);
      d.pixels[static_cast<size_t>(2048 + y * 32 + x)] = 200;
    }
  }
  d.class_names = {"grid"};
  return d;
}

struct Decoded {
  int dy = 0, dx = 0;
  bool flip = false;
};

// Checks that image n of `out` is a crop + optional flip of the coordinate image with black
// (normalised pixel 0) everywhere outside it, and returns the offsets and flip.
Decoded decode(const Tensor& out, int64_t n, const Normalization& norm, int padding) {
  // Pixel value of output (c, y, x), or -1 for black padding.
  auto pixel = [&](int c, int y, int x) {
    const float v = at(out, n, c, y, x);
    for (int p = 0; p < 256; ++p) {
      if (norm.apply(c, static_cast<uint8_t>(p)) == v) return p;
    }
    ADD_FAILURE() << "value " << v << " is not a normalised pixel";
    return -2;
  };
  // Find a pixel inside the image: the centre always is for padding <= 16.
  const int cy = 16, cx = 16;
  Decoded d;
  d.dy = pixel(1, cy, cx) - 1 - cy;
  const int in_x = pixel(0, cy, cx) - 1;
  const int in_x_right = pixel(0, cy, cx + 1) - 1;
  d.flip = in_x_right == in_x - 1;
  EXPECT_TRUE(d.flip || in_x_right == in_x + 1);
  d.dx = in_x - (d.flip ? 31 - cx : cx);
  EXPECT_GE(d.dy, -padding);
  EXPECT_LE(d.dy, padding);
  EXPECT_GE(d.dx, -padding);
  EXPECT_LE(d.dx, padding);
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) {
      const int src_y = y + d.dy;
      const int src_x = (d.flip ? 31 - x : x) + d.dx;
      const bool inside = src_y >= 0 && src_y < 32 && src_x >= 0 && src_x < 32;
      for (int c = 0; c < 3; ++c) {
        const float v = at(out, n, c, y, x);
        if (!inside) {
          // Documented padding: black, i.e. the normalised value of pixel 0.
          EXPECT_EQ(v, norm.apply(c, 0)) << "padding at c=" << c << " y=" << y << " x=" << x;
        } else {
          const int expected = c == 0 ? 1 + src_x : c == 1 ? 1 + src_y : 200;
          EXPECT_EQ(v, norm.apply(c, static_cast<uint8_t>(expected))) << "c=" << c << " y=" << y << " x=" << x;
        }
      }
    }
  }
  return d;
}

TEST(MakeBatch, CropOffsetsCoverTheRangeAndPaddingIsBlack) {
  const Dataset data = coordinate_dataset();
  const std::vector<int64_t> indices(600, 0);
  for (const Normalization& norm : {Normalization::lab(), Normalization::unit()}) {
    for (int padding : {1, 4}) {
      Augment aug;
      aug.enabled = true;
      aug.crop_padding = padding;
      Rng rng(static_cast<uint64_t>(padding));
      Tensor out;
      make_batch(data, indices, norm, out, aug, &rng);
      std::set<int> dys, dxs;
      int flips = 0;
      for (int64_t n = 0; n < 600; ++n) {
        const Decoded d = decode(out, n, norm, padding);
        dys.insert(d.dy);
        dxs.insert(d.dx);
        flips += d.flip ? 1 : 0;
        if (::testing::Test::HasFailure()) return;
      }
      EXPECT_EQ(static_cast<int>(dys.size()), 2 * padding + 1) << "every row offset occurs";
      EXPECT_EQ(static_cast<int>(dxs.size()), 2 * padding + 1) << "every column offset occurs";
      EXPECT_GT(flips, 240);
      EXPECT_LT(flips, 360);
    }
  }
  // With the lab normalisation black is -1, not 0: padding is in pixel space.
  EXPECT_EQ(Normalization::lab().apply(0, 0), -1.0f);
}

TEST(MakeBatch, PaddingWithoutFlip) {
  const Dataset data = coordinate_dataset();
  const std::vector<int64_t> indices(100, 0);
  Augment aug;
  aug.enabled = true;
  aug.hflip = false;
  Rng rng(5);
  Tensor out;
  make_batch(data, indices, Normalization::lab(), out, aug, &rng);
  int shifted = 0;
  for (int64_t n = 0; n < 100; ++n) {
    const Decoded d = decode(out, n, Normalization::lab(), 4);
    EXPECT_FALSE(d.flip);
    shifted += (d.dx != 0 || d.dy != 0) ? 1 : 0;
  }
  EXPECT_GT(shifted, 80);  // 1 - 1/81 of crops move the image
}

TEST(MakeBatchDeathTest, IndexOutOfRange) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const Dataset data = coordinate_dataset();
  const std::vector<int64_t> bad{1};
  Tensor out;
  EXPECT_DEATH(make_batch(data, bad, Normalization::lab(), out), "index out of range");
  EXPECT_DEATH(batch_labels(data, bad), "index out of range");
  Augment aug;
  aug.enabled = true;
  const std::vector<int64_t> good{0};
  EXPECT_DEATH(make_batch(data, good, Normalization::lab(), out, aug, nullptr), "needs an Rng");
}

TEST(MakeBatch, Timing32) {
  const Dataset& data = real_test_set();
  std::vector<int64_t> indices(32);
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<int64_t>(i * 311 % 10000);
  Augment aug;
  aug.enabled = true;
  Rng rng(1);
  Tensor out;
  const int reps = 500;
  for (bool augmented : {false, true}) {
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) {
      make_batch(data, indices, Normalization::lab(), out, augmented ? aug : Augment{}, &rng);
    }
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / reps;
    std::printf("make_batch(32, %s): %.1f us\n", augmented ? "augmented" : "plain", us);
    RecordProperty(augmented ? "make_batch_32_augmented_us" : "make_batch_32_us", std::to_string(us));
    EXPECT_LT(us, 20000.0);  // a guard only; the real figure is tens of microseconds
  }
}

TEST(BatchLabels, FollowTheIndices) {
  const Dataset& data = real_test_set();
  const std::vector<int64_t> indices{0, 1, 0, 9999};
  const auto labels = batch_labels(data, indices);
  ASSERT_EQ(labels.size(), 4u);
  EXPECT_EQ(labels[0], 3);
  EXPECT_EQ(labels[1], data.labels[1]);
  EXPECT_EQ(labels[2], 3);
  EXPECT_EQ(labels[3], data.labels[9999]);
}

std::vector<int64_t> per_class(const Dataset& data, const std::vector<int64_t>& sample) {
  std::vector<int64_t> counts(10, 0);
  for (int64_t i : sample) counts.at(data.labels[static_cast<size_t>(i)])++;
  return counts;
}

TEST(StratifiedSample, BalancedSortedAndSeeded) {
  const Dataset& data = real_test_set();
  auto a = stratified_sample(data, 100, 42);
  ASSERT_TRUE(a.is_ok()) << a.message();
  EXPECT_EQ(per_class(data, *a), std::vector<int64_t>(10, 10));
  EXPECT_EQ(std::set<int64_t>(a->begin(), a->end()).size(), 100u);
  for (size_t i = 1; i < a->size(); ++i) {
    const auto prev = (*a)[i - 1], cur = (*a)[i];
    const auto lp = data.labels[static_cast<size_t>(prev)], lc = data.labels[static_cast<size_t>(cur)];
    ASSERT_TRUE(lp < lc || (lp == lc && prev < cur)) << "not sorted by class then index at " << i;
  }
  auto same = stratified_sample(data, 100, 42);
  auto other = stratified_sample(data, 100, 43);
  ASSERT_TRUE(same.is_ok() && other.is_ok());
  EXPECT_EQ(*a, *same);
  EXPECT_NE(*a, *other);
  // Not simply the first images of each class.
  std::vector<int64_t> first_per_class;
  for (int c = 0; c < 10; ++c) {
    int taken = 0;
    for (int64_t i = 0; i < data.size() && taken < 10; ++i) {
      if (data.labels[static_cast<size_t>(i)] == c) {
        first_per_class.push_back(i);
        ++taken;
      }
    }
  }
  EXPECT_NE(*a, first_per_class);
}

TEST(StratifiedSample, RemainderGoesToTheLowestLabels) {
  const Dataset& data = real_test_set();
  auto r = stratified_sample(data, 103, 1);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(per_class(data, *r), (std::vector<int64_t>{11, 11, 11, 10, 10, 10, 10, 10, 10, 10}));
  auto all = stratified_sample(data, data.size(), 1);
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(per_class(data, *all), std::vector<int64_t>(10, 1000));
}

TEST(StratifiedSample, SmallClassesGiveTheirShareToOthers) {
  Dataset d;
  d.labels = {0, 0};                                    // class 0: 2 images
  for (int i = 0; i < 100; ++i) d.labels.push_back(1);  // class 1: 100 images
  for (int i = 0; i < 5; ++i) d.labels.push_back(7);    // class 7: 5 images
  d.pixels.resize(d.labels.size() * 3072);
  auto r = stratified_sample(d, 20, 3);
  ASSERT_TRUE(r.is_ok()) << r.message();
  std::vector<int64_t> counts(10, 0);
  for (int64_t i : *r) counts[d.labels[static_cast<size_t>(i)]]++;
  EXPECT_EQ(counts[0], 2);
  EXPECT_EQ(counts[1], 13);
  EXPECT_EQ(counts[7], 5);
  // Images with the unknown label (255, image folders) form one group.
  Dataset unknown;
  unknown.labels.assign(50, 255);
  unknown.pixels.resize(50 * 3072);
  auto u = stratified_sample(unknown, 7, 3);
  ASSERT_TRUE(u.is_ok()) << u.message();
  EXPECT_EQ(u->size(), 7u);
  EXPECT_TRUE(std::is_sorted(u->begin(), u->end()));
}

TEST(StratifiedSample, Errors) {
  const Dataset& data = real_test_set();
  auto zero = stratified_sample(data, 0, 1);
  ASSERT_FALSE(zero.is_ok());
  EXPECT_NE(zero.message().find("sample size must be at least 1 (got 0)"), std::string::npos) << zero.message();
  auto negative = stratified_sample(data, -5, 1);
  ASSERT_FALSE(negative.is_ok());
  EXPECT_NE(negative.message().find("(got -5)"), std::string::npos) << negative.message();
  auto too_many = stratified_sample(data, 10001, 1);
  ASSERT_FALSE(too_many.is_ok());
  EXPECT_NE(too_many.message().find("cannot sample 10001 images from a dataset of 10000"), std::string::npos)
      << too_many.message();
  auto empty = stratified_sample(Dataset{}, 1, 1);
  ASSERT_FALSE(empty.is_ok());
  EXPECT_NE(empty.message().find("from a dataset of 0"), std::string::npos) << empty.message();
}

}  // namespace
}  // namespace pocket
