// Reports: SVG charts made by the toolkit and a document written as Markdown and as one
// self-contained HTML page (figures inline as <svg>, styles inline, no external resources).
//
// Every chart is a plain SVG 1.1 string with a viewBox, so it scales in a browser and in a Markdown
// viewer. Elements carry classes that say what they are ("bar", "marker", "series", "cell", "axis"),
// and the data value they stand for in a data-value (bars, cells) or data-x / data-y (markers)
// attribute, so tests and readers can check a figure against the numbers it shows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pocket::report {

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string xml_escape(const std::string& text);
// A short, readable number: up to `digits` significant digits, no trailing zeros ("0.00123", "1.5e+06").
std::string format_number(double value, int digits = 4);
// About `count` "nice" tick positions (steps of 1, 2 or 5 times a power of ten) covering [lo, hi].
// lo == hi gives that one value. Non-finite bounds give no ticks.
std::vector<double> nice_ticks(double lo, double hi, int count = 5);

// A vertical (histograms, line charts) or horizontal (line charts) reference line.
struct Marker {
  double position = 0.0;  // x for vertical markers, y for horizontal ones
  std::string label;      // drawn next to the line
  std::string color = "#c0392b";
  bool dashed = true;
};

// A histogram from precomputed equal-width bins over [lo, hi]: one <rect class="bar"> per bin
// (an empty bin has height 0). Heights are counts, or log(1 + count) with log_counts (a ReLU's spike
// of zeros otherwise flattens everything else). The x axis spans [lo, hi] widened to include every
// marker, so a mu - 3 sigma bound below the smallest value is still drawn where it falls. A range
// that is not finite draws no bars (a <text class="note"> says so); non-finite markers are left out.
struct HistogramChart {
  std::string title;
  std::string x_label;
  double lo = 0.0, hi = 0.0;
  std::vector<int64_t> counts;
  bool log_counts = false;
  std::vector<Marker> markers;  // vertical lines at x = position
};
std::string histogram_svg(const HistogramChart& chart);

struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
};

// Lines with points (<circle class="point">) per series and a legend. x_tick_labels, if not empty,
// replaces the numeric x ticks by labels at the given positions. Horizontal markers at y = position.
// Non-finite points, tick positions and markers are left out.
struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
  std::vector<std::pair<double, std::string>> x_tick_labels;
  std::vector<Marker> hlines;
  bool y_from_zero = false;  // the y axis starts at 0 (else it fits the data and the markers)
};
std::string line_chart_svg(const LineChart& chart);

// Grouped vertical bars: one group per category, one bar per series (series[i].y[category]; the
// x of a Series is not used). Each bar is a <rect class="bar" data-value="..."> with its value
// written above it. The y axis starts at 0 unless a value is negative.
struct BarChart {
  std::string title;
  std::string y_label;
  std::vector<std::string> categories;
  std::vector<Series> series;
  std::string unit;  // appended to the value labels ("" for none)
  int digits = 4;    // significant digits of the value labels (format_number)
};
std::string bar_chart_svg(const BarChart& chart);

// A matrix as coloured cells (<rect class="cell" data-value="...">) with the value written in each,
// rows top to bottom, columns left to right; colour by value / row sum (a confusion matrix reads
// as per-class rates).
struct Heatmap {
  std::string title;
  std::string row_label;
  std::string column_label;
  std::vector<std::string> row_names;
  std::vector<std::string> column_names;
  std::vector<std::vector<int64_t>> values;  // [row][column]
};
std::string heatmap_svg(const Heatmap& map);

// A document of headings, paragraphs, lists, tables, preformatted text and figures, written as
// Markdown (figures as files referenced by relative path) and as one HTML page (figures inline).
// Text is plain: the writers escape it; `code` in backticks becomes <code> in HTML.
class Document {
 public:
  explicit Document(std::string title);

  void heading(const std::string& text);     // a section (## in Markdown, <h2> in HTML)
  void subheading(const std::string& text);  // ### / <h3>
  void paragraph(const std::string& text);
  void bullets(const std::vector<std::string>& items);
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
  void preformatted(const std::string& text);
  // `name` is the figure's file name without extension ([a-z0-9_-]); `svg` from the charts above.
  // A name already taken by an earlier figure gets "-2", "-3", ... appended (two tensors whose
  // names differ only in case or punctuation); returns the name the figure got.
  std::string figure(const std::string& name, const std::string& caption, const std::string& svg);

  struct FigureFile {
    std::string name;
    std::string svg;
  };
  const std::vector<FigureFile>& figures() const { return figures_; }

  // Figures as ![caption](figure_dir/name.svg).
  std::string markdown(const std::string& figure_dir) const;
  // One page: inline CSS, a table of contents, every figure as an inline <svg>; nothing it loads.
  std::string html() const;

 private:
  enum class Kind : uint8_t { Heading, Subheading, Paragraph, Bullets, Table, Preformatted, Figure };
  struct Block {
    Kind kind = Kind::Paragraph;
    std::string text;                           // heading/paragraph/preformatted text, figure caption
    std::vector<std::string> items;             // bullets, table header
    std::vector<std::vector<std::string>> rows; // table rows
    size_t figure = 0;                          // index into figures_
  };
  std::string title_;
  std::vector<Block> blocks_;
  std::vector<FigureFile> figures_;
};

}  // namespace pocket::report
