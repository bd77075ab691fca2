// model.h and model.c: the API, every constant with its explanation, the weights, the parameter
// structs, the arena and the call sequence. The text depends only on the Plan and the options.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "codegen_internal.hpp"

namespace pocket::codegen::detail {
namespace {

using engine::Layer;
using engine::LayerKind;
using engine::PlanTensor;

const PlanTensor& tensor(const Context& ctx, int id) { return ctx.plan->tensors()[static_cast<size_t>(id)]; }

std::string ops_text(const Layer& l) {
  std::string s;
  for (size_t k = 0; k < l.ops.size(); ++k) {
    if (k) s += "+";
    s += l.ops[k];
  }
  return s;
}

// "NHWC [1, 14, 14, 6]" or "[1, 120]".
std::string stored_text(const PlanTensor& t) {
  return (t.stored_shape.size() == 4 ? "NHWC " : "") + shape_text(t.stored_shape);
}

// Real value of an int8 bound: scale * (q - zero_point).
std::string real_of(const PlanTensor& t, int32_t q) { return c_double_text(t.quant.scale * (q - t.quant.zero_point)); }

std::string clamp_text(const Context& ctx, const Layer& l) {
  const PlanTensor& out = tensor(ctx, l.output);
  std::string acts;
  for (const std::string& op : l.ops) {
    if (op != "Relu" && op != "Clip") continue;
    if (!acts.empty()) acts += " then ";
    acts += op;
  }
  std::string what;
  if (acts.empty()) {
    what = "no activation: the int8 range";
  } else if (l.act_min == -128 && l.act_max == 127) {
    what = acts + ", which here is the whole int8 range (the output's quantized range lies inside the activation's)";
  } else {
    what = acts;
  }
  return fmt::format("Clamp [ACT_MIN, ACT_MAX] = [{}, {}], real [{}, {}]: {}", l.act_min, l.act_max,
                     real_of(out, l.act_min), real_of(out, l.act_max), what);
}

std::string int_macro_list(std::span<const int64_t> values, size_t per_line) {
  if (values.size() <= per_line) {
    std::string line = "{ ";
    line += c_list(values, per_line, 0);
    line += " }";
    return line;
  }
  return "{ \\\n" + [&] {
    std::string body = c_list(values, per_line, 4);
    std::string out;
    for (char c : body) {
      if (c == '\n') {
        out += " \\\n";
      } else {
        out += c;
      }
    }
    return out;
  }() + " \\\n}";
}

std::string float_macro_list(const std::vector<double>& values, size_t per_line) {
  std::string out = values.size() <= per_line ? "{ " : "{ \\\n    ";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i && i % per_line == 0) out += " \\\n    ";
    else if (i) out += " ";
    out += c_float(values[i]);
    if (i + 1 < values.size()) out += ",";
  }
  out += values.size() <= per_line ? " }" : " \\\n}";
  return out;
}

void define(std::string& out, const std::string& name, const std::string& value, const std::string& comment = "") {
  out += "#define " + name + " " + value;
  if (!comment.empty()) out += "  /* " + comment_safe(comment) + " */";
  out += "\n";
}

