// pocket lab: the report, made from results.json alone (every number shown is one of its numbers).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "lab.hpp"

namespace pocket::cli {
namespace {

using nlohmann::json;
using report::Document;

// The value at `key` of an object; null if `obj` is not an object or has no such key. For what the
// lab does not produce itself (the output of `make size` and `make count` may change).
const json& field(const json& obj, const std::string& key) {
  static const json null_value;
  if (!obj.is_object()) return null_value;
  const auto it = obj.find(key);
  return it == obj.end() ? null_value : *it;
}

// A number, or "n/a" for null (an unknown number) and anything that is not a number.
std::string num(const json& v, int digits = 5) {
  if (!v.is_number()) return "n/a";
  return report::format_number(v.get<double>(), digits);
}
std::string pct(const json& v) { return v.is_number() ? fmt::format("{:.2f}%", v.get<double>()) : "n/a"; }
std::string integer(const json& v) { return v.is_number() ? std::to_string(v.get<int64_t>()) : "n/a"; }
std::string bytes(const json& v) { return v.is_number() ? integer(v) + " B" : "n/a"; }
std::string band(const json& b) { return "[" + num(b["lo"]) + ", " + num(b["hi"]) + "]"; }
std::string str(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }
// The elements of a JSON array (strings as they are, numbers as JSON) joined by `sep`.
std::string join(const json& items, const char* sep) {
  std::string out;
  for (const json& v : items) {
    if (!out.empty()) out.append(sep);
    out.append(str(v));
  }
  return out;
}

// A figure file name from a tensor name ("conv1.weight" -> "weights-conv1-weight").
std::string slug(const std::string& prefix, const std::string& name) {
  std::string s = prefix + "-";
  for (const char c : name) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    s += (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') ? l : '-';
  }
  return s;
}

report::HistogramChart histogram_of(const json& h, const std::string& title, const std::string& x_label) {
  report::HistogramChart c;
  c.title = title;
  c.x_label = x_label;
  c.lo = h["lo"].get<double>();
  c.hi = h["hi"].get<double>();
  c.counts = h["counts"].get<std::vector<int64_t>>();
  return c;
}

const json* find_row(const json& rows, const std::string& name) {
  for (const json& r : rows) {
    if (r["name"] == name) return &r;
  }
  return nullptr;
}

void summary(Document& d, const json& r) {
  d.heading("Summary");
  const json& dev = r["codegen"];
  const json& m4 = dev["cortex-m4"];
  std::vector<std::string> items = {
      fmt::format("Float LeNet-5: top-1 {} on {} CIFAR-10 test images; int8 integer-only engine: {} ({} of the images "
                  "get the same top-1 as the float model).",
                  pct(r["float_eval"]["accuracy"]), integer(r["float_eval"]["images"]), pct(r["int8_eval"]["accuracy"]),
                  pct(r["int8_eval"]["agreement_with_float"])),
      fmt::format("Parameters: {} as float32, {} as int8 (weights, int32 biases, scales); activation arena {}.",
                  bytes(r["footprint"]["float_parameter_bytes"]), bytes(r["footprint"]["int8_parameter_bytes"]),
                  bytes(r["footprint"]["int8_arena_bytes"])),
  };
  if (m4.value("status", "") == "passed") {
    const json& size = field(field(m4, "size"), "values");
    const json& count = field(field(m4, "count"), "values");
    items.push_back(fmt::format("Cortex-M4 (QEMU mps2-an386): the generated C gives the host engine's outputs byte for "
                                "byte on {} test images; flash {} (model without test data {}), RAM {}; {} "
                                "instructions per inference.",
                                integer(dev["images"]), bytes(field(size, "flash")), bytes(field(size, "model_flash")),
                                bytes(field(size, "ram")), integer(field(count, "inference"))));
  } else {
    items.push_back("Cortex-M4: " + m4.value("status", "not run") +
                    (m4.contains("reason") ? ": " + m4["reason"].get<std::string>() : std::string()));
  }
  items.push_back(fmt::format("This run: {}{}, {} s in total; command `{}`.", str(r["tool"]),
                              r["quick"].get<bool>() ? ", --quick (a reduced run: fewer epochs and images)" : "",
                              num(r["total_seconds"], 3), str(r["command"])));
  d.bullets(items);
}

void training(Document& d, const json& r) {
  d.heading("1. Training and accuracy");
  const json& t = r["training"];
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"model", str(r["model"]["path"]) + " (" + integer(r["model"]["parameters"]) + " parameters, input normalisation " +
                               str(r["model"]["normalization"]) + ")"});
  rows.push_back({"source", str(t["source"]) + (t["source"] == "resumed" ? " (--resume: reused the finished training)" : "")});
  for (const char* key : {"recipe", "config", "epochs", "images_per_epoch", "final_loss", "final_train_accuracy", "seconds"}) {
    if (!t.contains(key)) continue;
    const json& v = t[key];
    rows.push_back({key, v.is_number_float() ? num(v) : str(v)});
  }
  d.table({"training", "value"}, rows);
  const json& f = r["float_eval"];
  const json& q = r["int8_eval"];
  d.paragraph(fmt::format("Top-1 accuracy on the first {} test images: float {} ({} correct), int8 engine {}.",
                          integer(f["images"]), pct(f["accuracy"]), integer(f["correct"]), pct(q["accuracy"])));
  std::vector<std::vector<std::string>> classes;
  for (const json& name : f["classes"]) {
    const std::string n = name.get<std::string>();
    classes.push_back({n, pct(f["per_class"][n]), pct(q["per_class"][n])});
  }
  d.table({"class", "float", "int8 engine"}, classes);
}

