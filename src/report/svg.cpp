// SVG charts: histogram, line chart, grouped bar chart, heatmap (see include/pocket/report.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "pocket/report.hpp"

namespace pocket::report {

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_number(double value, int digits) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0.0) return "0";  // also -0
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", std::clamp(digits, 1, 17), value);
  return buf;
}

std::vector<double> nice_ticks(double lo, double hi, int count) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  if (hi < lo) std::swap(lo, hi);
  // A range of a few ulps (or none): steps that small cannot be added to lo.
  if (!(hi - lo > 1e-12 * std::max(std::fabs(lo), std::fabs(hi)))) return {lo};
  const double raw = (hi - lo) / std::max(1, count);
  const double exponent = std::floor(std::log10(raw));
  double mantissa = 1.0;
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    mantissa = m;
    if (m * std::pow(10.0, exponent) >= raw) break;
  }
  // tick i is i * mantissa * 10^exponent, computed as a division for negative exponents so that
  // 3 * 0.2 gives the double nearest 0.6
  const auto tick = [&](double i) {
    return exponent < 0 ? i * mantissa / std::pow(10.0, -exponent) : i * mantissa * std::pow(10.0, exponent);
  };
  const double step = tick(1.0);
  std::vector<double> ticks;
  const double eps = step * 1e-9;
  const size_t most = 10 * static_cast<size_t>(std::max(1, count)) + 10;  // never loop without end on rounding
  for (double i = std::ceil((lo - eps) / step); tick(i) <= hi + eps && ticks.size() < most; i += 1.0) {
    double t = tick(i);
    if (std::fabs(t) < eps) t = 0.0;
    ticks.push_back(t);
  }
  return ticks;
}

namespace {

const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
const char* color(size_t i) { return kPalette[i % (sizeof kPalette / sizeof kPalette[0])]; }

std::string n2(double v) { return fmt::format("{:.2f}", v); }

// A linear map from a data interval to a pixel interval.
struct Scale {
  double d0 = 0, d1 = 1, r0 = 0, r1 = 1;
  double operator()(double v) const { return d1 == d0 ? (r0 + r1) / 2 : r0 + (v - d0) / (d1 - d0) * (r1 - r0); }
};

// The drawing area inside the margins.
struct Frame {
  double width = 640, height = 320;
  double left = 64, right = 20, top = 40, bottom = 56;
  double x0() const { return left; }
  double x1() const { return width - right; }
  double y0() const { return height - bottom; }  // the x axis (bottom of the plot)
  double y1() const { return top; }
};

// Widens a degenerate, empty or non-finite interval (or one of a few ulps) so that a scale and
// ticks over it are well defined.
void widen(double& lo, double& hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    lo = 0.0;
    hi = 1.0;
    return;
  }
  if (!(hi - lo > 1e-9 * std::max(std::fabs(lo), std::fabs(hi)))) {
    const double mid = lo / 2 + hi / 2;
    const double pad = mid == 0.0 ? 1.0 : std::fabs(mid) * 0.1;
    lo = mid - pad;
    hi = mid + pad;
  }
}

std::string open_svg(const Frame& f, const std::string& title) {
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" height=\"{1}\" role=\"img\" "
      "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n",
      n2(f.width), n2(f.height));
  s += "<title>" + xml_escape(title) + "</title>\n";
  s += fmt::format("<rect class=\"background\" x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", n2(f.width),
                   n2(f.height));
  s += fmt::format("<text class=\"title\" x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">{}</text>\n",
                   n2(f.width / 2), xml_escape(title));
  return s;
}

