#include "pocket/normalization.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace pocket {

Normalization Normalization::lab() {
  Normalization n;
  n.kind = Kind::Lab;
  n.mean = {0.5f, 0.5f, 0.5f};
  n.stddev = {0.5f, 0.5f, 0.5f};
  return n;
}

Normalization Normalization::unit() {
  Normalization n;
  n.kind = Kind::Unit;
  return n;
}

Normalization Normalization::raw() {
  Normalization n;
  n.kind = Kind::Raw;
  n.stddev = {1.0f / 255.0f, 1.0f / 255.0f, 1.0f / 255.0f};
  return n;
}

namespace {

bool parse_triple(const std::string& s, std::array<float, 3>& out) {
  std::stringstream ss(s);
  std::string item;
  size_t i = 0;
  while (std::getline(ss, item, ',')) {
    if (i >= 3 || item.empty()) return false;
    char* end = nullptr;
    const float v = std::strtof(item.c_str(), &end);
    if (end == item.c_str() || *end != '\0' || !std::isfinite(v)) return false;
    out[i++] = v;
  }
  return i == 3;
}

std::string fmt_float(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

}  // namespace

Result<Normalization> Normalization::parse(const std::string& spec) {
  if (spec == "lab") return lab();
  if (spec == "unit") return unit();
  if (spec == "raw") return raw();
  const auto slash = spec.find('/');
  Normalization n;
  n.kind = Kind::MeanStd;
  if (slash == std::string::npos || !parse_triple(spec.substr(0, slash), n.mean) ||
      !parse_triple(spec.substr(slash + 1), n.stddev)) {
    return Error{"invalid normalisation '" + spec +
                 "': use lab (x/127.5-1), unit (x/255), raw (0-255) or per-channel mean/std on the 0-1 "
                 "scale as R,G,B/R,G,B (e.g. 0.4914,0.4822,0.4465/0.247,0.243,0.261)"};
  }
  for (float s : n.stddev) {
    if (!(s > 0.0f)) return Error{"invalid normalisation '" + spec + "': every std must be > 0"};
  }
  return n;
}

std::string Normalization::spec() const {
  switch (kind) {
    case Kind::Unknown:
      return "unknown";
    case Kind::Lab:
      return "lab";
    case Kind::Unit:
      return "unit";
    case Kind::Raw:
      return "raw";
    case Kind::MeanStd:
      return fmt_float(mean[0]) + "," + fmt_float(mean[1]) + "," + fmt_float(mean[2]) + "/" +
             fmt_float(stddev[0]) + "," + fmt_float(stddev[1]) + "," + fmt_float(stddev[2]);
  }
  return "unknown";
}

}  // namespace pocket