void weight_section(Document& d, const json& r) {
  d.heading("2. Weight statistics");
  d.paragraph("Every Conv and Linear parameter tensor: its range, mean and standard deviation, the ranges mu +- k sigma and "
              "the share of the values outside them. For a Gaussian the shares would be 31.73 %, 4.55 % and 0.27 %; "
              "heavier tails leave more outside.");
  std::vector<std::vector<std::string>> rows;
  for (const json& w : r["weights"]) {
    rows.push_back({str(w["name"]), integer(w["count"]), num(w["min"]), num(w["max"]), num(w["mean"]), num(w["std"]),
                    band(w["bands"][2]), pct(w["bands"][0]["percent_outside"]), pct(w["bands"][1]["percent_outside"]),
                    pct(w["bands"][2]["percent_outside"])});
  }
  d.table({"tensor", "values", "min", "max", "mean", "std", "mu +- 3 sigma", "outside 1 sigma", "outside 2 sigma",
           "outside 3 sigma"},
          rows);
  d.paragraph("Histograms over [min, max] with the lines mu +- k sigma (k = 1, 2, 3); a line beyond the data widens the axis.");
  for (const json& w : r["weights"]) {
    auto c = histogram_of(w["histogram"], str(w["name"]) + ": " + integer(w["count"]) + " values", "weight value");
    const char* const colors[] = {"#2ca02c", "#ff7f0e", "#d62728"};
    for (size_t k = 0; k < 3; ++k) {
      const json& b = w["bands"][k];
      c.markers.push_back({b["lo"].get<double>(), fmt::format("-{}s", k + 1), colors[k]});
      c.markers.push_back({b["hi"].get<double>(), fmt::format("+{}s", k + 1), colors[k]});
    }
    d.figure(slug("weights", str(w["name"])),
             str(w["name"]) + ": histogram of the weights with mu +- 1, 2, 3 sigma (" +
                 pct(w["bands"][2]["percent_outside"]) + " outside 3 sigma)",
             report::histogram_svg(c));
  }
}

