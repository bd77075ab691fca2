// The AVX2 variant: int16 multiply-add (vpmaddwd), for x86-64 CPUs without AVX-512 VNNI.
//
// vpmaddubsw (u8 x s8 pairs into SATURATED int16) cannot be exact here: 255 * 127 * 2 > 32767.
// So inputs are centered to int16 (x - zp in [-255, 255], padding 0) and weights widened to
// int16; vpmaddwd forms (x0 * w0 + x1 * w1) exactly in int32 (|.| <= 65280) and vpaddd adds it
// to the accumulator: the reference's sum, reassociated, with no correction term.
//
// Layout: lanes are output channels, 8 per ymm; weights packed [group][block][ky][pair][lane][2]
// int16 with zeros past the filter row and past the group's outputs; the two input values of a
// pair are one broadcast dword of the padded NHWC input (a filter row is contiguous there).
//
// Requantization is pocket_requantize_s8 in SIMD, exactly (see kernels_avx512.cpp; AVX2 has no
// unsigned 64-bit min, a signed compare does since the values are < 2^63).
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include <utility>

#include "fast_driver.hpp"
#include "fast_internal.hpp"

namespace pocket::fast::avx2 {
namespace {

struct RqBlock {
  uint32_t multiplier[8];
  uint32_t multiplier_odd[8];  // [2j] = multiplier[2j + 1], [2j + 1] = 0
  uint64_t half_even[4], half_odd[4];
  uint64_t n_even[4], n_odd[4];
};

void fill_rq(RqBlock& block, const int32_t* multiplier, const int32_t* shift, int32_t count) {
  memset(&block, 0, sizeof block);
  for (int32_t i = 0; i < count; ++i) {
    const uint32_t m = static_cast<uint32_t>(multiplier[i]);
    const uint64_t n = static_cast<uint64_t>(31 + shift[i]);
    const uint64_t half = n > 0 ? uint64_t{1} << (n - 1) : 0;
    block.multiplier[i] = m;
    if (i % 2 == 0) {
      block.half_even[i / 2] = half;
      block.n_even[i / 2] = n;
    } else {
      block.multiplier_odd[i - 1] = m;
      block.half_odd[i / 2] = half;
      block.n_odd[i / 2] = n;
    }
  }
}

__m256i load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

__m256i broadcast_pair(const int16_t* p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

struct RqCommon {
  __m256i zero_point, act_min, act_max, saturate;
  RqCommon(int32_t zp, int32_t lo, int32_t hi)
      : zero_point(_mm256_set1_epi32(zp)),
        act_min(_mm256_set1_epi32(lo)),
        act_max(_mm256_set1_epi32(hi)),
        saturate(_mm256_set1_epi64x(255)) {}
};

inline __m256i min_255(__m256i v, __m256i saturate) {
  return _mm256_blendv_epi8(v, saturate, _mm256_cmpgt_epi64(v, saturate));
}

// out[i] = pocket_requantize_s8(acc[i], ...) for i < count (<= 8).
inline void requant_block(__m256i acc, const RqBlock& rq, const RqCommon& c, int8_t* out, int32_t count) {
  const __m256i magnitude = _mm256_abs_epi32(acc);
  __m256i even = _mm256_mul_epu32(magnitude, load(rq.multiplier));
  __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(magnitude, 32), load(rq.multiplier_odd));
  even = _mm256_srlv_epi64(_mm256_add_epi64(even, load(rq.half_even)), load(rq.n_even));
  odd = _mm256_srlv_epi64(_mm256_add_epi64(odd, load(rq.half_odd)), load(rq.n_odd));
  even = min_255(even, c.saturate);
  odd = min_255(odd, c.saturate);
  const __m256i rounded = _mm256_or_si256(even, _mm256_slli_epi64(odd, 32));
  const __m256i sign = _mm256_srai_epi32(acc, 31);
  __m256i value = _mm256_sub_epi32(_mm256_xor_si256(rounded, sign), sign);
  value = _mm256_add_epi32(value, c.zero_point);
  value = _mm256_min_epi32(_mm256_max_epi32(value, c.act_min), c.act_max);
  const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(value), _mm256_extracti128_si256(value, 1));
  const __m128i bytes = _mm_packs_epi16(words, words);
  if (count == 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes);
  } else {
    int8_t lanes[16];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(lanes), bytes);
    memcpy(out, lanes, static_cast<size_t>(count));
  }
}

