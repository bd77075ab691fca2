// The portable variant: no intrinsics, compiled for the baseline ISA. It keeps the reference's
// arithmetic (centered int16 inputs, int32 accumulators, pocket_requantize_s8) and changes the
// loop order so the compiler can vectorise over output channels: the input is padded once per
// image (padding needs no test), the weights are repacked to [group][block of 8 outputs][ky, kx,
// channel][8] int16, register tiles of 4 pixels x 8 outputs reuse each weight vector, and a fused
// max pool runs on the accumulators, so each conv output is computed once and each pooled output
// requantized once.
#include <stdint.h>
#include <string.h>

#include "fast_driver.hpp"
#include "fast_internal.hpp"
#include "pocket_requant.h"

namespace pocket::fast::portable {
namespace {

constexpr int32_t kLanes = 8;  // output channels per block (zero weights past the group's outputs)
constexpr int32_t kTile = 4;   // output pixels per tile: 4 x 8 accumulators

// acc[r][lane] = bias + sum over steps t of x[r][t] * w[t][lane] for R pixels; int16 operands
// widened to int32 products (what SSE2 pmullw/pmulhw and NEON smlal do).
template <int R>
void conv_tile(const int16_t* in, int64_t pixel_step, const int32_t* steps, int32_t step_count,
               const int16_t* weights, const int32_t* bias, int32_t* out, int64_t out_stride) {
  int32_t acc[R][kLanes];
  for (int r = 0; r < R; ++r) {
    for (int l = 0; l < kLanes; ++l) acc[r][l] = bias[l];
  }
  for (int32_t t = 0; t < step_count; ++t) {
    const int16_t* w = weights + int64_t{t} * kLanes;
    const int16_t* x = in + steps[t];
    for (int r = 0; r < R; ++r) {
      const int32_t xv = x[r * pixel_step];
      for (int l = 0; l < kLanes; ++l) acc[r][l] += xv * int32_t{w[l]};
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int l = 0; l < kLanes; ++l) out[r * out_stride + l] = acc[r][l];
  }
}

struct Kernel {
  using Elem = int16_t;
  static constexpr int64_t kSlackElems = 0;  // steps never read past a filter row
  static Elem convert(int8_t x, int32_t input_zero_point) {
    return static_cast<Elem>(x - input_zero_point);
  }
  static Elem pad(int32_t) { return 0; }  // padding holds the zero point: x - zp = 0

  struct Layout {
    int32_t lanes;    // blocks * 8
    int32_t blocks;
    int64_t weights;  // int16 [groups][blocks][filter_height * row_length][8]
    int64_t bias;     // int32 [groups][lanes]
    int64_t steps;    // int32 [filter_height * row_length]: ky * padded row + k, in elements
    int64_t total;
  };
  static Layout layout(const ConvGeo& g) {
    Layout l{};
    l.blocks = (g.group_out + kLanes - 1) / kLanes;
    l.lanes = l.blocks * kLanes;
    const int64_t steps = int64_t{g.filter_height} * g.row_length;
    l.weights = 0;
    l.bias = align64(int64_t{g.groups} * l.lanes * steps * 2);
    l.steps = l.bias + align64(int64_t{g.groups} * l.lanes * 4);
    l.total = l.steps + align64(steps * 4);
    return l;
  }

  static void conv_row(const ConvGeo& g, const Layout& lay, const uint8_t* body, int32_t group,
                       const Elem* plane, int32_t conv_y, int32_t* row) {
    const int64_t pixel_step = int64_t{g.stride_width} * g.group_in;
    const int64_t row_step = int64_t{g.padded_width} * g.group_in;
    const int16_t* base = plane + int64_t{conv_y} * g.stride_height * row_step;
    const int32_t step_count = g.filter_height * g.row_length;
    const int16_t* weights = reinterpret_cast<const int16_t*>(body + lay.weights);
    const int32_t* bias = reinterpret_cast<const int32_t*>(body + lay.bias);
    const int32_t* steps = reinterpret_cast<const int32_t*>(body + lay.steps);
    for (int32_t block = 0; block < lay.blocks; ++block) {
      const int16_t* w = weights + (int64_t{group} * lay.blocks + block) * step_count * kLanes;
      const int32_t* b = bias + int64_t{group} * lay.lanes + block * kLanes;
      int32_t* out = row + block * kLanes;
      int32_t x = 0;
      for (; x + kTile <= g.conv_width; x += kTile) {
        conv_tile<kTile>(base + x * pixel_step, pixel_step, steps, step_count, w, b,
                         out + int64_t{x} * lay.lanes, lay.lanes);
      }
      const int16_t* in = base + x * pixel_step;
      int32_t* tail = out + int64_t{x} * lay.lanes;
      switch (g.conv_width - x) {
        case 1: conv_tile<1>(in, pixel_step, steps, step_count, w, b, tail, lay.lanes); break;
        case 2: conv_tile<2>(in, pixel_step, steps, step_count, w, b, tail, lay.lanes); break;
        case 3: conv_tile<3>(in, pixel_step, steps, step_count, w, b, tail, lay.lanes); break;
        default: break;
      }
    }
  }

