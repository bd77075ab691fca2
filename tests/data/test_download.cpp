// download_cifar10 end to end against an HTTP server on 127.0.0.1 (a tiny one of our own, in a
// thread), with tarballs made here: by the system's tar and by hand for the awkward cases.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "data_test_util.hpp"
#include "pocket/download.hpp"
#include "pocket/md5.hpp"

namespace pocket {
namespace {

namespace fs = std::filesystem;
using test::fresh_dir;

std::string temp_dir_of(const std::string& name) { return (fs::path(test::temp_dir()) / name).string(); }

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 server: one request per connection, canned responses per path.

struct Response {
  int status = 200;
  std::string body;
  std::string extra_headers;  // e.g. "Location: /x\r\n"
  size_t send_only = std::string::npos;  // send fewer body bytes than Content-Length, then close
};

class LoopbackServer {
 public:
  LoopbackServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    POCKET_CHECK(listen_fd_ >= 0, "socket");
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;  // any free port
    POCKET_CHECK(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "bind");
    POCKET_CHECK(::listen(listen_fd_, 16) == 0, "listen");
    socklen_t len = sizeof addr;
    POCKET_CHECK(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0, "getsockname");
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;
  ~LoopbackServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    ::close(listen_fd_);
    thread_.join();
  }

  void route(const std::string& path, Response response) {
    std::lock_guard<std::mutex> lock(mutex_);
    routes_[path] = std::move(response);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int requests() const { return requests_; }

 private:
  void serve() {
    while (!stopping_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      handle(fd);
      ::close(fd);
    }
  }

  void handle(int fd) {
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      request.append(buf, static_cast<size_t>(n));
    }
    ++requests_;
    const size_t start = request.find(' ') + 1;
    const std::string path = request.substr(start, request.find(' ', start) - start);
    Response r;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto it = routes_.find(path);
      if (it == routes_.end()) {
        r.status = 404;
        r.body = "not found";
      } else {
        r = it->second;
      }
    }
    const std::string reason = r.status == 200 ? "OK" : r.status == 302 ? "Found" : r.status == 404 ? "Not Found" : "Error";
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + reason + "\r\nContent-Length: " +
                       std::to_string(r.body.size()) + "\r\nContent-Type: application/octet-stream\r\n" +
                       r.extra_headers + "Connection: close\r\n\r\n";
    send_all(fd, head.data(), head.size());
    send_all(fd, r.body.data(), std::min(r.body.size(), r.send_only));
  }

