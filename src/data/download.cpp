// CIFAR-10 download: libcurl for the transfer, our MD5 for the checksum, zlib for gunzip and a
// small ustar/GNU/pax tar reader that only ever writes plain files into one temporary directory.
#include "pocket/download.hpp"

#include <curl/curl.h>
#include <signal.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "cifar10_internal.hpp"
#include "pocket/data.hpp"
#include "pocket/md5.hpp"

namespace pocket {

namespace fs = std::filesystem;

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

void report(const DownloadOptions& options, DownloadProgress::Stage stage, int64_t done, int64_t total) {
  if (options.progress) options.progress(DownloadProgress{stage, done, total});
}

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Removes a path (file or directory tree) when it goes out of scope, unless released.
class Cleanup {
 public:
  explicit Cleanup(std::string path) : path_(std::move(path)) {}
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  ~Cleanup() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// HTTP(S) / file:// transfer

struct Transfer {
  std::FILE* file = nullptr;
  Md5 md5;
  int64_t received = 0;
  int64_t last_reported = 0;  // libcurl's calls before any data arrives are not reported
  int write_errno = 0;
  const DownloadOptions* options = nullptr;
};

size_t on_data(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (std::fwrite(data, 1, bytes, t->file) != bytes) {
    t->write_errno = errno != 0 ? errno : EIO;
    return 0;  // anything but `bytes` makes libcurl stop with CURLE_WRITE_ERROR
  }
  t->md5.update(data, bytes);
  t->received += static_cast<int64_t>(bytes);
  return bytes;
}

int on_progress(void* user, curl_off_t download_total, curl_off_t download_now, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  const auto now = static_cast<int64_t>(download_now);
  if (now != t->last_reported) {
    t->last_reported = now;
    report(*t->options, DownloadProgress::Stage::Download, now,
           download_total > 0 ? static_cast<int64_t>(download_total) : -1);
  }
  return 0;
}

// An archive that is not what it should be (as opposed to an I/O failure while reading it).
Error bad_archive(const std::string& url, const std::string& what) {
  return Error{url + " is not a valid CIFAR-10 archive: " + what};
}

std::string disk_hint() { return " (is the disk full? the archive needs about 170 MB and the data 180 MB)"; }

std::string network_advice() {
  return "check the network connection (and https_proxy if you need a proxy), or fetch cifar-10-binary.tar.gz "
         "some other way and pass --url file:///path/to/cifar-10-binary.tar.gz";
}

// Fetches options.url into `path`; returns the MD5 of what was received.
Result<std::string> fetch(const DownloadOptions& options, const std::string& path) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  File file(std::fopen(path.c_str(), "wb"));
  if (!file) return Error{"cannot create " + path + ": " + std::strerror(errno)};
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Error{"cannot initialise libcurl"};
  Transfer transfer;
  transfer.file = file.get();
  transfer.options = &options;
  std::array<char, CURL_ERROR_SIZE> error_text{};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, options.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);  // give up below 1 KB/s ...
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);     // ... for a minute
  curl_easy_setopt(c, CURLOPT_USERAGENT, "pocket-ai-lab/0.1 (libcurl)");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text.data());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &transfer);
  const CURLcode code = curl_easy_perform(c);
  const std::string detail = error_text[0] != '\0' ? std::string(error_text.data()) : curl_easy_strerror(code);
  const std::string what = "cannot download " + options.url + ": ";
  switch (code) {
    case CURLE_OK:
      break;
    case CURLE_HTTP_RETURNED_ERROR: {
      long status = 0;
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
      const std::string hint = status == 404 ? "check the --url (the file is not there)"
                               : status >= 500 ? "the server has a problem: try again later or use another --url"
                                               : "check the --url";
      return Error{what + "HTTP " + std::to_string(status) + ": " + hint};
    }
    case CURLE_WRITE_ERROR:
      return Error{what + "cannot write " + path + ": " +
                   std::strerror(transfer.write_errno != 0 ? transfer.write_errno : EIO) + disk_hint()};
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return Error{what + detail + ": use an http://, https:// or file:// URL"};
    case CURLE_FILE_COULDNT_READ_FILE:
      return Error{what + detail + ": check the path in the file:// URL"};
    default:
      return Error{what + detail + ": " + network_advice()};
  }
  if (std::fflush(file.get()) != 0 || std::fclose(file.release()) != 0) {
    return Error{"cannot write " + path + ": " + std::strerror(errno) + disk_hint()};
  }
  return transfer.md5.hex_digest();
}

