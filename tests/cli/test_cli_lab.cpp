// `pocket lab`, run as the built binary: a --quick run whose results.json agrees with what the
// subcommands print with --json on the same files, a self-contained well-formed HTML report,
// --resume, an interrupted run, a missing dataset, --help.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "support/cli.hpp"
#include "support/xml_check.hpp"

namespace pocket {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::json_of;
using test::pocket_cli;
using test::quoted;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string fmt_percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", v);
  return buf;
}

json read_json(const std::string& path) { return json::parse(read_text(path), nullptr, false); }

// Runs `pocket ARGS --json` and returns the parsed object (fails the test on a non-zero exit).
json cli_json(const std::string& args) {
  std::string out;
  EXPECT_EQ(pocket_cli(args + " --json 2>/dev/null", &out), 0) << args << "\n" << out;
  return json_of(out);
}

// Exact equality of two JSON numbers (both computed by the same code on the same inputs).
void expect_same(const json& a, const json& b, const std::string& what) {
  ASSERT_FALSE(a.is_null()) << what;
  EXPECT_EQ(a, b) << what;
}

void check_agreement(const std::string& dir, const json& r) {
  const std::string onnx = quoted(dir + "/lenet.onnx"), pqm = quoted(dir + "/lenet.pqm");
  const json& s = r["settings"];
  const std::string limit = std::to_string(s["test_images"].get<int64_t>());
  const std::string calib = std::to_string(s["calib_images"].get<int64_t>());
  const std::string seed = std::to_string(s["calib_seed"].get<int64_t>());

  // Float accuracy, per class and confusion: pocket eval.
  const json ev = cli_json("eval " + onnx + " --limit " + limit);
  for (const char* key : {"accuracy", "correct", "images", "per_class", "confusion"}) {
    expect_same(r["float_eval"][key], ev[key], std::string("float eval ") + key);
  }

  // Weight statistics and activation statistics over the calibration set: pocket stats.
  const json st = cli_json("stats " + onnx + " --calib " + calib + " --seed " + seed);
  ASSERT_EQ(r["weights"].size(), st["weights"].size());
  for (size_t i = 0; i < st["weights"].size(); ++i) {
    for (const char* key : {"name", "min", "max", "mean", "std", "bands", "histogram"}) {
      expect_same(r["weights"][i][key], st["weights"][i][key], "weights " + std::to_string(i) + " " + key);
    }
  }
  const json& acts = st["activations"]["values"];
  ASSERT_EQ(r["activations"]["values"].size(), acts.size());
  EXPECT_EQ(r["activations"]["images"], st["activations"]["images"]);
  for (size_t i = 0; i < acts.size(); ++i) {
    for (const char* key : {"name", "min", "max", "mean", "std", "band3", "percentiles", "histogram"}) {
      expect_same(r["activations"]["values"][i][key], acts[i][key], "activation " + std::to_string(i) + " " + key);
    }
  }

  // The quantization table: pocket sweep.
  const json sw = cli_json("sweep " + onnx + " --limit " + limit + " --calib " + calib + " --seed " + seed);
  expect_same(r["sweep"]["float_accuracy"], sw["float_accuracy"], "sweep float accuracy");
  expect_same(r["sweep"]["calibration"], sw["calibration"], "sweep calibration");
  ASSERT_EQ(r["sweep"]["rows"].size(), sw["rows"].size());
  for (size_t i = 0; i < sw["rows"].size(); ++i) {
    for (const char* key : {"name", "accuracy", "drop", "clipped_weights_percent", "agreement", "footprint"}) {
      expect_same(r["sweep"]["rows"][i][key], sw["rows"][i][key], "sweep row " + std::to_string(i) + " " + key);
    }
  }

  // The int8 engine: pocket eval --engine int8 on the lab's .pqm.
  const json q8 = cli_json("eval " + pqm + " --engine int8 --limit " + limit);
  for (const char* key : {"accuracy", "confusion", "per_class", "float_accuracy", "fake_quant_accuracy",
                          "agreement_with_fake_quant", "agreement_with_float", "arena_bytes", "macs", "weight_bytes"}) {
    expect_same(r["int8_eval"][key], q8[key], std::string("int8 eval ") + key);
  }

  // Per-layer error: pocket qerror.
  const json qe = cli_json("qerror " + pqm + " --images " + std::to_string(s["qerror_images"].get<int64_t>()));
  expect_same(r["qerror"]["layers"], qe["layers"], "qerror layers");
  expect_same(r["qerror"]["images"], qe["images"], "qerror images");

  // The quantized model's parameters: pocket quantize with the same calibration gives the same scales.
  const std::string again = quoted(test::temp_path("again.pqm"));
  const json qz = cli_json("quantize " + onnx + " --out " + again + " --calib " + calib + " --seed " + seed);
  expect_same(r["quantized"]["activations"], qz["activations"], "activation quantization");
  expect_same(r["quantized"]["config"], qz["config"], "quantization config");
  EXPECT_EQ(r["footprint"]["int8_parameter_bytes"], qz["footprint"]["quant_total_bytes"]);
  EXPECT_EQ(r["footprint"]["float_parameter_bytes"], qz["footprint"]["float_total_bytes"]);
}

