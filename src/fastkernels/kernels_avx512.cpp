// The AVX-512 variant (F, BW, VL, VNNI): u8 x s8 dot products with vpdpbusd.
//
// vpdpbusd multiplies UNSIGNED bytes by SIGNED bytes, four at a time, into int32 lanes. The
// inputs are made unsigned by adding 128 (x ^ 0x80): u = x + 128 in [0, 255]; padded positions
// hold zp + 128 (the reference's padding is the real value 0, i.e. x = zp). Then exactly
//     sum (x - zp) * w  =  sum u * w  -  (zp + 128) * sum w,
// and the second term is a per-channel constant folded into the bias at pack time:
//     offset[o] = bias[o] - (zp + 128) * sum_k w[o][k]      (mod 2^32)
// The lanes compute offset + sum u * w in wrapping int32 arithmetic (vpdpbusd, vpaddd wrap);
// the true result, the reference's accumulator, fits int32 (the kernels refuse shapes where it
// might not), so the wrapped result IS the reference's accumulator.
//
// Layout: lanes are output channels (8 per ymm when a group has <= 8 outputs, else 16 per zmm);
// weights are packed [group][block][ky][quad][lane][4] with zeros past the filter row and past
// the group's outputs; a filter row (kx, channel) is contiguous in the padded NHWC input, so the
// four input bytes of a quad are one broadcast dword. Bytes read past a row's end meet zero
// weights. R output pixels share each weight register.
//
// Requantization is pocket_requantize_s8 in SIMD, exactly: |acc| * multiplier in 64 bits
// (vpmuludq, < 2^62), plus 2^(n-1), logical shift right by n = 31 + shift (the reference's
// add-half-and-shift on magnitudes), saturated to 255, sign restored, zero point added, clamped.
// tests/fastkernels/test_requant_simd.cpp checks it exhaustively against the header.
// GCC 12.2 warns about the deliberately undefined vectors inside its own AVX-512 intrinsics
// (GCC bug 105593, fixed in 12.3); the warning is not about this file's code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <stdint.h>
#include <string.h>

#include <utility>

#include "fast_driver.hpp"
#include "fast_internal.hpp"