// The comment block and macros of one layer in model.h.
std::string layer_section(const Context& ctx, size_t index) {
  const Layer& l = ctx.plan->layers()[index];
  const std::string M = ctx.macro + "_" + upper(ctx.layer_ids[index]);
  const PlanTensor& in = tensor(ctx, l.inputs[0]);
  const PlanTensor& out_t = tensor(ctx, l.output);
  std::string c = "/* ---------------------------------------------------------------------------------------------\n";
  c += fmt::format(" * Layer {} of {}: \"{}\" = {} -> {}\n", index, ctx.plan->layers().size(), comment_safe(l.name),
                   ops_text(l), engine::kernel_name(l.kind));
  for (size_t k = 0; k < l.inputs.size(); ++k) {
    const PlanTensor& t = tensor(ctx, l.inputs[k]);
    c += fmt::format(" *   input{} \"{}\" {} int8, scale {}, zero point {} (arena offset {})\n",
                     l.inputs.size() > 1 ? std::to_string(k + 1) : std::string(), comment_safe(t.name), stored_text(t),
                     c_double_text(t.quant.scale), t.quant.zero_point, t.offset);
  }
  c += fmt::format(" *   output \"{}\" {} int8, scale {}, zero point {} (arena offset {})\n", comment_safe(out_t.name),
                   stored_text(out_t), c_double_text(out_t.quant.scale), out_t.quant.zero_point, out_t.offset);
  std::string defs;
  auto per_channel_table = [&](const char* weight_what, int32_t input_zp, int32_t output_zp, int32_t act_min,
                               int32_t act_max) {
    c += fmt::format(" *   weights {}, {} bytes; bias {}; {} MACs\n", weight_what, l.weight_bytes,
                     l.bias.empty() ? std::string("none") : fmt::format("int32 [{}] at scale s_in * s_w[c]", l.bias.size()),
                     l.macs);
    c += " *   Per output channel c (docs/requantization.md; the lab's O1q = (sW1 * sI / sO1) * sum(W1q * Iq)):\n";
    c += " *     acc = bias[c] + sum over the window of (in - INPUT_ZERO_POINT) * w[c]\n";
    c += " *     out = clamp(round(acc * MULTIPLIER[c] / 2^(31 + SHIFT[c])) + OUTPUT_ZERO_POINT, ACT_MIN, ACT_MAX)\n";
    c += " *   MULTIPLIER[c] * 2^-(31 + SHIFT[c]) is OUT_SCALE[c] = s_in * s_w[c] / s_out quantized (relative error\n";
    c += " *   <= 2^-31; SHIFT is a right shift). Chained: this layer's s_in is the s_out of the layer before.\n";
    c += fmt::format(" *   s_in = {}, s_out = {}\n", c_double_text(in.quant.scale), c_double_text(out_t.quant.scale));
    c += " *      c  s_w[c]           OUT_SCALE[c]     MULTIPLIER[c]  SHIFT[c]\n";
    for (size_t ch = 0; ch < l.multiplier.size(); ++ch) {
      c += fmt::format(" *   {:>4}  {:<15}  {:<15}  {:>13}  {:>8}\n", ch, c_double_text(l.weight_scale[ch]),
                       c_double_text(l.real_multiplier[ch]), l.multiplier[ch], l.shift[ch]);
    }
    c += " *   " + clamp_text(ctx, l) + "\n";
    define(defs, M + "_INPUT_ZERO_POINT", c_macro_int(input_zp));
    define(defs, M + "_OUTPUT_ZERO_POINT", c_macro_int(output_zp));
    define(defs, M + "_ACT_MIN", c_macro_int(act_min));
    define(defs, M + "_ACT_MAX", c_macro_int(act_max));
    define(defs, M + "_OUT_CHANNELS", std::to_string(l.multiplier.size()));
    defs += "/* OUT_SCALE: float, for reading only; the int8 path uses MULTIPLIER and SHIFT. */\n";
    define(defs, M + "_OUT_SCALE", float_macro_list(l.real_multiplier, 6));
    define(defs, M + "_MULTIPLIER", int_macro_list(widen(std::span<const int32_t>(l.multiplier)), 6));
    define(defs, M + "_SHIFT", int_macro_list(widen(std::span<const int32_t>(l.shift)), 16));
  };
  switch (l.kind) {
    case LayerKind::Conv2d: {
      const pocket_conv2d_params& p = l.conv;
      c += fmt::format(" *   filter {}x{}, stride {}x{}, padding top/left/bottom/right {}/{}/{}/{}, groups {}\n",
                       p.filter_height, p.filter_width, p.stride_height, p.stride_width, p.pad_top, p.pad_left,
                       p.pad_bottom, p.pad_right, p.groups);
      if (p.pool.kind != POCKET_POOL_NONE) {
        c += fmt::format(" *   fused {} pool {}x{}, stride {}x{} (valid), on the requantized outputs\n",
                         p.pool.kind == POCKET_POOL_MAX ? "max" : "average", p.pool.filter_height, p.pool.filter_width,
                         p.pool.stride_height, p.pool.stride_width);
      }
      per_channel_table(fmt::format("OHWI [{}][{}][{}][{}] int8, symmetric per output channel", p.output_channels,
                                    p.filter_height, p.filter_width, p.input_channels / p.groups)
                            .c_str(),
                        p.input_zero_point, p.output_zero_point, p.act_min, p.act_max);
      break;
    }
    case LayerKind::FullyConnected: {
      const pocket_fully_connected_params& p = l.fc;
      per_channel_table(fmt::format("[{}][{}] int8 (columns in the stored (y, x, c) order of the input), symmetric per "
                                    "output feature",
                                    p.output_features, p.input_features)
                            .c_str(),
                        p.input_zero_point, p.output_zero_point, p.act_min, p.act_max);
      break;
    }
    case LayerKind::Add: {
      const PlanTensor& in2 = tensor(ctx, l.inputs[1]);
      c += " *   out = clamp(OUTPUT_ZERO_POINT + round(((in1 - INPUT1_ZERO_POINT) * MULTIPLIER1\n";
      c += " *                                      + (in2 - INPUT2_ZERO_POINT) * MULTIPLIER2) / 2^(31 + SHIFT)),\n";
      c += " *               ACT_MIN, ACT_MAX)\n";
      c += " *   with one shared SHIFT: MULTIPLIERi * 2^-(31 + SHIFT) is OUT_SCALEi = s_in_i / s_out quantized.\n";
      c += fmt::format(" *   OUT_SCALE1 = {} / {} = {} -> MULTIPLIER1 {}\n", c_double_text(in.quant.scale),
                       c_double_text(out_t.quant.scale), c_double_text(l.real_multiplier[0]), l.add.input1_multiplier);
      c += fmt::format(" *   OUT_SCALE2 = {} / {} = {} -> MULTIPLIER2 {}, SHIFT {}\n", c_double_text(in2.quant.scale),
                       c_double_text(out_t.quant.scale), c_double_text(l.real_multiplier[1]), l.add.input2_multiplier,
                       l.add.shift);
      c += " *   " + clamp_text(ctx, l) + "\n";
      define(defs, M + "_INPUT1_ZERO_POINT", c_macro_int(l.add.input1_zero_point));
      define(defs, M + "_INPUT2_ZERO_POINT", c_macro_int(l.add.input2_zero_point));
      define(defs, M + "_OUTPUT_ZERO_POINT", c_macro_int(l.add.output_zero_point));
      define(defs, M + "_OUT_SCALE1", c_float(l.real_multiplier[0]), "float, for reading only");
      define(defs, M + "_OUT_SCALE2", c_float(l.real_multiplier[1]), "float, for reading only");
      define(defs, M + "_MULTIPLIER1", c_macro_int(l.add.input1_multiplier));
      define(defs, M + "_MULTIPLIER2", c_macro_int(l.add.input2_multiplier));
      define(defs, M + "_SHIFT", c_macro_int(l.add.shift));
      define(defs, M + "_ACT_MIN", c_macro_int(l.add.act_min));
      define(defs, M + "_ACT_MAX", c_macro_int(l.add.act_max));
      break;
    }
    case LayerKind::Softmax: {
      c += " *   Softmax over the last axis; output scale 1/256, zero point -128:\n";
      c += " *     out_j = clamp(round(256 * EXP_TABLE[max - q_j] / sum_k EXP_TABLE[max - q_k]) - 128, -128, 127)\n";
      c += fmt::format(" *   EXP_TABLE[d] = round(32768 * exp(-s_in * d)), s_in = {}\n", c_double_text(in.quant.scale));
      std::vector<int64_t> table(l.exp_table.begin(), l.exp_table.end());
      define(defs, M + "_EXP_TABLE", int_macro_list(table, 12));
      break;
    }
    case LayerKind::MaxPool:
    case LayerKind::AveragePool: {
      const pocket_pool_params& p = l.pool;
      c += fmt::format(" *   {} pool {}x{}, stride {}x{}, padding top/left/bottom/right {}/{}/{}/{} (never counted); same\n",
                       l.kind == LayerKind::MaxPool ? "max" : "average", p.filter_height, p.filter_width,
                       p.stride_height, p.stride_width, p.pad_top, p.pad_left, p.pad_bottom, p.pad_right);
      c += " *   scale and zero point in and out\n";
      c += " *   " + clamp_text(ctx, l) + "\n";
      define(defs, M + "_ACT_MIN", c_macro_int(l.pool.act_min));
      define(defs, M + "_ACT_MAX", c_macro_int(l.pool.act_max));
      break;
    }
    case LayerKind::GlobalAveragePool: {
      c += " *   mean over height x width, rounded half away from zero; same scale and zero point in and out\n";
      c += " *   " + clamp_text(ctx, l) + "\n";
      define(defs, M + "_ACT_MIN", c_macro_int(l.global_pool.act_min));
      define(defs, M + "_ACT_MAX", c_macro_int(l.global_pool.act_max));
      break;
    }
    case LayerKind::Clamp: {
      c += " *   same scale and zero point in and out\n";
      c += " *   " + clamp_text(ctx, l) + "\n";
      define(defs, M + "_ACT_MIN", c_macro_int(l.clamp.act_min));
      define(defs, M + "_ACT_MAX", c_macro_int(l.clamp.act_max));
      break;
    }
  }
  c += " */\n";
  return c + defs + "\n";
}