// Every number and string of a JSON value.
void collect(const json& j, std::vector<double>& numbers, std::vector<std::string>& strings) {
  if (j.is_number()) {
    numbers.push_back(j.get<double>());
    numbers.push_back(-j.get<double>());
  } else if (j.is_string()) {
    strings.push_back(j.get<std::string>());
  } else if (j.is_structured()) {
    for (const auto& v : j) collect(v, numbers, strings);
  }
}

// Every number in a table cell of report.md is one of results.json's numbers, as printed (to the
// precision it shows), unless the cell is text taken from results.json itself (a setting's name,
// a command line). Returns the cells that fail.
std::vector<std::string> numbers_not_in_results(const std::string& md, const json& results) {
  std::vector<double> numbers;
  std::vector<std::string> strings;
  collect(results, numbers, strings);
  std::sort(numbers.begin(), numbers.end());
  const auto in_strings = [&](const std::string& cell) {
    for (const std::string& s : strings) {
      if (s.find(cell) != std::string::npos) return true;
    }
    return false;
  };
  const std::regex token(R"((^|[^A-Za-z0-9_.\\])(-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?))");
  std::vector<std::string> bad;
  std::istringstream lines(md);
  std::string line;
  bool header = false;
  while (std::getline(lines, line)) {
    if (line.rfind("| ", 0) != 0) {
      header = true;  // the next table row is a header
      continue;
    }
    if (header || line.rfind("| ---", 0) == 0) {
      header = false;
      continue;
    }
    std::string cell;
    std::istringstream cells(line.substr(1));
    while (std::getline(cells, cell, '|')) {
      std::string text = std::regex_replace(cell, std::regex(R"(\\(.))"), "$1");  // Markdown escapes
      text = std::regex_replace(text, std::regex("^ +| +$|`"), "");
      if (text.empty() || in_strings(text)) continue;
      for (auto it = std::sregex_iterator(text.begin(), text.end(), token); it != std::sregex_iterator(); ++it) {
        const std::string t = (*it)[2].str();
        const double v = std::stod(t);
        // Half a unit of the last printed digit.
        const size_t dot = t.find('.'), e = t.find('e');
        const int decimals = dot == std::string::npos ? 0 : static_cast<int>((e == std::string::npos ? t.size() : e) - dot - 1);
        const int exponent = e == std::string::npos ? 0 : std::stoi(t.substr(e + 1));
        const double tol = 0.5000001 * std::pow(10.0, exponent - decimals) + 1e-12 * std::fabs(v);
        const auto lo = std::lower_bound(numbers.begin(), numbers.end(), v - tol);
        if (lo == numbers.end() || *lo > v + tol) bad.push_back(t + " in `" + text + "` (" + line.substr(0, 60) + ")");
      }
    }
  }
  return bad;
}