namespace pocket::fast::avx512 {
namespace {

// Requantization constants of one block of up to 16 lanes (lane i = output channel of the block).
struct RqBlock {
  uint32_t multiplier[16];
  uint32_t multiplier_odd[16];  // [2j] = multiplier[2j + 1], [2j + 1] = 0 (for vpmuludq)
  uint64_t half_even[8], half_odd[8];  // 2^(n - 1), or 0 when n = 0, of lanes 2j and 2j + 1
  uint64_t n_even[8], n_odd[8];        // n = 31 + shift
};

void fill_rq(RqBlock& block, const int32_t* multiplier, const int32_t* shift, int32_t count) {
  memset(&block, 0, sizeof block);  // unused lanes: multiplier 0 -> 0
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

int32_t load_u32(const uint8_t* p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

// 16 lanes.
struct Zmm {
  using V = __m512i;
  static constexpr int32_t kLanes = 16;
  static V load(const void* p) { return _mm512_loadu_si512(p); }
  static void store(void* p, V v) { _mm512_storeu_si512(p, v); }
  static V set1(int32_t x) { return _mm512_set1_epi32(x); }
  static V set1_64(int64_t x) { return _mm512_set1_epi64(x); }
  static V dpbusd(V acc, V u8, V s8) { return _mm512_dpbusd_epi32(acc, u8, s8); }
  static V abs32(V v) { return _mm512_abs_epi32(v); }
  static V mul_u32(V a, V b) { return _mm512_mul_epu32(a, b); }
  static V add64(V a, V b) { return _mm512_add_epi64(a, b); }
  static V srlv64(V a, V n) { return _mm512_srlv_epi64(a, n); }
  static V min_u64(V a, V b) { return _mm512_min_epu64(a, b); }
  static V srli64_32(V a) { return _mm512_srli_epi64(a, 32); }
  static V slli64_32(V a) { return _mm512_slli_epi64(a, 32); }
  static V or_(V a, V b) { return _mm512_or_si512(a, b); }
  static V xor_(V a, V b) { return _mm512_xor_si512(a, b); }
  static V srai32_31(V a) { return _mm512_srai_epi32(a, 31); }
  static V add32(V a, V b) { return _mm512_add_epi32(a, b); }
  static V sub32(V a, V b) { return _mm512_sub_epi32(a, b); }
  static V max32(V a, V b) { return _mm512_max_epi32(a, b); }
  static V min32(V a, V b) { return _mm512_min_epi32(a, b); }
  static void store_s8(int8_t* out, V v, int32_t count) {
    const __mmask16 mask = static_cast<__mmask16>((uint32_t{1} << count) - 1u);
    _mm_mask_storeu_epi8(out, mask, _mm512_cvtepi32_epi8(v));
  }
};

// 8 lanes (AVX-512VL encodings: 32 registers, vpdpbusd ymm, vpminuq ymm, vpmovdb).
struct Ymm {
  using V = __m256i;
  static constexpr int32_t kLanes = 8;
  static V load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
  static void store(void* p, V v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }
  static V set1(int32_t x) { return _mm256_set1_epi32(x); }
  static V set1_64(int64_t x) { return _mm256_set1_epi64x(x); }
  static V dpbusd(V acc, V u8, V s8) { return _mm256_dpbusd_epi32(acc, u8, s8); }
  static V abs32(V v) { return _mm256_abs_epi32(v); }
  static V mul_u32(V a, V b) { return _mm256_mul_epu32(a, b); }
  static V add64(V a, V b) { return _mm256_add_epi64(a, b); }
  static V srlv64(V a, V n) { return _mm256_srlv_epi64(a, n); }
  static V min_u64(V a, V b) { return _mm256_min_epu64(a, b); }
  static V srli64_32(V a) { return _mm256_srli_epi64(a, 32); }
  static V slli64_32(V a) { return _mm256_slli_epi64(a, 32); }
  static V or_(V a, V b) { return _mm256_or_si256(a, b); }
  static V xor_(V a, V b) { return _mm256_xor_si256(a, b); }
  static V srai32_31(V a) { return _mm256_srai_epi32(a, 31); }
  static V add32(V a, V b) { return _mm256_add_epi32(a, b); }
  static V sub32(V a, V b) { return _mm256_sub_epi32(a, b); }
  static V max32(V a, V b) { return _mm256_max_epi32(a, b); }
  static V min32(V a, V b) { return _mm256_min_epi32(a, b); }
  static void store_s8(int8_t* out, V v, int32_t count) {
    const __mmask16 mask = static_cast<__mmask16>((uint32_t{1} << count) - 1u);
    _mm_mask_storeu_epi8(out, mask, _mm256_cvtepi32_epi8(v));
  }
};

// Clamp bounds and zero point, broadcast.
template <class P>
struct RqCommon {
  typename P::V zero_point, act_min, act_max, saturate;
  RqCommon(int32_t zp, int32_t lo, int32_t hi)
      : zero_point(P::set1(zp)), act_min(P::set1(lo)), act_max(P::set1(hi)), saturate(P::set1_64(255)) {}
};

// out[i] = pocket_requantize_s8(acc[i], ...) for i < count.
template <class P>
inline void requant_block(typename P::V acc, const RqBlock& rq, const RqCommon<P>& c, int8_t* out,
                          int32_t count) {
  using V = typename P::V;
  const V magnitude = P::abs32(acc);  // |INT32_MIN| = 2^31 as unsigned
  V even = P::mul_u32(magnitude, P::load(rq.multiplier));
  V odd = P::mul_u32(P::srli64_32(magnitude), P::load(rq.multiplier_odd));
  even = P::srlv64(P::add64(even, P::load(rq.half_even)), P::load(rq.n_even));
  odd = P::srlv64(P::add64(odd, P::load(rq.half_odd)), P::load(rq.n_odd));
  // |result| >= 255 clamps the same as 255 for every zero point and clamp range.
  even = P::min_u64(even, c.saturate);
  odd = P::min_u64(odd, c.saturate);
  const V rounded = P::or_(even, P::slli64_32(odd));
  const V sign = P::srai32_31(acc);
  V value = P::sub32(P::xor_(rounded, sign), sign);
  value = P::add32(value, c.zero_point);
  value = P::min32(P::max32(value, c.act_min), c.act_max);
  P::store_s8(out, value, count);
}

// ------------------------------------------------------------------------------------------------
// conv2d
// ------------------------------------------------------------------------------------------------

// Output pixels per register tile: up to 14 accumulators, one weight and one input register of
// the 32. A row is split into equal tiles (28 -> 14 + 14, not 8 + 8 + 8 + 4: a short tile is
// bound by the latency of its few accumulator chains).
constexpr int32_t kMaxTile = 14;

// acc[r] (lanes of one block) = offset + sum over the (ky, quad) steps of u * w, for R pixels.
// steps[t] is the byte offset of step t in the padded input; the block's weights are [t][lane][4].
template <class P, int R>
inline void conv_tile(const uint8_t* in, int64_t pixel_step, const int32_t* steps, int32_t step_count,
                      const int8_t* weights, const int32_t* offset, int32_t* out, int64_t out_stride) {
  using V = typename P::V;
  constexpr int64_t kWeightStep = int64_t{P::kLanes} * 4;
  V acc[R];
  const V init = P::load(offset);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) acc[r] = init;
  for (int32_t t = 0; t < step_count; ++t) {
    const V wv = P::load(weights + t * kWeightStep);
    const uint8_t* q = in + steps[t];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) acc[r] = P::dpbusd(acc[r], P::set1(load_u32(q + r * pixel_step)), wv);
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) P::store(out + r * out_stride, acc[r]);
}

template <class P, int R>
void conv_tile_fn(const uint8_t* in, int64_t pixel_step, const int32_t* steps, int32_t step_count,
                  const int8_t* weights, const int32_t* offset, int32_t* out, int64_t out_stride) {
  conv_tile<P, R>(in, pixel_step, steps, step_count, weights, offset, out, out_stride);
}

template <class P>
using TileFn = void (*)(const uint8_t*, int64_t, const int32_t*, int32_t, const int8_t*, const int32_t*,
                        int32_t*, int64_t);

// tile_fns<P>()[r] computes r pixels (1 <= r <= kMaxTile).
template <class P, int... R>
const TileFn<P>* make_tile_fns(std::integer_sequence<int, R...>) {
  static const TileFn<P> fns[] = {nullptr, &conv_tile_fn<P, R + 1>...};
  return fns;
}
template <class P>
const TileFn<P>* tile_fns() {
  return make_tile_fns<P>(std::make_integer_sequence<int, kMaxTile>{});
}

struct Kernel {
  using Elem = uint8_t;
  static constexpr int64_t kSlackElems = 64;  // a quad reads up to 3 bytes past a filter row
  static Elem convert(int8_t x, int32_t) { return static_cast<Elem>(static_cast<uint8_t>(x) ^ 0x80u); }
  static Elem pad(int32_t input_zero_point) { return static_cast<Elem>(input_zero_point + 128); }

