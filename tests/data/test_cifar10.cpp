// CIFAR-10 reader: the real dataset, and every way a dataset directory can be wrong.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "data_test_util.hpp"
#include "pocket/data.hpp"
#include "support/test_env.hpp"

namespace pocket {
namespace {

namespace fs = std::filesystem;
using test::data_dir;
using test::fresh_dir;

const std::vector<std::string> kNames{"airplane", "automobile", "bird", "cat", "deer",
                                      "dog",      "frog",       "horse", "ship", "truck"};

std::vector<int64_t> class_counts(const Dataset& d) {
  std::vector<int64_t> counts(10, 0);
  for (uint8_t l : d.labels) counts.at(l)++;
  return counts;
}

// Restores an environment variable at the end of a test.
class EnvGuard {
 public:
  explicit EnvGuard(const char* name) : name_(name) {
    const char* v = std::getenv(name);
    had_ = v != nullptr;
    if (had_) old_ = v;
  }
  ~EnvGuard() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

TEST(Cifar10Real, TrainSet) {
  const auto start = std::chrono::steady_clock::now();
  auto train = load_cifar10(data_dir(), Split::Train);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(train.is_ok()) << train.message();
  std::printf("load_cifar10(Train): %.3f s\n", seconds);
  RecordProperty("load_train_seconds", std::to_string(seconds));
  EXPECT_LT(seconds, 10.0);  // a guard against pathological slowness only (sanitizer builds)
  EXPECT_EQ(train->size(), 50000);
  EXPECT_EQ(train->pixels.size(), size_t{50000} * 3072);
  EXPECT_EQ(class_counts(*train), std::vector<int64_t>(10, 5000));
  EXPECT_EQ(train->class_names, kNames);
  EXPECT_EQ(train->source, data_dir());
  // README: data_batch_1.bin starts with 06 3b 2b 32 44 62 77 8b 91 95 95 83 7d 8e 90 89.
  EXPECT_EQ(train->labels[0], 6);  // frog
  const std::vector<uint8_t> head{0x3b, 0x2b, 0x32, 0x44, 0x62, 0x77, 0x8b, 0x91,
                                  0x95, 0x95, 0x83, 0x7d, 0x8e, 0x90, 0x89};
  EXPECT_EQ(std::vector<uint8_t>(train->image(0), train->image(0) + 15), head);
  // Image 10000 is the first record of data_batch_2.bin: the files are concatenated in order.
  const auto second = test::read_bytes(data_dir() + "/data_batch_2.bin", kCifarRecordBytes);
  ASSERT_EQ(second.size(), size_t{kCifarRecordBytes});
  EXPECT_EQ(train->labels[10000], second[0]);
  EXPECT_EQ(std::vector<uint8_t>(train->image(10000), train->image(10000) + kCifarImageBytes),
            std::vector<uint8_t>(second.begin() + 1, second.end()));
}

TEST(Cifar10Real, TestSet) {
  auto test_set = load_cifar10(data_dir(), Split::Test);
  ASSERT_TRUE(test_set.is_ok()) << test_set.message();
  EXPECT_EQ(test_set->size(), 10000);
  EXPECT_EQ(class_counts(*test_set), std::vector<int64_t>(10, 1000));
  EXPECT_EQ(test_set->class_names, kNames);
  EXPECT_EQ(test_set->labels[0], 3);
  EXPECT_EQ(test_set->class_names[test_set->labels[0]], "cat");
  // Record 0 as raw bytes, read here without the reader.
  const auto raw = test::read_bytes(data_dir() + "/test_batch.bin", 2 * kCifarRecordBytes);
  ASSERT_EQ(raw.size(), size_t{2 * kCifarRecordBytes});
  EXPECT_EQ(test_set->labels[0], raw[0]);
  EXPECT_EQ(std::vector<uint8_t>(test_set->image(0), test_set->image(0) + kCifarImageBytes),
            std::vector<uint8_t>(raw.begin() + 1, raw.begin() + kCifarRecordBytes));
  EXPECT_EQ(test_set->labels[1], raw[kCifarRecordBytes]);
  EXPECT_EQ(std::vector<uint8_t>(test_set->image(1), test_set->image(1) + kCifarImageBytes),
            std::vector<uint8_t>(raw.begin() + kCifarRecordBytes + 1, raw.end()));
}

TEST(Cifar10Real, SingleFile) {
  auto batch = load_cifar10_file(data_dir() + "/test_batch.bin");
  ASSERT_TRUE(batch.is_ok()) << batch.message();
  EXPECT_EQ(batch->size(), 10000);
  EXPECT_EQ(batch->labels[0], 3);
  EXPECT_EQ(batch->class_names, kNames);
}

TEST(ResolveDataDir, FlagThenEnvThenDefault) {
  EnvGuard guard("POCKET_DATA");
  setenv("POCKET_DATA", "/from/env", 1);
  EXPECT_EQ(resolve_data_dir("/from/flag"), "/from/flag");
  EXPECT_EQ(resolve_data_dir(""), "/from/env");
  setenv("POCKET_DATA", "", 1);  // empty counts as unset
  EXPECT_EQ(resolve_data_dir(""), "./data/cifar-10-batches-bin");
  unsetenv("POCKET_DATA");
  EXPECT_EQ(resolve_data_dir(""), "./data/cifar-10-batches-bin");
}

TEST(Cifar10Errors, MissingDirectorySaysWhereItLookedAndHowToGetIt) {
  EnvGuard guard("POCKET_DATA");
  setenv("POCKET_DATA", "/some/env/dir", 1);
  const std::string dir = fresh_dir("missing-parent") + "/nope";
  auto r = load_cifar10(dir, Split::Train);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("no CIFAR-10 data in " + dir), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("--data"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("$POCKET_DATA (set to /some/env/dir)"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("./data/cifar-10-batches-bin"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("`pocket download`"), std::string::npos) << r.message();
  unsetenv("POCKET_DATA");
  auto relative = load_cifar10("no-such-relative-dir", Split::Test);
  ASSERT_FALSE(relative.is_ok());
  EXPECT_NE(relative.message().find("$POCKET_DATA (not set)"), std::string::npos) << relative.message();
  // A relative directory is also shown as the absolute path it resolved to.
  EXPECT_NE(relative.message().find("(= " + fs::current_path().string() + "/no-such-relative-dir)"),
            std::string::npos)
      << relative.message();
}

TEST(Cifar10Errors, PathIsAFile) {
  const std::string dir = fresh_dir("path-is-file");
  test::write_text(dir + "/file", "x");
  auto r = load_cifar10(dir + "/file", Split::Test);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("not a directory"), std::string::npos) << r.message();
}

TEST(Cifar10Errors, ParentOfTheDatasetDirectoryGetsAHint) {
  const std::string dir = fresh_dir("parent-dir");
  test::make_fake_cifar(dir + "/cifar-10-batches-bin", 2);
  auto r = load_cifar10(dir, Split::Train);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("pass --data " + dir + "/cifar-10-batches-bin"), std::string::npos) << r.message();
}

TEST(Cifar10Errors, MissingFile) {
  const std::string dir = fresh_dir("missing-file");
  test::make_sparse_cifar(dir);
  fs::remove(dir + "/data_batch_3.bin");
  auto r = load_cifar10(dir, Split::Train);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find(dir + "/data_batch_3.bin: file not found"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("pocket download"), std::string::npos) << r.message();
  // The test split does not need the training files.
  EXPECT_TRUE(load_cifar10(dir, Split::Test).is_ok());
  auto single = load_cifar10_file(dir + "/data_batch_3.bin");
  ASSERT_FALSE(single.is_ok());
  EXPECT_NE(single.message().find("file not found"), std::string::npos) << single.message();
}

TEST(Cifar10Errors, FullSizeZerosLoad) {
  const std::string dir = fresh_dir("sparse-ok");
  test::make_sparse_cifar(dir);
  auto r = load_cifar10(dir, Split::Train);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->size(), 50000);
  EXPECT_EQ(class_counts(*r)[0], 50000);
}

TEST(Cifar10Errors, TruncatedFile) {
  const std::string dir = fresh_dir("truncated");
  test::make_sparse_cifar(dir);
  fs::resize_file(dir + "/data_batch_2.bin", 10000 * kCifarRecordBytes - 100);
  auto r = load_cifar10(dir, Split::Train);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find(dir + "/data_batch_2.bin: truncated: 30729900 bytes, expected 30730000"),
            std::string::npos)
      << r.message();
  EXPECT_NE(r.message().find("10000 records of 3073 bytes"), std::string::npos) << r.message();
  // Whole records but fewer than 10000 is also truncated for the official layout.
  fs::resize_file(dir + "/data_batch_2.bin", 9999 * kCifarRecordBytes);
  auto whole = load_cifar10(dir, Split::Train);
  ASSERT_FALSE(whole.is_ok());
  EXPECT_NE(whole.message().find("data_batch_2.bin: truncated"), std::string::npos) << whole.message();
}

TEST(Cifar10Errors, FileTooLarge) {
  const std::string dir = fresh_dir("too-large");
  test::make_sparse_cifar(dir);
  fs::resize_file(dir + "/test_batch.bin", 10001 * kCifarRecordBytes);
  auto r = load_cifar10(dir, Split::Test);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("test_batch.bin: too large: 30733073 bytes, expected 30730000"), std::string::npos)
      << r.message();
}