// The HTML report: well-formed, every figure an inline <svg> with content, nothing loaded from
// anywhere (no src=, no link/script/img/iframe, no href but in-page anchors, no url() or @import).
void check_html(const std::string& html, size_t expected_figures) {
  std::string error;
  const auto root = test::XmlChecker(html).parse(&error);
  ASSERT_NE(root, nullptr) << error;
  const auto figures = root->all("figure");
  EXPECT_EQ(figures.size(), expected_figures);
  for (const auto* f : figures) {
    const auto svgs = f->all("svg");
    ASSERT_EQ(svgs.size(), 1u) << f->attr("id");
    const auto* svg = svgs[0];
    EXPECT_FALSE(svg->attr("viewBox").empty()) << f->attr("id");
    const size_t marks = svg->all("rect").size() + svg->all("line").size() + svg->all("circle").size() + svg->all("polyline").size();
    EXPECT_GT(marks, 5u) << f->attr("id") << " has no content";
    EXPECT_FALSE(f->all("figcaption").empty()) << f->attr("id");
  }
  for (const char* tag : {"img", "script", "link", "iframe", "object", "embed", "image", "use"}) {
    EXPECT_TRUE(root->all(tag).empty()) << "<" << tag << "> in the report";
  }
  // Every element's attributes: no src, href only to anchors on the page, xmlns only the SVG namespace.
  std::vector<const test::XmlElement*> stack = {root.get()};
  while (!stack.empty()) {
    const auto* e = stack.back();
    stack.pop_back();
    for (const auto& [k, v] : e->attributes) {
      EXPECT_NE(k, "src") << e->name;
      if (k == "href" || k == "xlink:href") {
        EXPECT_EQ(v.rfind('#', 0), 0u) << e->name << " " << k << "=" << v;
      }
      if (k == "xmlns") {
        EXPECT_EQ(v, "http://www.w3.org/2000/svg");
      } else {
        EXPECT_EQ(v.find("http"), std::string::npos) << e->name << " " << k << "=" << v;
      }
    }
    for (const auto& c : e->children) stack.push_back(c.get());
  }
  const std::string without_ns = std::regex_replace(html, std::regex("xmlns=\"http://www.w3.org/2000/svg\""), "");
  EXPECT_EQ(without_ns.find("http://"), std::string::npos);
  EXPECT_EQ(without_ns.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
}

TEST(CliLab, QuickRunReportAgreesWithSubcommandsAndResumeReusesTraining) {
  const std::string dir = test::temp_path("lab");
  std::string out;
  // --resume with nothing to resume: trains, and says why on a line that stays.
  ASSERT_EQ(pocket_cli("lab --quick --resume --out " + quoted(dir), &out), 0) << out;
  EXPECT_NE(out.find("--resume: not reusing the training in " + dir + ": no finished training in the output directory; training again\n"),
            std::string::npos)
      << out;
  // Progress: every stage named, on stderr (captured with stdout here).
  for (int i = 1; i <= 12; ++i) EXPECT_NE(out.find("[" + std::to_string(i) + "/12]"), std::string::npos) << out;
  EXPECT_NE(out.find("train LeNet-5"), std::string::npos);

  const json r = read_json(dir + "/results.json");
  ASSERT_FALSE(r.is_discarded());
  EXPECT_EQ(r["quick"], true);
  EXPECT_EQ(r["training"]["source"], "trained");
  EXPECT_EQ(r["training"]["resume_refused_because"], "no finished training in the output directory");
  EXPECT_GT(r["float_eval"]["accuracy"].get<double>(), 25.0);  // chance is 10 %
  EXPECT_NEAR(r["int8_eval"]["accuracy"].get<double>(), r["float_eval"]["accuracy"].get<double>(), 3.0);
  ASSERT_EQ(r["calibration_experiments"].size(), 4u);
  EXPECT_EQ(r["calibration_experiments"][1]["per_class"][0], r["settings"]["calib_images"]);  // one class only
  EXPECT_EQ(r["calibration_experiments"][2]["images"], 10);
  EXPECT_EQ(r["calibration_experiments"][3]["images"], 1);
  EXPECT_EQ(r["layers"][0]["name"], "conv1");
  EXPECT_EQ(r["codegen"]["host"]["status"], "passed") << r["codegen"]["host"].dump(2);
  // CI installs the Cortex-M4 tools (scripts/packages.txt): the device section must have run and
  // passed (the test below shows what a machine without them gets).
  EXPECT_EQ(r["codegen"]["cortex-m4"]["status"], "passed") << r["codegen"]["cortex-m4"].dump(2);
  EXPECT_GT(r["codegen"]["cortex-m4"]["count"]["values"]["inference"].get<int64_t>(), 0);
  EXPECT_GT(r["codegen"]["cortex-m4"]["size"]["values"]["model_flash"].get<int64_t>(), 61770);
  EXPECT_EQ(r["codegen"]["footprint"]["arena_bytes"], r["codegen"]["footprint"]["arena_lower_bound"]);

  check_agreement(dir, r);

  // The report: every section, numbers of results.json, figures beside report.md, inline in HTML.
  const std::string md = read_text(dir + "/report.md");
  for (const char* section : {"Training and accuracy", "Weight statistics", "the lab's table and better options",
                              "Activation ranges", "integer formula of conv1", "before and after layout conversion and fusion",
                              "calibration set", "model.h constants", "Memory footprint", "int8 engine",
                              "Per-layer error", "Cortex-M4 verification"}) {
    EXPECT_NE(md.find(section), std::string::npos) << section;
  }
  EXPECT_NE(md.find(fmt_percent(r["float_eval"]["accuracy"].get<double>())), std::string::npos);
  EXPECT_NE(md.find(std::to_string(r["layers"][0]["multiplier"][0].get<int64_t>())), std::string::npos);
  // Every number of the report's tables is one of results.json's.
  const auto strays = numbers_not_in_results(md, r);
  EXPECT_TRUE(strays.empty()) << strays.size() << " numbers of report.md not in results.json, e.g. " << strays.front();
  // ... and the check sees a number that is not there.
  EXPECT_EQ(numbers_not_in_results("x\n| a | b |\n| --- | --- |\n| conv1 | 12345.678 |\n", r).size(), 1u);
  const std::regex figure_ref(R"(\]\((figures/[a-z0-9_-]+\.svg)\))");
  size_t figures = 0;
  for (auto it = std::sregex_iterator(md.begin(), md.end(), figure_ref); it != std::sregex_iterator(); ++it) {
    const std::string path = dir + "/" + (*it)[1].str();
    ASSERT_TRUE(fs::exists(path)) << path;
    std::string error;
    EXPECT_NE(test::XmlChecker(read_text(path)).parse(&error), nullptr) << path << ": " << error;
    ++figures;
  }
  // 5 weight tensors, 13 activations, clipping curve, calibration, memory, confusion, per-layer error.
  EXPECT_EQ(figures, 23u);
  check_html(read_text(dir + "/report.html"), figures);
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_NE(entry.path().extension(), ".partial") << entry.path();
  }

  // --resume: the finished training is reused (same model file), the rest runs again.
  const std::string sha = r["model"]["sha256"];
  const std::string err = test::temp_path("resume.err");
  // Braces: stderr of the run goes to `err`, stdout (the JSON) alone to `out`.
  ASSERT_EQ(test::run_command("{ POCKET_DATA=" + quoted(test::data_dir()) + " " + quoted(test::cli_path()) +
                                  " lab --quick --resume --json --out " + quoted(dir) + " 2>" + quoted(err) + "; }",
                              &out),
            0)
      << read_text(err);
  EXPECT_NE(read_text(err).find("reused the finished training"), std::string::npos) << read_text(err);
  const json again = read_json(dir + "/results.json");
  EXPECT_EQ(json::parse(out, nullptr, false), again);  // --json: results.json on stdout, nothing else
  EXPECT_EQ(again["training"]["source"], "resumed");
  EXPECT_EQ(again["model"]["sha256"], sha);
  EXPECT_EQ(again["training"]["final_train_accuracy"], r["training"]["final_train_accuracy"]);
  EXPECT_EQ(again["float_eval"]["accuracy"], r["float_eval"]["accuracy"]);
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(CliLab, InterruptedRunLeavesNoReport) {
  const std::string dir = test::temp_path("killed");
  const std::string err = test::temp_path("killed.err");
  // The --out of an earlier, finished run: its report must not survive next to this run's files.
  fs::create_directories(dir + "/figures");
  for (const char* name : {"report.md", "report.html", "results.json", "figures/confusion.svg", "figures/old-layer.svg"}) {
    write_text(dir + "/" + name, "an earlier run's report\n");
  }
  // Temporary files of a run killed while writing (`*.partial`, write_file_atomic's `*.tmp.<pid>`).
  for (const char* name : {"lenet.onnx.tmp.4242", "lenet.pqm.tmp.17", "lenet.train.json.tmp.9", "results.json.partial",
                           "report.md.partial.tmp.4242", "report.html.tmp.1", "figures/confusion.svg.partial",
                           "figures/conv1-weight.svg.partial.tmp.4242", "figures/x.svg.tmp.3"}) {
    write_text(dir + "/" + name, "a killed run's temporary file\n");
  }
  // The user's own files in --out are left alone, even with names alike.
  const std::set<std::string> user_files = {"notes.txt", "figures/sketch.png", "data.tmp.1", "mylenet.onnx.tmp.2",
                                            "report.md.bak", "figures/sketch.png.partial"};
  for (const std::string& name : user_files) write_text(dir + "/" + name, "the user's\n");
  // A run on a given model (no training), interrupted with SIGINT (Ctrl-C) in the quantization table.
  // env --default-signal=INT: a background job of a non-interactive shell (and anything started
  // with SIGINT ignored) would ignore SIGINT; a terminal's Ctrl-C reaches a foreground run as here.
  const std::string cmd = "POCKET_DATA=" + quoted(test::data_dir()) + " env --default-signal=INT " + quoted(test::cli_path()) + " lab --quick --model " +
                          quoted(test::fixture_path("lenet_nobias.onnx")) + " --normalize lab --out " + quoted(dir) +
                          " 2>" + quoted(err) + " & pid=$!; "
                          "for i in $(seq 1 600); do grep -q '^\\[5/12\\] activation statistics:' " + quoted(err) +
                          " && break; sleep 0.1; done; kill -INT $pid; wait $pid; echo status=$?";
  std::string out;
  ASSERT_EQ(test::run_command(cmd, &out), 0) << out;
  EXPECT_NE(out.find("status=130"), std::string::npos) << out << read_text(err);  // killed by SIGINT
  EXPECT_NE(read_text(err).find("[6/12] quantization table"), std::string::npos) << read_text(err);
  for (const char* name : {"report.md", "report.html", "results.json", "lenet.pqm"}) {
    EXPECT_FALSE(fs::exists(dir + "/" + name)) << name;
  }
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.insert(fs::relative(entry.path(), dir).generic_string());
  }
  EXPECT_EQ(files, user_files) << "a killed run left files in " << dir;
}