std::string layer_table(const Context& ctx) {
  std::string c;
  c += fmt::format(" *   {:<3} {:<14} {:<22} {:<34} {:>9} {:>8}  {}\n", "#", "layer", "fused ops", "int8 in -> out (stored)",
                   "MACs", "weights", "arena in -> out");
  for (size_t i = 0; i < ctx.plan->layers().size(); ++i) {
    const Layer& l = ctx.plan->layers()[i];
    std::string shapes, arena;
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      if (k) {
        shapes += ",";
        arena += ",";
      }
      shapes += shape_text(tensor(ctx, l.inputs[k]).stored_shape);
      arena += std::to_string(tensor(ctx, l.inputs[k]).offset);
    }
    shapes += " -> ";
    shapes += shape_text(tensor(ctx, l.output).stored_shape);
    arena += " -> ";
    arena += std::to_string(tensor(ctx, l.output).offset);
    c += fmt::format(" *   {:<3} {:<14} {:<22} {:<34} {:>9} {:>8}  {}\n", i, comment_safe(l.name), ops_text(l), shapes,
                     l.macs, l.weight_bytes, arena);
  }
  return c;
}

std::string normalization_text(const Normalization& n) {
  switch (n.kind) {
    case Normalization::Kind::Lab: return "lab: x = p / 127.5 - 1 (range [-1, 1])";
    case Normalization::Kind::Unit: return "unit: x = p / 255 (range [0, 1])";
    case Normalization::Kind::Raw: return "raw: x = p (range [0, 255])";
    case Normalization::Kind::MeanStd:
      return fmt::format("x = (p / 255 - mean[c]) / std[c], mean = {{{}, {}, {}}}, std = {{{}, {}, {}}} (RGB)",
                         c_double_text(n.mean[0]), c_double_text(n.mean[1]), c_double_text(n.mean[2]),
                         c_double_text(n.stddev[0]), c_double_text(n.stddev[1]), c_double_text(n.stddev[2]));
    case Normalization::Kind::Unknown: break;
  }
  return "unknown";
}

