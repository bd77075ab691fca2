// The conv2d loop nest shared by the variants: it pads the input once per image, walks the
// pooled output rows, asks the variant for rows of int32 accumulators, pools and requantizes.
//
// Included by every kernels_<isa>.cpp. Everything here is a template over the variant's kernel
// type K (declared in an anonymous namespace there, so each instantiation is local to its file
// and compiled with that file's ISA flags) or `static`: no function here may get external
// linkage (see fast_internal.hpp). Do not include standard headers with inline templates.
//
// K provides
//   using Elem                       element of the padded input (uint8_t for u8 x s8 dot
//                                    products, int16_t for centered values)
//   static Elem convert(int8_t x, int32_t input_zero_point), pad(int32_t input_zero_point)
//   static constexpr int64_t kSlackElems   elements readable past the padded planes
//   struct Layout { int32_t lanes; ... }    lanes: accumulators per conv output and group
//                                           (group_out rounded up to the vector width)
//   static Layout layout(const ConvGeo&)
//   static void conv_row(const ConvGeo&, const Layout&, const uint8_t* body, int32_t group,
//                        const Elem* plane, int32_t conv_y, int32_t* row)
//       row[conv_x * lanes + lane] = bias + sum over the window (the exact int32 accumulator
//       of the reference, for lanes < group_out)
//   static void max_pool_requant(const ConvGeo&, const Layout&, const uint8_t* body, int32_t group,
//                                const int32_t* const* rows, const int32_t* multiplier,
//                                const int32_t* shift, int8_t* out)
//       for every output pixel out_x of the row and o < group_out:
//         out[out_x * output_channels + o] = pocket_requantize_s8(max over the pool window of
//           rows[pool_y][(out_x * pool_stride_width + pool_x) * lanes + o], multiplier[o], shift[o], ..)
//       (rows: the pool_height conv rows of the window; multiplier, shift, out: the group's first
//       channel). Without pooling the window is 1x1.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fast_internal.hpp"
#include "pocket_requant.h"