// ------------------------------------------------------------------------------------------------
// conv2d
// ------------------------------------------------------------------------------------------------

// Output pixels per register tile: up to 12 accumulators plus the weights, the input pair and the
// product of the 16 registers. A row is split into equal tiles (28 -> 10 + 9 + 9).
constexpr int32_t kMaxTile = 12;

// acc[r] = bias + sum over the (ky, pair) steps, for R pixels. steps[t] is the element offset of
// step t in the padded input; the block's weights are [t][lane][2].
template <int R>
inline void conv_tile(const int16_t* in, int64_t pixel_step, const int32_t* steps, int32_t step_count,
                      const int16_t* weights, const int32_t* offset, int32_t* out, int64_t out_stride) {
  __m256i acc[R];
  const __m256i init = load(offset);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) acc[r] = init;
  for (int32_t t = 0; t < step_count; ++t) {
    const __m256i wv = load(weights + t * 16);
    const int16_t* p = in + steps[t];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(broadcast_pair(p + r * pixel_step), wv));
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * out_stride), acc[r]);
}

template <int R>
void conv_tile_fn(const int16_t* in, int64_t pixel_step, const int32_t* steps, int32_t step_count,
                  const int16_t* weights, const int32_t* offset, int32_t* out, int64_t out_stride) {
  conv_tile<R>(in, pixel_step, steps, step_count, weights, offset, out, out_stride);
}

using TileFn = void (*)(const int16_t*, int64_t, const int32_t*, int32_t, const int16_t*, const int32_t*,
                        int32_t*, int64_t);

// tile_fns()[r] computes r pixels (1 <= r <= kMaxTile).
template <int... R>
const TileFn* make_tile_fns(std::integer_sequence<int, R...>) {
  static const TileFn fns[] = {nullptr, &conv_tile_fn<R + 1>...};
  return fns;
}
const TileFn* tile_fns() { return make_tile_fns(std::make_integer_sequence<int, kMaxTile>{}); }

struct Kernel {
  using Elem = int16_t;
  static constexpr int64_t kSlackElems = 32;  // a pair reads one element past a filter row
  static Elem convert(int8_t x, int32_t input_zero_point) { return static_cast<Elem>(x - input_zero_point); }
  static Elem pad(int32_t) { return 0; }

  struct Layout {
    int32_t lanes;    // blocks * 8
    int32_t blocks;
    int32_t pairs;    // ceil(row_length / 2)
    int64_t weights;  // int16 [groups][blocks][filter_height][pairs][8][2]
    int64_t offsets;  // int32 [groups][lanes]: the bias
    int64_t rq;       // RqBlock [groups][blocks]
    int64_t steps;    // int32 [filter_height * pairs]: ky * padded row + 2 * pair, in elements
    int64_t total;
  };
  static Layout layout(const ConvGeo& g) {
    Layout l{};
    l.blocks = (g.group_out + 7) / 8;
    l.lanes = l.blocks * 8;
    l.pairs = (g.row_length + 1) / 2;
    l.weights = 0;
    l.offsets = align64(int64_t{g.groups} * l.lanes * g.filter_height * l.pairs * 2 * 2);
    l.rq = l.offsets + align64(int64_t{g.groups} * l.lanes * 4);
    l.steps = l.rq + int64_t{g.groups} * l.blocks * int64_t{sizeof(RqBlock)};
    l.total = l.steps + align64(int64_t{g.filter_height} * l.pairs * 4);
    return l;
  }

