#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace pocket::cli {

ProgressLine::ProgressLine(bool quiet) : tty_(::isatty(STDERR_FILENO) != 0), quiet_(quiet) {}

ProgressLine::~ProgressLine() {
  if (open_) std::fputc('\n', stderr);
}

void ProgressLine::update(const std::string& text, bool final) {
  if (quiet_) return;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    open_ = !final;
    if (final) std::fputc('\n', stderr);
  } else {
    const double now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    if (!final && now - last_plain_ < 5.0) return;
    last_plain_ = now;
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
}

std::string format_duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%lds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  }
  return buf;
}

}  // namespace pocket::cli