namespace pocket::fast {

static inline int64_t align64(int64_t bytes) { return (bytes + 63) & ~int64_t{63}; }

// Sections of the conv scratch, in bytes from the (64-byte aligned) scratch start.
struct ConvScratch {
  int64_t padded;  // [groups][padded_height][padded_width][group_in] Elem, + slack
  int64_t ring;    // [pool_height][conv_width][lanes] int32: conv rows, slot = conv_y % pool_height
  int64_t tags;    // [pool_height] int32: the conv row each ring slot holds (-1: none)
  int64_t rows;    // [pool_height] const int32_t*: the ring rows of the current output row
  int64_t total;
};

template <class K>
static ConvScratch conv_scratch_layout(const ConvGeo& g) {
  const typename K::Layout lay = K::layout(g);
  ConvScratch s{};
  const int64_t plane = int64_t{g.padded_height} * g.padded_width * g.group_in;
  const int64_t row = int64_t{g.conv_width} * lay.lanes * 4;
  s.padded = 0;
  s.ring = s.padded + align64((plane * g.groups + K::kSlackElems) * int64_t{sizeof(typename K::Elem)});
  s.tags = s.ring + align64(row * g.pool_height);
  s.rows = s.tags + align64(int64_t{g.pool_height} * 4);
  s.total = s.rows + align64(int64_t{g.pool_height} * int64_t{sizeof(const int32_t*)});
  return s;
}

template <class K>
static int64_t conv_driver_scratch_bytes(const ConvGeo& g) {
  return conv_scratch_layout<K>(g).total;
}

// Pads one image into per-group planes [groups][padded_height][padded_width][group_in].
template <class K>
static void fill_padded(const ConvGeo& g, const int8_t* image, typename K::Elem* padded) {
  using Elem = typename K::Elem;
  const Elem pad = K::pad(g.input_zero_point);
  const int32_t zp = g.input_zero_point;
  const int64_t row_elems = int64_t{g.padded_width} * g.group_in;
  const int64_t left = int64_t{g.pad_left} * g.group_in;
  const int64_t interior = int64_t{g.input_width} * g.group_in;
  for (int32_t group = 0; group < g.groups; ++group) {
    Elem* plane = padded + int64_t{group} * g.padded_height * row_elems;
    for (int32_t y = 0; y < g.padded_height; ++y) {
      Elem* dst = plane + int64_t{y} * row_elems;
      const int32_t in_y = y - g.pad_top;
      if (in_y < 0 || in_y >= g.input_height) {
        for (int64_t i = 0; i < row_elems; ++i) dst[i] = pad;
        continue;
      }
      for (int64_t i = 0; i < left; ++i) dst[i] = pad;
      for (int64_t i = left + interior; i < row_elems; ++i) dst[i] = pad;
      const int8_t* src = image + int64_t{in_y} * g.input_width * g.input_channels +
                          int64_t{group} * g.group_in;
      Elem* out = dst + left;
      if (g.groups == 1) {
        for (int64_t i = 0; i < interior; ++i) out[i] = K::convert(src[i], zp);
      } else {
        for (int32_t x = 0; x < g.input_width; ++x) {
          const int8_t* pixel = src + int64_t{x} * g.input_channels;
          Elem* pixel_out = out + int64_t{x} * g.group_in;
          for (int32_t c = 0; c < g.group_in; ++c) pixel_out[c] = K::convert(pixel[c], zp);
        }
      }
    }
  }
}

template <class K>
static void conv_driver_run(const ConvGeo& g, const uint8_t* body, const int32_t* multiplier,
                            const int32_t* shift, const int8_t* input, int8_t* output,
                            uint8_t* scratch) {
  using Elem = typename K::Elem;
  const typename K::Layout lay = K::layout(g);
  const ConvScratch s = conv_scratch_layout<K>(g);
  Elem* padded = reinterpret_cast<Elem*>(scratch + s.padded);
  int32_t* ring = reinterpret_cast<int32_t*>(scratch + s.ring);
  int32_t* tags = reinterpret_cast<int32_t*>(scratch + s.tags);
  const int32_t** rows = reinterpret_cast<const int32_t**>(scratch + s.rows);

  const int64_t plane_elems = int64_t{g.padded_height} * g.padded_width * g.group_in;
  const int64_t row_ints = int64_t{g.conv_width} * lay.lanes;
  const int64_t image_in = int64_t{g.input_height} * g.input_width * g.input_channels;
  const int64_t image_out = int64_t{g.output_height} * g.output_width * g.output_channels;
  const bool average = g.pool_kind == POCKET_POOL_AVG;
  const int32_t count = g.pool_height * g.pool_width;

  // The slack past the planes is read (times zero weights) by the last dot products.
  Elem* slack = padded + plane_elems * g.groups;
  for (int64_t i = 0; i < K::kSlackElems; ++i) slack[i] = K::pad(g.input_zero_point);

  for (int32_t batch = 0; batch < g.batches; ++batch) {
    fill_padded<K>(g, input + batch * image_in, padded);
    int8_t* image_output = output + batch * image_out;
    for (int32_t group = 0; group < g.groups; ++group) {
      const Elem* plane = padded + group * plane_elems;
      for (int32_t slot = 0; slot < g.pool_height; ++slot) tags[slot] = -1;
      for (int32_t out_y = 0; out_y < g.output_height; ++out_y) {
        // The conv rows of this output row, each computed once while it stays in the ring.
        for (int32_t pool_y = 0; pool_y < g.pool_height; ++pool_y) {
          const int32_t conv_y = out_y * g.pool_stride_height + pool_y;
          const int32_t slot = conv_y % g.pool_height;
          int32_t* row = ring + slot * row_ints;
          if (tags[slot] != conv_y) {
            K::conv_row(g, lay, body, group, plane, conv_y, row);
            if (average) {
              // Average pooling adds requantized values: requantize the row in place.
              const int32_t* m = multiplier + group * g.group_out;
              const int32_t* sh = shift + group * g.group_out;
              for (int32_t conv_x = 0; conv_x < g.conv_width; ++conv_x) {
                int32_t* acc = row + conv_x * lay.lanes;
                for (int32_t o = 0; o < g.group_out; ++o) {
                  acc[o] = pocket_requantize_s8(acc[o], m[o], sh[o], g.output_zero_point,
                                                g.act_min, g.act_max);
                }
              }
            }
            tags[slot] = conv_y;
          }
          rows[pool_y] = row;
        }
        int8_t* out_row = image_output + int64_t{out_y} * g.output_width * g.output_channels +
                          group * g.group_out;
        if (!average) {
          // Max pooling of the accumulators, then one requantization (it is monotonic).
          K::max_pool_requant(g, lay, body, group, rows, multiplier + group * g.group_out,
                              shift + group * g.group_out, out_row);
          continue;
        }
        for (int32_t out_x = 0; out_x < g.output_width; ++out_x) {
          int8_t* out = out_row + int64_t{out_x} * g.output_channels;
          const int32_t conv_x0 = out_x * g.pool_stride_width;
          for (int32_t o = 0; o < g.group_out; ++o) {
            int32_t sum = 0;
            for (int32_t pool_y = 0; pool_y < g.pool_height; ++pool_y) {
              for (int32_t pool_x = 0; pool_x < g.pool_width; ++pool_x) {
                sum += rows[pool_y][(conv_x0 + pool_x) * lay.lanes + o];
              }
            }
            out[o] = static_cast<int8_t>(pocket_round_div_s32(sum, count));
          }
        }
      }
    }
  }
}

}  // namespace pocket::fast