  struct Layout {
    int32_t lanes;   // blocks * block_lanes
    int32_t block_lanes;  // 8 (ymm) or 16 (zmm)
    int32_t blocks;
    int32_t quads;   // ceil(row_length / 4)
    int64_t weights; // int8 [groups][blocks][filter_height][quads][block_lanes][4]
    int64_t offsets; // int32 [groups][lanes]
    int64_t rq;      // RqBlock [groups][blocks]
    int64_t steps;   // int32 [filter_height * quads]: ky * padded row + 4 * quad, in bytes
    int64_t total;
  };
  static Layout layout(const ConvGeo& g) {
    Layout l{};
    l.block_lanes = g.group_out <= 8 ? 8 : 16;
    l.blocks = (g.group_out + l.block_lanes - 1) / l.block_lanes;
    l.lanes = l.blocks * l.block_lanes;
    l.quads = (g.row_length + 3) / 4;
    l.weights = 0;
    l.offsets = align64(int64_t{g.groups} * l.lanes * g.filter_height * l.quads * 4);
    l.rq = l.offsets + align64(int64_t{g.groups} * l.lanes * 4);
    l.steps = l.rq + int64_t{g.groups} * l.blocks * int64_t{sizeof(RqBlock)};
    l.total = l.steps + align64(int64_t{g.filter_height} * l.quads * 4);
    return l;
  }