void sweep_section(Document& d, const json& r) {
  const json& s = r["sweep"];
  d.heading("3. Weight quantization: the lab's table and better options");
  d.paragraph(fmt::format("Accuracy of the fake-quantized model (integer values simulated in float) on {} test images; "
                          "calibration for the rows that quantize activations: {}. Clipped: weights outside the range, "
                          "which saturate. Agreement: same top-1 as the float model.",
                          integer(s["images"]), str(s["calibration"])));
  const auto row = [](const json& x, const std::string& label) {
    return std::vector<std::string>{label, pct(x["accuracy"]), num(-x["drop"].get<double>(), 3), pct(x["clipped_weights_percent"]),
                                    pct(x["agreement"])};
  };
  const std::vector<std::string> header = {"setting", "accuracy", "change (points)", "clipped", "agreement"};
  const json& rows = s["rows"];
  std::vector<std::vector<std::string>> lab;
  const std::vector<std::pair<std::string, std::string>> lab_rows = {
      {"float (no quantization)", "none (float)"},
      {"w8 per-tensor minmax (weights only)", "8-bit per tensor, min/max"},
      {"w8 per-tensor 3 sigma (weights only)", "8-bit per tensor, mu +- 3 sigma"},
      {"w8 per-tensor 2 sigma (weights only)", "8-bit per tensor, mu +- 2 sigma"},
      {"w8 per-tensor 1 sigma (weights only)", "8-bit per tensor, mu +- 1 sigma"}};
  for (const auto& [name, label] : lab_rows) {
    if (const json* x = find_row(rows, name)) lab.push_back(row(*x, label));
  }
  d.subheading("The lab's table");
  d.table(header, lab);
  d.subheading("Better options");
  std::vector<std::vector<std::string>> better;
  for (const json& x : rows) {
    bool in_lab = false;
    for (const auto& lr : lab_rows) in_lab = in_lab || x["name"] == lr.first;
    if (!in_lab) better.push_back(row(x, str(x["name"])));
  }
  d.table(header, better);

  report::LineChart c;
  c.title = "Accuracy against the clipping range mu +- k sigma (8-bit weights only)";
  c.x_label = "k (clipping range mu +- k sigma)";
  c.y_label = "top-1 accuracy (%)";
  for (const char* key : {"per_tensor", "per_channel"}) {
    report::Series se;
    se.name = std::string(key) == "per_tensor" ? "per tensor" : "per channel";
    for (const json& p : s["clipping_curve"][key]) {
      se.x.push_back(p["k"].get<double>());
      se.y.push_back(p["accuracy"].get<double>());
    }
    c.series.push_back(se);
  }
  c.hlines.push_back({s["float_accuracy"].get<double>(), "float " + pct(s["float_accuracy"]), "#555555"});
  if (const json* mm = find_row(rows, "w8 per-tensor minmax (weights only)")) {
    c.hlines.push_back({(*mm)["accuracy"].get<double>(), "per-tensor min/max " + pct((*mm)["accuracy"]), "#9467bd"});
  }
  d.figure("accuracy-vs-clipping", "Accuracy against the clipping range: narrow ranges clip too many weights",
           report::line_chart_svg(c));
  std::vector<std::vector<std::string>> curve;
  for (size_t i = 0; i < s["clipping_curve"]["per_tensor"].size(); ++i) {
    const json& a = s["clipping_curve"]["per_tensor"][i];
    const json& b = s["clipping_curve"]["per_channel"][i];
    curve.push_back({num(a["k"]), pct(a["accuracy"]), pct(a["clipped_weights_percent"]), pct(b["accuracy"]),
                     pct(b["clipped_weights_percent"])});
  }
  d.table({"k", "per tensor", "clipped", "per channel", "clipped"}, curve);
}

void activation_section(Document& d, const json& r) {
  const json& a = r["activations"];
  d.heading("4. Activation ranges over the calibration set");
  d.paragraph(fmt::format("Every value of the float graph over the {} calibration images (training split, stratified by "
                          "class, seed {}): the exact range, mean and standard deviation, mu +- 3 sigma and the share of "
                          "the values outside it, and the 99.99th percentile.",
                          integer(a["images"]), integer(a["seed"])));
  std::vector<std::vector<std::string>> rows;
  for (const json& v : a["values"]) {
    rows.push_back({str(v["name"]), str(v["op"]), num(v["min"]), num(v["max"]), num(v["mean"]), num(v["std"]), band(v["band3"]),
                    pct(v["band3"]["percent_outside"]), num(v["percentiles"]["99.99"])});
  }
  d.table({"value", "op", "min", "max", "mean", "std", "mu +- 3 sigma", "outside", "p99.99"}, rows);
  for (const json& v : a["values"]) {
    auto c = histogram_of(v["histogram"], str(v["name"]) + " (" + str(v["op"]) + ")", "activation value");
    c.log_counts = true;
    c.markers.push_back({v["band3"]["lo"].get<double>(), "mu-3s"});
    c.markers.push_back({v["band3"]["hi"].get<double>(), "mu+3s"});
    c.markers.push_back({v["mean"].get<double>(), "mu", "#2ca02c"});
    d.figure(slug("activations", str(v["name"])),
             str(v["name"]) + ": activation histogram over the calibration set (log counts) with mu and mu +- 3 sigma",
             report::histogram_svg(c));
  }
}

