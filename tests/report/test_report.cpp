// The report writers: SVG charts (bar counts, marker positions, well-formed XML, escaping) and the
// Markdown / HTML document.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <set>
#include <string>

#include "pocket/report.hpp"
#include "support/xml_check.hpp"

namespace pocket::report {
namespace {

std::unique_ptr<test::XmlElement> parse_ok(const std::string& doc) {
  std::string error;
  auto root = test::XmlChecker(doc).parse(&error);
  EXPECT_NE(root, nullptr) << error << "\n" << doc.substr(0, 400);
  return root;
}

std::vector<const test::XmlElement*> with_class(const test::XmlElement& root, const std::string& tag, const std::string& cls) {
  std::vector<const test::XmlElement*> out;
  for (const auto* e : root.all(tag)) {
    if (e->attr("class") == cls) out.push_back(e);
  }
  return out;
}

double attr_num(const test::XmlElement* e, const std::string& key) { return std::stod(e->attr(key)); }

TEST(ReportNumbers, FormatNumber) {
  EXPECT_EQ(format_number(0.0), "0");
  EXPECT_EQ(format_number(-0.0), "0");
  EXPECT_EQ(format_number(0.001234567), "0.001235");
  EXPECT_EQ(format_number(12.5), "12.5");
  EXPECT_EQ(format_number(1.5e6), "1.5e+06");
  EXPECT_EQ(format_number(53.27, 3), "53.3");
  EXPECT_EQ(format_number(std::nan("")), "nan");
  EXPECT_EQ(format_number(-INFINITY), "-inf");
}

TEST(ReportNumbers, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0}));
  EXPECT_EQ(nice_ticks(-0.37, 0.41, 4), (std::vector<double>{-0.2, 0, 0.2, 0.4}));
  EXPECT_EQ(nice_ticks(0, 100, 4), (std::vector<double>{0, 50, 100}));
  EXPECT_EQ(nice_ticks(3, 3), (std::vector<double>{3}));
  EXPECT_TRUE(nice_ticks(0, INFINITY).empty());
  for (const double t : nice_ticks(-1.3e-3, 2.9e-3, 6)) {
    EXPECT_GE(t, -1.3e-3 - 1e-12);
    EXPECT_LE(t, 2.9e-3 + 1e-12);
  }
}

// A well-formed SVG without a "nan" or "inf" anywhere (coordinates, data attributes, labels).
void expect_finite_svg(const std::string& svg, const std::string& what) {
  EXPECT_NE(parse_ok(svg), nullptr) << what;
  EXPECT_FALSE(std::regex_search(svg, std::regex(R"(\b(nan|inf)\b)", std::regex::icase))) << what << "\n" << svg;
}

TEST(ReportNumbers, NiceTicksOfAFewUlpsEnd) {
  const double one_ulp = std::nextafter(1.0, 2.0) - 1.0;
  for (const double span : {one_ulp, 3 * one_ulp, 1e-15}) {
    const auto ticks = nice_ticks(1.0, 1.0 + span, 5);
    EXPECT_FALSE(ticks.empty());
    EXPECT_LE(ticks.size(), 60u);
  }
  const double big = 1e17;
  EXPECT_LE(nice_ticks(big, std::nextafter(std::nextafter(big, 2 * big), 2 * big), 5).size(), 60u);
  EXPECT_LE(nice_ticks(-1e-300, 1e-300, 5).size(), 60u);
  HistogramChart h;
  h.lo = 1.0;
  h.hi = 1.0 + 2 * one_ulp;
  h.counts = {3, 4};
  expect_finite_svg(histogram_svg(h), "histogram over a few ulps");
}

TEST(ReportHistogram, NonFiniteRangeDrawsNoBarsAndNoNan) {
  for (const auto& [lo, hi] : std::vector<std::pair<double, double>>{
           {std::nan(""), 1.0}, {0.0, std::nan("")}, {-INFINITY, INFINITY}, {0.0, INFINITY}}) {
    HistogramChart h;
    h.title = "weights";
    h.lo = lo;
    h.hi = hi;
    h.counts = {1, 2, 3};
    h.markers = {{std::nan(""), "mean"}, {0.5, "half"}, {INFINITY, "max"}};
    const std::string svg = histogram_svg(h);
    expect_finite_svg(svg, "histogram lo " + std::to_string(lo) + " hi " + std::to_string(hi));
    const auto root = parse_ok(svg);
    ASSERT_NE(root, nullptr);
    EXPECT_TRUE(with_class(*root, "rect", "bar").empty());
    EXPECT_EQ(with_class(*root, "text", "note").size(), 1u);
  }
}