  static void send_all(int fd, const char* p, size_t n) {
    while (n > 0) {
      const ssize_t sent = ::send(fd, p, n, MSG_NOSIGNAL);
      if (sent <= 0) return;
      p += sent;
      n -= static_cast<size_t>(sent);
    }
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::map<std::string, Response> routes_;
};

// ---------------------------------------------------------------------------------------------
// Archives

std::string bytes_to_string(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

// A tar archive written by hand, ustar headers. `prefix` fills the POSIX prefix field.
class TarBuilder {
 public:
  TarBuilder& file(const std::string& name, const std::string& data, char type = '0', const std::string& prefix = "",
                   const std::string& size_field = "") {
    std::array<char, 512> h{};
    auto put = [&h](size_t offset, const std::string& s) { std::memcpy(h.data() + offset, s.data(), s.size()); };
    auto octal = [](int64_t v, int digits) {
      std::string s(static_cast<size_t>(digits), '0');
      for (int i = digits - 1; i >= 0; --i, v /= 8) s[static_cast<size_t>(i)] = static_cast<char>('0' + v % 8);
      return s;
    };
    put(0, name.substr(0, 100));
    put(100, "0000644");
    put(108, "0000000");
    put(116, "0000000");
    put(124, size_field.empty() ? octal(static_cast<int64_t>(data.size()), 11) : size_field);
    put(136, "14000000000");
    h[156] = type;
    put(257, std::string("ustar\0" "00", 8));
    put(345, prefix);
    std::memset(h.data() + 148, ' ', 8);
    int64_t sum = 0;
    for (char c : h) sum += static_cast<uint8_t>(c);
    put(148, octal(sum, 6));
    h[154] = '\0';
    if (corrupt_next_checksum_) {
      h[150] = h[150] == '1' ? '2' : '1';
      corrupt_next_checksum_ = false;
    }
    out_.append(h.data(), h.size());
    out_ += data;
    out_.append((512 - data.size() % 512) % 512, '\0');
    return *this;
  }
  TarBuilder& corrupt_next_checksum() {
    corrupt_next_checksum_ = true;
    return *this;
  }
  std::string finish() const { return out_ + std::string(1024, '\0'); }
  std::string unfinished() const { return out_; }

 private:
  std::string out_;
  bool corrupt_next_checksum_ = false;
};

std::string gzip(const std::string& data) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string md5_of(const std::string& s) { return md5_hex(s.data(), s.size()); }

const std::vector<std::string> kDataFiles{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                          "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin",
                                          "batches.meta.txt"};

// A tiny dataset (3 records per file) in `dir`/cifar-10-batches-bin, plus a readme like the
// official archive's.
std::string make_source_tree(const std::string& name) {
  const std::string root = fresh_dir(name);
  test::make_fake_cifar(root + "/cifar-10-batches-bin", 3);
  test::write_text(root + "/cifar-10-batches-bin/readme.html", "<html>readme</html>");
  return root;
}

// The tiny dataset as a .tar.gz made by the system's tar in `format` (gnu, ustar, pax).
std::string system_tarball(const std::string& format) {
  const std::string root = make_source_tree("src-" + format);
  const std::string archive = root + "/archive.tar.gz";
  std::string output;
  const int rc = test::run_command("tar --format=" + format + " -czf " + archive + " -C " + root +
                                       " cifar-10-batches-bin",
                                   &output);
  EXPECT_EQ(rc, 0) << output;
  return bytes_to_string(test::read_bytes(archive));
}

// The tiny dataset as a hand-built tar (not yet gzipped), members in official order.
TarBuilder tiny_tar(const std::string& root_name = "cifar-10-batches-bin/") {
  const std::string root = make_source_tree("src-hand");
  TarBuilder tar;
  tar.file(root_name, "", '5');
  for (const auto& f : kDataFiles) {
    tar.file(root_name + f, bytes_to_string(test::read_bytes(root + "/cifar-10-batches-bin/" + f)));
  }
  return tar;
}

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Every data file in `dir`/cifar-10-batches-bin equals the source tree's.
void expect_same_dataset(const std::string& dir, const std::string& source_root) {
  for (const auto& f : kDataFiles) {
    const auto expected = test::read_bytes(source_root + "/cifar-10-batches-bin/" + f);
    ASSERT_FALSE(expected.empty()) << "test setup: no source file " << f;
    EXPECT_EQ(test::read_bytes(dir + "/cifar-10-batches-bin/" + f), expected) << f;
  }
}

class Download : public ::testing::Test {
 protected:
  void SetUp() override {
    // The loopback server must never be reached through a proxy.
    for (const char* v : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
      unsetenv(v);
    }
  }
  DownloadOptions options(const std::string& dir, const std::string& url, const std::string& body) {
    DownloadOptions o;
    o.dir = dir;
    o.url = url;
    o.md5 = md5_of(body);
    o.records_per_file = 0;  // the tiny test dataset
    o.connect_timeout_seconds = 5;
    return o;
  }
  LoopbackServer server_;
};

TEST_F(Download, EndToEndWithProgress) {
  const std::string body = system_tarball("gnu");
  server_.route("/cifar-10-binary.tar.gz", Response{200, body, "", std::string::npos});
  const std::string dir = fresh_dir("dl-e2e") + "/data";  // created by the download
  // Leftovers of an interrupted run whose process is gone are cleaned up; a live one's are not.
  fs::create_directories(dir + "/.cifar-10-batches-bin.partial-999999999");
  test::write_text(dir + "/.cifar-10-binary.tar.gz.partial-999999999", "stale");
  test::write_text(dir + "/.cifar-10-binary.tar.gz.partial-1", "pid 1 is alive");
  auto o = options(dir, server_.url("/cifar-10-binary.tar.gz"), body);
  std::vector<DownloadProgress> seen;
  o.progress = [&seen](const DownloadProgress& p) { seen.push_back(p); };
  const Status st = download_cifar10(o);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(server_.requests(), 1);
  // Only the dataset is left: no archive, no temporary directory.
  EXPECT_EQ(listing(dir), (std::vector<std::string>{".cifar-10-binary.tar.gz.partial-1", "cifar-10-batches-bin"}));
  expect_same_dataset(dir, temp_dir_of("src-gnu"));
  EXPECT_EQ(test::read_bytes(dir + "/cifar-10-batches-bin/readme.html").size(), 19u);
  EXPECT_TRUE(verify_cifar10(cifar10_dir(dir), 0).is_ok());
  auto loaded = load_cifar10_file(cifar10_dir(dir) + "/test_batch.bin");
  ASSERT_TRUE(loaded.is_ok()) << loaded.message();
  EXPECT_EQ(loaded->size(), 3);
  // Progress: download bytes up to the full size with the server's Content-Length, then
  // extraction up to the archive size, then verification, in that order.
  ASSERT_FALSE(seen.empty());
  int64_t last_download = -1;
  bool got_total = false;
  size_t i = 0;
  for (; i < seen.size() && seen[i].stage == DownloadProgress::Stage::Download; ++i) {
    EXPECT_GE(seen[i].done, last_download);
    last_download = seen[i].done;
    got_total = got_total || seen[i].total == static_cast<int64_t>(body.size());
  }
  EXPECT_EQ(last_download, static_cast<int64_t>(body.size()));
  EXPECT_TRUE(got_total);
  ASSERT_LT(i, seen.size());
  EXPECT_EQ(seen[i].stage, DownloadProgress::Stage::Extract);
  for (; i < seen.size() && seen[i].stage == DownloadProgress::Stage::Extract; ++i) {
  }
  EXPECT_EQ(seen[i - 1].done, static_cast<int64_t>(body.size()));
  EXPECT_EQ(seen[i - 1].total, static_cast<int64_t>(body.size()));
  ASSERT_EQ(i + 1, seen.size());
  EXPECT_EQ(seen[i].stage, DownloadProgress::Stage::Verify);
}

TEST_F(Download, PaxAndUstarArchivesFollowingARedirect) {
  for (const std::string format : {"pax", "ustar"}) {
    const std::string body = system_tarball(format);
    server_.route("/moved", Response{302, "", "Location: /real-" + format + "\r\n", std::string::npos});
    server_.route("/real-" + format, Response{200, body, "", std::string::npos});
    const std::string dir = fresh_dir("dl-" + format);
    const Status st = download_cifar10(options(dir, server_.url("/moved"), body));
    ASSERT_TRUE(st.is_ok()) << format << ": " << st.message();
    expect_same_dataset(dir, temp_dir_of("src-" + format));
  }
}

TEST_F(Download, FileUrl) {
  const std::string body = system_tarball("gnu");
  const std::string src = fresh_dir("dl-file-src") + "/cifar-10-binary.tar.gz";
  test::write_bytes(src, std::vector<uint8_t>(body.begin(), body.end()));
  const std::string dir = fresh_dir("dl-file");
  const Status st = download_cifar10(options(dir, "file://" + src, body));
  ASSERT_TRUE(st.is_ok()) << st.message();
  expect_same_dataset(dir, temp_dir_of("src-gnu"));
  auto missing = options(dir + "/other", "file://" + src + ".missing", body);
  const Status m = download_cifar10(missing);
  ASSERT_FALSE(m.is_ok());
  EXPECT_NE(m.message().find("check the path in the file:// URL"), std::string::npos) << m.message();
}

TEST_F(Download, DefaultVerificationRejectsAnIncompleteDataset) {
  const std::string body = system_tarball("gnu");
  server_.route("/small.tar.gz", Response{200, body, "", std::string::npos});
  const std::string dir = fresh_dir("dl-small");
  auto o = options(dir, server_.url("/small.tar.gz"), body);
  o.records_per_file = 10000;  // the default: the official sizes
  const Status st = download_cifar10(o);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("does not hold a complete CIFAR-10 dataset"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("data_batch_1.bin: truncated: 9219 bytes, expected 30730000"), std::string::npos)
      << st.message();
  EXPECT_TRUE(listing(dir).empty()) << "temporary files left behind";
}

TEST_F(Download, ChecksumMismatchDeletesTheDownload) {
  const std::string body = system_tarball("gnu");
  server_.route("/a.tar.gz", Response{200, body, "", std::string::npos});
  const std::string dir = fresh_dir("dl-md5");
  auto o = options(dir, server_.url("/a.tar.gz"), body);
  o.md5 = std::string(32, 'A');
  const Status st = download_cifar10(o);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("checksum mismatch for " + o.url + ": MD5 " + md5_of(body) + ", expected " +
                              std::string(32, 'a')),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("the partial file was deleted"), std::string::npos) << st.message();
  EXPECT_TRUE(listing(dir).empty());
}

TEST_F(Download, InvalidMd5Option) {
  auto o = options(fresh_dir("dl-badmd5"), server_.url("/x"), "");
  o.md5 = "1234";
  const Status st = download_cifar10(o);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("invalid MD5 '1234': expected 32 hex digits"), std::string::npos) << st.message();
  EXPECT_EQ(server_.requests(), 0);
}