void formula_section(Document& d, const json& r) {
  d.heading("5. The integer formula of conv1 and the chained form");
  const json& layers = r["layers"];
  if (layers.empty()) {
    d.paragraph("The model has no convolution or linear layer.");
    return;
  }
  const json& l = layers[0];
  d.paragraph("With real = scale * (q - zero_point), weights symmetric (zero point 0), I = sI (Iq - zI), W1 = sW1 W1q and "
              "O1 = sO1 (O1q - zO1), the convolution O1 = sum W1 I becomes, per output channel c:");
  const bool bias = l["has_bias"].get<bool>();
  d.preformatted(std::string(bias ? "O1q = (sW1[c] * sI / sO1) * (B1q[c] + sum_k W1q[c,k] * (Iq[k] - zI)) + zO1\n"
                                    "(B1q[c] = round(B1[c] / (sW1[c] * sI)), the bias at the accumulator's scale)\n"
                                  : "O1q = (sW1[c] * sI / sO1) * sum_k W1q[c,k] * (Iq[k] - zI) + zO1\n") +
                 "(the lab's O1q = (sW1 sI / sO1) * sum W1q Iq when zI = zO1 = 0" + (bias ? " and there is no bias" : "") +
                 ")\n\n"
                 "integer only: acc = " + (bias ? "B1q[c] + " : "") + "sum_k W1q[c,k] * (Iq[k] - zI)                 (int32)\n"
                 "              O1q = clamp(round(acc * MULTIPLIER[c] / 2^(31 + SHIFT[c])) + zO1, ACT_MIN, ACT_MAX)");
  const double sw = l["weight_scale"][0].get<double>();
  d.paragraph(fmt::format("Filled in with this model's scales ({} = {}, channel 0):", str(l["name"]), str(l["nodes"])));
  d.preformatted(fmt::format(
      "sI  = {}   zI  = {}      (input tensor {})\n"
      "sW1 = {}   (channel 0; per output channel)\n"
      "sO1 = {}   zO1 = {}      (output tensor {})\n"
      "M1  = sW1 * sI / sO1 = {} * {} / {} = {}\n"
      "    = {} * 2^-(31 + {}) = {}   (MULTIPLIER, SHIFT)\n"
      "O1q = clamp(round({} * ({}sum_k W1q[0,k] * (Iq[k] - ({})))) + ({}), {}, {})",
      num(l["input"]["scale"], 8), integer(l["input"]["zero_point"]), str(l["input_tensor"]), report::format_number(sw, 8),
      num(l["output"]["scale"], 8), integer(l["output"]["zero_point"]), str(l["output_tensor"]), report::format_number(sw, 8),
      num(l["input"]["scale"], 8), num(l["output"]["scale"], 8), num(l["out_scale"][0], 8), integer(l["multiplier"][0]),
      integer(l["shift"][0]), num(l["effective_out_scale"][0], 10), num(l["out_scale"][0], 8),
      bias ? "B1q[0] + " : "", integer(l["input"]["zero_point"]), integer(l["output"]["zero_point"]), integer(l["act_min"]), integer(l["act_max"])));
  std::vector<std::vector<std::string>> channels;
  for (size_t c = 0; c < l["weight_scale"].size(); ++c) {
    channels.push_back({std::to_string(c), num(l["weight_scale"][c], 6), num(l["out_scale"][c], 8), integer(l["multiplier"][c]),
                        integer(l["shift"][c])});
    if (bias) channels.back().push_back(integer(l["bias"][c]));
  }
  std::vector<std::string> header = {"conv1 channel c", "sW1[c]", "M1[c] = sW1[c] sI / sO1", "MULTIPLIER[c]", "SHIFT[c]"};
  if (bias) header.push_back("B1q[c] (int32)");
  d.table(header, channels);
  d.paragraph("Chained form: layer i reads layer i-1's output, so sI(i) = sO(i-1) and zI(i) = zO(i-1) (pass-through layers "
              "such as flatten keep the scale):");
  d.preformatted("Oq(i) = (sW(i)[c] * sO(i-1) / sO(i)) * sum Wq(i)[c,k] * (Oq(i-1)[k] - zO(i-1)) + zO(i)");
  std::vector<std::vector<std::string>> chain;
  for (const json& x : layers) {
    chain.push_back({str(x["name"]), num(x["input"]["scale"], 6), integer(x["input"]["zero_point"]), num(x["weight_scale"][0], 6),
                     num(x["output"]["scale"], 6), integer(x["output"]["zero_point"]), num(x["out_scale"][0], 6),
                     integer(x["multiplier"][0]) + ", " + integer(x["shift"][0])});
  }
  d.table({"layer", "s_in = s_out(i-1)", "z_in", "s_w[0]", "s_out", "z_out", "M[0]", "multiplier, shift"}, chain);
}