TEST(ReportLineChart, NonFiniteReferenceLinesAndTicksAreLeftOut) {
  LineChart c;
  c.title = "accuracy";
  c.series = {{"a", {1, 2, std::nan("")}, {50, 60, 70}}};
  c.hlines = {{std::nan(""), "unknown"}, {INFINITY, "too high"}, {55, "float"}};
  c.x_tick_labels = {{1, "one"}, {INFINITY, "never"}, {2, "two"}};
  const std::string svg = line_chart_svg(c);
  expect_finite_svg(svg, "line chart");
  const auto root = parse_ok(svg);
  ASSERT_NE(root, nullptr);
  ASSERT_EQ(with_class(*root, "line", "marker").size(), 1u);
  EXPECT_EQ(with_class(*root, "line", "marker")[0]->attr("data-y"), "55");
  EXPECT_EQ(svg.find("never"), std::string::npos);
}

TEST(ReportBarChart, AllZeroValuesGiveAnAxisFromZero) {
  BarChart c;
  c.title = "bytes";
  c.categories = {"a", "b"};
  c.series = {{"s", {}, {0.0, 0.0}}};
  const std::string svg = bar_chart_svg(c);
  expect_finite_svg(svg, "all-zero bar chart");
  const auto root = parse_ok(svg);
  ASSERT_NE(root, nullptr);
  // No tick below 0: the axis starts at 0.
  for (const auto* t : root->all("text")) {
    const std::string v = t->text;
    EXPECT_FALSE(!v.empty() && v[0] == '-' && v.size() > 1 && std::isdigit(static_cast<unsigned char>(v[1]))) << v << "\n" << svg;
  }
  // The zero bars sit on the x axis, at the bottom of the plot.
  const auto bars = with_class(*root, "rect", "bar");
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_NEAR(attr_num(bars[0], "y"), 320 - 56, 0.01);
  BarChart none;
  none.title = "empty";
  expect_finite_svg(bar_chart_svg(none), "bar chart without series");
}