TEST_F(Download, HttpErrors) {
  const std::string dir = fresh_dir("dl-http");
  const Status not_found = download_cifar10(options(dir, server_.url("/no-such-file.tar.gz"), ""));
  ASSERT_FALSE(not_found.is_ok());
  EXPECT_NE(not_found.message().find("cannot download " + server_.url("/no-such-file.tar.gz") + ": HTTP 404"),
            std::string::npos)
      << not_found.message();
  EXPECT_NE(not_found.message().find("check the --url"), std::string::npos) << not_found.message();
  EXPECT_TRUE(listing(dir).empty());
  // A directory the download created is removed again when it fails.
  const Status fresh = download_cifar10(options(dir + "/new", server_.url("/no-such-file.tar.gz"), ""));
  ASSERT_FALSE(fresh.is_ok());
  EXPECT_FALSE(fs::exists(dir + "/new"));
  server_.route("/broken", Response{500, "oops", "", std::string::npos});
  const Status server_error = download_cifar10(options(dir, server_.url("/broken"), ""));
  ASSERT_FALSE(server_error.is_ok());
  EXPECT_NE(server_error.message().find("HTTP 500: the server has a problem"), std::string::npos)
      << server_error.message();
  EXPECT_TRUE(listing(dir).empty());
}

TEST_F(Download, NoNetwork) {
  // A port nobody listens on: connection refused, like a network that is down.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/cifar-10-binary.tar.gz";
  const std::string dir = fresh_dir("dl-offline");
  const Status st = download_cifar10(options(dir, url, ""));
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("cannot download " + url), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("check the network connection"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("--url file://"), std::string::npos) << st.message();
  EXPECT_TRUE(listing(dir).empty());
  // A host name that cannot resolve (.invalid is reserved, RFC 2606).
  const Status unresolved = download_cifar10(options(dir, "http://cifar.invalid/x.tar.gz", ""));
  ASSERT_FALSE(unresolved.is_ok());
  EXPECT_NE(unresolved.message().find("check the network connection"), std::string::npos) << unresolved.message();
}

