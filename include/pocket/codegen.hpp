// Code generation: plain C99 for a compiled Plan, bit-for-bit equal to the host engine.
//
// generate() turns a QModel and its engine::Plan into the files of a directory:
//   model.h   the API (<prefix>_run on int8 input, <prefix>_run_pixels on uint8 RGB pixels with the
//             model's normalisation folded), input/output shapes, scales and zero points, the arena
//             size, and per layer every constant with comments that explain it (OUT_SCALE =
//             s_in*s_w/s_out, the multiplier and shift that implement it, zero points, clamp);
//   model.c   const int8 weights, int32 biases, per-layer kernel parameter structs, one static
//             arena (offsets from the Plan), the call sequence. No malloc, no stdio, no float;
//   runtime/  the runtime's C99 kernels the model needs, byte for byte the files the host engine
//             links (plus runtime/arm/*_dsp.c for Cortex-M4: DSP variants chosen per file by the
//             Makefile, byte-identical results);
//   main.c    (optional) a self-checking program: N embedded CIFAR-10 test images and the host
//             engine's expected outputs; returns 0 only if every byte matches;
//   Makefile + target/ (optional, per target) `make run`, `make size`, and on devices `make count`
//             (instructions per layer from the QEMU plugin in target/qemu/).
// Every generated file starts with a provenance header (tool version, model hash, command line) and
// depends only on its inputs: the same inputs give the same bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pocket/data.hpp"
#include "pocket/engine.hpp"
#include "pocket/quant.hpp"
#include "pocket/status.hpp"

namespace pocket::codegen {

enum class Target : uint8_t {
  None,      // model.h, model.c, runtime/ (and main.c) only: no Makefile
  Host,      // cc, native run
  CortexM4,  // arm-none-eabi-gcc -mcpu=cortex-m4, QEMU mps2-an386, DSP kernels
  CortexM3,  // arm-none-eabi-gcc -mcpu=cortex-m3, QEMU mps2-an385
  Rv32imc,   // riscv64-unknown-elf-gcc -march=rv32imc, QEMU virt with the Ibex core
};
const char* target_name(Target target);  // "none", "host", "cortex-m4", "cortex-m3", "rv32imc"
Result<Target> parse_target(const std::string& name);

struct GenOptions {
  std::string prefix = "model";  // C identifier: <prefix>_run, <PREFIX>_ARENA_BYTES
  Target target = Target::None;
  // main.c with this many test images (0: no main.c). Needs `images` in generate().
  int64_t main_images = 0;
  // Provenance, written into every generated file (no timestamps).
  std::string tool_version;   // "pocket 0.1.0"
  std::string command_line;   // as typed
  std::string model_sha256;   // of the .pqm file
};

// One output file, relative to the output directory.
struct File {
  std::string path;
  std::string contents;
  bool generated = true;  // false: copied verbatim from the sources (runtime/, targets/)
};

// Per layer: what it costs.
struct LayerCost {
  size_t index = 0;
  std::string name;    // the layer's name (the anchor node)
  std::string kind;    // "conv2d", ...
  std::string ops;     // "Conv+Relu+MaxPool"
  std::string kernel;  // "pocket_conv2d_s8"
  int64_t macs = 0;
  int64_t weight_bytes = 0;      // int8 weights
  int64_t bias_bytes = 0;        // int32 biases
  int64_t param_bytes = 0;       // multipliers, shifts, tables
  int64_t struct_bytes = 0;      // the kernel's parameter struct on a 32-bit target
  int64_t activation_bytes = 0;  // input(s) + output
  std::vector<int64_t> input_offsets;  // arena offsets
  int64_t output_offset = 0;
};

struct Footprint {
  std::vector<LayerCost> layers;
  int64_t macs = 0;
  int64_t weight_bytes = 0, bias_bytes = 0;
  int64_t param_bytes = 0;   // multipliers, shifts, tables, pixel quantization
  int64_t struct_bytes = 0;  // parameter structs (32-bit target)
  int64_t arena_bytes = 0;         // the Plan's arena: the generated static arena
  int64_t arena_lower_bound = 0;   // max over steps of the bytes of the live tensors
  std::string arena_method;
  int64_t scratch_bytes = 0;       // kernel scratch (0: neither the reference nor the DSP kernels need any)
  // Flash for the model's constants (code size is measured: `make size`).
  int64_t flash_bytes() const { return weight_bytes + bias_bytes + param_bytes + struct_bytes; }
  int64_t ram_bytes() const { return arena_bytes + scratch_bytes; }
};
Footprint footprint(const engine::Plan& plan);
// The per-layer table and the totals, with the arena against its lower bound.
std::string footprint_table(const Footprint& footprint);

struct Generated {
  std::vector<File> files;
  Footprint footprint;
  std::vector<std::string> runtime_files;  // the runtime sources compiled with the model
};

// `images` (CIFAR-10 layout: 3x32x32 planar uint8 per image) is read when options.main_images > 0;
// the expected outputs come from plan.run on plan.quantize_pixels of each image.
Result<Generated> generate(const QModel& model, const engine::Plan& plan, const GenOptions& options,
                           const Dataset* images = nullptr);

// Writes every file under `dir` (created if missing; existing files are replaced atomically).
Status write_files(const Generated& generated, const std::string& dir);

// A valid C identifier made of [a-z0-9_], starting with a letter, not pocket*: an error says what to pass.
Status check_prefix(const std::string& prefix);

}  // namespace pocket::codegen