// Dimensions of a stored tensor as macros: rank 4 -> HEIGHT/WIDTH/CHANNELS, rank 2 -> FEATURES.
void shape_macros(std::string& out, const std::string& name, const PlanTensor& t) {
  if (t.stored_shape.size() == 4) {
    define(out, name + "_HEIGHT", std::to_string(t.stored_shape[1]));
    define(out, name + "_WIDTH", std::to_string(t.stored_shape[2]));
    define(out, name + "_CHANNELS", std::to_string(t.stored_shape[3]));
  } else if (t.stored_shape.size() == 2) {
    define(out, name + "_FEATURES", std::to_string(t.stored_shape[1]));
  }
  define(out, name + "_BYTES", std::to_string(t.bytes));
}

}  // namespace

std::string emit_model_h(const Context& ctx) {
  const engine::Plan& plan = *ctx.plan;
  const std::string& P = ctx.prefix;
  const std::string& M = ctx.macro;
  const PlanTensor& in = plan.input();
  const PlanTensor& out = plan.output();
  const Footprint& f = ctx.footprint;
  std::string h = c_file_header(ctx, "model.h", "API and constants of the int8 model \"" + P + "\"");
  h += "#ifndef " + M + "_MODEL_H\n#define " + M + "_MODEL_H\n\n#include <stdint.h>\n\n#include \"pocket_runtime.h\"\n\n";
  h += "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  h += "/*\n * Numbers (docs/quantization.md, docs/requantization.md): every tensor is int8 with\n";
  h += " * real = scale * (q - zero_point); weights are int8 symmetric per output channel, biases int32 at\n";
  h += " * s_in * s_w[c]. Integer only: the float macros below are for reading and converting, never used\n";
  h += " * by the int8 path. Activations are stored NHWC, weights OHWI.\n *\n";
  h += fmt::format(" * {} integer layers, {} MACs per inference:\n", plan.layers().size(), plan.total_macs());
  h += layer_table(ctx);
  h += " *\n * Memory\n";
  h += fmt::format(" *   RAM:   one static arena of {}_ARENA_BYTES = {} bytes holds every activation tensor, at\n", M,
                   f.arena_bytes);
  h += " *          offsets planned from tensor lifetimes (tensors live at the same time never share a byte);\n";
  h += fmt::format(" *          lower bound (the most bytes live at one step): {}{}. Kernel scratch: {} bytes.\n",
                   f.arena_lower_bound, f.arena_bytes == f.arena_lower_bound ? ", reached" : "", f.scratch_bytes);
  h += fmt::format(" *   Flash: int8 weights {} + int32 biases {} + multipliers/shifts/tables {} + parameter structs\n",
                   f.weight_bytes, f.bias_bytes, f.param_bytes);
  h += fmt::format(" *          ~{} = {} bytes of constants, plus code (`make size` measures both).\n", f.struct_bytes,
                   f.flash_bytes());
  h += " */\n";
  define(h, M + "_LAYER_COUNT", std::to_string(plan.layers().size()));
  define(h, M + "_MACS", std::to_string(plan.total_macs()));
  define(h, M + "_ARENA_BYTES", std::to_string(f.arena_bytes), "static RAM of the model: the activation arena");
  define(h, M + "_ARENA_LOWER_BOUND", std::to_string(f.arena_lower_bound));
  define(h, M + "_SCRATCH_BYTES", std::to_string(f.scratch_bytes), "no kernel needs scratch memory");
  define(h, M + "_WEIGHT_BYTES", std::to_string(f.weight_bytes));
  define(h, M + "_BIAS_BYTES", std::to_string(f.bias_bytes));
  h += "\n";

  // Input
  h += "/*\n";
  h += fmt::format(" * Input \"{}\": float graph {}, stored {} int8:\n", comment_safe(in.name), shape_text(in.shape),
                   stored_text(in));
  h += fmt::format(" *   real x = {}_INPUT_SCALE * (q - {}_INPUT_ZERO_POINT)\n", M, M);
  if (plan.has_pixel_input()) {
    h += " * Normalisation (part of the model): a pixel p (0..255) of channel c (RGB) is the model input\n";
    h += " *   " + comment_safe(normalization_text(ctx.model->graph.normalization)) + "\n";
    h += fmt::format(" * {}_run_pixels folds it into one exact integer rescale per channel (pocket_quantize_input_u8):\n", P);
    h += fmt::format(" *   q = clamp(round((p * {0}_PIXEL_MULTIPLIER[c] + {0}_PIXEL_OFFSET[c]) / 2^(31 + {0}_PIXEL_SHIFT[c]))\n", M);
    h += fmt::format(" *             + {}_INPUT_ZERO_POINT, -128, 127)        (ties away from zero)\n", M);
  } else {
    h += " * The model records no input normalisation, so there is no pixel entry point: quantize the\n";
    h += " * (normalised) input yourself with the scale and zero point below.\n";
  }
  h += " */\n";
  shape_macros(h, M + "_INPUT", in);
  define(h, M + "_INPUT_SCALE", c_float(in.quant.scale), "float, for converting real values only");
  define(h, M + "_INPUT_ZERO_POINT", c_macro_int(in.quant.zero_point));
  if (plan.has_pixel_input()) {
    const qmath::InputQuantization& px = plan.pixel_input();
    define(h, M + "_PIXEL_MULTIPLIER", int_macro_list(widen(std::span<const int32_t>(px.multiplier)), 8));
    define(h, M + "_PIXEL_SHIFT", int_macro_list(widen(std::span<const int32_t>(px.shift)), 8));
    std::string offsets = "{ ";
    for (size_t c = 0; c < px.offset.size(); ++c) {
      if (c) offsets += ", ";
      offsets += "INT64_C(";
      offsets += std::to_string(px.offset[c]);
      offsets += ")";
    }
    offsets += " }";
    define(h, M + "_PIXEL_OFFSET", offsets);
  }
  h += "\n";

  // Output
  h += "/*\n";
  h += fmt::format(" * Output \"{}\": float graph {}, stored {} int8:\n", comment_safe(out.name), shape_text(out.shape),
                   stored_text(out));
  h += fmt::format(" *   real y = {}_OUTPUT_SCALE * (q - {}_OUTPUT_ZERO_POINT)\n", M, M);
  if (plan.layers().back().kind == LayerKind::Softmax) {
    h += " *   (softmax probabilities: q = -128 is 0, q = 127 is 255/256)\n";
  } else if (out.stored_shape.size() == 2) {
    h += " *   The class with the largest q is the prediction (the scale is positive, so the order is the\n";
    h += " *   order of the real scores).\n";
  }
  h += " */\n";
  shape_macros(h, M + "_OUTPUT", out);
  define(h, M + "_OUTPUT_SCALE", c_float(out.quant.scale), "float, for converting real values only");
  define(h, M + "_OUTPUT_ZERO_POINT", c_macro_int(out.quant.zero_point));
  h += "\n";

  // API
  h += "/*\n";
  h += fmt::format(" * {}_run: one inference on an int8 input that is already quantized ({}_INPUT_BYTES values,\n", P, M);
  h += fmt::format(" * stored order as above); writes {}_OUTPUT_BYTES int8 values to `output`.\n", M);
  h += " * Returns POCKET_OK (0), POCKET_ERR_NULL_POINTER, or the status of a kernel that refused its\n";
  h += " * parameters (pocket gen checked them all, so that means memory corruption). Not reentrant: one\n";
  h += " * static arena. No allocation, no I/O, no floating point.\n";
  h += fmt::format(" * Profiling: build model.c with -D{}_PROFILE and provide\n", M);
  h += " *   void pocket_profile_mark(uint32_t layer);\n";
  h += fmt::format(" * it is called before layer i with i, and after the last layer with {}_LAYER_COUNT.\n", M);
  h += " */\n";
  h += fmt::format("pocket_status {}_run(const int8_t *input, int8_t *output);\n\n", P);
  if (plan.has_pixel_input()) {
    h += "/*\n";
    h += fmt::format(" * {}_run_pixels: the same from uint8 RGB pixels, quantized with the normalisation folded in:\n", P);
    h += fmt::format(" *   layout POCKET_PIXELS_HWC: [{0}_INPUT_HEIGHT][{0}_INPUT_WIDTH][{0}_INPUT_CHANNELS] (a camera)\n", M);
    h += fmt::format(" *   layout POCKET_PIXELS_CHW: [{0}_INPUT_CHANNELS][{0}_INPUT_HEIGHT][{0}_INPUT_WIDTH] (the CIFAR-10 files)\n", M);
    h += " * Any other layout: POCKET_ERR_BAD_SHAPE.\n";
    h += " */\n";
    h += fmt::format("pocket_status {}_run_pixels(const uint8_t *pixels, pocket_pixel_layout layout, int8_t *output);\n\n",
                     P);
  }
  h += "/* =============================================================================================\n";
  h += " * Layer constants. model.c initialises its parameter arrays and structs from these macros.\n";
  h += " * ============================================================================================= */\n\n";
  for (size_t i = 0; i < plan.layers().size(); ++i) h += layer_section(ctx, i);
  h += "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n#endif /* " + M + "_MODEL_H */\n";
  return h;
}