TEST(Cifar10Errors, SizeNotAMultipleOfTheRecord) {
  const std::string dir = fresh_dir("not-multiple");
  auto bytes = test::make_records(3, [](int64_t) { return uint8_t{1}; }, [](int64_t, int) { return uint8_t{2}; });
  bytes.push_back(7);
  test::write_bytes(dir + "/odd.bin", bytes);
  auto r = load_cifar10_file(dir + "/odd.bin");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find(dir + "/odd.bin: size 9220 bytes is not a multiple of the record size 3073"),
            std::string::npos)
      << r.message();
  test::write_bytes(dir + "/empty.bin", {});
  auto empty = load_cifar10_file(dir + "/empty.bin");
  ASSERT_FALSE(empty.is_ok());
  EXPECT_NE(empty.message().find("empty.bin: empty file"), std::string::npos) << empty.message();
  auto directory = load_cifar10_file(dir);
  ASSERT_FALSE(directory.is_ok());
  EXPECT_NE(directory.message().find("not a regular file"), std::string::npos) << directory.message();
}

TEST(Cifar10Errors, LabelOutOfRangeNamesTheRecord) {
  const std::string dir = fresh_dir("bad-label");
  auto bytes = test::make_records(
      2000, [](int64_t i) { return static_cast<uint8_t>(i == 1500 ? 10 : i % 10); },
      [](int64_t, int) { return uint8_t{0}; });
  test::write_bytes(dir + "/bad.bin", bytes);
  auto r = load_cifar10_file(dir + "/bad.bin");
  ASSERT_FALSE(r.is_ok());
  // Record 1500 is in the second chunk the reader processes: the index is global.
  EXPECT_NE(r.message().find(dir + "/bad.bin: record 1500 has label 10, expected 0-9"), std::string::npos)
      << r.message();
  // And through load_cifar10, in a full-size file.
  const std::string full = fresh_dir("bad-label-full");
  test::make_sparse_cifar(full);
  {
    std::fstream f(full + "/test_batch.bin", std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(9999 * kCifarRecordBytes);
    f.put(static_cast<char>(255));
  }
  auto r2 = load_cifar10(full, Split::Test);
  ASSERT_FALSE(r2.is_ok());
  EXPECT_NE(r2.message().find("test_batch.bin: record 9999 has label 255"), std::string::npos) << r2.message();
}

TEST(Cifar10Errors, MissingMeta) {
  const std::string dir = fresh_dir("missing-meta");
  test::make_sparse_cifar(dir);
  fs::remove(dir + "/batches.meta.txt");
  auto r = load_cifar10(dir, Split::Test);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find(dir + "/batches.meta.txt: file not found"), std::string::npos) << r.message();
}