TEST_F(Download, ConnectionDropsMidTransfer) {
  const std::string body = system_tarball("gnu");
  server_.route("/cut", Response{200, body, "", body.size() / 2});
  const std::string dir = fresh_dir("dl-cut");
  const Status st = download_cifar10(options(dir, server_.url("/cut"), body));
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("cannot download"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("check the network connection"), std::string::npos) << st.message();
  EXPECT_TRUE(listing(dir).empty());
}

TEST_F(Download, UnsupportedScheme) {
  const Status st = download_cifar10(options(fresh_dir("dl-scheme"), "ftp://127.0.0.1/x.tar.gz", ""));
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("use an http://, https:// or file:// URL"), std::string::npos) << st.message();
}

TEST_F(Download, ExistingDatasetNeedsForce) {
  const std::string body = system_tarball("gnu");
  server_.route("/a.tar.gz", Response{200, body, "", std::string::npos});
  const std::string dir = fresh_dir("dl-exists");
  fs::create_directories(dir + "/cifar-10-batches-bin");
  test::write_text(dir + "/cifar-10-batches-bin/old.txt", "old");
  auto o = options(dir, server_.url("/a.tar.gz"), body);
  const Status st = download_cifar10(o);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find(dir + "/cifar-10-batches-bin already exists"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("--force"), std::string::npos) << st.message();
  EXPECT_EQ(server_.requests(), 0);
  EXPECT_TRUE(fs::exists(dir + "/cifar-10-batches-bin/old.txt"));
  o.force = true;
  const Status forced = download_cifar10(o);
  ASSERT_TRUE(forced.is_ok()) << forced.message();
  EXPECT_FALSE(fs::exists(dir + "/cifar-10-batches-bin/old.txt"));
  expect_same_dataset(dir, temp_dir_of("src-gnu"));
  EXPECT_EQ(listing(dir), std::vector<std::string>{"cifar-10-batches-bin"});
}

