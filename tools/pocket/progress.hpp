// Progress output on stderr: a line rewritten in place on a terminal, one line per update elsewhere.
#pragma once

#include <string>

namespace pocket::cli {

class ProgressLine {
 public:
  explicit ProgressLine(bool quiet = false);
  ~ProgressLine();
  // Shows `text` (replacing the previous update on a terminal). `final` keeps the line. Off a
  // terminal (a log file, CI), updates are printed at most every 5 seconds, final ones always.
  void update(const std::string& text, bool final = false);

 private:
  bool tty_ = false;
  bool quiet_ = false;
  bool open_ = false;
  double last_plain_ = -1e9;  // when the last line was printed off a terminal (seconds)
};

std::string format_duration(double seconds);  // "42s", "3m05s", "1h02m"

}  // namespace pocket::cli