namespace {

// The weight array of a conv/FC layer, one block per output channel.
std::string weights_array(const std::string& name, const Layer& l, int64_t rows, const std::string& layout) {
  std::string c = fmt::format("/* {} int8, {} */\nstatic const int8_t {}[{}] = {{\n", layout, l.weights.size(), name,
                              l.weights.size());
  const size_t per_row = l.weights.size() / static_cast<size_t>(rows);
  for (int64_t r = 0; r < rows; ++r) {
    c += fmt::format("    /* [{}] */\n", r);
    std::vector<int64_t> row(l.weights.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(r) * per_row),
                             l.weights.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(r + 1) * per_row));
    c += c_list(row, 20, 4);
    c += r + 1 < rows ? ",\n" : "\n";
  }
  c += "};\n";
  return c;
}

std::string layer_constants(const Context& ctx, size_t index) {
  const Layer& l = ctx.plan->layers()[index];
  const std::string p = ctx.prefix + "_" + ctx.layer_ids[index];
  const std::string M = ctx.macro + "_" + upper(ctx.layer_ids[index]);
  std::string c = fmt::format("/* ---- layer {}: \"{}\" ({}, {}) ---- */\n", index, comment_safe(l.name), ops_text(l),
                              engine::kernel_name(l.kind));
  auto requant_arrays = [&](size_t channels) {
    c += fmt::format("static const int32_t {}_multiplier[{}] = {}_MULTIPLIER;\n", p, channels, M);
    c += fmt::format("static const int32_t {}_shift[{}] = {}_SHIFT;\n", p, channels, M);
  };
  auto bias_array = [&] {
    if (l.bias.empty()) return;
    c += fmt::format("/* int32 at scale s_in * s_w[c] */\nstatic const int32_t {}_bias[{}] = {{\n{}\n}};\n", p,
                     l.bias.size(), c_list(widen(std::span<const int32_t>(l.bias)), 8, 4));
  };
  switch (l.kind) {
    case LayerKind::Conv2d: {
      const pocket_conv2d_params& q = l.conv;
      c += weights_array(p + "_weights", l, q.output_channels,
                         fmt::format("OHWI [{}][{}][{}][{}]", q.output_channels, q.filter_height, q.filter_width,
                                     q.input_channels / q.groups));
      bias_array();
      requant_arrays(static_cast<size_t>(q.output_channels));
      const char* pool = q.pool.kind == POCKET_POOL_MAX ? "POCKET_POOL_MAX"
                         : q.pool.kind == POCKET_POOL_AVG ? "POCKET_POOL_AVG"
                                                          : "POCKET_POOL_NONE";
      c += fmt::format("static const pocket_conv2d_params {}_params = {{\n", p);
      c += fmt::format("    .batches = {},\n", q.batches);
      c += fmt::format("    .input_height = {}, .input_width = {}, .input_channels = {},\n", q.input_height,
                       q.input_width, q.input_channels);
      c += fmt::format("    .output_channels = {},\n", q.output_channels);
      c += fmt::format("    .filter_height = {}, .filter_width = {},\n", q.filter_height, q.filter_width);
      c += fmt::format("    .stride_height = {}, .stride_width = {},\n", q.stride_height, q.stride_width);
      c += fmt::format("    .pad_top = {}, .pad_left = {}, .pad_bottom = {}, .pad_right = {},\n", q.pad_top, q.pad_left,
                       q.pad_bottom, q.pad_right);
      c += fmt::format("    .groups = {},\n", q.groups);
      c += fmt::format("    .input_zero_point = {0}_INPUT_ZERO_POINT,\n    .output_zero_point = {0}_OUTPUT_ZERO_POINT,\n", M);
      c += fmt::format("    .output_multiplier = {0}_multiplier,\n    .output_shift = {0}_shift,\n", p);
      c += fmt::format("    .act_min = {0}_ACT_MIN, .act_max = {0}_ACT_MAX,\n", M);
      c += fmt::format("    .pool = {{ .kind = {}, .filter_height = {}, .filter_width = {}, .stride_height = {}, "
                       ".stride_width = {} }}\n",
                       pool, q.pool.filter_height, q.pool.filter_width, q.pool.stride_height, q.pool.stride_width);
      c += "};\n";
      break;
    }
    case LayerKind::FullyConnected: {
      const pocket_fully_connected_params& q = l.fc;
      c += weights_array(p + "_weights", l, q.output_features,
                         fmt::format("[{}][{}]", q.output_features, q.input_features));
      bias_array();
      requant_arrays(static_cast<size_t>(q.output_features));
      c += fmt::format("static const pocket_fully_connected_params {}_params = {{\n", p);
      c += fmt::format("    .batches = {}, .input_features = {}, .output_features = {},\n", q.batches, q.input_features,
                       q.output_features);
      c += fmt::format("    .input_zero_point = {0}_INPUT_ZERO_POINT,\n    .output_zero_point = {0}_OUTPUT_ZERO_POINT,\n", M);
      c += fmt::format("    .output_multiplier = {0}_multiplier,\n    .output_shift = {0}_shift,\n", p);
      c += fmt::format("    .act_min = {0}_ACT_MIN, .act_max = {0}_ACT_MAX\n", M);
      c += "};\n";
      break;
    }
    case LayerKind::Add: {
      c += fmt::format("static const pocket_add_params {}_params = {{\n", p);
      c += fmt::format("    .element_count = {},\n", l.add.element_count);
      c += fmt::format("    .input1_zero_point = {0}_INPUT1_ZERO_POINT, .input2_zero_point = {0}_INPUT2_ZERO_POINT,\n", M);
      c += fmt::format("    .output_zero_point = {}_OUTPUT_ZERO_POINT,\n", M);
      c += fmt::format("    .input1_multiplier = {0}_MULTIPLIER1, .input2_multiplier = {0}_MULTIPLIER2,\n", M);
      c += fmt::format("    .shift = {0}_SHIFT,\n    .act_min = {0}_ACT_MIN, .act_max = {0}_ACT_MAX\n", M);
      c += "};\n";
      break;
    }
    case LayerKind::Softmax: {
      c += fmt::format("static const uint16_t {}_exp_table[POCKET_SOFTMAX_EXP_TABLE_SIZE] = {}_EXP_TABLE;\n", p, M);
      c += fmt::format("static const pocket_softmax_params {}_params = {{\n", p);
      c += fmt::format("    .rows = {}, .depth = {}, .exp_table = {}_exp_table\n", l.softmax.rows, l.softmax.depth, p);
      c += "};\n";
      break;
    }
    case LayerKind::MaxPool:
    case LayerKind::AveragePool: {
      const pocket_pool_params& q = l.pool;
      c += fmt::format("static const pocket_pool_params {}_params = {{\n", p);
      c += fmt::format("    .batches = {},\n", q.batches);
      c += fmt::format("    .input_height = {}, .input_width = {}, .channels = {},\n", q.input_height, q.input_width,
                       q.channels);
      c += fmt::format("    .filter_height = {}, .filter_width = {},\n", q.filter_height, q.filter_width);
      c += fmt::format("    .stride_height = {}, .stride_width = {},\n", q.stride_height, q.stride_width);
      c += fmt::format("    .pad_top = {}, .pad_left = {}, .pad_bottom = {}, .pad_right = {},\n", q.pad_top, q.pad_left,
                       q.pad_bottom, q.pad_right);
      c += fmt::format("    .act_min = {0}_ACT_MIN, .act_max = {0}_ACT_MAX\n", M);
      c += "};\n";
      break;
    }
    case LayerKind::GlobalAveragePool: {
      const pocket_global_pool_params& q = l.global_pool;
      c += fmt::format("static const pocket_global_pool_params {}_params = {{\n", p);
      c += fmt::format("    .batches = {}, .height = {}, .width = {}, .channels = {},\n", q.batches, q.height, q.width,
                       q.channels);
      c += fmt::format("    .act_min = {0}_ACT_MIN, .act_max = {0}_ACT_MAX\n", M);
      c += "};\n";
      break;
    }
    case LayerKind::Clamp: {
      c += fmt::format("static const pocket_clamp_params {}_params = {{\n", p);
      c += fmt::format("    .element_count = {},\n", l.clamp.element_count);
      c += fmt::format("    .act_min = {0}_ACT_MIN, .act_max = {0}_ACT_MAX\n", M);
      c += "};\n";
      break;
    }
  }
  return c + "\n";
}