TEST(ReportXml, Escape) {
  EXPECT_EQ(xml_escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
}

TEST(ReportHistogram, OneBarPerBinAndMarkersAtTheirPositions) {
  HistogramChart h;
  h.title = "conv1.weight <w>";
  h.x_label = "value";
  h.lo = -1.0;
  h.hi = 1.0;
  h.counts = {1, 0, 5, 20, 40, 20, 5, 0, 0, 1};
  const double mu = 0.05, sigma = 0.3;
  for (int k = 1; k <= 3; ++k) {
    h.markers.push_back({mu - k * sigma, "mu-" + std::to_string(k) + "s"});
    h.markers.push_back({mu + k * sigma, "mu+" + std::to_string(k) + "s"});
  }
  h.markers.push_back({-1.5, "beyond the data"});
  const std::string svg = histogram_svg(h);
  const auto root = parse_ok(svg);
  ASSERT_NE(root, nullptr);
  const auto bars = with_class(*root, "rect", "bar");
  ASSERT_EQ(bars.size(), h.counts.size());
  for (size_t i = 0; i < bars.size(); ++i) {
    EXPECT_EQ(std::stoll(bars[i]->attr("data-value")), h.counts[i]);
    if (h.counts[i] == 0) {
      EXPECT_EQ(attr_num(bars[i], "height"), 0.0);
    }
    if (i > 0) {
      EXPECT_GT(attr_num(bars[i], "x"), attr_num(bars[i - 1], "x"));  // left to right
    }
  }
  // The tallest bar is the bin with the largest count.
  EXPECT_GT(attr_num(bars[4], "height"), attr_num(bars[3], "height"));
  EXPECT_EQ(attr_num(bars[3], "height"), attr_num(bars[5], "height"));

  const auto markers = with_class(*root, "line", "marker");
  ASSERT_EQ(markers.size(), h.markers.size());
  // Pixel x is linear in the marker's value: check every marker against the first two.
  const double v0 = h.markers[0].position, v1 = h.markers[1].position;
  const double p0 = attr_num(markers[0], "x1"), p1 = attr_num(markers[1], "x1");
  for (size_t j = 0; j < markers.size(); ++j) {
    EXPECT_DOUBLE_EQ(std::stod(markers[j]->attr("data-x")), h.markers[j].position);
    const double expected = p0 + (h.markers[j].position - v0) * (p1 - p0) / (v1 - v0);
    EXPECT_NEAR(attr_num(markers[j], "x1"), expected, 0.02) << j;
    EXPECT_EQ(markers[j]->attr("x1"), markers[j]->attr("x2"));  // vertical
  }
  // The marker beyond the data widened the axis: it is left of the first bar.
  EXPECT_LT(attr_num(markers.back(), "x1"), attr_num(bars[0], "x"));
  // The bin edges line up with the same linear map: bar 0 starts at x(-1).
  const double x_of_lo = p0 + (-1.0 - v0) * (p1 - p0) / (v1 - v0);
  EXPECT_NEAR(attr_num(bars[0], "x"), x_of_lo, 0.02);
  // The title is escaped, not markup.
  EXPECT_NE(svg.find("conv1.weight &lt;w&gt;"), std::string::npos);
}

TEST(ReportHistogram, LogCountsAndDegenerateRange) {
  HistogramChart h;
  h.title = "relu";
  h.lo = h.hi = 0.0;
  h.counts = {1000};
  h.log_counts = true;
  const auto root = parse_ok(histogram_svg(h));
  ASSERT_NE(root, nullptr);
  const auto bars = with_class(*root, "rect", "bar");
  ASSERT_EQ(bars.size(), 1u);
  EXPECT_GT(attr_num(bars[0], "height"), 0.0);
  EXPECT_GT(attr_num(bars[0], "width"), 0.0);
}

TEST(ReportLineChart, PointsAndReferenceLines) {
  LineChart c;
  c.title = "accuracy";
  c.series = {{"per tensor", {1, 2, 3}, {10, 40, 50}}, {"per channel", {1, 2, 3}, {30, 45, 52}}};
  c.hlines = {{53.0, "float 53%"}};
  c.x_tick_labels = {{1, "1 sigma"}, {2, "2 sigma"}, {3, "3 sigma"}};
  const std::string svg = line_chart_svg(c);
  const auto root = parse_ok(svg);
  ASSERT_NE(root, nullptr);
  const auto points = with_class(*root, "circle", "point");
  ASSERT_EQ(points.size(), 6u);
  // Larger y is higher on the page (smaller pixel y).
  EXPECT_LT(attr_num(points[2], "cy"), attr_num(points[0], "cy"));
  const auto lines = with_class(*root, "line", "marker");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_LT(attr_num(lines[0], "y1"), attr_num(points[2], "cy"));  // 53 is above 50
  EXPECT_NE(svg.find(">2 sigma<"), std::string::npos);
  EXPECT_EQ(with_class(*root, "g", "series").size(), 2u);
}

TEST(ReportBarChart, BarHeightsProportionalToValues) {
  BarChart b;
  b.title = "memory";
  b.categories = {"float", "int8", "arena"};
  b.series = {{"bytes", {}, {4000, 1000, 0}}};
  b.unit = " B";
  const auto root = parse_ok(bar_chart_svg(b));
  ASSERT_NE(root, nullptr);
  const auto bars = with_class(*root, "rect", "bar");
  ASSERT_EQ(bars.size(), 3u);
  EXPECT_NEAR(attr_num(bars[0], "height") / attr_num(bars[1], "height"), 4.0, 1e-3);
  EXPECT_EQ(attr_num(bars[2], "height"), 0.0);
  EXPECT_EQ(bars[1]->attr("data-value"), "1000");
}

TEST(ReportBarChart, NegativeValuesGoBelowTheAxis) {
  BarChart b;
  b.categories = {"a", "b"};
  b.series = {{"dB", {}, {20, -5}}, {"other", {}, {10, 3}}};
  const auto root = parse_ok(bar_chart_svg(b));
  ASSERT_NE(root, nullptr);
  const auto bars = with_class(*root, "rect", "bar");
  ASSERT_EQ(bars.size(), 4u);
  // The negative bar starts where the positive ones end (the zero line).
  EXPECT_NEAR(attr_num(bars[1], "y"), attr_num(bars[0], "y") + attr_num(bars[0], "height"), 0.02);
}

TEST(ReportHeatmap, CellPerEntryColouredByRowShare) {
  Heatmap m;
  m.title = "confusion";
  m.row_names = {"cat", "dog"};
  m.column_names = {"cat", "dog"};
  m.values = {{90, 10}, {0, 5}};
  const auto root = parse_ok(heatmap_svg(m));
  ASSERT_NE(root, nullptr);
  const auto cells = with_class(*root, "rect", "cell");
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(cells[0]->attr("data-value"), "90");
  EXPECT_EQ(cells[2]->attr("fill"), "#ffffff");  // 0 of the row
  EXPECT_EQ(cells[3]->attr("fill"), "#08306b");  // all of the row: the darkest colour
  EXPECT_NE(cells[0]->attr("fill"), cells[1]->attr("fill"));
}

TEST(ReportDocument, MarkdownAndHtml) {
  Document d("Lab <report>");
  d.heading("Training");
  d.paragraph("Accuracy `53.2 %` of a_b*c");
  d.bullets({"one", "two"});
  d.table({"layer", "value"}, {{"conv1", "0.5"}, {"a|b", "1"}});
  d.preformatted("x < y\n");
  HistogramChart h;
  h.title = "w";
  h.lo = 0;
  h.hi = 1;
  h.counts = {1, 2};
  d.figure("conv1-weights", "Weights of conv1", histogram_svg(h));
  const std::string md = d.markdown("figures");
  EXPECT_NE(md.find("# Lab \\<report\\>"), std::string::npos) << md;
  EXPECT_NE(md.find("## Training"), std::string::npos);
  EXPECT_NE(md.find("Accuracy `53.2 %` of a\\_b\\*c"), std::string::npos) << md;
  EXPECT_NE(md.find("| a\\|b | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("![Weights of conv1](figures/conv1-weights.svg)"), std::string::npos) << md;
  EXPECT_NE(md.find("```\nx < y\n```"), std::string::npos);
  ASSERT_EQ(d.figures().size(), 1u);
  EXPECT_EQ(d.figures()[0].name, "conv1-weights");

  const std::string html = d.html();
  const auto root = parse_ok(html);
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->all("svg").size(), 1u);
  EXPECT_EQ(root->all("table").size(), 1u);
  EXPECT_EQ(root->all("code").size(), 2u);  // the inline span and the preformatted block
  EXPECT_NE(html.find("<code>53.2 %</code>"), std::string::npos);
  EXPECT_NE(html.find("<title>Lab &lt;report&gt;</title>"), std::string::npos);
  // The table of contents links to the section.
  const auto links = root->all("a");
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0]->attr("href"), "#s1");
}