  static void conv_row(const ConvGeo& g, const Layout& lay, const uint8_t* body, int32_t group,
                       const Elem* plane, int32_t conv_y, int32_t* row) {
    const int64_t pixel_step = int64_t{g.stride_width} * g.group_in;
    const int64_t row_step = int64_t{g.padded_width} * g.group_in;
    const int16_t* base = plane + int64_t{conv_y} * g.stride_height * row_step;
    const int32_t step_count = g.filter_height * lay.pairs;
    const int64_t block_weights = int64_t{step_count} * 16;
    const int16_t* weights = reinterpret_cast<const int16_t*>(body + lay.weights);
    const int32_t* offsets = reinterpret_cast<const int32_t*>(body + lay.offsets);
    const int32_t* steps = reinterpret_cast<const int32_t*>(body + lay.steps);
    const TileFn* fns = tile_fns();
    const int32_t tiles = (g.conv_width + kMaxTile - 1) / kMaxTile;
    const int32_t tile = (g.conv_width + tiles - 1) / tiles;
    for (int32_t block = 0; block < lay.blocks; ++block) {
      const int16_t* w = weights + (int64_t{group} * lay.blocks + block) * block_weights;
      const int32_t* offset = offsets + int64_t{group} * lay.lanes + block * 8;
      int32_t* out = row + block * 8;
      for (int32_t x = 0; x < g.conv_width; x += tile) {
        const int32_t r = g.conv_width - x < tile ? g.conv_width - x : tile;
        fns[r](base + x * pixel_step, pixel_step, steps, step_count, w, offset, out + int64_t{x} * lay.lanes,
               lay.lanes);
      }
    }
  }

  static void max_pool_requant(const ConvGeo& g, const Layout& lay, const uint8_t* body, int32_t group,
                               const int32_t* const* rows, const int32_t*, const int32_t*, int8_t* out) {
    const RqBlock* rq = reinterpret_cast<const RqBlock*>(body + lay.rq) + int64_t{group} * lay.blocks;
    const RqCommon common(g.output_zero_point, g.act_min, g.act_max);
    const int64_t lanes = lay.lanes;
    for (int32_t block = 0; block < lay.blocks; ++block) {
      const int32_t done = block * 8;
      const int32_t count = g.group_out - done < 8 ? g.group_out - done : 8;
      for (int32_t out_x = 0; out_x < g.output_width; ++out_x) {
        const int64_t first = int64_t{out_x} * g.pool_stride_width * lanes + done;
        __m256i best = load(rows[0] + first);
        for (int32_t pool_y = 0; pool_y < g.pool_height; ++pool_y) {
          const int32_t* row = rows[pool_y] + first;
          for (int32_t pool_x = 0; pool_x < g.pool_width; ++pool_x) {
            best = _mm256_max_epi32(best, load(row + pool_x * lanes));
          }
        }
        requant_block(best, rq[block], common, out + int64_t{out_x} * g.output_channels + done, count);
      }
    }
  }
};

int64_t conv_body_bytes(const ConvGeo& g) { return Kernel::layout(g).total; }
int64_t conv_scratch_bytes(const ConvGeo& g) { return conv_driver_scratch_bytes<Kernel>(g); }