  template <class P>
  static void conv_row_blocks(const ConvGeo& g, const Layout& lay, const uint8_t* body,
                              int32_t group, const Elem* plane, int32_t conv_y, int32_t* row) {
    const int64_t pixel_step = int64_t{g.stride_width} * g.group_in;
    const int64_t row_step = int64_t{g.padded_width} * g.group_in;
    const uint8_t* base = plane + int64_t{conv_y} * g.stride_height * row_step;
    const int32_t step_count = g.filter_height * lay.quads;
    const int64_t block_weights = int64_t{step_count} * P::kLanes * 4;
    const int8_t* weights = reinterpret_cast<const int8_t*>(body + lay.weights);
    const int32_t* offsets = reinterpret_cast<const int32_t*>(body + lay.offsets);
    const int32_t* steps = reinterpret_cast<const int32_t*>(body + lay.steps);
    const TileFn<P>* fns = tile_fns<P>();
    const int32_t tiles = (g.conv_width + kMaxTile - 1) / kMaxTile;
    const int32_t tile = (g.conv_width + tiles - 1) / tiles;
    for (int32_t block = 0; block < lay.blocks; ++block) {
      const int8_t* w = weights + (int64_t{group} * lay.blocks + block) * block_weights;
      const int32_t* offset = offsets + int64_t{group} * lay.lanes + block * P::kLanes;
      int32_t* out = row + block * P::kLanes;
      for (int32_t x = 0; x < g.conv_width; x += tile) {
        const int32_t r = g.conv_width - x < tile ? g.conv_width - x : tile;
        fns[r](base + x * pixel_step, pixel_step, steps, step_count, w, offset,
               out + int64_t{x} * lay.lanes, lay.lanes);
      }
    }
  }

  static void conv_row(const ConvGeo& g, const Layout& lay, const uint8_t* body, int32_t group,
                       const Elem* plane, int32_t conv_y, int32_t* row) {
    if (lay.block_lanes == 16) {
      conv_row_blocks<Zmm>(g, lay, body, group, plane, conv_y, row);
    } else {
      conv_row_blocks<Ymm>(g, lay, body, group, plane, conv_y, row);
    }
  }

  template <class P>
  static void max_pool_requant_blocks(const ConvGeo& g, const Layout& lay, const uint8_t* body,
                                      int32_t group, const int32_t* const* rows, int8_t* out) {
    using V = typename P::V;
    const RqBlock* rq = reinterpret_cast<const RqBlock*>(body + lay.rq) + int64_t{group} * lay.blocks;
    const RqCommon<P> common(g.output_zero_point, g.act_min, g.act_max);
    const int64_t lanes = lay.lanes;
    for (int32_t block = 0; block < lay.blocks; ++block) {
      const int32_t done = block * P::kLanes;
      const int32_t count = g.group_out - done < P::kLanes ? g.group_out - done : P::kLanes;
      for (int32_t out_x = 0; out_x < g.output_width; ++out_x) {
        const int64_t first = int64_t{out_x} * g.pool_stride_width * lanes + done;
        V best = P::load(rows[0] + first);
        for (int32_t pool_y = 0; pool_y < g.pool_height; ++pool_y) {
          const int32_t* row = rows[pool_y] + first;
          for (int32_t pool_x = 0; pool_x < g.pool_width; ++pool_x) {
            best = P::max32(best, P::load(row + pool_x * lanes));
          }
        }
        requant_block<P>(best, rq[block], common, out + int64_t{out_x} * g.output_channels + done, count);
      }
    }
  }

