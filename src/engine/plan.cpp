// Plan: runs the compiled layers: Conv2d / FullyConnected on their packed fast kernels, MaxPool on
// pocket_maxpool_s8_fast (the reference when the plan was compiled for it), the rest on the
// runtime's reference kernels. No validation here: compile() ran every kernel's *_check and packed
// the fast kernels, so a kernel that still refuses is an internal error (POCKET_CHECK).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <vector>

#include "pocket/engine.hpp"

namespace pocket::engine {
namespace {

// Calls f(float_index, stored_index) for every element of `t`.
template <class F>
void for_each_element(const PlanTensor& t, F&& f) {
  if (t.chw.empty() || t.chw[1] * t.chw[2] == 1) {
    for (int64_t i = 0; i < t.bytes; ++i) f(i, i);
    return;
  }
  const int64_t C = t.chw[0], H = t.chw[1], W = t.chw[2];
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) f((c * H + y) * W + x, (y * W + x) * C + c);
}

std::string stored_str(const Shape& s) {
  std::string out;
  for (size_t i = 1; i < s.size(); ++i) {
    if (i > 1) out += "x";
    out += std::to_string(s[i]);
  }
  return out;
}

}  // namespace

int64_t Plan::total_macs() const {
  int64_t n = 0;
  for (const Layer& l : layers_) n += l.macs;
  return n;
}

int64_t Plan::total_weight_bytes() const {
  int64_t n = 0;
  for (const Layer& l : layers_) n += l.weight_bytes + l.bias_bytes + l.param_bytes;
  return n;
}

std::span<int8_t> Plan::tensor_data(std::span<int8_t> arena, int tensor) const {
  const PlanTensor& t = tensors_[static_cast<size_t>(tensor)];
  return arena.subspan(static_cast<size_t>(t.offset), static_cast<size_t>(t.bytes));
}

namespace {
// The scratch of the run forms without one: one per thread, grown (allocated) at most once per
// size.
std::span<uint8_t> thread_scratch(int64_t bytes) {
  thread_local std::vector<uint8_t> scratch;
  if (static_cast<int64_t>(scratch.size()) < bytes) scratch.resize(static_cast<size_t>(bytes));
  return std::span<uint8_t>(scratch);
}
}  // namespace

pocket_fast_variant Plan::layer_kernels(size_t index) const {
  if (index >= packed_.size() || !packed_[index]) return POCKET_FAST_SELECTED;
  return pocket_fast_packed_variant(packed_[index].get());
}

void Plan::run_layer(size_t index, std::span<int8_t> arena) const {
  run_layer(index, arena, thread_scratch(scratch_bytes_));
}

void Plan::run_layer(size_t index, std::span<int8_t> arena, std::span<uint8_t> scratch) const {
  POCKET_CHECK(static_cast<int64_t>(scratch.size()) >= scratch_bytes_, "the scratch is smaller than Plan::scratch_bytes()");
  const Layer& l = layers_[index];
  const void* packed = index < packed_.size() ? packed_[index].get() : nullptr;
  void* scratch_ptr = scratch.empty() ? nullptr : scratch.data();
  const int8_t* in = tensor_data(arena, l.inputs[0]).data();
  int8_t* out = tensor_data(arena, l.output).data();
  const int32_t* bias = l.bias.empty() ? nullptr : l.bias.data();
  pocket_status st = POCKET_OK;
  switch (l.kind) {
    case LayerKind::Conv2d: {
      pocket_conv2d_params p = l.conv;
      p.output_multiplier = l.multiplier.data();
      p.output_shift = l.shift.data();
      st = packed ? pocket_conv2d_s8_fast_run(&p, packed, in, out, scratch_ptr)
                  : pocket_conv2d_s8(&p, in, l.weights.data(), bias, out, nullptr);
      break;
    }
    case LayerKind::FullyConnected: {
      pocket_fully_connected_params p = l.fc;
      p.output_multiplier = l.multiplier.data();
      p.output_shift = l.shift.data();
      st = packed ? pocket_fully_connected_s8_fast_run(&p, packed, in, out, scratch_ptr)
                  : pocket_fully_connected_s8(&p, in, l.weights.data(), bias, out, nullptr);
      break;
    }
    case LayerKind::Add:
      st = pocket_add_s8(&l.add, in, tensor_data(arena, l.inputs[1]).data(), out);
      break;
    case LayerKind::Softmax: {
      pocket_softmax_params p = l.softmax;
      p.exp_table = l.exp_table.data();
      st = pocket_softmax_s8(&p, in, out);
      break;
    }
    case LayerKind::MaxPool:
      st = kernels_ == POCKET_FAST_REFERENCE ? pocket_maxpool_s8(&l.pool, in, out) : pocket_maxpool_s8_fast(&l.pool, in, out);
      break;
    case LayerKind::AveragePool: st = pocket_avgpool_s8(&l.pool, in, out); break;
    case LayerKind::GlobalAveragePool: st = pocket_global_avgpool_s8(&l.global_pool, in, out); break;
    case LayerKind::Clamp: st = pocket_clamp_s8(&l.clamp, in, out); break;
  }
  POCKET_CHECK(st == POCKET_OK, "layer '" + l.name + "': " + kernel_name(l.kind) + " refused parameters that compile() accepted");
}

void Plan::run(const int8_t* input_nhwc, int8_t* output, std::span<int8_t> arena,
               const LayerCallback& after_layer) const {
  run(input_nhwc, output, arena, thread_scratch(scratch_bytes_), after_layer);
}