// Two values whose names differ only in case or punctuation ("relu1" renamed "Pool1" next to
// "pool1", "a.b" next to "a_b") give the same figure name: each figure gets a file of its own.
TEST(ReportDocument, FigureNamesAreMadeUnique) {
  Document d("t");
  HistogramChart h;
  h.lo = 0;
  h.hi = 1;
  h.counts = {1, 2};
  EXPECT_EQ(d.figure("activations-a-b", "a.b", histogram_svg(h)), "activations-a-b");
  EXPECT_EQ(d.figure("activations-a-b", "a_b", histogram_svg(h)), "activations-a-b-2");
  EXPECT_EQ(d.figure("activations-a-b-2", "a-b-2", histogram_svg(h)), "activations-a-b-2-2");
  EXPECT_EQ(d.figure("activations-a-b", "a b", histogram_svg(h)), "activations-a-b-3");
  ASSERT_EQ(d.figures().size(), 4u);
  std::set<std::string> names;
  for (const auto& f : d.figures()) names.insert(f.name);
  EXPECT_EQ(names.size(), 4u);
  const std::string md = d.markdown("figures");
  EXPECT_NE(md.find("](figures/activations-a-b-2.svg)"), std::string::npos) << md;
  EXPECT_NE(md.find("![a b](figures/activations-a-b-3.svg)"), std::string::npos) << md;
  EXPECT_NE(parse_ok(d.html()), nullptr);
}

TEST(ReportDocument, UnmatchedBacktickStaysText) {
  Document d("t");
  d.paragraph("a ` b");
  EXPECT_NE(d.markdown("f").find("a ` b"), std::string::npos);
  EXPECT_NE(d.html().find("<p>a ` b</p>"), std::string::npos);
}

TEST(ReportXmlChecker, RejectsMalformedMarkup) {
  for (const char* bad : {"<a><b></a></b>", "<a x=1></a>", "<a>&nbsp;</a>", "<a>", "<a x=\"1\" x=\"2\"/>", "</a>"}) {
    std::string error;
    EXPECT_EQ(test::XmlChecker(bad).parse(&error), nullptr) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

}  // namespace
}  // namespace pocket::report