void graph_section(Document& d, const json& r) {
  const json& g = r["graph"];
  d.heading("6. The graph before and after layout conversion and fusion");
  d.paragraph(fmt::format("The float graph ({} nodes, NCHW activations, OIHW weights), as trained:", integer(g["float_nodes"])));
  d.preformatted(str(g["before"]));
  d.paragraph("Graph passes before quantization (" + str(g["passes"]) +
              "), then the fused groups: every group becomes one integer layer, quantized at its output:");
  d.preformatted(str(g["groups"]));
  std::vector<std::vector<std::string>> rows;
  const auto shape = [](const json& s) { return join(s, "x"); };
  for (const json& l : g["integer_layers"]) {
    rows.push_back({str(l["name"]), join(l["ops"], "+") + " (" + join(l["nodes"], ", ") + ")", str(l["kernel"]), shape(l["input_shape"]) + " -> " + shape(l["input_stored_shape"]),
                    shape(l["output_shape"]) + " -> " + shape(l["output_stored_shape"])});
  }
  d.paragraph("After compilation for the integer engine, layouts are converted once: activations NCHW -> NHWC, "
              "convolution weights OIHW -> OHWI (what MCU kernel libraries expect), and a Linear that reads a flattened "
              "NHWC tensor has its weight columns permuted from (c, y, x) to (y, x, c) order. The integer layers and the "
              "float nodes fused into each:");
  d.table({"integer layer", "fused float nodes", "kernel", "input NCHW -> stored NHWC", "output NCHW -> stored"}, rows);
  d.preformatted(str(g["plan"]));
}

void calibration_section(Document& d, const json& r) {
  const json& c = r["quantized"]["calibration"];
  const json& classes = r["data"]["classes"];
  d.heading("7. The calibration set, and what a poor one does");
  d.paragraph("Calibration set of this report: " + str(c["description"]) + ". Drawn by `stratified_sample`: as equal per "
              "class as possible, seeded, from the training split (never the test images).");
  std::vector<std::vector<std::string>> per_class;
  for (size_t i = 0; i < c["per_class"].size() && i < classes.size(); ++i) {
    per_class.push_back({str(classes[i]), integer(c["per_class"][i])});
  }
  d.table({"class", "calibration images"}, per_class);
  const json& ex = r["calibration_experiments"];
  std::vector<std::vector<std::string>> rows;
  report::BarChart bars;
  bars.title = "int8 engine by calibration set: accuracy and agreement with the float model";
  bars.y_label = "percent";
  bars.unit = "%";
  report::Series acc{"int8 top-1", {}, {}}, agree{"same top-1 as float", {}, {}};
  for (const json& e : ex) {
    rows.push_back({str(e["name"]), integer(e["images"]), integer(e["classes"]), str(e["how"]), pct(e["int8_accuracy"]),
                    num(e["change_points"], 3), pct(e["agreement_with_float"])});
    bars.categories.push_back(str(e["name"]));
    acc.y.push_back(e["int8_accuracy"].get<double>());
    agree.y.push_back(e["agreement_with_float"].get<double>());
  }
  bars.series = {acc, agree};
  d.table({"calibration set", "images", "classes", "how chosen", "int8 top-1", "change (points)", "same top-1 as float"}, rows);
  d.figure("calibration-experiments",
           "The int8 engine with each calibration set: top-1 accuracy, and the share of test images with the float "
           "model's top-1",
           report::bar_chart_svg(bars));
  if (!ex.empty()) {
    std::vector<std::string> header = {"output scale of"};
    for (const json& e : ex) header.push_back(str(e["name"]));
    std::vector<std::vector<std::string>> scales;
    std::vector<std::string> input_row = {"input (scale, zero point)"};
    for (const json& e : ex) input_row.push_back(num(e["input"]["scale"]) + ", " + integer(e["input"]["zero_point"]));
    scales.push_back(input_row);
    for (size_t i = 0; i < ex[0]["output_scales"].size(); ++i) {
      std::vector<std::string> row = {str(ex[0]["output_scales"][i]["layer"])};
      for (const json& e : ex) row.push_back(num(e["output_scales"][i]["scale"]));
      scales.push_back(row);
    }
    d.paragraph("Why: every activation scale comes from the range the calibration images produce. Images of one class, "
                "or very few images, can produce narrower or shifted ranges, and test activations beyond them saturate; "
                "the table shows how each set moved the scales, the accuracy above what that cost on this model:");
    d.table(header, scales);
  }
}