std::string at(const Context& ctx, int tensor_id) {
  return fmt::format("{}_AT({})", ctx.macro, tensor(ctx, tensor_id).offset);
}

std::string layer_call(const Context& ctx, size_t index) {
  const Layer& l = ctx.plan->layers()[index];
  const std::string p = ctx.prefix + "_" + ctx.layer_ids[index];
  std::string names;
  for (size_t k = 0; k < l.inputs.size(); ++k) {
    if (k) names += ", ";
    names += fmt::format("\"{}\" @{}", comment_safe(tensor(ctx, l.inputs[k]).name), tensor(ctx, l.inputs[k]).offset);
  }
  std::string c = fmt::format("    /* {}: {} -> \"{}\" @{} */\n", index, names, comment_safe(tensor(ctx, l.output).name),
                              tensor(ctx, l.output).offset);
  c += fmt::format("    {}_MARK({});\n", ctx.macro, index);
  const std::string in = at(ctx, l.inputs[0]);
  const std::string out = at(ctx, l.output);
  const std::string bias = l.bias.empty() ? std::string("0") : p + "_bias";
  switch (l.kind) {
    case LayerKind::Conv2d:
      c += fmt::format("    status = pocket_conv2d_s8(&{0}_params, {1}, {0}_weights, {2}, {3}, 0);\n", p, in, bias, out);
      break;
    case LayerKind::FullyConnected:
      c += fmt::format("    status = pocket_fully_connected_s8(&{0}_params, {1}, {0}_weights, {2}, {3}, 0);\n", p, in, bias,
                       out);
      break;
    case LayerKind::Add:
      c += fmt::format("    status = pocket_add_s8(&{}_params, {}, {}, {});\n", p, in, at(ctx, l.inputs[1]), out);
      break;
    case LayerKind::Softmax: c += fmt::format("    status = pocket_softmax_s8(&{}_params, {}, {});\n", p, in, out); break;
    case LayerKind::MaxPool: c += fmt::format("    status = pocket_maxpool_s8(&{}_params, {}, {});\n", p, in, out); break;
    case LayerKind::AveragePool:
      c += fmt::format("    status = pocket_avgpool_s8(&{}_params, {}, {});\n", p, in, out);
      break;
    case LayerKind::GlobalAveragePool:
      c += fmt::format("    status = pocket_global_avgpool_s8(&{}_params, {}, {});\n", p, in, out);
      break;
    case LayerKind::Clamp: c += fmt::format("    status = pocket_clamp_s8(&{}_params, {}, {});\n", p, in, out); break;
  }
  c += "    if (status != POCKET_OK) return status;\n";
  return c;
}

}  // namespace