  static void max_pool_requant(const ConvGeo& g, const Layout& lay, const uint8_t* body, int32_t group,
                               const int32_t* const* rows, const int32_t*, const int32_t*, int8_t* out) {
    if (lay.block_lanes == 16) {
      max_pool_requant_blocks<Zmm>(g, lay, body, group, rows, out);
    } else {
      max_pool_requant_blocks<Ymm>(g, lay, body, group, rows, out);
    }
  }
};

int64_t conv_body_bytes(const ConvGeo& g) { return Kernel::layout(g).total; }
int64_t conv_scratch_bytes(const ConvGeo& g) { return conv_driver_scratch_bytes<Kernel>(g); }

void conv_pack(const ConvGeo& g, const int8_t* filter, const int32_t* bias,
               const int32_t* multiplier, const int32_t* shift, uint8_t* body) {
  const Kernel::Layout lay = Kernel::layout(g);
  int8_t* weights = reinterpret_cast<int8_t*>(body + lay.weights);
  int32_t* offsets = reinterpret_cast<int32_t*>(body + lay.offsets);
  RqBlock* rq = reinterpret_cast<RqBlock*>(body + lay.rq);
  int32_t* steps = reinterpret_cast<int32_t*>(body + lay.steps);
  const int64_t terms = int64_t{g.filter_height} * g.row_length;
  const int64_t correction = int64_t{g.input_zero_point} + 128;
  for (int32_t filter_y = 0; filter_y < g.filter_height; ++filter_y) {
    for (int32_t quad = 0; quad < lay.quads; ++quad) {
      // < padded plane size, which the dispatcher keeps below 2^28.
      steps[filter_y * lay.quads + quad] =
          static_cast<int32_t>(int64_t{filter_y} * g.padded_width * g.group_in + 4 * quad);
    }
  }
  for (int32_t group = 0; group < g.groups; ++group) {
    for (int32_t block = 0; block < lay.blocks; ++block) {
      int8_t* w = weights + (int64_t{group} * lay.blocks + block) * g.filter_height * lay.quads *
                                lay.block_lanes * 4;
      for (int32_t filter_y = 0; filter_y < g.filter_height; ++filter_y) {
        for (int32_t quad = 0; quad < lay.quads; ++quad) {
          for (int32_t lane = 0; lane < lay.block_lanes; ++lane) {
            const int32_t o = block * lay.block_lanes + lane;
            for (int32_t j = 0; j < 4; ++j) {
              const int32_t k = 4 * quad + j;
              *w++ = o < g.group_out && k < g.row_length
                         ? filter[(int64_t{group} * g.group_out + o) * terms +
                                  int64_t{filter_y} * g.row_length + k]
                         : int8_t{0};
            }
          }
        }
      }
      const int32_t first = group * g.group_out + block * lay.block_lanes;
      const int32_t count = g.group_out - block * lay.block_lanes < lay.block_lanes
                                ? g.group_out - block * lay.block_lanes
                                : lay.block_lanes;
      fill_rq(rq[int64_t{group} * lay.blocks + block], multiplier + first, shift + first, count);
    }
    for (int32_t lane = 0; lane < lay.lanes; ++lane) {
      int64_t offset = 0;
      if (lane < g.group_out) {
        const int32_t channel = group * g.group_out + lane;
        int64_t sum = 0;
        for (int64_t k = 0; k < terms; ++k) sum += filter[int64_t{channel} * terms + k];
        offset = (bias != nullptr ? bias[channel] : 0) - correction * sum;
      }
      // Wraps modulo 2^32 (defined in C++20); the lanes' arithmetic wraps the same way.
      offsets[int64_t{group} * lay.lanes + lane] = static_cast<int32_t>(static_cast<uint32_t>(offset));
    }
  }
}

void conv_run(const ConvGeo& g, const uint8_t* body, const int32_t* multiplier,
              const int32_t* shift, const int8_t* input, int8_t* output, uint8_t* scratch) {
  conv_driver_run<Kernel>(g, body, multiplier, shift, input, output, scratch);
}

// ------------------------------------------------------------------------------------------------
// fully connected: lanes are output features, 16 per zmm, up to 8 blocks share each input dword.
// ------------------------------------------------------------------------------------------------

struct FcLayout {
  int32_t blocks;
  int32_t quads;
  int64_t weights;  // int8 [blocks][quads][16][4]
  int64_t offsets;  // int32 [blocks * 16]
  int64_t rq;       // RqBlock [blocks]
  int64_t total;
};
FcLayout fc_layout(const FcGeo& g) {
  FcLayout l{};
  l.blocks = (g.output_features + 15) / 16;
  l.quads = (g.input_features + 3) / 4;
  l.weights = 0;
  l.offsets = align64(int64_t{l.blocks} * l.quads * 64);
  l.rq = l.offsets + align64(int64_t{l.blocks} * 64);
  l.total = l.rq + int64_t{l.blocks} * int64_t{sizeof(RqBlock)};
  return l;
}

int64_t fc_body_bytes(const FcGeo& g) { return fc_layout(g).total; }
int64_t fc_scratch_bytes(const FcGeo& g) { return align64(int64_t{fc_layout(g).quads} * 4); }

void fc_pack(const FcGeo& g, const int8_t* weights, const int32_t* bias, const int32_t* multiplier,
             const int32_t* shift, uint8_t* body) {
  const FcLayout lay = fc_layout(g);
  int8_t* w = reinterpret_cast<int8_t*>(body + lay.weights);
  int32_t* offsets = reinterpret_cast<int32_t*>(body + lay.offsets);
  RqBlock* rq = reinterpret_cast<RqBlock*>(body + lay.rq);
  const int64_t correction = int64_t{g.input_zero_point} + 128;
  for (int32_t block = 0; block < lay.blocks; ++block) {
    for (int32_t quad = 0; quad < lay.quads; ++quad) {
      for (int32_t lane = 0; lane < 16; ++lane) {
        const int32_t o = block * 16 + lane;
        for (int32_t j = 0; j < 4; ++j) {
          const int32_t k = 4 * quad + j;
          *w++ = o < g.output_features && k < g.input_features
                     ? weights[int64_t{o} * g.input_features + k]
                     : int8_t{0};
        }
      }
    }
    const int32_t first = block * 16;
    const int32_t count = g.output_features - first < 16 ? g.output_features - first : 16;
    fill_rq(rq[block], multiplier + first, shift + first, count);
    for (int32_t lane = 0; lane < 16; ++lane) {
      const int32_t o = first + lane;
      int64_t offset = 0;
      if (lane < count) {
        int64_t sum = 0;
        for (int32_t k = 0; k < g.input_features; ++k) sum += weights[int64_t{o} * g.input_features + k];
        offset = (bias != nullptr ? bias[o] : 0) - correction * sum;
      }
      offsets[o] = static_cast<int32_t>(static_cast<uint32_t>(offset));
    }
  }
}

// J blocks (16 lanes each) of one input row.
template <int J>
inline void fc_tile(const uint8_t* in, int32_t quads, const int8_t* weights, const int32_t* offsets,
                    const RqBlock* rq, const RqCommon<Zmm>& common, int8_t* out, int32_t features) {
  using V = Zmm::V;
  const int64_t block_weights = int64_t{quads} * 64;
  V acc[J];
#pragma GCC unroll 8
  for (int j = 0; j < J; ++j) acc[j] = Zmm::load(offsets + 16 * j);
  for (int32_t quad = 0; quad < quads; ++quad) {
    const V u = Zmm::set1(load_u32(in + 4 * quad));
    const int8_t* w = weights + int64_t{quad} * 64;
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j) acc[j] = Zmm::dpbusd(acc[j], u, Zmm::load(w + j * block_weights));
  }
#pragma GCC unroll 8
  for (int j = 0; j < J; ++j) {
    const int32_t remaining = features - 16 * j;
    requant_block<Zmm>(acc[j], rq[j], common, out + 16 * j, remaining < 16 ? remaining : 16);
  }
}

void fc_run(const FcGeo& g, const uint8_t* body, const int32_t*, const int32_t*, const int8_t* input,
            int8_t* output, uint8_t* scratch) {
  const FcLayout lay = fc_layout(g);
  const int8_t* weights = reinterpret_cast<const int8_t*>(body + lay.weights);
  const int32_t* offsets = reinterpret_cast<const int32_t*>(body + lay.offsets);
  const RqBlock* rq = reinterpret_cast<const RqBlock*>(body + lay.rq);
  const RqCommon<Zmm> common(g.output_zero_point, g.act_min, g.act_max);
  uint8_t* u = scratch;
  for (int32_t k = g.input_features; k < lay.quads * 4; ++k) u[k] = 0x80;  // zero weights there
  for (int32_t batch = 0; batch < g.batches; ++batch) {
    const int8_t* in = input + int64_t{batch} * g.input_features;
    for (int32_t k = 0; k < g.input_features; ++k) {
      u[k] = static_cast<uint8_t>(static_cast<uint8_t>(in[k]) ^ 0x80u);
    }
    int8_t* out = output + int64_t{batch} * g.output_features;
    for (int32_t block = 0; block < lay.blocks;) {
      const int32_t j = lay.blocks - block < 8 ? lay.blocks - block : 8;
      const int8_t* w = weights + int64_t{block} * lay.quads * 64;
      const int32_t* offset = offsets + block * 16;
      const int32_t features = g.output_features - block * 16;
      int8_t* o = out + block * 16;
      switch (j) {
#define POCKET_FC(n)                                                                  \
  case n:                                                                             \
    fc_tile<n>(u, lay.quads, w, offset, rq + block, common, o, features); \
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

// Alternates 16-lane (zmm) and 8-lane (ymm) blocks so both code paths are exercised.
void requant(int32_t count, const int32_t* acc, const int32_t* multiplier, const int32_t* shift,
             int32_t zero_point, int32_t act_min, int32_t act_max, int8_t* out) {
  const RqCommon<Zmm> wide(zero_point, act_min, act_max);
  const RqCommon<Ymm> narrow(zero_point, act_min, act_max);
  bool use_wide = true;
  for (int32_t done = 0; done < count;) {
    const int32_t lanes = use_wide ? 16 : 8;
    const int32_t n = count - done < lanes ? count - done : lanes;
    RqBlock block;
    fill_rq(block, multiplier + done, shift + done, n);
    int32_t values[16] = {};
    memcpy(values, acc + done, static_cast<size_t>(n) * 4);
    if (use_wide) {
      requant_block<Zmm>(Zmm::load(values), block, wide, out + done, n);
    } else {
      requant_block<Ymm>(Ymm::load(values), block, narrow, out + done, n);
    }
    done += n;
    use_wide = !use_wide;
  }
}

}  // namespace

const VariantOps kOps = {conv_body_bytes, conv_scratch_bytes, conv_pack, conv_run,
                         fc_body_bytes,   fc_scratch_bytes,   fc_pack,   fc_run, requant};

}  // namespace pocket::fast::avx512