TEST(CliLab, ResumeWithAStampWithoutResultSaysWhyAndTrains) {
  const std::string dir = test::temp_path("badstamp");
  const std::string err = test::temp_path("badstamp.err");
  fs::create_directories(dir);
  fs::copy_file(test::fixture_path("lenet_nobias.onnx"), dir + "/lenet.onnx");
  write_text(dir + "/lenet.train.json", R"({"settings": {}, "onnx_sha256": "0", "result": 5})");
  // Interrupted once it has said why (the training that follows is the quick run's, tested above).
  const std::string cmd = "POCKET_DATA=" + quoted(test::data_dir()) + " env --default-signal=INT " + quoted(test::cli_path()) +
                          " lab --quick --resume --out " + quoted(dir) + " 2>" + quoted(err) + " & pid=$!; "
                          "for i in $(seq 1 600); do grep -q 'training again' " + quoted(err) +
                          " && break; sleep 0.1; done; kill -INT $pid; wait $pid; echo status=$?";
  std::string out;
  ASSERT_EQ(test::run_command(cmd, &out), 0) << out;
  EXPECT_NE(out.find("status=130"), std::string::npos) << out << read_text(err);  // still running: not thrown
  EXPECT_NE(read_text(err).find("is not a training stamp (its \"result\" is not an object); training again"), std::string::npos)
      << read_text(err);
}