// ---------------------------------------------------------------------------------------------
// gunzip

class GzipReader {
 public:
  GzipReader() = default;
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;
  ~GzipReader() {
    if (initialised_) inflateEnd(&zs_);
  }

  Status open(const std::string& path, const std::string& url) {
    path_ = path;
    url_ = url;
    file_.reset(std::fopen(path.c_str(), "rb"));
    if (!file_) return Error{"cannot open " + path + ": " + std::strerror(errno)};
    std::array<uint8_t, 2> magic{};
    if (std::fread(magic.data(), 1, 2, file_.get()) != 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
      return bad_archive(url_, "not a gzip file (it should be a .tar.gz)");
    }
    std::rewind(file_.get());
    std::error_code ec;
    size_ = static_cast<int64_t>(fs::file_size(path, ec));
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) return Error{"cannot initialise zlib"};  // 16: gzip only
    initialised_ = true;
    return Status::ok();
  }

  // Fills out[0..n) with decompressed bytes; fewer only at the end of the gzip stream.
  Result<size_t> read(uint8_t* out, size_t n) {
    zs_.next_out = out;
    zs_.avail_out = static_cast<uInt>(n);
    while (zs_.avail_out > 0 && !ended_) {
      if (zs_.avail_in == 0) {
        const size_t got = std::fread(in_.data(), 1, in_.size(), file_.get());
        if (got == 0) {
          if (std::ferror(file_.get())) return Error{"cannot read " + path_ + ": read error"};
          return bad_archive(url_, "the archive is truncated (the gzip stream ends early)");
        }
        consumed_ += static_cast<int64_t>(got);
        zs_.next_in = in_.data();
        zs_.avail_in = static_cast<uInt>(got);
      }
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        ended_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return bad_archive(url_, std::string("corrupt gzip data: ") +
                                     (zs_.msg ? zs_.msg : "zlib error " + std::to_string(rc)));
      }
    }
    return n - zs_.avail_out;
  }

  int64_t consumed() const { return consumed_; }
  int64_t size() const { return size_; }

 private:
  std::string path_;
  std::string url_;
  File file_;
  z_stream zs_{};
  bool initialised_ = false;
  bool ended_ = false;
  std::vector<uint8_t> in_ = std::vector<uint8_t>(1 << 16);
  int64_t consumed_ = 0;
  int64_t size_ = 0;
};

// ---------------------------------------------------------------------------------------------
// tar (POSIX ustar, GNU long names, pax path records)

constexpr size_t kBlock = 512;

std::string field(const uint8_t* header, size_t offset, size_t length) {
  const auto* begin = reinterpret_cast<const char*>(header + offset);
  return std::string(begin, strnlen(begin, length));
}

// A numeric header field: octal digits (space/NUL padded), or GNU base-256 when the top bit is set.
std::optional<int64_t> parse_number(const uint8_t* header, size_t offset, size_t length) {
  const uint8_t* p = header + offset;
  if (p[0] & 0x80) {
    if (p[0] & 0x40) return std::nullopt;  // negative
    uint64_t v = p[0] & 0x3f;
    for (size_t i = 1; i < length; ++i) {
      if (v >> 55) return std::nullopt;
      v = (v << 8) | p[i];
    }
    return static_cast<int64_t>(v);
  }
  size_t i = 0;
  while (i < length && p[i] == ' ') ++i;
  int64_t v = 0;
  bool any = false;
  for (; i < length && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (v >> 60) return std::nullopt;
    v = v * 8 + (p[i] - '0');
    any = true;
  }
  for (; i < length; ++i) {
    if (p[i] != ' ' && p[i] != '\0') return std::nullopt;
  }
  if (!any) return std::nullopt;
  return v;
}