void Plan::run(const int8_t* input_nhwc, int8_t* output, std::span<int8_t> arena, std::span<uint8_t> scratch,
               const LayerCallback& after_layer) const {
  POCKET_CHECK(static_cast<int64_t>(arena.size()) >= arena_.bytes, "the arena is smaller than Plan::arena_bytes()");
  POCKET_CHECK(static_cast<int64_t>(scratch.size()) >= scratch_bytes_, "the scratch is smaller than Plan::scratch_bytes()");
  std::span<int8_t> in = tensor_data(arena, input_);
  std::memcpy(in.data(), input_nhwc, in.size());
  for (size_t i = 0; i < layers_.size(); ++i) {
    run_layer(i, arena, scratch);
    if (after_layer) after_layer(i, tensor_data(arena, layers_[i].output));
  }
  std::span<int8_t> out = tensor_data(arena, output_);
  std::memcpy(output, out.data(), out.size());
}

void Plan::run(const int8_t* input_nhwc, int8_t* output) {
  run(input_nhwc, output, std::span<int8_t>(own_arena_), std::span<uint8_t>(own_scratch_), {});
}

void Plan::quantize_pixels(const uint8_t* chw_planar_pixels, int8_t* out) const {
  POCKET_CHECK(has_pixel_input(), "quantize_pixels on a plan without pixel input (check has_pixel_input())");
  const Shape& s = input().shape;
  pocket_quantize_input_params p{};
  p.batches = 1;
  p.channels = static_cast<int32_t>(s[1]);
  p.height = static_cast<int32_t>(s[2]);
  p.width = static_cast<int32_t>(s[3]);
  p.layout = POCKET_PIXELS_CHW;
  p.multiplier = pixel_input_.multiplier.data();
  p.shift = pixel_input_.shift.data();
  p.offset = pixel_input_.offset.data();
  p.output_zero_point = pixel_input_.zero_point;
  const pocket_status st = pocket_quantize_input_u8(&p, chw_planar_pixels, out);
  POCKET_CHECK(st == POCKET_OK, "pocket_quantize_input_u8 refused parameters that compile() accepted");
}

void Plan::quantize_tensor(int tensor, const float* float_order, int8_t* stored) const {
  const PlanTensor& t = tensors_[static_cast<size_t>(tensor)];
  const qmath::QuantParams qp{t.quant.scale, t.quant.zero_point};
  const qmath::QuantType type{8, t.quant.symmetric};
  for_each_element(t, [&](int64_t f, int64_t s) {
    stored[s] = static_cast<int8_t>(qmath::quantize_value(static_cast<double>(float_order[f]), qp, type));
  });
}

void Plan::quantize_float_input(const float* nchw, int8_t* out) const { quantize_tensor(input_, nchw, out); }

void Plan::dequantize_tensor(int tensor, const int8_t* stored, float* float_order) const {
  const PlanTensor& t = tensors_[static_cast<size_t>(tensor)];
  const double scale = t.quant.scale;
  const int32_t zp = t.quant.zero_point;
  for_each_element(t, [&](int64_t f, int64_t s) {
    float_order[f] = static_cast<float>(scale * static_cast<double>(stored[s] - zp));
  });
}

std::string Plan::describe() const {
  std::ostringstream os;
  char line[512];
  os << "integer layers (activations NHWC int8, weights OHWI int8; arena offsets in bytes)\n";
  std::snprintf(line, sizeof line, "%-3s %-16s %-15s %-24s %-22s %10s %8s  %-19s %s\n", "#", "layer", "kind", "fused",
                "shape in -> out", "MACs", "bytes", "arena in -> out", "requantization");
  os << line;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    std::string fused, shapes, arena;
    for (size_t k = 0; k < l.ops.size(); ++k) {
      if (k) fused += "+";
      fused += l.ops[k];
    }
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      if (k) {
        shapes += ",";
        arena += ",";
      }
      shapes += stored_str(tensors_[static_cast<size_t>(l.inputs[k])].stored_shape);
      arena += std::to_string(tensors_[static_cast<size_t>(l.inputs[k])].offset);
    }
    shapes += " -> ";
    shapes += stored_str(tensors_[static_cast<size_t>(l.output)].stored_shape);
    arena += " -> ";
    arena += std::to_string(tensors_[static_cast<size_t>(l.output)].offset);
    const ActQuant& qin = tensors_[static_cast<size_t>(l.inputs[0])].quant;
    const ActQuant& qout = tensors_[static_cast<size_t>(l.output)].quant;
    std::string rq;
    char buf[160];
    if (!l.real_multiplier.empty()) {
      double lo = l.real_multiplier[0], hi = lo;
      for (double m : l.real_multiplier) {
        lo = std::min(lo, m);
        hi = std::max(hi, m);
      }
      std::snprintf(buf, sizeof buf, "M %.3g..%.3g shift %d ", lo, hi, l.shift.empty() ? 0 : l.shift[0]);
      rq += buf;
    }
    std::snprintf(buf, sizeof buf, "zp %d->%d clamp [%d,%d]", qin.zero_point, qout.zero_point, l.act_min, l.act_max);
    rq += buf;
    std::snprintf(line, sizeof line, "%-3zu %-16s %-15s %-24s %-22s %10lld %8lld  %-19s %s\n", i, l.name.c_str(),
                  layer_kind_name(l.kind), fused.c_str(), shapes.c_str(), static_cast<long long>(l.macs),
                  static_cast<long long>(l.weight_bytes + l.bias_bytes + l.param_bytes), arena.c_str(), rq.c_str());
    os << line;
  }
  std::snprintf(line, sizeof line, "arena %lld bytes (lower bound %lld, %s); %lld MACs; %lld bytes of weights and parameters\n",
                static_cast<long long>(arena_.bytes), static_cast<long long>(arena_.lower_bound), arena_.method.c_str(),
                static_cast<long long>(total_macs()), static_cast<long long>(total_weight_bytes()));
  os << line;
  return os.str();
}

}  // namespace pocket::engine
