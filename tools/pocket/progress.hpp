// Progress output on stderr: a line rewritten in place on a terminal, one line per update elsewhere.
#pragma once

#include <string>

namespace pocket::cli {

class ProgressLine {
 public:
  explicit ProgressLine(bool quiet = false);
  ~ProgressLine();
  // Shows `text` (replacing the previous update on a terminal). `final` keeps the line.
  void update(const std::string& text, bool final = false);

 private:
  bool tty_ = false;
  bool quiet_ = false;
  bool open_ = false;
};

std::string format_duration(double seconds);  // "42s", "3m05s", "1h02m"

}  // namespace pocket::cli