bool checksum_ok(const uint8_t* header) {
  const auto stored = parse_number(header, 148, 8);
  if (!stored) return false;
  int64_t unsigned_sum = 0;
  int64_t signed_sum = 0;  // some old tars summed signed chars
  for (size_t i = 0; i < kBlock; ++i) {
    const uint8_t b = (i >= 148 && i < 156) ? uint8_t{' '} : header[i];
    unsigned_sum += b;
    signed_sum += static_cast<int8_t>(b);
  }
  return *stored == unsigned_sum || *stored == signed_sum;
}

// The value of "path" in a pax extended header ("<len> <key>=<value>\n" records), if present.
std::optional<std::string> pax_path(const std::string& records) {
  size_t pos = 0;
  std::optional<std::string> path;
  while (pos < records.size()) {
    const size_t space = records.find(' ', pos);
    if (space == std::string::npos) break;
    size_t len = 0;
    for (size_t i = pos; i < space; ++i) {
      if (records[i] < '0' || records[i] > '9') return path;
      len = len * 10 + static_cast<size_t>(records[i] - '0');
    }
    if (len == 0 || pos + len > records.size()) break;
    const std::string record = records.substr(space + 1, pos + len - space - 2);  // without "\n"
    const size_t eq = record.find('=');
    if (eq != std::string::npos && record.substr(0, eq) == "path") path = record.substr(eq + 1);
    pos += len;
  }
  return path;
}

// The file name inside cifar-10-batches-bin/ for an archive path, or "" for anything else (other
// directories, the directory itself, nested paths, "." or ".."): only these are ever written.
std::string dataset_member(std::string path) {
  while (path.rfind("./", 0) == 0) path.erase(0, 2);
  const std::string prefix = std::string(kCifar10DirName) + "/";
  if (path.rfind(prefix, 0) != 0) return {};
  std::string rest = path.substr(prefix.size());
  if (rest.empty() || rest == "." || rest == ".." || rest.find('/') != std::string::npos) return {};
  return rest;
}

struct Extracted {
  int files = 0;
  bool saw_dataset_dir = false;
  std::vector<std::string> other_top_dirs;
};