TEST_F(Download, DirectoryCannotBeCreated) {
  const std::string base = fresh_dir("dl-nodir");
  test::write_text(base + "/file", "x");
  const Status st = download_cifar10(options(base + "/file/data", server_.url("/a"), ""));
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("cannot create the directory " + base + "/file/data"), std::string::npos)
      << st.message();
}

// Serves `body` with its own MD5 and returns the download's status (the dir must stay clean).
Status serve_and_download(LoopbackServer& server, const std::string& name, const std::string& body,
                          std::string* dir_out = nullptr) {
  server.route("/" + name, Response{200, body, "", std::string::npos});
  const std::string dir = fresh_dir("dl-" + name);
  if (dir_out) *dir_out = dir;
  DownloadOptions o;
  o.dir = dir;
  o.url = server.url("/" + name);
  o.md5 = md5_of(body);
  o.records_per_file = 0;
  const Status st = download_cifar10(o);
  if (!st.is_ok()) {
    EXPECT_TRUE(listing(dir).empty()) << name << ": temporary files left behind";
  }
  return st;
}

TEST_F(Download, BadArchives) {
  const Status plain = serve_and_download(server_, "plain", "<html>this is a web page</html>");
  ASSERT_FALSE(plain.is_ok());
  EXPECT_NE(plain.message().find("is not a valid CIFAR-10 archive: not a gzip file"), std::string::npos)
      << plain.message();

  const Status not_tar = serve_and_download(server_, "not-tar", gzip(std::string(2048, 'x')));
  ASSERT_FALSE(not_tar.is_ok());
  EXPECT_NE(not_tar.message().find("not a tar archive, or a corrupt one: bad header checksum at byte 0"),
            std::string::npos)
      << not_tar.message();

  const std::string good = gzip(tiny_tar().finish());
  const Status cut_gzip = serve_and_download(server_, "cut-gzip", good.substr(0, good.size() / 2));
  ASSERT_FALSE(cut_gzip.is_ok());
  EXPECT_NE(cut_gzip.message().find("the archive is truncated"), std::string::npos) << cut_gzip.message();

  // The last member is batches.meta.txt: a 512-byte header and one 512-byte data block.
  const std::string tar = tiny_tar().unfinished();
  const Status cut_header = serve_and_download(server_, "cut-header", gzip(tar.substr(0, tar.size() - 700)));
  ASSERT_FALSE(cut_header.is_ok());
  EXPECT_NE(cut_header.message().find("the archive is truncated (it ends inside a header)"), std::string::npos)
      << cut_header.message();
  const Status cut_entry = serve_and_download(server_, "cut-entry", gzip(tar.substr(0, tar.size() - 300)));
  ASSERT_FALSE(cut_entry.is_ok());
  EXPECT_NE(cut_entry.message().find("the archive is truncated (it ends inside an entry)"), std::string::npos)
      << cut_entry.message();

  TarBuilder corrupt;
  corrupt.file("cifar-10-batches-bin/", "", '5').corrupt_next_checksum().file("cifar-10-batches-bin/x", "data");
  const Status bad_sum = serve_and_download(server_, "bad-sum", gzip(corrupt.finish()));
  ASSERT_FALSE(bad_sum.is_ok());
  EXPECT_NE(bad_sum.message().find("bad header checksum at byte 512"), std::string::npos) << bad_sum.message();

  const Status python = serve_and_download(server_, "python", gzip(tiny_tar("cifar-10-batches-py/").finish()));
  ASSERT_FALSE(python.is_ok());
  EXPECT_NE(python.message().find("has no cifar-10-batches-bin/ directory (it has cifar-10-batches-py)"),
            std::string::npos)
      << python.message();
  EXPECT_NE(python.message().find("cifar-10-binary.tar.gz"), std::string::npos) << python.message();

  TarBuilder partial;
  const std::string root = make_source_tree("src-hand");
  for (const auto& f : kDataFiles) {
    if (f == "data_batch_4.bin") continue;
    partial.file("cifar-10-batches-bin/" + f, bytes_to_string(test::read_bytes(root + "/cifar-10-batches-bin/" + f)));
  }
  const Status incomplete = serve_and_download(server_, "incomplete", gzip(partial.finish()));
  ASSERT_FALSE(incomplete.is_ok());
  EXPECT_NE(incomplete.message().find("does not hold a complete CIFAR-10 dataset"), std::string::npos)
      << incomplete.message();
  EXPECT_NE(incomplete.message().find("data_batch_4.bin: file not found"), std::string::npos) << incomplete.message();
}