void conv_pack(const ConvGeo& g, const int8_t* filter, const int32_t* bias,
               const int32_t* multiplier, const int32_t* shift, uint8_t* body) {
  const Kernel::Layout lay = Kernel::layout(g);
  int16_t* weights = reinterpret_cast<int16_t*>(body + lay.weights);
  int32_t* offsets = reinterpret_cast<int32_t*>(body + lay.offsets);
  RqBlock* rq = reinterpret_cast<RqBlock*>(body + lay.rq);
  int32_t* steps = reinterpret_cast<int32_t*>(body + lay.steps);
  const int64_t terms = int64_t{g.filter_height} * g.row_length;
  for (int32_t filter_y = 0; filter_y < g.filter_height; ++filter_y) {
    for (int32_t pair = 0; pair < lay.pairs; ++pair) {
      // < padded plane size, which the dispatcher keeps below 2^28.
      steps[filter_y * lay.pairs + pair] =
          static_cast<int32_t>(int64_t{filter_y} * g.padded_width * g.group_in + 2 * pair);
    }
  }
  for (int32_t group = 0; group < g.groups; ++group) {
    for (int32_t block = 0; block < lay.blocks; ++block) {
      int16_t* w = weights + (int64_t{group} * lay.blocks + block) * g.filter_height * lay.pairs * 16;
      for (int32_t filter_y = 0; filter_y < g.filter_height; ++filter_y) {
        for (int32_t pair = 0; pair < lay.pairs; ++pair) {
          for (int32_t lane = 0; lane < 8; ++lane) {
            const int32_t o = block * 8 + lane;
            for (int32_t j = 0; j < 2; ++j) {
              const int32_t k = 2 * pair + j;
              *w++ = o < g.group_out && k < g.row_length
                         ? filter[(int64_t{group} * g.group_out + o) * terms + int64_t{filter_y} * g.row_length + k]
                         : int16_t{0};
            }
          }
        }
      }
      const int32_t first = group * g.group_out + block * 8;
      const int32_t count = g.group_out - block * 8 < 8 ? g.group_out - block * 8 : 8;
      fill_rq(rq[int64_t{group} * lay.blocks + block], multiplier + first, shift + first, count);
    }
    for (int32_t lane = 0; lane < lay.lanes; ++lane) {
      const int32_t channel = group * g.group_out + lane;
      offsets[int64_t{group} * lay.lanes + lane] =
          lane < g.group_out && bias != nullptr ? bias[channel] : 0;
    }
  }
}

void conv_run(const ConvGeo& g, const uint8_t* body, const int32_t* multiplier,
              const int32_t* shift, const int8_t* input, int8_t* output, uint8_t* scratch) {
  conv_driver_run<Kernel>(g, body, multiplier, shift, input, output, scratch);
}

// ------------------------------------------------------------------------------------------------
// fully connected: lanes are output features, 8 per ymm, up to 8 blocks share each input pair.
// ------------------------------------------------------------------------------------------------

struct FcLayout {
  int32_t blocks;
  int32_t pairs;
  int64_t weights;  // int16 [blocks][pairs][8][2]
  int64_t offsets;  // int32 [blocks * 8]
  int64_t rq;       // RqBlock [blocks]
  int64_t total;
};
FcLayout fc_layout(const FcGeo& g) {
  FcLayout l{};
  l.blocks = (g.output_features + 7) / 8;
  l.pairs = (g.input_features + 1) / 2;
  l.weights = 0;
  l.offsets = align64(int64_t{l.blocks} * l.pairs * 32);
  l.rq = l.offsets + align64(int64_t{l.blocks} * 32);
  l.total = l.rq + int64_t{l.blocks} * int64_t{sizeof(RqBlock)};
  return l;
}

int64_t fc_body_bytes(const FcGeo& g) { return fc_layout(g).total; }
int64_t fc_scratch_bytes(const FcGeo& g) { return align64(int64_t{fc_layout(g).pairs} * 4); }

void fc_pack(const FcGeo& g, const int8_t* weights, const int32_t* bias, const int32_t* multiplier,
             const int32_t* shift, uint8_t* body) {
  const FcLayout lay = fc_layout(g);
  int16_t* w = reinterpret_cast<int16_t*>(body + lay.weights);
  int32_t* offsets = reinterpret_cast<int32_t*>(body + lay.offsets);
  RqBlock* rq = reinterpret_cast<RqBlock*>(body + lay.rq);
  for (int32_t block = 0; block < lay.blocks; ++block) {
    for (int32_t pair = 0; pair < lay.pairs; ++pair) {
      for (int32_t lane = 0; lane < 8; ++lane) {
        const int32_t o = block * 8 + lane;
        for (int32_t j = 0; j < 2; ++j) {
          const int32_t k = 2 * pair + j;
          *w++ = o < g.output_features && k < g.input_features ? weights[int64_t{o} * g.input_features + k]
                                                               : int16_t{0};
        }
      }
    }
    const int32_t first = block * 8;
    const int32_t count = g.output_features - first < 8 ? g.output_features - first : 8;
    fill_rq(rq[block], multiplier + first, shift + first, count);
    for (int32_t lane = 0; lane < 8; ++lane) {
      offsets[first + lane] = lane < count && bias != nullptr ? bias[first + lane] : 0;
    }
  }
}