// Axis lines, grid lines, tick labels and axis titles.
void axes(std::string& s, const Frame& f, const Scale& xs, const Scale& ys,
          const std::vector<std::pair<double, std::string>>& xticks,
          const std::vector<std::pair<double, std::string>>& yticks, const std::string& x_label,
          const std::string& y_label) {
  s += "<g class=\"axis\" stroke=\"#888888\" stroke-width=\"1\">\n";
  s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>\n", n2(f.x0()), n2(f.y0()), n2(f.x1()));
  s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", n2(f.x0()), n2(f.y0()), n2(f.y1()));
  for (const auto& [v, label] : yticks) {
    const double y = ys(v);
    s += fmt::format("<line class=\"grid\" x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#e5e5e5\"/>\n", n2(f.x0()),
                     n2(y), n2(f.x1()));
  }
  for (const auto& [v, label] : xticks) {
    const double x = xs(v);
    s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", n2(x), n2(f.y0()), n2(f.y0() + 4));
  }
  s += "</g>\n<g class=\"ticks\" fill=\"#333333\">\n";
  for (const auto& [v, label] : yticks) {
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", n2(f.x0() - 6), n2(ys(v) + 4),
                     xml_escape(label));
  }
  for (const auto& [v, label] : xticks) {
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", n2(xs(v)), n2(f.y0() + 16),
                     xml_escape(label));
  }
  s += "</g>\n";
  if (!x_label.empty()) {
    s += fmt::format("<text class=\"x-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     n2((f.x0() + f.x1()) / 2), n2(f.height - 8), xml_escape(x_label));
  }
  if (!y_label.empty()) {
    const double cy = (f.y0() + f.y1()) / 2;
    s += fmt::format("<text class=\"y-label\" x=\"14\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {0})\">{1}</text>\n",
                     n2(cy), xml_escape(y_label));
  }
}

std::vector<std::pair<double, std::string>> labelled(const std::vector<double>& ticks) {
  std::vector<std::pair<double, std::string>> out;
  for (const double t : ticks) out.emplace_back(t, format_number(t));
  return out;
}

std::string dash(const Marker& m) { return m.dashed ? " stroke-dasharray=\"5 3\"" : ""; }

void legend(std::string& s, const Frame& f, const std::vector<std::string>& names) {
  if (names.size() < 2) return;
  double x = f.x0() + 8;
  const double y = f.y1() - 8;
  s += "<g class=\"legend\">\n";
  for (size_t i = 0; i < names.size(); ++i) {
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>\n", n2(x), n2(y - 9), color(i));
    s += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", n2(x + 14), n2(y), xml_escape(names[i]));
    x += 24 + 6.2 * static_cast<double>(names[i].size());
  }
  s += "</g>\n";
}

}  // namespace