Result<Extracted> extract_tar_gz(const std::string& archive, const std::string& dest, const DownloadOptions& options) {
  GzipReader gz;
  const std::string& url = options.url;
  POCKET_TRY(gz.open(archive, url));
  Extracted result;
  std::array<uint8_t, kBlock> header{};
  std::vector<uint8_t> buffer(1 << 16);
  std::optional<std::string> next_name;  // from a GNU 'L' or pax 'x' entry
  int64_t offset = 0;
  int64_t last_report = -(1 << 20);
  auto read_exact = [&](uint8_t* out, size_t n) -> Status {
    POCKET_ASSIGN_OR_RETURN(const size_t got, gz.read(out, n));
    if (got != n) return bad_archive(url, "the archive is truncated (it ends inside an entry)");
    offset += static_cast<int64_t>(n);
    return Status::ok();
  };
  // Reads `size` bytes of entry data plus padding, handing each piece to `sink`.
  auto read_data = [&](int64_t size, const std::function<Status(const uint8_t*, size_t)>& sink) -> Status {
    const int64_t padded = (size + static_cast<int64_t>(kBlock) - 1) / static_cast<int64_t>(kBlock) *
                           static_cast<int64_t>(kBlock);
    for (int64_t done = 0; done < padded;) {
      const auto piece = static_cast<size_t>(std::min<int64_t>(padded - done, static_cast<int64_t>(buffer.size())));
      POCKET_TRY(read_exact(buffer.data(), piece));
      const auto useful = static_cast<size_t>(std::clamp<int64_t>(size - done, 0, static_cast<int64_t>(piece)));
      if (useful > 0) POCKET_TRY(sink(buffer.data(), useful));
      done += static_cast<int64_t>(piece);
      if (gz.consumed() - last_report >= (1 << 20)) {
        last_report = gz.consumed();
        report(options, DownloadProgress::Stage::Extract, gz.consumed(), gz.size());
      }
    }
    return Status::ok();
  };
  auto ignore = [](const uint8_t*, size_t) { return Status::ok(); };
  for (;;) {
    POCKET_ASSIGN_OR_RETURN(const size_t got, gz.read(header.data(), kBlock));
    if (got == 0) break;  // end of stream without the end-of-archive blocks: tolerated
    if (got != kBlock) return bad_archive(url, "the archive is truncated (it ends inside a header)");
    const int64_t header_offset = offset;
    offset += static_cast<int64_t>(kBlock);
    if (std::all_of(header.begin(), header.end(), [](uint8_t b) { return b == 0; })) break;  // end of archive
    if (!checksum_ok(header.data())) {
      return bad_archive(url, "not a tar archive, or a corrupt one: bad header checksum at byte " +
                                  std::to_string(header_offset) + " of the unpacked stream");
    }
    const auto size = parse_number(header.data(), 124, 12);
    if (!size) return bad_archive(url, "corrupt tar header at byte " + std::to_string(header_offset) + ": bad size field");
    const char type = static_cast<char>(header[156]);
    std::string name = field(header.data(), 0, 100);
    const std::string magic = field(header.data(), 257, 6);
    if (magic == "ustar" && header[262] == '\0') {  // POSIX ustar: prefix field (GNU uses it otherwise)
      const std::string prefix = field(header.data(), 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    if (next_name) {
      name = *next_name;
      next_name.reset();
    }
    if (type == 'L' || type == 'x') {  // GNU long name / pax extended header for the next entry
      if (*size > (1 << 20)) {
        return bad_archive(url, "corrupt tar archive: extended header of " + std::to_string(*size) + " bytes");
      }
      std::string text;
      POCKET_TRY(read_data(*size, [&](const uint8_t* p, size_t n) {
        text.append(reinterpret_cast<const char*>(p), n);
        return Status::ok();
      }));
      if (type == 'L') {
        next_name = std::string(text.c_str());  // NUL-terminated
      } else {
        next_name = pax_path(text);
      }
      continue;
    }
    while (name.rfind("./", 0) == 0) name.erase(0, 2);
    const bool regular = type == '0' || type == '\0' || type == '7';
    if (regular || type == '5') {  // note the top-level directories, for the error message
      const std::string top = name.substr(0, name.find('/'));
      if (top == kCifar10DirName) {
        result.saw_dataset_dir = true;
      } else if (!top.empty() && result.other_top_dirs.size() < 3 &&
                 std::find(result.other_top_dirs.begin(), result.other_top_dirs.end(), top) ==
                     result.other_top_dirs.end()) {
        result.other_top_dirs.push_back(top);
      }
    }
    const std::string member = dataset_member(name);
    if (!regular || member.empty()) {  // directories, links, devices, other paths: skipped
      POCKET_TRY(read_data(*size, ignore));
      continue;
    }
    const std::string out_path = (fs::path(dest) / member).string();
    File out(std::fopen(out_path.c_str(), "wb"));
    if (!out) return Error{"cannot create " + out_path + ": " + std::strerror(errno) + disk_hint()};
    POCKET_TRY(read_data(*size, [&](const uint8_t* p, size_t n) -> Status {
      if (std::fwrite(p, 1, n, out.get()) != n) {
        return Error{"cannot write " + out_path + ": " + std::strerror(errno) + disk_hint()};
      }
      return Status::ok();
    }));
    if (std::fclose(out.release()) != 0) {
      return Error{"cannot write " + out_path + ": " + std::strerror(errno) + disk_hint()};
    }
    ++result.files;
  }
  report(options, DownloadProgress::Stage::Extract, gz.size(), gz.size());
  return result;
}

// Removes temporary files of earlier runs in `dir` that were interrupted (their process is gone).
void remove_stale_partials(const std::string& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(".cifar-10-", 0) != 0) continue;
    size_t mark = name.rfind(".partial-");
    if (mark == std::string::npos) mark = name.rfind(".old-");
    if (mark == std::string::npos) continue;
    const std::string digits = name.substr(name.find('-', mark) + 1);
    if (digits.empty() || digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) continue;
    const auto pid = static_cast<pid_t>(std::stol(digits));
    if (pid == ::getpid() || (::kill(pid, 0) != 0 && errno == ESRCH)) {
      std::error_code ignored;
      fs::remove_all(it->path(), ignored);
    }
  }
}

}  // namespace

std::string cifar10_dir(const std::string& dir) { return (fs::path(dir) / kCifar10DirName).string(); }