TEST_F(Download, CorruptTarAndGzipDetails) {
  TarBuilder bad_size;
  bad_size.file("cifar-10-batches-bin/x", "data", '0', "", "12x4");
  const Status size = serve_and_download(server_, "bad-size", gzip(bad_size.finish()));
  ASSERT_FALSE(size.is_ok());
  EXPECT_NE(size.message().find("corrupt tar header at byte 0: bad size field"), std::string::npos) << size.message();

  TarBuilder huge_pax;
  huge_pax.file("PaxHeaders/x", "", 'x', "", "77777777777");  // 8 GiB of extended header
  const Status pax = serve_and_download(server_, "huge-pax", gzip(huge_pax.finish()));
  ASSERT_FALSE(pax.is_ok());
  EXPECT_NE(pax.message().find("corrupt tar archive: extended header of 8589934591 bytes"), std::string::npos)
      << pax.message();

  // Damage inside the deflate stream (past the 10-byte gzip header).
  std::string damaged = gzip(tiny_tar().finish());
  for (size_t i = 40; i < 60; ++i) damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
  const Status data = serve_and_download(server_, "damaged", damaged);
  ASSERT_FALSE(data.is_ok());
  EXPECT_NE(data.message().find("corrupt gzip data"), std::string::npos) << data.message();
}

TEST_F(Download, MissingEndOfArchiveBlocksAreTolerated) {
  const Status st = serve_and_download(server_, "no-end", gzip(tiny_tar().unfinished()));
  EXPECT_TRUE(st.is_ok()) << st.message();
}

// Runs `body` with the process's file size limit set to `limit` bytes (writes beyond it fail
// with EFBIG, as on a full disk), then restores it.
template <class F>
void with_file_size_limit(rlim_t limit, F&& body) {
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = limit;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  body();
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
}