std::string histogram_svg(const HistogramChart& chart) {
  Frame f;
  // A histogram over a range that is not finite has no bin edges: axes and a note, no bars.
  const bool finite_range = std::isfinite(chart.lo) && std::isfinite(chart.hi);
  const size_t bins = finite_range ? chart.counts.size() : 0;
  double dlo = finite_range ? chart.lo : 0.0, dhi = finite_range ? chart.hi : 1.0;
  for (const Marker& m : chart.markers) {
    if (std::isfinite(m.position)) {
      dlo = std::min(dlo, m.position);
      dhi = std::max(dhi, m.position);
    }
  }
  widen(dlo, dhi);
  const auto height_of = [&](int64_t c) {
    return chart.log_counts ? std::log1p(static_cast<double>(c)) : static_cast<double>(c);
  };
  int64_t top = 0;
  for (const int64_t c : chart.counts) top = std::max(top, c);
  const double hmax = std::max(height_of(top), chart.log_counts ? std::log1p(1.0) : 1.0);
  const Scale xs{dlo, dhi, f.x0(), f.x1()};
  const Scale ys{0.0, hmax * 1.08, f.y0(), f.y1()};
  std::vector<std::pair<double, std::string>> yticks;
  if (chart.log_counts) {
    for (double c = 1; std::log1p(c) <= hmax * 1.08; c *= 10) yticks.emplace_back(std::log1p(c), format_number(c));
    yticks.emplace(yticks.begin(), 0.0, "0");
  } else {
    yticks = labelled(nice_ticks(0.0, hmax, 4));
  }
  std::string s = open_svg(f, chart.title);
  axes(s, f, xs, ys, labelled(nice_ticks(dlo, dhi, 6)), yticks, chart.x_label,
       chart.log_counts ? "count (log scale)" : "count");
  if (!finite_range) {
    s += fmt::format("<text class=\"note\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">no bars: the range of the values is not finite</text>\n",
                     n2((f.x0() + f.x1()) / 2), n2((f.y0() + f.y1()) / 2));
  }
  s += "<g class=\"bars\" fill=\"#4c78a8\">\n";
  const double w = bins ? (chart.hi - chart.lo) / static_cast<double>(bins) : 0.0;  // bins > 0: a finite range
  for (size_t i = 0; i < bins; ++i) {
    double x0 = xs(chart.lo + w * static_cast<double>(i));
    double x1 = xs(chart.lo + w * static_cast<double>(i + 1));
    if (w == 0.0) {  // every value in one bin at lo
      x0 = xs(chart.lo) - 2;
      x1 = xs(chart.lo) + 2;
    }
    const double y = ys(height_of(chart.counts[i]));
    s += fmt::format("<rect class=\"bar\" data-value=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n",
                     chart.counts[i], n2(x0), n2(y), n2(std::max(0.5, x1 - x0 - 0.3)), n2(f.y0() - y));
  }
  s += "</g>\n<g class=\"markers\">\n";
  for (size_t j = 0; j < chart.markers.size(); ++j) {
    const Marker& m = chart.markers[j];
    if (!std::isfinite(m.position)) continue;
    const double x = xs(m.position);
    s += fmt::format("<line class=\"marker\" data-x=\"{0}\" x1=\"{2}\" y1=\"{3}\" x2=\"{2}\" y2=\"{4}\" stroke=\"{1}\" stroke-width=\"1.5\"{5}/>\n",
                     m.position, m.color, n2(x), n2(f.y0()), n2(f.y1()), dash(m));
    s += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\" font-size=\"10\" text-anchor=\"{}\">{}</text>\n", n2(x + (x > f.x1() - 60 ? -3 : 3)),
                     n2(f.y1() + 10 + 11 * static_cast<double>(j % 3)), m.color, x > f.x1() - 60 ? "end" : "start",
                     xml_escape(m.label));
  }
  s += "</g>\n</svg>\n";
  return s;
}