std::string emit_model_c(const Context& ctx) {
  const engine::Plan& plan = *ctx.plan;
  const std::string& P = ctx.prefix;
  const std::string& M = ctx.macro;
  std::string c = c_file_header(ctx, "model.c", "weights, parameters, arena and call sequence of \"" + P + "\"");
  c += "#include <stdint.h>\n\n#include \"model.h\"\n#include \"pocket_runtime.h\"\n\n";
  c += fmt::format("#ifdef {}_PROFILE\nvoid pocket_profile_mark(uint32_t layer);\n#define {}_MARK(layer) pocket_profile_mark(layer)\n",
                   M, M);
  c += fmt::format("#else\n#define {}_MARK(layer) ((void)0)\n#endif\n\n", M);
  c += "/*\n * The activation arena: every int8 tensor at the offset the engine planned from tensor lifetimes.\n";
  c += " * int32_t storage keeps it 4-byte aligned.\n";
  c += " *   tensor                          offset    bytes  written by layer .. last read by layer\n";
  for (const PlanTensor& t : plan.tensors()) {
    c += fmt::format(" *   {:<30} {:>7} {:>8}  {} .. {}\n", comment_safe(t.name), t.offset, t.bytes,
                     &t == &plan.input() ? std::string("input") : std::to_string(t.first_step), t.last_step);
  }
  c += " */\n";
  c += fmt::format("static int32_t {}_arena[({}_ARENA_BYTES + 3) / 4];\n", P, M);
  c += fmt::format("#define {}_AT(offset) ((int8_t *){}_arena + (offset))\n\n", M, P);
  if (plan.has_pixel_input()) {
    c += "/* Input quantization with the normalisation folded (model.h, \"Input\"). */\n";
    c += fmt::format("static const int32_t {0}_pixel_multiplier[{1}_INPUT_CHANNELS] = {1}_PIXEL_MULTIPLIER;\n", P, M);
    c += fmt::format("static const int32_t {0}_pixel_shift[{1}_INPUT_CHANNELS] = {1}_PIXEL_SHIFT;\n", P, M);
    c += fmt::format("static const int64_t {0}_pixel_offset[{1}_INPUT_CHANNELS] = {1}_PIXEL_OFFSET;\n\n", P, M);
  }
  for (size_t i = 0; i < plan.layers().size(); ++i) c += layer_constants(ctx, i);

  c += "/* The layers in order, on the arena. */\n";
  c += fmt::format("static pocket_status {}_layers(void)\n{{\n    pocket_status status;\n", P);
  for (size_t i = 0; i < plan.layers().size(); ++i) c += layer_call(ctx, i);
  c += fmt::format("    {}_MARK({});\n    return POCKET_OK;\n}}\n\n", M, plan.layers().size());

  c += fmt::format("static void {}_copy_output(int8_t *output)\n{{\n", P);
  c += fmt::format("    const int8_t *const result = {};\n    int32_t i;\n", at(ctx, plan.output_tensor()));
  c += fmt::format("    for (i = 0; i < {}_OUTPUT_BYTES; ++i) output[i] = result[i];\n}}\n\n", M);

  c += fmt::format("pocket_status {}_run(const int8_t *input, int8_t *output)\n{{\n", P);
  c += fmt::format("    int8_t *const tensor = {};\n    int32_t i;\n    pocket_status status;\n", at(ctx, plan.input_tensor()));
  c += "    if (input == 0 || output == 0) return POCKET_ERR_NULL_POINTER;\n";
  c += fmt::format("    for (i = 0; i < {}_INPUT_BYTES; ++i) tensor[i] = input[i];\n", M);
  c += fmt::format("    status = {}_layers();\n    if (status == POCKET_OK) {}_copy_output(output);\n    return status;\n}}\n",
                   P, P);
  if (plan.has_pixel_input()) {
    c += fmt::format("\npocket_status {}_run_pixels(const uint8_t *pixels, pocket_pixel_layout layout, int8_t *output)\n{{\n",
                     P);
    c += "    pocket_quantize_input_params params;\n    pocket_status status;\n";
    c += "    if (output == 0) return POCKET_ERR_NULL_POINTER;\n";
    c += "    params.batches = 1;\n";
    c += fmt::format("    params.height = {0}_INPUT_HEIGHT;\n    params.width = {0}_INPUT_WIDTH;\n", M);
    c += fmt::format("    params.channels = {}_INPUT_CHANNELS;\n", M);
    c += "    params.layout = layout;\n";
    c += fmt::format("    params.multiplier = {0}_pixel_multiplier;\n    params.shift = {0}_pixel_shift;\n", P);
    c += fmt::format("    params.offset = {}_pixel_offset;\n", P);
    c += fmt::format("    params.output_zero_point = {}_INPUT_ZERO_POINT;\n", M);
    c += fmt::format("    status = pocket_quantize_input_u8(&params, pixels, {});\n", at(ctx, plan.input_tensor()));
    c += "    if (status != POCKET_OK) return status;\n";
    c += fmt::format("    status = {}_layers();\n    if (status == POCKET_OK) {}_copy_output(output);\n    return status;\n}}\n",
                     P, P);
  }
  return c;
}

}  // namespace pocket::codegen::detail
