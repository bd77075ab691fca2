// The portable variant: no intrinsics, compiled for the baseline ISA. It keeps the reference's
// arithmetic (centered int16 inputs, int32 accumulators, pocket_requantize_s8) and changes the
// loop order so the compiler can vectorise over output channels: the input is padded once per
// image (padding needs no test), the weights are repacked to [group][ky][kx * group_in][out], and a
// fused max pool runs on the accumulators, so each conv output is computed once and each pooled
// output requantized once.
#include <stdint.h>
#include <string.h>

#include "fast_driver.hpp"
#include "fast_internal.hpp"
#include "pocket_requant.h"

namespace pocket::fast::portable {
namespace {

struct Kernel {
  using Elem = int16_t;
  static constexpr int64_t kSlackElems = 0;  // dot products never read past a filter row
  static Elem convert(int8_t x, int32_t input_zero_point) {
    return static_cast<Elem>(x - input_zero_point);
  }
  static Elem pad(int32_t) { return 0; }  // padding holds the zero point: x - zp = 0

  struct Layout {
    int32_t lanes;        // group_out
    int64_t weights;      // int8 [groups][filter_height][row_length][group_out]
    int64_t bias;         // int32 [output_channels]
    int64_t total;
  };
  static Layout layout(const ConvGeo& g) {
    Layout l{};
    l.lanes = g.group_out;
    l.weights = 0;
    l.bias = align64(int64_t{g.output_channels} * g.filter_height * g.row_length);
    l.total = l.bias + align64(int64_t{g.output_channels} * 4);
    return l;
  }

  static void conv_row(const ConvGeo& g, const Layout& lay, const uint8_t* body, int32_t group,
                       const Elem* plane, int32_t conv_y, int32_t* row) {
    const int8_t* weights = reinterpret_cast<const int8_t*>(body + lay.weights) +
                            int64_t{group} * g.filter_height * g.row_length * g.group_out;
    const int32_t* bias = reinterpret_cast<const int32_t*>(body + lay.bias) + group * g.group_out;
    const int64_t row_elems = int64_t{g.padded_width} * g.group_in;
    const int32_t out_channels = g.group_out;
    for (int32_t conv_x = 0; conv_x < g.conv_width; ++conv_x) {
      int32_t* acc = row + int64_t{conv_x} * out_channels;
      for (int32_t o = 0; o < out_channels; ++o) acc[o] = bias[o];
      const Elem* window = plane + int64_t{conv_y} * g.stride_height * row_elems +
                           int64_t{conv_x} * g.stride_width * g.group_in;
      for (int32_t filter_y = 0; filter_y < g.filter_height; ++filter_y) {
        const Elem* in = window + filter_y * row_elems;
        const int8_t* w = weights + int64_t{filter_y} * g.row_length * out_channels;
        for (int32_t k = 0; k < g.row_length; ++k) {
          const int32_t x = in[k];
          const int8_t* wk = w + int64_t{k} * out_channels;
          for (int32_t o = 0; o < out_channels; ++o) acc[o] += x * wk[o];
        }
      }
    }
  }

  static void requant_s8(const ConvGeo& g, const Layout&, const uint8_t*, int32_t,
                         const int32_t* multiplier, const int32_t* shift, const int32_t* acc,
                         int8_t* out) {
    for (int32_t o = 0; o < g.group_out; ++o) {
      out[o] = pocket_requantize_s8(acc[o], multiplier[o], shift[o], g.output_zero_point,
                                    g.act_min, g.act_max);
    }
  }
};

int64_t conv_body_bytes(const ConvGeo& g) { return Kernel::layout(g).total; }
int64_t conv_scratch_bytes(const ConvGeo& g) { return conv_driver_scratch_bytes<Kernel>(g); }

void conv_pack(const ConvGeo& g, const int8_t* filter, const int32_t* bias, const int32_t*,
               const int32_t*, uint8_t* body) {
  const Kernel::Layout lay = Kernel::layout(g);
  int8_t* weights = reinterpret_cast<int8_t*>(body + lay.weights);
  int32_t* packed_bias = reinterpret_cast<int32_t*>(body + lay.bias);
  for (int32_t group = 0; group < g.groups; ++group) {
    for (int32_t o = 0; o < g.group_out; ++o) {
      const int32_t channel = group * g.group_out + o;
      const int8_t* src = filter + int64_t{channel} * g.filter_height * g.row_length;
      for (int32_t filter_y = 0; filter_y < g.filter_height; ++filter_y) {
        for (int32_t k = 0; k < g.row_length; ++k) {
          weights[((int64_t{group} * g.filter_height + filter_y) * g.row_length + k) * g.group_out + o] =
              src[int64_t{filter_y} * g.row_length + k];
        }
      }
      packed_bias[channel] = bias != nullptr ? bias[channel] : 0;
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