std::string line_chart_svg(const LineChart& chart) {
  Frame f;
  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  for (const Series& se : chart.series) {
    for (size_t i = 0; i < std::min(se.x.size(), se.y.size()); ++i) {
      if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i])) continue;
      xlo = std::min(xlo, se.x[i]);
      xhi = std::max(xhi, se.x[i]);
      ylo = std::min(ylo, se.y[i]);
      yhi = std::max(yhi, se.y[i]);
    }
  }
  // Non-finite tick positions and horizontal lines are left out (they have no place on the axes).
  std::vector<std::pair<double, std::string>> x_tick_labels;
  for (const auto& [x, label] : chart.x_tick_labels) {
    if (!std::isfinite(x)) continue;
    x_tick_labels.emplace_back(x, label);
    xlo = std::min(xlo, x);
    xhi = std::max(xhi, x);
  }
  std::vector<Marker> hlines;
  for (const Marker& m : chart.hlines) {
    if (!std::isfinite(m.position)) continue;
    hlines.push_back(m);
    ylo = std::min(ylo, m.position);
    yhi = std::max(yhi, m.position);
  }
  if (!std::isfinite(xlo)) xlo = 0, xhi = 1;
  if (!std::isfinite(ylo)) ylo = 0, yhi = 1;
  if (chart.y_from_zero) ylo = std::min(ylo, 0.0);
  widen(xlo, xhi);
  widen(ylo, yhi);
  const double xpad = (xhi - xlo) * 0.04, ypad = (yhi - ylo) * 0.08;
  const Scale xs{xlo - xpad, xhi + xpad, f.x0(), f.x1()};
  const Scale ys{chart.y_from_zero && ylo >= 0 ? 0.0 : ylo - ypad, yhi + ypad, f.y0(), f.y1()};
  std::string s = open_svg(f, chart.title);
  const auto xticks = x_tick_labels.empty() ? labelled(nice_ticks(xlo, xhi, 6)) : x_tick_labels;
  axes(s, f, xs, ys, xticks, labelled(nice_ticks(ys.d0, ys.d1, 5)), chart.x_label, chart.y_label);
  for (size_t j = 0; j < hlines.size(); ++j) {
    const Marker& m = hlines[j];
    const double y = ys(m.position);
    s += fmt::format("<line class=\"marker\" data-y=\"{0}\" x1=\"{1}\" y1=\"{2}\" x2=\"{3}\" y2=\"{2}\" stroke=\"{4}\" stroke-width=\"1.2\"{5}/>\n",
                     m.position, n2(f.x0()), n2(y), n2(f.x1()), m.color, dash(m));
    // Labels alternate above and below their lines, so two close lines keep readable labels.
    s += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>\n", n2(f.x1() - 2),
                     n2(j % 2 ? y + 11 : y - 3), m.color, xml_escape(m.label));
  }
  std::vector<std::string> names;
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const Series& se = chart.series[k];
    names.push_back(se.name);
    std::string points;
    std::string circles;
    for (size_t i = 0; i < std::min(se.x.size(), se.y.size()); ++i) {
      if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i])) continue;
      points += fmt::format("{}{},{}", points.empty() ? "" : " ", n2(xs(se.x[i])), n2(ys(se.y[i])));
      circles += fmt::format("<circle class=\"point\" data-x=\"{}\" data-y=\"{}\" cx=\"{}\" cy=\"{}\" r=\"3\"/>\n", se.x[i],
                             se.y[i], n2(xs(se.x[i])), n2(ys(se.y[i])));
    }
    s += fmt::format("<g class=\"series\" data-name=\"{}\" fill=\"{}\" stroke=\"{}\">\n", xml_escape(se.name), color(k), color(k));
    if (!points.empty()) s += "<polyline fill=\"none\" stroke-width=\"2\" points=\"" + points + "\"/>\n";
    s += circles + "</g>\n";
  }
  legend(s, f, names);
  s += "</svg>\n";
  return s;
}

std::string bar_chart_svg(const BarChart& chart) {
  Frame f;
  const size_t n = chart.categories.size(), m = chart.series.size();
  const bool rotate = n > 6;
  if (rotate) f.bottom = 90;
  double lo = 0.0, hi = 0.0;
  for (const Series& se : chart.series) {
    for (const double v : se.y) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (lo == 0.0 && hi == 0.0) hi = 1.0;  // all zero (or none): an axis from 0, not -1..1
  widen(lo, hi);
  const Scale xs{0.0, static_cast<double>(std::max<size_t>(n, 1)), f.x0(), f.x1()};
  const Scale ys{lo, hi * 1.12, f.y0(), f.y1()};
  std::string s = open_svg(f, chart.title);
  axes(s, f, xs, ys, {}, labelled(nice_ticks(lo, hi * 1.12, 5)), "", chart.y_label);
  const double group = (f.x1() - f.x0()) / static_cast<double>(std::max<size_t>(n, 1));
  const double bar = group * 0.8 / static_cast<double>(std::max<size_t>(m, 1));
  for (size_t k = 0; k < m; ++k) {
    s += fmt::format("<g class=\"series\" data-name=\"{}\" fill=\"{}\">\n", xml_escape(chart.series[k].name), color(k));
    for (size_t c = 0; c < n && c < chart.series[k].y.size(); ++c) {
      const double v = chart.series[k].y[c];
      if (!std::isfinite(v)) continue;
      const double x = f.x0() + group * (static_cast<double>(c) + 0.1) + bar * static_cast<double>(k);
      const double y0 = ys(0.0), y1 = ys(v);
      s += fmt::format("<rect class=\"bar\" data-value=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n", v, n2(x),
                       n2(std::min(y0, y1)), n2(bar - 1), n2(std::fabs(y0 - y1)));
      s += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#333333\" font-size=\"{}\" text-anchor=\"middle\">{}</text>\n",
                       n2(x + bar / 2), n2(std::min(y0, y1) - 3), m > 2 ? 8 : 10, xml_escape(format_number(v, chart.digits) + chart.unit));
    }
    s += "</g>\n";
  }
  s += "<g class=\"categories\" fill=\"#333333\">\n";
  for (size_t c = 0; c < n; ++c) {
    const double x = f.x0() + group * (static_cast<double>(c) + 0.5);
    if (rotate) {
      s += fmt::format("<text x=\"{0}\" y=\"{1}\" text-anchor=\"end\" transform=\"rotate(-35 {0} {1})\">{2}</text>\n", n2(x),
                       n2(f.y0() + 14), xml_escape(chart.categories[c]));
    } else {
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", n2(x), n2(f.y0() + 16),
                       xml_escape(chart.categories[c]));
    }
  }
  s += "</g>\n";
  std::vector<std::string> names;
  for (const Series& se : chart.series) names.push_back(se.name);
  legend(s, f, names);
  s += "</svg>\n";
  return s;
}