void constants_section(Document& d, const json& r) {
  d.heading("8. The generated model.h constants, and why they differ from hand-derived scales");
  const json& layers = r["layers"];
  std::vector<std::vector<std::string>> rows;
  for (const json& l : layers) {
    const auto minmax = [&](const char* key) {
      const auto v = l[key].get<std::vector<double>>();
      const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      return report::format_number(*lo, 5) + " .. " + report::format_number(*hi, 5);
    };
    rows.push_back({str(l["name"]), integer(l["input"]["zero_point"]), integer(l["output"]["zero_point"]),
                    integer(l["act_min"]) + ", " + integer(l["act_max"]), minmax("out_scale"), integer(l["multiplier"][0]),
                    integer(l["shift"][0])});
  }
  d.table({"layer", "INPUT_ZERO_POINT", "OUTPUT_ZERO_POINT", "ACT_MIN, ACT_MAX", "OUT_SCALE (all channels)", "MULTIPLIER[0]",
           "SHIFT[0]"},
          rows);
  std::vector<std::vector<std::string>> cmp;
  for (const json& l : layers) {
    const auto range = [&](const char* key) {
      const auto v = l[key].get<std::vector<double>>();
      const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      return report::format_number(*lo, 5) + " .. " + report::format_number(*hi, 5);
    };
    const json& h = l["hand"];
    cmp.push_back({str(l["name"]), num(h["weight_scale"]), range("weight_scale"), num(h["output_scale"]), num(l["output"]["scale"]),
                   num(h["out_scale"]), range("out_scale"), num(l["out_scale_max_relative_error"], 3)});
  }
  d.paragraph("Hand-derived scales use the statistics above the way the lab does (weights: max|w| / 127 of the whole tensor; "
              "output: (max - min) / 255 of the min/max range over the calibration set). The generated constants differ "
              "for three reasons: (1) calibration data and range method: activations use the 99.99th percentile over the "
              "calibration images, not the plain min/max, so one outlier does not stretch the scale; (2) weights are "
              "quantized per output channel, each channel with its own max|w[c]| / 127; (3) integer rounding: the real "
              "OUT_SCALE = s_in * s_w / s_out is stored as MULTIPLIER * 2^-(31 + SHIFT), a 31-bit mantissa, so the scale "
              "that runs differs from the real one by the relative error in the last column.");
  d.table({"layer", "hand s_w (per tensor)", "generated s_w[c]", "hand s_out (min/max)", "generated s_out",
           "hand M = s_w s_in / s_out", "generated OUT_SCALE[c]", "OUT_SCALE rounding (max relative)"},
          cmp);
  const json& defines = r["codegen"]["model_h_defines"];
  if (defines.is_array() && !defines.empty()) {
    std::string text;
    for (const json& line : defines) {
      std::string s = line.get<std::string>();
      s.erase(std::unique(s.begin(), s.end(), [](char a, char b) { return a == ' ' && b == ' '; }), s.end());
      if (s.size() > 150) s = s.substr(0, 147) + "...";
      text += s + "\n";
    }
    d.paragraph("The constants as generated (model.h of " + str(r["codegen"]["host"]["dir"]) +
                "; long arrays cut at 150 characters):");
    d.preformatted(text);
  }
}