TEST(CliLab, MissingCortexM4ToolsAreReportedNotRun) {
  // A PATH with every program of /usr/bin and /bin except the Cortex-M4 compiler and QEMU.
  const std::string bin = test::temp_path("path-without-arm");
  fs::create_directories(bin);
  for (const char* dir : {"/usr/bin", "/bin"}) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (name == "arm-none-eabi-gcc" || name == "qemu-system-arm" || fs::exists(bin + "/" + name)) continue;
      fs::create_symlink(entry.path(), bin + "/" + name);
    }
  }
  const std::string dir = test::temp_path("noarm");
  std::string out;
  ASSERT_EQ(test::run_command("PATH=" + quoted(bin) + " POCKET_DATA=" + quoted(test::data_dir()) + " " +
                                  quoted(test::cli_path()) + " lab --quick --model " +
                                  quoted(test::fixture_path("lenet_nobias.onnx")) + " --normalize lab --out " + quoted(dir),
                              &out),
            0)
      << out;
  const json r = read_json(dir + "/results.json");
  EXPECT_EQ(r["codegen"]["host"]["status"], "passed") << r["codegen"]["host"].dump(2);
  const json& m4 = r["codegen"]["cortex-m4"];
  EXPECT_EQ(m4["status"], "not run");
  EXPECT_NE(m4["reason"].get<std::string>().find("arm-none-eabi-gcc"), std::string::npos) << m4.dump(2);
  EXPECT_NE(m4["reason"].get<std::string>().find("qemu-system-arm"), std::string::npos) << m4.dump(2);
  EXPECT_TRUE(fs::exists(dir + "/gen/cortex-m4/model.c"));  // generated all the same
  EXPECT_EQ(r["training"]["source"], "loaded");
  const std::string md = read_text(dir + "/report.md");
  EXPECT_NE(md.find("### cortex-m4: not run"), std::string::npos);
  EXPECT_NE(md.find("Cortex-M4: not run: not found on PATH: arm-none-eabi-gcc, qemu-system-arm"), std::string::npos) << md.substr(0, 1500);
  std::string error;
  EXPECT_NE(test::XmlChecker(read_text(dir + "/report.html")).parse(&error), nullptr) << error;
}

