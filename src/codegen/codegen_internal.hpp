// Shared by the emitters of src/codegen: C literals, identifiers, provenance headers, and the
// context every emitter reads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pocket/codegen.hpp"

namespace pocket::codegen::detail {

// Everything the emitters need, computed once by generate().
struct Context {
  const QModel* model = nullptr;
  const engine::Plan* plan = nullptr;
  GenOptions options;
  std::string prefix;  // lower case, as given
  std::string macro;   // upper case prefix: LENET
  std::vector<std::string> layer_ids;   // unique lower-case C identifiers, one per layer
  std::vector<std::string> tensor_ids;  // unique lower-case C identifiers, one per tensor
  std::vector<std::string> runtime_sources;  // "runtime/pocket_conv2d.c", ... (reference kernels used)
  Footprint footprint;
};

// ---- literals and identifiers ----------------------------------------------------------------

std::string lower_identifier(std::string_view name);  // [a-z0-9_], never empty, never a leading digit
std::string upper(std::string_view text);
std::string c_int(int64_t value);     // "-5", "(-2147483647 - 1)" for INT32_MIN
std::string c_macro_int(int64_t value);  // parenthesised when negative: "(-5)"
std::string c_float(double value);    // "1.25e-03f"-style float literal (9 significant digits)
std::string c_double_text(double value);  // 9 significant digits, for comments
// Comma-separated values, `per_line` per line, each line indented by `indent` spaces.
std::string c_list(std::span<const int64_t> values, size_t per_line, int indent);
template <class T>
std::vector<int64_t> widen(std::span<const T> values) {
  return std::vector<int64_t>(values.begin(), values.end());
}
// Safe inside a C comment: "*/" cannot occur.
std::string comment_safe(std::string_view text);
std::string shape_text(const Shape& shape);  // "[1, 32, 32, 3]"

// ---- provenance -----------------------------------------------------------------------------

// The header of every generated file: `lead` starts each line (" * " for C, "# " for make).
std::string provenance_lines(const Context& ctx, std::string_view what, std::string_view lead);
std::string c_file_header(const Context& ctx, std::string_view file, std::string_view what);

// ---- emitters -------------------------------------------------------------------------------

std::string emit_model_h(const Context& ctx);
std::string emit_model_c(const Context& ctx);
Result<std::string> emit_main_c(const Context& ctx, const Dataset& images);
std::string emit_makefile(const Context& ctx);

// The runtime source that implements a layer kind; the DSP variant that replaces it on Cortex-M4
// (empty if none).
const char* runtime_source(engine::LayerKind kind);
const char* dsp_source(const std::string& runtime_source);

}  // namespace pocket::codegen::detail