std::string heatmap_svg(const Heatmap& map) {
  const size_t rows = map.values.size();
  size_t cols = map.column_names.size();
  for (const auto& r : map.values) cols = std::max(cols, r.size());
  const double cell = 40.0, left = 110.0, top = 100.0;
  Frame f;
  f.width = left + cell * static_cast<double>(cols) + 20;
  f.height = top + cell * static_cast<double>(rows) + 30;
  std::string s = open_svg(f, map.title);
  s += fmt::format("<text class=\"x-label\" x=\"{}\" y=\"40\" text-anchor=\"middle\">{}</text>\n",
                   n2(left + cell * static_cast<double>(cols) / 2), xml_escape(map.column_label));
  s += fmt::format("<text class=\"y-label\" x=\"14\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {0})\">{1}</text>\n",
                   n2(top + cell * static_cast<double>(rows) / 2), xml_escape(map.row_label));
  for (size_t c = 0; c < cols && c < map.column_names.size(); ++c) {
    const double x = left + cell * (static_cast<double>(c) + 0.5);
    s += fmt::format("<text x=\"{0}\" y=\"{1}\" text-anchor=\"start\" transform=\"rotate(-45 {0} {1})\">{2}</text>\n", n2(x),
                     n2(top - 6), xml_escape(map.column_names[c]));
  }
  s += "<g class=\"cells\" font-size=\"10\">\n";
  for (size_t r = 0; r < rows; ++r) {
    const double y = top + cell * static_cast<double>(r);
    if (r < map.row_names.size()) {
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", n2(left - 6), n2(y + cell / 2 + 4),
                       xml_escape(map.row_names[r]));
    }
    int64_t sum = 0;
    for (const int64_t v : map.values[r]) sum += std::max<int64_t>(v, 0);
    for (size_t c = 0; c < map.values[r].size(); ++c) {
      const int64_t v = map.values[r][c];
      const double t = sum > 0 ? std::clamp(static_cast<double>(v) / static_cast<double>(sum), 0.0, 1.0) : 0.0;
      // White to a dark blue, by the share of the row.
      const int red = static_cast<int>(std::lround(255 - t * (255 - 8)));
      const int green = static_cast<int>(std::lround(255 - t * (255 - 48)));
      const int blue = static_cast<int>(std::lround(255 - t * (255 - 107)));
      const double x = left + cell * static_cast<double>(c);
      s += fmt::format("<rect class=\"cell\" data-value=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#{:02x}{:02x}{:02x}\" stroke=\"#dddddd\"/>\n",
                       v, n2(x), n2(y), n2(cell), n2(cell), red, green, blue);
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n", n2(x + cell / 2),
                       n2(y + cell / 2 + 4), t > 0.5 ? "#ffffff" : "#222222", v);
    }
  }
  s += "</g>\n</svg>\n";
  return s;
}

}  // namespace pocket::report