Status verify_cifar10(const std::string& dataset_dir, int64_t records_per_file) {
  for (const Split split : {Split::Train, Split::Test}) {
    auto data = detail::load_cifar10_records(dataset_dir, split, records_per_file);
    if (!data.is_ok()) return data.status();
  }
  return Status::ok();
}

Status download_cifar10(const DownloadOptions& options) {
  if (!is_md5_hex(options.md5)) {
    return Error{"invalid MD5 '" + options.md5 + "': expected 32 hex digits (the default is " + kCifar10Md5 + ")"};
  }
  const std::string target = cifar10_dir(options.dir);
  std::error_code ec;
  if (fs::exists(target, ec) && !options.force) {
    return Error{target + " already exists: use it as it is (--data " + target + "), or pass --force to download "
                 "it again and replace it"};
  }
  // A directory created here is removed again if the download fails (when it is still empty).
  const bool created_dir = !fs::exists(options.dir, ec);
  fs::create_directories(options.dir, ec);
  if (ec || !fs::is_directory(options.dir)) {
    return Error{"cannot create the directory " + options.dir + (ec ? ": " + ec.message() : std::string{})};
  }
  struct RemoveIfEmpty {
    std::string dir;
    bool armed;
    ~RemoveIfEmpty() {
      std::error_code ignored;
      if (armed && fs::is_empty(dir, ignored)) fs::remove(dir, ignored);
    }
  } remove_created_dir{options.dir, created_dir};
  remove_stale_partials(options.dir);
  const std::string pid = std::to_string(::getpid());
  const std::string archive = (fs::path(options.dir) / (".cifar-10-binary.tar.gz.partial-" + pid)).string();
  const std::string staging = (fs::path(options.dir) / (std::string(".") + kCifar10DirName + ".partial-" + pid)).string();
  const Cleanup remove_archive(archive);
  const Cleanup remove_staging(staging);

  POCKET_ASSIGN_OR_RETURN(const std::string md5, fetch(options, archive));
  if (md5 != lowercase(options.md5)) {
    fs::remove(archive, ec);
    return Error{"checksum mismatch for " + options.url + ": MD5 " + md5 + ", expected " + lowercase(options.md5) +
                 ": the download is corrupt or not the CIFAR-10 binary archive; the partial file was deleted. "
                 "Run `pocket download` again (pass --md5 only for an archive you trust with another checksum)"};
  }

  fs::create_directory(staging, ec);
  if (ec) return Error{"cannot create " + staging + ": " + ec.message()};
  auto extracted = extract_tar_gz(archive, staging, options);
  if (!extracted.is_ok()) return extracted.status();
  if (!extracted->saw_dataset_dir) {
    std::string found;
    for (const auto& d : extracted->other_top_dirs) found += (found.empty() ? "" : ", ") + d;
    return bad_archive(options.url, std::string("it has no ") + kCifar10DirName + "/ directory" +
                                        (found.empty() ? std::string{} : " (it has " + found + ")") +
                                        ": use the binary version, cifar-10-binary.tar.gz (not the python or "
                                        "matlab one)");
  }
  fs::remove(archive, ec);

  report(options, DownloadProgress::Stage::Verify, 0, 0);
  if (Status st = verify_cifar10(staging, options.records_per_file); !st.is_ok()) {
    return Error{options.url + " does not hold a complete CIFAR-10 dataset: " + st.message()};
  }

  // Into place: rename(2) within one directory is atomic; an old copy is moved aside first.
  const std::string old = (fs::path(options.dir) / (std::string(".") + kCifar10DirName + ".old-" + pid)).string();
  const bool replacing = fs::exists(target, ec);
  if (replacing) {
    fs::rename(target, old, ec);
    if (ec) return Error{"cannot move the existing " + target + " aside: " + ec.message()};
  }
  fs::rename(staging, target, ec);
  if (ec) {
    std::error_code ec2;
    if (replacing) fs::rename(old, target, ec2);
    return Error{"cannot rename " + staging + " to " + target + ": " + ec.message()};
  }
  if (replacing) fs::remove_all(old, ec);
  remove_created_dir.armed = false;
  return Status::ok();
}

}  // namespace pocket