void memory_section(Document& d, const json& r) {
  const json& f = r["footprint"];
  const json& g = r["codegen"]["footprint"];
  const json& m4 = r["codegen"]["cortex-m4"];
  d.heading("9. Memory footprint");
  std::vector<std::vector<std::string>> rows = {
      {"float32 model: parameters", bytes(f["float_parameter_bytes"])},
      {"fake-quantized model: parameters (integer values stored as float32)", bytes(f["fake_quant_parameter_bytes"])},
      {"int8 model: weights + int32 biases + scales and zero points", bytes(f["int8_parameter_bytes"])},
      {"int8 engine: activation arena", bytes(f["int8_arena_bytes"])},
      {"float32 activations with the same plan (4 bytes per value)", bytes(f["float_arena_bytes"])},
      {"generated C: constants in flash (weights, biases, multipliers, shifts, kernel structs)", bytes(g["flash_bytes"])},
      {"generated C: RAM (arena + scratch)", bytes(g["ram_bytes"])}};
  report::BarChart bars;
  bars.title = "Memory: float vs fake-quantized vs int8, and the generated code";
  bars.digits = 8;
  bars.y_label = "bytes";
  bars.categories = {"float32 params", "fake-quant params", "int8 params", "int8 arena", "gen. flash (const)", "gen. RAM"};
  report::Series se{"bytes", {}, {f["float_parameter_bytes"].get<double>(), f["fake_quant_parameter_bytes"].get<double>(),
                                  f["int8_parameter_bytes"].get<double>(), f["int8_arena_bytes"].get<double>(),
                                  g["flash_bytes"].get<double>(), g["ram_bytes"].get<double>()}};
  const json& m4_size = field(field(m4, "size"), "values");
  if (m4.value("status", "") == "passed" && field(m4_size, "model_flash").is_number()) {
    const auto value = [&](const char* key) {
      const json& v = field(m4_size, key);
      return v.is_number() ? v.get<double>() : std::nan("");  // a bar chart leaves out what is not finite
    };
    rows.push_back({"Cortex-M4 build: model flash (weights, parameters, code; without main.c's test data)",
                    bytes(field(m4_size, "model_flash"))});
    rows.push_back({"Cortex-M4 build: RAM (data + bss + reserved stack)", bytes(field(m4_size, "ram"))});
    rows.push_back({"Cortex-M4 build: code", bytes(field(m4_size, "code"))});
    bars.categories.push_back("M4 model flash");
    bars.categories.push_back("M4 RAM");
    se.y.push_back(value("model_flash"));
    se.y.push_back(value("ram"));
  }
  bars.series.push_back(se);
  d.table({"what", "bytes"}, rows);
  d.figure("memory", "Memory footprint in bytes", report::bar_chart_svg(bars));
}

void int8_section(Document& d, const json& r) {
  const json& q = r["int8_eval"];
  d.heading("10. The int8 engine: accuracy and confusion matrix");
  d.table({"model", "top-1", "same top-1 as int8"},
          {{"int8, integer-only engine", pct(q["accuracy"]), "-"},
           {"fake-quantized (simulated in float)", pct(q["fake_quant_accuracy"]), pct(q["agreement_with_fake_quant"])},
           {"float", pct(q["float_accuracy"]), pct(q["agreement_with_float"])}});
  d.paragraph(fmt::format("{} integer layers, {} MACs per image, arena {} (lower bound {}).", integer(q["layers"]),
                          integer(q["macs"]), bytes(q["arena_bytes"]), bytes(q["arena_lower_bound"])));
  report::Heatmap m;
  m.title = "Confusion matrix of the int8 engine";
  m.row_label = "true class";
  m.column_label = "predicted class";
  m.row_names = q["classes"].get<std::vector<std::string>>();
  m.column_names = m.row_names;
  m.values = q["confusion"].get<std::vector<std::vector<int64_t>>>();
  d.figure("confusion-int8", "Confusion matrix of the int8 engine (rows: true class; colour: share of the row)",
           report::heatmap_svg(m));
}

void qerror_section(Document& d, const json& r) {
  const json& e = r["qerror"];
  d.heading("11. Per-layer error");
  d.paragraph(fmt::format("SQNR = 10 log10(sum float^2 / sum (float - dequant(int8))^2) of every integer layer's output "
                          "over {} test images. Isolated: only this layer quantized; cumulative: the integer network up to "
                          "it. Sorted {}.",
                          integer(e["images"]), str(e["sort_key"])));
  std::vector<std::vector<std::string>> rows;
  std::vector<const json*> by_index;
  for (const json& l : e["layers"]) {
    const auto db = [](const json& s) { return s.is_null() ? std::string("n/a") : (s["sqnr_db"].is_null() ? "exact" : num(s["sqnr_db"], 4)); };
    const auto cos = [](const json& s) { return s.is_null() ? std::string("n/a") : num(s["cosine"], 6); };
    rows.push_back({integer(l["rank"]), str(l["name"]), str(l["ops"]), db(l["isolated"]), cos(l["isolated"]),
                    db(l["cumulative"]), cos(l["cumulative"])});
    by_index.push_back(&l);
  }
  d.table({"rank", "layer", "fused", "isolated SQNR (dB)", "cosine", "cumulative SQNR (dB)", "cosine"}, rows);
  std::sort(by_index.begin(), by_index.end(), [](const json* a, const json* b) { return (*a)["index"] < (*b)["index"]; });
  report::BarChart bars;
  bars.title = "Per-layer SQNR of the int8 model (higher is better)";
  bars.y_label = "SQNR (dB)";
  report::Series iso{"isolated", {}, {}}, cum{"cumulative", {}, {}};
  for (const json* l : by_index) {
    bars.categories.push_back(str((*l)["name"]));
    const auto value = [](const json& s) {
      return s.is_null() || s["sqnr_db"].is_null() ? std::nan("") : s["sqnr_db"].get<double>();
    };
    iso.y.push_back(value((*l)["isolated"]));
    cum.y.push_back(value((*l)["cumulative"]));
  }
  bars.series = {iso, cum};
  d.figure("per-layer-error", "Per-layer error: SQNR of each integer layer's output, in network order",
           report::bar_chart_svg(bars));
}

