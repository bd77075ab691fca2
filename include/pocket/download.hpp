// `pocket download`: fetch the official CIFAR-10 binary tarball, check its MD5, and unpack
// cifar-10-batches-bin/ into a directory atomically (a complete, verified dataset or nothing).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "pocket/status.hpp"

namespace pocket {

inline constexpr const char* kCifar10Url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
inline constexpr const char* kCifar10Md5 = "c32a1d4ab5d03f1284b67883e8d87530";
inline constexpr const char* kCifar10DirName = "cifar-10-batches-bin";

struct DownloadProgress {
  enum class Stage : uint8_t {
    Download,  // done/total: bytes received / Content-Length (total -1 when the server sends none)
    Extract,   // done/total: bytes of the archive unpacked / archive size
    Verify,    // checking the unpacked files with the CIFAR-10 reader (done = total = 0)
  };
  Stage stage = Stage::Download;
  int64_t done = 0;
  int64_t total = -1;
};

struct DownloadOptions {
  std::string dir = "./data";      // the dataset lands in dir/cifar-10-batches-bin
  std::string url = kCifar10Url;   // http(s):// or file:// (an archive fetched some other way)
  std::string md5 = kCifar10Md5;   // 32 hex digits, either case
  bool force = false;              // replace an existing dir/cifar-10-batches-bin
  int64_t records_per_file = 10000;  // checked after unpacking; 0 accepts any whole number (tests)
  long connect_timeout_seconds = 30;
  std::function<void(const DownloadProgress&)> progress;  // called often; may be empty
};

// dir/cifar-10-batches-bin.
std::string cifar10_dir(const std::string& dir);

// Downloads options.url to a temporary file in options.dir (created if missing) while computing
// its MD5, compares it with options.md5 (on a mismatch the file is deleted), unpacks the
// cifar-10-batches-bin/ entries of the .tar.gz into a temporary directory beside the target,
// loads both splits from it with the CIFAR-10 reader, and only then renames it to
// dir/cifar-10-batches-bin. Temporary files are removed on every error. An existing target is
// an error unless options.force is set.
// Errors say what to do: no network or an HTTP error (with the status code), a checksum
// mismatch, an archive that is not gzip/tar or lacks cifar-10-batches-bin/, incomplete data.
Status download_cifar10(const DownloadOptions& options);

// Whether `dataset_dir` (a cifar-10-batches-bin directory) holds both complete splits: the check
// download_cifar10 makes after unpacking, usable to skip a download that is not needed.
Status verify_cifar10(const std::string& dataset_dir, int64_t records_per_file = 10000);

}  // namespace pocket
