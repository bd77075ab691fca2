// pocket download: fetch CIFAR-10 (binary version), check its MD5 and unpack it atomically.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "commands.hpp"
#include "pocket/download.hpp"
#include "pocket/md5.hpp"
#include "progress.hpp"

namespace pocket::cli {
namespace {

struct DownloadCliOptions {
  std::string dir = "./data";
  std::string url = kCifar10Url;
  std::string md5 = kCifar10Md5;
  bool force = false;
  bool quiet = false;
};

std::string megabytes(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

// Progress on stderr: on a terminal a line rewritten for every 0.1 % (at most 10 times a second),
// elsewhere (logs, CI) one line per 10 %.
class DownloadReporter {
 public:
  explicit DownloadReporter(bool quiet) : line_(quiet), tty_(::isatty(STDERR_FILENO) != 0) {}

  void operator()(const DownloadProgress& p) {
    switch (p.stage) {
      case DownloadProgress::Stage::Download:
        show("downloading", p, true);
        break;
      case DownloadProgress::Stage::Extract:
        show("unpacking", p, false);
        break;
      case DownloadProgress::Stage::Verify:
        line_.update("verifying the unpacked files", true);
        break;
    }
  }

 private:
  void show(const char* what, const DownloadProgress& p, bool bytes) {
    const bool known = p.total > 0;
    const int64_t permille = known ? p.done * 1000 / p.total : p.done / 1000000;  // unknown: per MB
    const int64_t step = tty_ ? 1 : 100;
    const bool done = known && p.done >= p.total;
    const auto now = std::chrono::steady_clock::now();
    const bool stage_changed = stage_ != p.stage;
    if (!stage_changed && !done) {
      if (permille / step == last_ / step) return;
      if (tty_ && now - last_time_ < std::chrono::milliseconds(100)) return;
    }
    if (!stage_changed && done && finished_) return;
    stage_ = p.stage;
    last_ = permille;
    last_time_ = now;
    finished_ = done;
    std::string text = std::string(what) + "  ";
    if (bytes) text += known ? megabytes(p.done) + " / " + megabytes(p.total) : megabytes(p.done);
    if (known) {
      char pct[16];
      std::snprintf(pct, sizeof pct, "%s%5.1f%%", bytes ? "  " : "", 100.0 * static_cast<double>(p.done) /
                                                                        static_cast<double>(p.total));
      text += pct;
    }
    line_.update(text, done);
  }

  ProgressLine line_;
  bool tty_ = false;
  std::optional<DownloadProgress::Stage> stage_;
  int64_t last_ = -1;
  bool finished_ = false;
  std::chrono::steady_clock::time_point last_time_{};
};

bool same_path(const std::string& a, const std::string& b) {
  std::error_code ec1, ec2;
  const auto pa = std::filesystem::weakly_canonical(a, ec1);
  const auto pb = std::filesystem::weakly_canonical(b, ec2);
  return !ec1 && !ec2 && pa == pb;
}

void run_download(const DownloadCliOptions& o) {
  const char* cmd = "download";
  if (!is_md5_hex(o.md5)) return fail(cmd, "--md5 '" + o.md5 + "' is not an MD5: expected 32 hex digits");
  const std::string target = cifar10_dir(o.dir);
  const std::string use_it = same_path(target, "./data/cifar-10-batches-bin")
                                 ? std::string{}
                                 : " (pass --data " + target + " or set POCKET_DATA=" + target + ")";
  std::error_code ec;
  if (!o.force && std::filesystem::exists(target, ec)) {
    const Status existing = verify_cifar10(target);
    if (!existing) {
      return fail(cmd, target + " exists but is not a complete CIFAR-10 dataset: " + existing.message() +
                           "; pass --force to download it again and replace it");
    }
    std::printf("CIFAR-10 is already in %s%s; pass --force to download it again\n", target.c_str(), use_it.c_str());
    return;
  }
  DownloadOptions d;
  d.dir = o.dir;
  d.url = o.url;
  d.md5 = o.md5;
  d.force = o.force;
  auto reporter = std::make_shared<DownloadReporter>(o.quiet);
  d.progress = [reporter](const DownloadProgress& p) { (*reporter)(p); };
  if (!o.quiet) std::fprintf(stderr, "fetching %s into %s\n", o.url.c_str(), target.c_str());
  const Status st = download_cifar10(d);
  d.progress = nullptr;
  reporter.reset();  // ends an open progress line before any message
  if (!st) return fail(cmd, st.message());
  std::printf("CIFAR-10 is ready in %s: 50000 training and 10000 test images, MD5 verified%s\n", target.c_str(),
              use_it.c_str());
}

}  // namespace

void register_download(CLI::App& app) {
  auto opts = std::make_shared<DownloadCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "download", "Download CIFAR-10 (binary version), check its MD5 and unpack it into DIR/cifar-10-batches-bin");
  sub->add_option("--dir", opts->dir, "Directory to put cifar-10-batches-bin in (created if missing)")
      ->capture_default_str();
  sub->add_option("--url", opts->url,
                  "Where to get cifar-10-binary.tar.gz: http(s):// or, for a file fetched some other way, "
                  "file:///path/to/cifar-10-binary.tar.gz")
      ->capture_default_str();
  sub->add_option("--md5", opts->md5, "Expected MD5 of the archive (32 hex digits)")->capture_default_str();
  sub->add_flag("--force", opts->force, "Download again and replace an existing DIR/cifar-10-batches-bin");
  sub->add_flag("--quiet", opts->quiet, "No progress output");
  sub->callback([opts] { run_download(*opts); });
}

}  // namespace pocket::cli