void device_section(Document& d, const json& r) {
  const json& c = r["codegen"];
  d.heading("12. Generated C: host and Cortex-M4 verification, instruction count");
  d.paragraph(fmt::format("`pocket gen`'s code (model.h, model.c, the runtime's C99 kernels) with a self-checking main.c: "
                          "{} CIFAR-10 test images and the host engine's expected int8 outputs, compared byte for byte; it "
                          "exits 0 only if every byte matches.",
                          integer(c["images"])));
  for (const char* target : {"host", "cortex-m4"}) {
    const json& t = c[target];
    d.subheading(std::string(target) + ": " + str(t["status"]));
    if (t.contains("reason")) {
      d.paragraph("Not run: " + str(t["reason"]));
      continue;
    }
    std::vector<std::vector<std::string>> steps;
    for (const char* step : {"run", "size", "count"}) {
      if (!t.contains(step)) continue;
      const json& st = t[step];
      steps.push_back({"`" + str(field(st, "command")) + "`", integer(field(st, "exit_status")),
                       field(st, "ok") == true ? "passed" : "FAILED"});
    }
    d.table({"command", "exit status", "result"}, steps);
    if (t.contains("run")) d.preformatted(str(field(t["run"], "output_tail")));
    if (const json& v = field(field(t, "count"), "values"); v.is_object() && !v.empty()) {
      d.paragraph(fmt::format("Instructions per inference on the Cortex-M4 (QEMU TCG plugin, exact): {} for {} MACs, {} "
                              "instructions per MAC.",
                              integer(field(v, "inference")), integer(field(v, "macs")), num(field(t, "instructions_per_mac"), 4)));
      std::vector<std::vector<std::string>> layers;
      for (const json& l : r["layers"]) {
        const std::string n = str(l["name"]);
        if (v.contains(n)) layers.push_back({n, integer(v[n]), integer(l["macs"])});
      }
      if (!layers.empty()) d.table({"layer", "instructions", "MACs"}, layers);
    }
    if (const json& values = field(field(t, "size"), "values"); values.is_object() && !values.empty()) {
      std::vector<std::vector<std::string>> size;
      for (const auto& [k, v] : values.items()) size.push_back({k, v.is_number() ? integer(v) : str(v)});
      d.table({"size (bytes)", "value"}, size);
    }
  }
}

void run_section(Document& d, const json& r) {
  d.heading("13. This run");
  std::vector<std::vector<std::string>> rows;
  for (const auto& [k, v] : r["timings_seconds"].items()) rows.push_back({k, num(v, 3)});
  d.table({"stage", "seconds"}, rows);
  std::vector<std::vector<std::string>> settings;
  for (const auto& [k, v] : r["settings"].items()) settings.push_back({k, v.dump()});
  d.table({"setting", "value"}, settings);
  d.paragraph("Every number of this report is in results.json beside it; the trained model, the int8 model (" +
              str(r["quantized"]["path"]) + ", config " + str(r["quantized"]["config"]) +
              ") and the generated C are beside it too, so each can be checked with the subcommands (`pocket eval`, "
              "`pocket stats`, `pocket sweep`, `pocket qerror`, `pocket gen`).");
}

}  // namespace

report::Document lab_report(const json& r) {
  Document d("Pocket AI Lab report: LeNet-5 on CIFAR-10, from training to a Cortex-M4");
  summary(d, r);
  training(d, r);
  weight_section(d, r);
  sweep_section(d, r);
  activation_section(d, r);
  formula_section(d, r);
  graph_section(d, r);
  calibration_section(d, r);
  constants_section(d, r);
  memory_section(d, r);
  int8_section(d, r);
  qerror_section(d, r);
  device_section(d, r);
  run_section(d, r);
  return d;
}

}  // namespace pocket::cli