template <int J>
inline void fc_tile(const int16_t* in, int32_t pairs, const int16_t* weights, const int32_t* offsets,
                    const RqBlock* rq, const RqCommon& common, int8_t* out, int32_t features) {
  const int64_t block_weights = int64_t{pairs} * 16;
  __m256i acc[J];
#pragma GCC unroll 8
  for (int j = 0; j < J; ++j) acc[j] = load(offsets + 8 * j);
  for (int32_t pair = 0; pair < pairs; ++pair) {
    const __m256i x = broadcast_pair(in + 2 * pair);
    const int16_t* w = weights + int64_t{pair} * 16;
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j) {
      acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(x, load(w + j * block_weights)));
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < J; ++j) {
    const int32_t remaining = features - 8 * j;
    requant_block(acc[j], rq[j], common, out + 8 * j, remaining < 8 ? remaining : 8);
  }
}

void fc_run(const FcGeo& g, const uint8_t* body, const int32_t*, const int32_t*, const int8_t* input,
            int8_t* output, uint8_t* scratch) {
  const FcLayout lay = fc_layout(g);
  const int16_t* weights = reinterpret_cast<const int16_t*>(body + lay.weights);
  const int32_t* offsets = reinterpret_cast<const int32_t*>(body + lay.offsets);
  const RqBlock* rq = reinterpret_cast<const RqBlock*>(body + lay.rq);
  const RqCommon common(g.output_zero_point, g.act_min, g.act_max);
  int16_t* centered = reinterpret_cast<int16_t*>(scratch);
  for (int32_t k = g.input_features; k < lay.pairs * 2; ++k) centered[k] = 0;
  for (int32_t batch = 0; batch < g.batches; ++batch) {
    const int8_t* in = input + int64_t{batch} * g.input_features;
    for (int32_t k = 0; k < g.input_features; ++k) {
      centered[k] = static_cast<int16_t>(in[k] - g.input_zero_point);
    }
    int8_t* out = output + int64_t{batch} * g.output_features;
    for (int32_t block = 0; block < lay.blocks;) {
      const int32_t j = lay.blocks - block < 8 ? lay.blocks - block : 8;
      const int16_t* w = weights + int64_t{block} * lay.pairs * 16;
      const int32_t* offset = offsets + block * 8;
      const int32_t features = g.output_features - block * 8;
      int8_t* o = out + block * 8;
      switch (j) {
#define POCKET_FC(n)                                                                \
  case n:                                                                           \
    fc_tile<n>(centered, lay.pairs, w, offset, rq + block, common, o, features); \
    break;
        POCKET_FC(1) POCKET_FC(2) POCKET_FC(3) POCKET_FC(4) POCKET_FC(5) POCKET_FC(6) POCKET_FC(7)
        POCKET_FC(8)
#undef POCKET_FC
        default: break;
      }
      block += j;
    }
  }
}

void requant(int32_t count, const int32_t* acc, const int32_t* multiplier, const int32_t* shift,
             int32_t zero_point, int32_t act_min, int32_t act_max, int8_t* out) {
  const RqCommon common(zero_point, act_min, act_max);
  for (int32_t done = 0; done < count;) {
    const int32_t n = count - done < 8 ? count - done : 8;
    RqBlock block;
    fill_rq(block, multiplier + done, shift + done, n);
    int32_t values[8] = {};
    memcpy(values, acc + done, static_cast<size_t>(n) * 4);
    requant_block(load(values), block, common, out + done, n);
    done += n;
  }
}

}  // namespace

const VariantOps kOps = {conv_body_bytes, conv_scratch_bytes, conv_pack, conv_run,
                         fc_body_bytes,   fc_scratch_bytes,   fc_pack,   fc_run, requant};

}  // namespace pocket::fast::avx2
