// main.c: a self-checking program. N CIFAR-10 test images and the host engine's int8 outputs for
// them are compiled in; the program runs the generated model on every image and returns 0 only if
// every output byte is the host engine's.
#include <fmt/format.h>

#include "codegen_internal.hpp"

namespace pocket::codegen::detail {

Result<std::string> emit_main_c(const Context& ctx, const Dataset& images) {
  const engine::Plan& plan = *ctx.plan;
  const std::string& P = ctx.prefix;
  const std::string& M = ctx.macro;
  const int64_t n = ctx.options.main_images;
  const size_t in_bytes = static_cast<size_t>(plan.input().bytes);
  const size_t out_bytes = static_cast<size_t>(plan.output().bytes);

  // The host engine's answers.
  std::vector<int8_t> arena(static_cast<size_t>(plan.arena_bytes()));
  std::vector<int8_t> input0(in_bytes), input(in_bytes);
  std::vector<std::vector<int8_t>> expected(static_cast<size_t>(n), std::vector<int8_t>(out_bytes));
  for (int64_t i = 0; i < n; ++i) {
    plan.quantize_pixels(images.image(i), input.data());
    if (i == 0) input0 = input;
    plan.run(input.data(), expected[static_cast<size_t>(i)].data(), arena);
  }

  std::string c = c_file_header(ctx, "main.c", "self-check of \"" + P + "\" against the host engine");
  c += "/*\n";
  c += fmt::format(" * Runs {}_run_pixels on {} CIFAR-10 test images (the first {} of {}) and {}_run on image 0\n", P, n, n,
                   comment_safe(images.source.empty() ? std::string("the test split") : images.source), P);
  c += " * quantized by the host engine, and compares every output byte with the host engine's\n";
  c += " * (pocket::engine::Plan::run, which links the same runtime kernels).\n";
  c += " * Exit status: 0 every byte matches, 1 some byte differs, 2 a call returned an error status.\n";
  c += " */\n";
  c += "#include <stdint.h>\n\n#include \"model.h\"\n\n";
  c += fmt::format("#define {}_TEST_IMAGES {}\n\n", M, n);
  c += "/* uint8 RGB, planar [3][32][32] (POCKET_PIXELS_CHW), as stored in the CIFAR-10 files. */\n";
  c += fmt::format("static const uint8_t {}_test_pixels[{}_TEST_IMAGES][{}] = {{\n", P, M, kCifarImageBytes);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t label = images.labels[static_cast<size_t>(i)];
    const std::string name =
        static_cast<size_t>(label) < images.class_names.size() ? images.class_names[label] : std::string("class ") + std::to_string(label);
    c += fmt::format("    /* image {}: label {} ({}) */\n    {{\n", i, label, comment_safe(name));
    const uint8_t* px = images.image(i);
    c += c_list(widen(std::span<const uint8_t>(px, static_cast<size_t>(kCifarImageBytes))), 24, 8);
    c += i + 1 < n ? "\n    },\n" : "\n    }\n";
  }
  c += "};\n\n";
  c += "/* The host engine's int8 outputs for these images. */\n";
  c += fmt::format("static const int8_t {}_test_expected[{}_TEST_IMAGES][{}_OUTPUT_BYTES] = {{\n", P, M, M);
  for (int64_t i = 0; i < n; ++i) {
    c += "    { ";
    c += c_list(widen(std::span<const int8_t>(expected[static_cast<size_t>(i)])), out_bytes + 1, 0);
    c += i + 1 < n ? " },\n" : " }\n";
  }
  c += "};\n\n";
  c += "/* Image 0 quantized by the host engine (stored order, int8): the input of the int8 entry point. */\n";
  c += fmt::format("static const int8_t {}_test_input0[{}_INPUT_BYTES] = {{\n", P, M);
  c += c_list(widen(std::span<const int8_t>(input0)), 24, 4);
  c += "\n};\n\n";

  c += "int main(void)\n{\n";
  c += fmt::format("    int8_t output[{}_OUTPUT_BYTES];\n", M);
  c += "    int32_t image, i;\n    uint32_t mismatches = 0;\n";
  c += fmt::format("    for (image = 0; image < {}_TEST_IMAGES; ++image) {{\n", M);
  c += fmt::format("        if ({}_run_pixels({}_test_pixels[image], POCKET_PIXELS_CHW, output) != POCKET_OK) return 2;\n",
                   P, P);
  c += fmt::format("        for (i = 0; i < {}_OUTPUT_BYTES; ++i) {{\n", M);
  c += fmt::format("            if (output[i] != {}_test_expected[image][i]) ++mismatches;\n", P);
  c += "        }\n    }\n";
  c += fmt::format("    if ({0}_run({0}_test_input0, output) != POCKET_OK) return 2;\n", P);
  c += fmt::format("    for (i = 0; i < {}_OUTPUT_BYTES; ++i) {{\n", M);
  c += fmt::format("        if (output[i] != {}_test_expected[0][i]) ++mismatches;\n", P);
  c += "    }\n    return mismatches == 0 ? 0 : 1;\n}\n";
  return c;
}

}  // namespace pocket::codegen::detail