TEST(CliLab, MissingDatasetSaysWhereItLookedAndHowToGetIt) {
  const std::string dir = test::temp_path("nodata");
  const std::string missing = test::temp_path("no-cifar-here");
  std::string out;
  EXPECT_EQ(test::run_command("POCKET_DATA=" + quoted(missing) + " " + quoted(test::cli_path()) + " lab --quick --out " +
                                  quoted(dir),
                              &out),
            1)
      << out;
  EXPECT_NE(out.find(missing), std::string::npos) << out;
  EXPECT_NE(out.find("$POCKET_DATA"), std::string::npos) << out;
  EXPECT_NE(out.find("pocket download"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir + "/report.html"));
}

TEST(CliLab, RefusesToOverwriteItsInput) {
  const std::string dir = test::temp_path("overwrite");
  fs::create_directories(dir);
  fs::copy_file(test::fixture_path("lenet_nobias.onnx"), dir + "/report.html");
  const std::string before = read_text(dir + "/report.html");
  std::string out;
  EXPECT_NE(pocket_cli("lab --quick --model " + quoted(dir + "/report.html") + " --normalize lab --out " + quoted(dir), &out), 0);
  EXPECT_NE(out.find("report.html"), std::string::npos) << out;
  EXPECT_EQ(read_text(dir + "/report.html"), before);
}

TEST(CliLab, HelpNamesEveryOption) {
  std::string out;
  ASSERT_EQ(pocket_cli("lab --help", &out), 0) << out;
  for (const char* opt : {"--data", "--model", "--out", "--quick", "--resume", "--json", "--recipe", "--epochs", "--normalize"}) {
    EXPECT_NE(out.find(opt), std::string::npos) << opt;
  }
}

}  // namespace
}  // namespace pocket
