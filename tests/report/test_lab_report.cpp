// pocket lab's report (tools/pocket/lab_report.cpp) from a results.json: what `make size` and
// `make count` print may change, so a value missing from their output is "n/a", never undefined.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "lab.hpp"

namespace pocket::cli {
namespace {

using nlohmann::json;

// A --out of a full run, shortened (arrays of numbers to 8 elements, long strings to 200 characters).
json lab_results() {
  std::ifstream in(std::string(POCKET_TEST_SOURCE_DIR) + "/tests/report/lab_results.json");
  std::ostringstream s;
  s << in.rdbuf();
  return json::parse(s.str(), nullptr, false);
}

TEST(LabReport, RendersAFullRun) {
  const json r = lab_results();
  ASSERT_FALSE(r.is_discarded());
  const std::string md = lab_report(r).markdown("figures");
  EXPECT_NE(md.find("Cortex-M4 verification"), std::string::npos);
  EXPECT_EQ(md.find("n/a"), std::string::npos) << "a full run has every number";
}

TEST(LabReport, MissingSizeAndCountValuesAreNotAvailable) {
  json r = lab_results();
  ASSERT_FALSE(r.is_discarded());
  json& m4 = r["codegen"]["cortex-m4"];
  for (const char* key : {"flash", "model_flash", "ram", "code"}) m4["size"]["values"].erase(key);
  m4["count"]["values"].erase("inference");
  m4["count"]["values"].erase("macs");
  m4.erase("instructions_per_mac");
  const std::string md = lab_report(r).markdown("figures");
  EXPECT_NE(md.find("flash n/a (model without test data n/a), RAM n/a; n/a instructions per inference"), std::string::npos) << md;
  EXPECT_NE(md.find("Instructions per inference on the Cortex-M4 (QEMU TCG plugin, exact): n/a for n/a MACs"), std::string::npos);

  // No size or count values at all, and a step without its fields.
  m4["size"].erase("values");
  m4["count"] = json::object();
  EXPECT_NE(lab_report(r).markdown("figures").find("Cortex-M4 (QEMU mps2-an386)"), std::string::npos);
}

}  // namespace
}  // namespace pocket::cli