TEST(Cifar10Errors, MalformedMeta) {
  const std::string dir = fresh_dir("bad-meta");
  test::make_sparse_cifar(dir);
  test::write_text(dir + "/batches.meta.txt", "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\n");
  auto nine = load_cifar10(dir, Split::Test);
  ASSERT_FALSE(nine.is_ok());
  EXPECT_NE(nine.message().find("batches.meta.txt: malformed: found 9 class names, expected 10"), std::string::npos)
      << nine.message();
  test::write_text(dir + "/batches.meta.txt", test::kMetaText + "eleventh\n");
  auto eleven = load_cifar10(dir, Split::Test);
  ASSERT_FALSE(eleven.is_ok());
  EXPECT_NE(eleven.message().find("found 11 class names"), std::string::npos) << eleven.message();
  // A malformed sibling meta file also fails a single-file load.
  auto single = load_cifar10_file(dir + "/test_batch.bin");
  ASSERT_FALSE(single.is_ok());
  EXPECT_NE(single.message().find("found 11 class names"), std::string::npos) << single.message();
}

TEST(Cifar10Meta, BlankLinesAndCarriageReturnsAreSkipped) {
  const std::string dir = fresh_dir("meta-blank");
  test::make_sparse_cifar(dir);
  test::write_text(dir + "/batches.meta.txt",
                   "airplane\r\nautomobile\r\n\r\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck  \n\n\n");
  auto r = load_cifar10(dir, Split::Test);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->class_names, kNames);
}

TEST(Cifar10File, AnyNumberOfRecordsAndDefaultNames) {
  const std::string dir = fresh_dir("single-file");
  auto bytes = test::make_records(
      3, [](int64_t i) { return static_cast<uint8_t>(9 - i); },
      [](int64_t i, int k) { return static_cast<uint8_t>(i * 100 + k); });
  test::write_bytes(dir + "/three.bin", bytes);
  auto r = load_cifar10_file(dir + "/three.bin");
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->size(), 3);
  EXPECT_EQ(r->labels, (std::vector<uint8_t>{9, 8, 7}));
  EXPECT_EQ(r->class_names, kNames);  // no batches.meta.txt next to it: the official names
  EXPECT_EQ(r->source, dir + "/three.bin");
  for (int64_t i = 0; i < 3; ++i) {
    for (int k = 0; k < kCifarImageBytes; k += 97) {
      ASSERT_EQ(r->image(i)[k], static_cast<uint8_t>(i * 100 + k)) << "image " << i << " byte " << k;
    }
  }
  // With a sibling meta file its names are used.
  std::string custom;
  for (int c = 0; c < 10; ++c) custom += "class" + std::to_string(c) + "\n";
  test::write_text(dir + "/batches.meta.txt", custom);
  auto named = load_cifar10_file(dir + "/three.bin");
  ASSERT_TRUE(named.is_ok()) << named.message();
  EXPECT_EQ(named->class_names.at(9), "class9");
}

}  // namespace
}  // namespace pocket