TEST_F(Download, WriteErrors) {
  // The archive itself cannot be written.
  std::string big(300000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  server_.route("/big", Response{200, big, "", std::string::npos});
  const std::string dir = fresh_dir("dl-full");
  with_file_size_limit(100000, [&] {
    const Status st = download_cifar10(options(dir, server_.url("/big"), big));
    ASSERT_FALSE(st.is_ok());
    EXPECT_NE(st.message().find("cannot write " + dir + "/.cifar-10-binary.tar.gz.partial-"), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("is the disk full?"), std::string::npos) << st.message();
  });
  EXPECT_TRUE(listing(dir).empty());
  // The archive fits but an unpacked file does not.
  const std::string small_archive = gzip(tiny_tar().finish());
  ASSERT_LT(small_archive.size(), 8000u);
  std::string dir2;
  with_file_size_limit(8000, [&] {
    const Status st = serve_and_download(server_, "unpack-full", small_archive, &dir2);
    ASSERT_FALSE(st.is_ok());
    EXPECT_NE(st.message().find("cannot write " + dir2 + "/.cifar-10-batches-bin.partial-"), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("/data_batch_1.bin: File too large (is the disk full?"), std::string::npos)
        << st.message();
    EXPECT_EQ(st.message().find("not a valid CIFAR-10 archive"), std::string::npos) << st.message();
  });
}

TEST_F(Download, OnlyPlainFilesInsideTheDatasetDirectoryAreWritten) {
  const std::string root = make_source_tree("src-hand");
  TarBuilder tar = tiny_tar();
  const std::string base = fresh_dir("dl-hostile-outside");
  tar.file("cifar-10-batches-bin/../escaped.txt", "evil")
      .file("../escaped.txt", "evil")
      .file(base + "/absolute.txt", "evil")
      .file("cifar-10-batches-bin/sub/nested.txt", "nested")
      .file("cifar-10-batches-bin/link", "", '2')  // a symlink entry
      .file("other/file.txt", "elsewhere");
  std::string dir;
  const Status st = serve_and_download(server_, "hostile", gzip(tar.finish()), &dir);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(listing(dir), std::vector<std::string>{"cifar-10-batches-bin"});
  auto names = listing(dir + "/cifar-10-batches-bin");
  EXPECT_EQ(names, (std::vector<std::string>{"batches.meta.txt", "data_batch_1.bin", "data_batch_2.bin",
                                             "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
                                             "test_batch.bin"}));
  EXPECT_FALSE(fs::exists(fs::path(dir).parent_path() / "escaped.txt"));
  EXPECT_FALSE(fs::exists(base + "/absolute.txt"));
}

TEST_F(Download, LongNamesAndPrefixFields) {
  const std::string root = make_source_tree("src-hand");
  TarBuilder tar;
  for (const auto& f : kDataFiles) {
    const std::string data = bytes_to_string(test::read_bytes(root + "/cifar-10-batches-bin/" + f));
    if (f == "data_batch_1.bin") {  // GNU long name entry, then the file with a truncated name
      const std::string long_name = "./cifar-10-batches-bin/" + f;
      tar.file("././@LongLink", long_name + std::string(1, '\0'), 'L').file("garbage-short-name", data);
    } else if (f == "data_batch_2.bin") {  // pax extended header with a path record
      const std::string record_body = " path=cifar-10-batches-bin/" + f + "\n";
      const std::string record = std::to_string(record_body.size() + 2) + record_body;
      tar.file("PaxHeaders/x", record, 'x').file("another-short-name", data);
    } else if (f == "data_batch_3.bin") {  // POSIX prefix field
      tar.file(f, data, '0', "cifar-10-batches-bin");
    } else {
      tar.file("./cifar-10-batches-bin/" + f, data);
    }
  }
  std::string dir;
  const Status st = serve_and_download(server_, "names", gzip(tar.finish()), &dir);
  ASSERT_TRUE(st.is_ok()) << st.message();
  expect_same_dataset(dir, root);
  EXPECT_FALSE(fs::exists(dir + "/cifar-10-batches-bin/garbage-short-name"));
}

TEST(VerifyCifar10, RealDataset) {
  const Status st = verify_cifar10(test::data_dir());
  EXPECT_TRUE(st.is_ok()) << st.message();
  const Status missing = verify_cifar10(test::data_dir() + "/nope");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.message().find("no CIFAR-10 data in"), std::string::npos) << missing.message();
}

TEST(DownloadDefaults, OfficialArchive) {
  const DownloadOptions o;
  EXPECT_EQ(o.url, "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz");
  EXPECT_EQ(o.md5, "c32a1d4ab5d03f1284b67883e8d87530");
  EXPECT_EQ(o.dir, "./data");
  EXPECT_EQ(o.records_per_file, 10000);
  EXPECT_FALSE(o.force);
  EXPECT_EQ(cifar10_dir("./data"), "./data/cifar-10-batches-bin");
}

}  // namespace
}  // namespace pocket