  static void max_pool_requant(const ConvGeo& g, const Layout& lay, const uint8_t*, int32_t,
                               const int32_t* const* rows, const int32_t* multiplier,
                               const int32_t* shift, int8_t* out) {
    const int64_t lanes = lay.lanes;
    for (int32_t out_x = 0; out_x < g.output_width; ++out_x) {
      const int64_t first = int64_t{out_x} * g.pool_stride_width * lanes;
      int8_t* pixel = out + int64_t{out_x} * g.output_channels;
      for (int32_t o = 0; o < g.group_out; ++o) {
        int32_t best = rows[0][first + o];
        for (int32_t pool_y = 0; pool_y < g.pool_height; ++pool_y) {
          for (int32_t pool_x = 0; pool_x < g.pool_width; ++pool_x) {
            const int32_t v = rows[pool_y][first + pool_x * lanes + o];
            best = v > best ? v : best;
          }
        }
        pixel[o] = pocket_requantize_s8(best, multiplier[o], shift[o], g.output_zero_point, g.act_min,
                                        g.act_max);
      }
    }
  }
};

int64_t conv_body_bytes(const ConvGeo& g) { return Kernel::layout(g).total; }
int64_t conv_scratch_bytes(const ConvGeo& g) { return conv_driver_scratch_bytes<Kernel>(g); }

void conv_pack(const ConvGeo& g, const int8_t* filter, const int32_t* bias, const int32_t*,
               const int32_t*, uint8_t* body) {
  const Kernel::Layout lay = Kernel::layout(g);
  int16_t* weights = reinterpret_cast<int16_t*>(body + lay.weights);
  int32_t* packed_bias = reinterpret_cast<int32_t*>(body + lay.bias);
  int32_t* steps = reinterpret_cast<int32_t*>(body + lay.steps);
  const int32_t step_count = g.filter_height * g.row_length;
  for (int32_t filter_y = 0; filter_y < g.filter_height; ++filter_y) {
    for (int32_t k = 0; k < g.row_length; ++k) {
      // < padded plane size, which the dispatcher keeps below 2^28.
      steps[filter_y * g.row_length + k] =
          static_cast<int32_t>(int64_t{filter_y} * g.padded_width * g.group_in + k);
    }
  }
  for (int32_t group = 0; group < g.groups; ++group) {
    for (int32_t block = 0; block < lay.blocks; ++block) {
      int16_t* w = weights + (int64_t{group} * lay.blocks + block) * step_count * kLanes;
      for (int32_t t = 0; t < step_count; ++t) {
        for (int32_t lane = 0; lane < kLanes; ++lane) {
          const int32_t o = block * kLanes + lane;
          *w++ = o < g.group_out ? filter[(int64_t{group} * g.group_out + o) * step_count + t] : int16_t{0};
        }
      }
    }
    for (int32_t lane = 0; lane < lay.lanes; ++lane) {
      const int32_t channel = group * g.group_out + lane;
      packed_bias[int64_t{group} * lay.lanes + lane] = lane < g.group_out && bias != nullptr ? bias[channel] : 0;
    }
  }
}

void conv_run(const ConvGeo& g, const uint8_t* body, const int32_t* multiplier,
              const int32_t* shift, const int8_t* input, int8_t* output, uint8_t* scratch) {
  conv_driver_run<Kernel>(g, body, multiplier, shift, input, output, scratch);
}

// Fully connected: weights copied as they are ([out][in]); centered int16 inputs.
int64_t fc_body_bytes(const FcGeo& g) {
  return align64(int64_t{g.output_features} * g.input_features) +
         align64(int64_t{g.output_features} * 4);
}
int64_t fc_scratch_bytes(const FcGeo& g) { return align64(int64_t{g.input_features} * 2); }

void fc_pack(const FcGeo& g, const int8_t* weights, const int32_t* bias, const int32_t*,
             const int32_t*, uint8_t* body) {
  const int64_t weight_bytes = int64_t{g.output_features} * g.input_features;
  memcpy(body, weights, static_cast<size_t>(weight_bytes));
  int32_t* packed_bias = reinterpret_cast<int32_t*>(body + align64(weight_bytes));
  for (int32_t o = 0; o < g.output_features; ++o) packed_bias[o] = bias != nullptr ? bias[o] : 0;
}

void fc_run(const FcGeo& g, const uint8_t* body, const int32_t* multiplier, const int32_t* shift,
            const int8_t* input, int8_t* output, uint8_t* scratch) {
  const int64_t weight_bytes = int64_t{g.output_features} * g.input_features;
  const int8_t* weights = reinterpret_cast<const int8_t*>(body);
  const int32_t* bias = reinterpret_cast<const int32_t*>(body + align64(weight_bytes));
  int16_t* centered = reinterpret_cast<int16_t*>(scratch);
  for (int32_t batch = 0; batch < g.batches; ++batch) {
    const int8_t* in = input + int64_t{batch} * g.input_features;
    for (int32_t i = 0; i < g.input_features; ++i) {
      centered[i] = static_cast<int16_t>(in[i] - g.input_zero_point);
    }
    int8_t* out = output + int64_t{batch} * g.output_features;
    for (int32_t o = 0; o < g.output_features; ++o) {
      const int8_t* w = weights + int64_t{o} * g.input_features;
      int32_t acc = bias[o];
      for (int32_t i = 0; i < g.input_features; ++i) acc += centered[i] * w[i];
      out[o] = pocket_requantize_s8(acc, multiplier[o], shift[o], g.output_zero_point, g.act_min,
                                    g.act_max);
    }
  }
}

void requant(int32_t count, const int32_t* acc, const int32_t* multiplier, const int32_t* shift,
             int32_t zero_point, int32_t act_min, int32_t act_max, int8_t* out) {
  for (int32_t i = 0; i < count; ++i) {
    out[i] = pocket_requantize_s8(acc[i], multiplier[i], shift[i], zero_point, act_min, act_max);
  }
}

}  // namespace

const VariantOps kOps = {conv_body_bytes, conv_scratch_bytes, conv_pack, conv_run,
                         fc_body_bytes,   fc_scratch_bytes,   fc_pack,   fc_run, requant};

}  // namespace pocket::fast::portable
