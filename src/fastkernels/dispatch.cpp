// The one place where a variant is chosen: CPU detection, the POCKET_KERNELS override, and the
// public API of pocket/fastkernels.hpp (plan, pack, run, drop-ins). Compiled with the baseline
// flags; it calls a variant's functions only after checking that the CPU can run them.
//
// A packed layer ("blob") starts at the first 64-byte boundary of the caller's buffer:
//   BlobHeader | multipliers [channels] | shifts [channels] | body (the variant's layout)
// and, for the reference variant, | filter copy | bias copy.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "fast_internal.hpp"
#include "pocket/fastkernels.hpp"
#include "pocket_runtime.h"

namespace pocket::fast {
namespace {

// ------------------------------------------------------------------------------------------------
// Variants and selection
// ------------------------------------------------------------------------------------------------

bool cpu_has_avx2() {
#if defined(POCKET_FAST_HAVE_AVX2) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

bool cpu_has_avx512() {
#if defined(POCKET_FAST_HAVE_AVX512) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

// The variant's functions; nullptr for the reference (and for variants not built here).
const VariantOps* ops_of(pocket_fast_variant variant) {
  switch (variant) {
    case POCKET_FAST_PORTABLE: return &portable::kOps;
#if defined(POCKET_FAST_HAVE_AVX2)
    case POCKET_FAST_AVX2: return &avx2::kOps;
#else
    case POCKET_FAST_AVX2: return nullptr;
#endif
#if defined(POCKET_FAST_HAVE_AVX512)
    case POCKET_FAST_AVX512: return &avx512::kOps;
#else
    case POCKET_FAST_AVX512: return nullptr;
#endif
    case POCKET_FAST_SELECTED:
    case POCKET_FAST_REFERENCE: return nullptr;
  }
  return nullptr;
}

bool supported(pocket_fast_variant variant) {
  switch (variant) {
    case POCKET_FAST_SELECTED:
    case POCKET_FAST_REFERENCE:
    case POCKET_FAST_PORTABLE: return true;
    case POCKET_FAST_AVX2: {
      static const bool has = cpu_has_avx2();
      return has;
    }
    case POCKET_FAST_AVX512: {
      static const bool has = cpu_has_avx512();
      return has;
    }
  }
  return false;
}

pocket_fast_variant best_supported() {
  for (int v = POCKET_FAST_VARIANT_LAST; v >= POCKET_FAST_VARIANT_FIRST; --v) {
    if (supported(static_cast<pocket_fast_variant>(v))) return static_cast<pocket_fast_variant>(v);
  }
  return POCKET_FAST_REFERENCE;
}

// The default: POCKET_KERNELS if it names a supported variant, else the best one.
pocket_fast_variant default_variant() {
  static const pocket_fast_variant chosen = [] {
    const char* env = std::getenv("POCKET_KERNELS");
    if (env != nullptr) {
      for (int v = POCKET_FAST_VARIANT_FIRST; v <= POCKET_FAST_VARIANT_LAST; ++v) {
        const auto variant = static_cast<pocket_fast_variant>(v);
        if (std::strcmp(env, pocket_fast_variant_name(variant)) == 0 && supported(variant)) return variant;
      }
    }
    return best_supported();
  }();
  return chosen;
}

std::atomic<int> g_override{POCKET_FAST_SELECTED};

pocket_fast_variant resolve(pocket_fast_variant variant) {
  return variant == POCKET_FAST_SELECTED ? pocket_fast_selected() : variant;
}

bool valid_variant(pocket_fast_variant variant) {
  return variant >= POCKET_FAST_SELECTED && variant <= POCKET_FAST_VARIANT_LAST;
}

// ------------------------------------------------------------------------------------------------
// Blobs
// ------------------------------------------------------------------------------------------------

constexpr uint64_t kMagic = 0x3176747361666b70ull;  // "pkfastv1"
enum BlobKind : uint32_t { kConvBlob = 1, kFcBlob = 2 };

struct BlobHeader {
  uint64_t magic;
  uint32_t kind;
  uint32_t variant;  // pocket_fast_variant actually used
  int64_t total_bytes;
  int64_t scratch_bytes;  // what run needs, incl. 64 bytes of alignment slack (0: none)
  int64_t multiplier_offset, shift_offset, body_offset, weights_offset, bias_offset;
  int32_t channels;
  int32_t has_bias;
  pocket_conv2d_params conv;  // pointers null
  pocket_fully_connected_params fc;
  ConvGeo conv_geo;
  FcGeo fc_geo;
};

int64_t align64(int64_t bytes) { return (bytes + 63) & ~int64_t{63}; }

uint8_t* aligned(void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  return static_cast<uint8_t*>(p) + ((64 - address % 64) % 64);
}
const uint8_t* aligned(const void* p) { return aligned(const_cast<void*>(p)); }

// Where everything goes, for a validated layer.
struct Layout {
  pocket_fast_variant variant;
  const VariantOps* ops;  // nullptr: reference
  int64_t multiplier_offset, shift_offset, body_offset, weights_offset, bias_offset, total;
  int64_t scratch;        // run scratch incl. slack, 0 for the reference
};

Layout make_layout(pocket_fast_variant variant, int32_t channels, int64_t body_bytes,
                   int64_t weight_bytes, int64_t scratch_bytes) {
  Layout l{};
  l.variant = variant;
  l.ops = ops_of(variant);
  l.multiplier_offset = align64(int64_t{sizeof(BlobHeader)});
  l.shift_offset = l.multiplier_offset + align64(int64_t{channels} * 4);
  l.body_offset = l.shift_offset + align64(int64_t{channels} * 4);
  if (l.ops != nullptr) {
    l.weights_offset = l.bias_offset = l.body_offset;
    l.total = l.body_offset + align64(body_bytes);
    l.scratch = scratch_bytes + 64;
  } else {
    l.weights_offset = l.body_offset;
    l.bias_offset = l.weights_offset + align64(weight_bytes);
    l.total = l.bias_offset + align64(int64_t{channels} * 4);
    l.scratch = 0;
  }
  return l;
}

// Products of non-negative factors, saturated at `limit + 1` (so nothing overflows).
int64_t product_capped(std::initializer_list<int64_t> factors, int64_t limit) {
  int64_t p = 1;
  for (int64_t f : factors) {
    if (f != 0 && p > limit / f) return limit + 1;
    p *= f;
  }
  return p;
}

// Padded planes and conv row buffers above this many elements run on the reference instead.
constexpr int64_t kMaxScratchElems = int64_t{1} << 28;

ConvGeo conv_geometry(const pocket_conv2d_params& p, int32_t output_height, int32_t output_width) {
  ConvGeo g{};
  g.batches = p.batches;
  g.input_height = p.input_height;
  g.input_width = p.input_width;
  g.input_channels = p.input_channels;
  g.output_channels = p.output_channels;
  g.groups = p.groups;
  g.group_in = p.input_channels / p.groups;
  g.group_out = p.output_channels / p.groups;
  g.filter_height = p.filter_height;
  g.filter_width = p.filter_width;
  g.stride_height = p.stride_height;
  g.stride_width = p.stride_width;
  g.pad_top = p.pad_top;
  g.pad_left = p.pad_left;
  // Both fit int32: pocket_conv2d_s8_check refuses padded extents above INT32_MAX.
  g.padded_height = static_cast<int32_t>(int64_t{p.input_height} + p.pad_top + p.pad_bottom);
  g.padded_width = static_cast<int32_t>(int64_t{p.input_width} + p.pad_left + p.pad_right);
  g.conv_height = (g.padded_height - p.filter_height) / p.stride_height + 1;
  g.conv_width = (g.padded_width - p.filter_width) / p.stride_width + 1;
  g.output_height = output_height;
  g.output_width = output_width;
  g.pool_kind = p.pool.kind;
  if (p.pool.kind == POCKET_POOL_NONE) {
    g.pool_height = g.pool_width = g.pool_stride_height = g.pool_stride_width = 1;
  } else {
    g.pool_height = p.pool.filter_height;
    g.pool_width = p.pool.filter_width;
    g.pool_stride_height = p.pool.stride_height;
    g.pool_stride_width = p.pool.stride_width;
  }
  g.row_length = p.filter_width * g.group_in;  // <= filter size, checked by the runtime
  g.input_zero_point = p.input_zero_point;
  g.output_zero_point = p.output_zero_point;
  g.act_min = p.act_min;
  g.act_max = p.act_max;
  return g;
}

// Variants need int32 indices into their scratch; larger layers go to the reference.
bool conv_fits_fast(const ConvGeo& g) {
  const int64_t lanes = int64_t{g.group_out} + 16;
  return product_capped({g.padded_height, g.padded_width, g.input_channels}, kMaxScratchElems) <=
             kMaxScratchElems &&
         product_capped({int64_t{g.pool_height} + 1, g.conv_width, lanes}, kMaxScratchElems) <=
             kMaxScratchElems &&
         product_capped({g.output_channels, g.filter_height, g.row_length + 4}, kMaxScratchElems) <=
             kMaxScratchElems;
}

pocket_conv2d_params strip_pointers(const pocket_conv2d_params& p) {
  pocket_conv2d_params s = p;
  s.output_multiplier = nullptr;
  s.output_shift = nullptr;
  if (s.pool.kind == POCKET_POOL_NONE) s.pool = pocket_fused_pool{POCKET_POOL_NONE, 0, 0, 0, 0};
  return s;
}

bool same_conv(const pocket_conv2d_params& a, const pocket_conv2d_params& b) {
  return a.batches == b.batches && a.input_height == b.input_height &&
         a.input_width == b.input_width && a.input_channels == b.input_channels &&
         a.output_channels == b.output_channels && a.filter_height == b.filter_height &&
         a.filter_width == b.filter_width && a.stride_height == b.stride_height &&
         a.stride_width == b.stride_width && a.pad_top == b.pad_top && a.pad_left == b.pad_left &&
         a.pad_bottom == b.pad_bottom && a.pad_right == b.pad_right && a.groups == b.groups &&
         a.input_zero_point == b.input_zero_point && a.output_zero_point == b.output_zero_point &&
         a.act_min == b.act_min && a.act_max == b.act_max && a.pool.kind == b.pool.kind &&
         a.pool.filter_height == b.pool.filter_height && a.pool.filter_width == b.pool.filter_width &&
         a.pool.stride_height == b.pool.stride_height && a.pool.stride_width == b.pool.stride_width;
}

bool same_fc(const pocket_fully_connected_params& a, const pocket_fully_connected_params& b) {
  return a.batches == b.batches && a.input_features == b.input_features &&
         a.output_features == b.output_features && a.input_zero_point == b.input_zero_point &&
         a.output_zero_point == b.output_zero_point && a.act_min == b.act_min &&
         a.act_max == b.act_max;
}

// Validates like pocket_conv2d_s8_check and lays the blob out.
pocket_status conv_plan(pocket_fast_variant requested, const pocket_conv2d_params* params,
                        const int32_t* bias, Layout* layout, ConvGeo* geo) {
  if (!valid_variant(requested)) return POCKET_ERR_BAD_SHAPE;
  const pocket_status status = pocket_conv2d_s8_check(params, bias);
  if (status != POCKET_OK) return status;
  pocket_fast_variant variant = resolve(requested);
  if (!supported(variant)) return POCKET_ERR_BAD_SHAPE;
  int32_t output_height = 0, output_width = 0;
  const pocket_status shape = pocket_conv2d_output_shape(params, &output_height, &output_width);
  if (shape != POCKET_OK) return shape;
  *geo = conv_geometry(*params, output_height, output_width);
  if (!conv_fits_fast(*geo)) variant = POCKET_FAST_REFERENCE;
  const VariantOps* ops = ops_of(variant);
  if (ops == nullptr) variant = POCKET_FAST_REFERENCE;
  const int64_t weight_bytes = int64_t{params->output_channels} * params->filter_height *
                               params->filter_width * (params->input_channels / params->groups);
  *layout = make_layout(variant, params->output_channels, ops ? ops->conv_body_bytes(*geo) : 0,
                        weight_bytes, ops ? ops->conv_scratch_bytes(*geo) : 0);
  return POCKET_OK;
}

pocket_status fc_plan(pocket_fast_variant requested, const pocket_fully_connected_params* params,
                      const int32_t* bias, Layout* layout, FcGeo* geo) {
  if (!valid_variant(requested)) return POCKET_ERR_BAD_SHAPE;
  const pocket_status status = pocket_fully_connected_s8_check(params, bias);
  if (status != POCKET_OK) return status;
  pocket_fast_variant variant = resolve(requested);
  if (!supported(variant)) return POCKET_ERR_BAD_SHAPE;
  *geo = FcGeo{params->batches,           params->input_features, params->output_features,
               params->input_zero_point,  params->output_zero_point, params->act_min,
               params->act_max};
  const VariantOps* ops = ops_of(variant);
  if (ops == nullptr) variant = POCKET_FAST_REFERENCE;
  const int64_t weight_bytes = int64_t{params->output_features} * params->input_features;
  *layout = make_layout(variant, params->output_features, ops ? ops->fc_body_bytes(*geo) : 0,
                        weight_bytes, ops ? ops->fc_scratch_bytes(*geo) : 0);
  return POCKET_OK;
}

BlobHeader make_header(uint32_t kind, const Layout& l, int32_t channels, const int32_t* bias,
                       uint8_t* base, const int32_t* multiplier, const int32_t* shift) {
  BlobHeader h{};
  h.magic = kMagic;
  h.kind = kind;
  h.variant = static_cast<uint32_t>(l.variant);
  h.total_bytes = l.total;
  h.scratch_bytes = l.scratch;
  h.multiplier_offset = l.multiplier_offset;
  h.shift_offset = l.shift_offset;
  h.body_offset = l.body_offset;
  h.weights_offset = l.weights_offset;
  h.bias_offset = l.bias_offset;
  h.channels = channels;
  h.has_bias = bias != nullptr;
  std::memcpy(base + l.multiplier_offset, multiplier, static_cast<size_t>(channels) * 4);
  std::memcpy(base + l.shift_offset, shift, static_cast<size_t>(channels) * 4);
  return h;
}

// The blob's header when `packed` holds a blob of `kind` for `channels` outputs whose
// requantization parameters equal those of the caller; nullptr otherwise.
const BlobHeader* checked_header(const void* packed, uint32_t kind, int32_t channels,
                                 const int32_t* multiplier, const int32_t* shift) {
  const uint8_t* base = aligned(packed);
  const auto* h = reinterpret_cast<const BlobHeader*>(base);
  if (h->magic != kMagic || h->kind != kind || h->channels != channels) return nullptr;
  const size_t bytes = static_cast<size_t>(h->channels) * 4;
  if (std::memcmp(base + h->multiplier_offset, multiplier, bytes) != 0 ||
      std::memcmp(base + h->shift_offset, shift, bytes) != 0) {
    return nullptr;
  }
  return h;
}

int32_t clamp_int32(int64_t bytes) { return bytes > INT32_MAX ? 0 : static_cast<int32_t>(bytes); }

}  // namespace
}  // namespace pocket::fast

using namespace pocket::fast;

extern "C" {

int pocket_fast_variant_supported(pocket_fast_variant variant) {
  return valid_variant(variant) && supported(variant) &&
         (variant <= POCKET_FAST_PORTABLE || ops_of(variant) != nullptr);
}

const char* pocket_fast_variant_name(pocket_fast_variant variant) {
  switch (variant) {
    case POCKET_FAST_SELECTED: return "selected";
    case POCKET_FAST_REFERENCE: return "reference";
    case POCKET_FAST_PORTABLE: return "portable";
    case POCKET_FAST_AVX2: return "avx2";
    case POCKET_FAST_AVX512: return "avx512";
  }
  return "unknown";
}

pocket_fast_variant pocket_fast_selected(void) {
  const int chosen = g_override.load(std::memory_order_relaxed);
  return chosen != POCKET_FAST_SELECTED ? static_cast<pocket_fast_variant>(chosen) : default_variant();
}

const char* pocket_fast_isa(void) { return pocket_fast_variant_name(pocket_fast_selected()); }

int pocket_fast_select(pocket_fast_variant variant) {
  if (!pocket_fast_variant_supported(variant)) return 0;
  g_override.store(variant, std::memory_order_relaxed);
  return 1;
}

pocket_fast_variant pocket_fast_packed_variant(const void* packed) {
  if (packed == nullptr) return POCKET_FAST_SELECTED;
  const auto* h = reinterpret_cast<const BlobHeader*>(aligned(packed));
  if (h->magic != kMagic) return POCKET_FAST_SELECTED;
  return static_cast<pocket_fast_variant>(h->variant);
}

// ------------------------------------------------------------------------------------------------
// conv2d
// ------------------------------------------------------------------------------------------------

pocket_status pocket_conv2d_s8_fast_plan(pocket_fast_variant variant,
                                         const pocket_conv2d_params* params, const int32_t* bias,
                                         int64_t* packed_bytes, int64_t* scratch_bytes) {
  if (packed_bytes == nullptr || scratch_bytes == nullptr) return POCKET_ERR_NULL_POINTER;
  Layout layout{};
  ConvGeo geo{};
  const pocket_status status = conv_plan(variant, params, bias, &layout, &geo);
  if (status != POCKET_OK) return status;
  *packed_bytes = layout.total + 64;
  *scratch_bytes = layout.scratch;
  return POCKET_OK;
}

pocket_status pocket_conv2d_s8_fast_pack(pocket_fast_variant variant,
                                         const pocket_conv2d_params* params, const int8_t* filter,
                                         const int32_t* bias, void* packed, int64_t packed_bytes) {
  if (filter == nullptr || packed == nullptr) return POCKET_ERR_NULL_POINTER;
  Layout l{};
  ConvGeo geo{};
  const pocket_status status = conv_plan(variant, params, bias, &l, &geo);
  if (status != POCKET_OK) return status;
  if (packed_bytes < l.total + 64) return POCKET_ERR_BAD_SHAPE;
  uint8_t* base = aligned(packed);
  BlobHeader h = make_header(kConvBlob, l, params->output_channels, bias, base,
                             params->output_multiplier, params->output_shift);
  h.conv = strip_pointers(*params);
  h.conv_geo = geo;
  if (l.ops != nullptr) {
    l.ops->conv_pack(geo, filter, bias, params->output_multiplier, params->output_shift,
                     base + l.body_offset);
  } else {
    const int64_t weight_bytes = int64_t{params->output_channels} * params->filter_height *
                                 params->filter_width * (params->input_channels / params->groups);
    std::memcpy(base + l.weights_offset, filter, static_cast<size_t>(weight_bytes));
    if (bias != nullptr) {
      std::memcpy(base + l.bias_offset, bias, static_cast<size_t>(params->output_channels) * 4);
    }
  }
  std::memcpy(base, &h, sizeof h);
  return POCKET_OK;
}

pocket_status pocket_conv2d_s8_fast_run(const pocket_conv2d_params* params, const void* packed,
                                        const int8_t* input, int8_t* output, void* scratch) {
  if (params == nullptr || packed == nullptr || input == nullptr || output == nullptr ||
      params->output_multiplier == nullptr || params->output_shift == nullptr) {
    return POCKET_ERR_NULL_POINTER;
  }
  const BlobHeader* h = checked_header(packed, kConvBlob, params->output_channels,
                                       params->output_multiplier, params->output_shift);
  if (h == nullptr || !same_conv(h->conv, strip_pointers(*params))) {
    return POCKET_ERR_BAD_SHAPE;
  }
  const uint8_t* base = aligned(packed);
  if (h->variant == POCKET_FAST_REFERENCE) {
    const int32_t* bias = h->has_bias ? reinterpret_cast<const int32_t*>(base + h->bias_offset) : nullptr;
    return pocket_conv2d_s8(params, input, reinterpret_cast<const int8_t*>(base + h->weights_offset),
                            bias, output, nullptr);
  }
  if (scratch == nullptr) return POCKET_ERR_NULL_POINTER;
  ops_of(static_cast<pocket_fast_variant>(h->variant))
      ->conv_run(h->conv_geo, base + h->body_offset,
                 reinterpret_cast<const int32_t*>(base + h->multiplier_offset),
                 reinterpret_cast<const int32_t*>(base + h->shift_offset), input, output,
                 aligned(scratch));
  return POCKET_OK;
}

int32_t pocket_conv2d_s8_fast_scratch_bytes(const pocket_conv2d_params* params) {
  int64_t most = 0;
  for (int v = POCKET_FAST_PORTABLE; v <= POCKET_FAST_VARIANT_LAST; ++v) {
    const auto variant = static_cast<pocket_fast_variant>(v);
    if (!pocket_fast_variant_supported(variant)) continue;
    Layout layout{};
    ConvGeo geo{};
    // Sizes do not depend on the bias (a bias the accumulator range check refuses makes the
    // kernel refuse the call anyway).
    if (conv_plan(variant, params, nullptr, &layout, &geo) != POCKET_OK) return 0;
    if (layout.ops == nullptr) continue;  // packed as the reference: the drop-in calls it directly
    const int64_t bytes = layout.total + 64 + layout.scratch;
    if (bytes > most) most = bytes;
  }
  return clamp_int32(most);
}

pocket_status pocket_conv2d_s8_fast(const pocket_conv2d_params* params, const int8_t* input,
                                    const int8_t* filter, const int32_t* bias, int8_t* output,
                                    void* scratch) {
  if (input == nullptr || filter == nullptr || output == nullptr) return POCKET_ERR_NULL_POINTER;
  const pocket_status status = pocket_conv2d_s8_check(params, bias);
  if (status != POCKET_OK) return status;
  const int32_t budget = pocket_conv2d_s8_fast_scratch_bytes(params);
  Layout l{};
  ConvGeo geo{};
  if (scratch == nullptr || budget == 0 ||
      conv_plan(POCKET_FAST_SELECTED, params, bias, &l, &geo) != POCKET_OK || l.ops == nullptr) {
    return pocket_conv2d_s8(params, input, filter, bias, output, nullptr);
  }
  uint8_t* blob = static_cast<uint8_t*>(scratch);
  const pocket_status packed = pocket_conv2d_s8_fast_pack(POCKET_FAST_SELECTED, params, filter, bias,
                                                          blob, l.total + 64);
  if (packed != POCKET_OK) return packed;
  return pocket_conv2d_s8_fast_run(params, blob, input, output, blob + l.total + 64);
}

// ------------------------------------------------------------------------------------------------
// fully connected
// ------------------------------------------------------------------------------------------------

pocket_status pocket_fully_connected_s8_fast_plan(pocket_fast_variant variant,
                                                  const pocket_fully_connected_params* params,
                                                  const int32_t* bias, int64_t* packed_bytes,
                                                  int64_t* scratch_bytes) {
  if (packed_bytes == nullptr || scratch_bytes == nullptr) return POCKET_ERR_NULL_POINTER;
  Layout layout{};
  FcGeo geo{};
  const pocket_status status = fc_plan(variant, params, bias, &layout, &geo);
  if (status != POCKET_OK) return status;
  *packed_bytes = layout.total + 64;
  *scratch_bytes = layout.scratch;
  return POCKET_OK;
}

pocket_status pocket_fully_connected_s8_fast_pack(pocket_fast_variant variant,
                                                  const pocket_fully_connected_params* params,
                                                  const int8_t* weights, const int32_t* bias,
                                                  void* packed, int64_t packed_bytes) {
  if (weights == nullptr || packed == nullptr) return POCKET_ERR_NULL_POINTER;
  Layout l{};
  FcGeo geo{};
  const pocket_status status = fc_plan(variant, params, bias, &l, &geo);
  if (status != POCKET_OK) return status;
  if (packed_bytes < l.total + 64) return POCKET_ERR_BAD_SHAPE;
  uint8_t* base = aligned(packed);
  BlobHeader h = make_header(kFcBlob, l, params->output_features, bias, base,
                             params->output_multiplier, params->output_shift);
  h.fc = *params;
  h.fc.output_multiplier = nullptr;
  h.fc.output_shift = nullptr;
  h.fc_geo = geo;
  if (l.ops != nullptr) {
    l.ops->fc_pack(geo, weights, bias, params->output_multiplier, params->output_shift,
                   base + l.body_offset);
  } else {
    std::memcpy(base + l.weights_offset, weights,
                static_cast<size_t>(int64_t{params->output_features} * params->input_features));
    if (bias != nullptr) {
      std::memcpy(base + l.bias_offset, bias, static_cast<size_t>(params->output_features) * 4);
    }
  }
  std::memcpy(base, &h, sizeof h);
  return POCKET_OK;
}

pocket_status pocket_fully_connected_s8_fast_run(const pocket_fully_connected_params* params,
                                                 const void* packed, const int8_t* input,
                                                 int8_t* output, void* scratch) {
  if (params == nullptr || packed == nullptr || input == nullptr || output == nullptr ||
      params->output_multiplier == nullptr || params->output_shift == nullptr) {
    return POCKET_ERR_NULL_POINTER;
  }
  const BlobHeader* h = checked_header(packed, kFcBlob, params->output_features,
                                       params->output_multiplier, params->output_shift);
  if (h == nullptr || !same_fc(h->fc, *params)) {
    return POCKET_ERR_BAD_SHAPE;
  }
  const uint8_t* base = aligned(packed);
  if (h->variant == POCKET_FAST_REFERENCE) {
    const int32_t* bias = h->has_bias ? reinterpret_cast<const int32_t*>(base + h->bias_offset) : nullptr;
    return pocket_fully_connected_s8(params, input,
                                     reinterpret_cast<const int8_t*>(base + h->weights_offset), bias,
                                     output, nullptr);
  }
  if (scratch == nullptr) return POCKET_ERR_NULL_POINTER;
  ops_of(static_cast<pocket_fast_variant>(h->variant))
      ->fc_run(h->fc_geo, base + h->body_offset,
               reinterpret_cast<const int32_t*>(base + h->multiplier_offset),
               reinterpret_cast<const int32_t*>(base + h->shift_offset), input, output,
               aligned(scratch));
  return POCKET_OK;
}

int32_t pocket_fully_connected_s8_fast_scratch_bytes(const pocket_fully_connected_params* params) {
  int64_t most = 0;
  for (int v = POCKET_FAST_PORTABLE; v <= POCKET_FAST_VARIANT_LAST; ++v) {
    const auto variant = static_cast<pocket_fast_variant>(v);
    if (!pocket_fast_variant_supported(variant)) continue;
    Layout layout{};
    FcGeo geo{};
    if (fc_plan(variant, params, nullptr, &layout, &geo) != POCKET_OK) return 0;
    if (layout.ops == nullptr) continue;
    const int64_t bytes = layout.total + 64 + layout.scratch;
    if (bytes > most) most = bytes;
  }
  return clamp_int32(most);
}

pocket_status pocket_fully_connected_s8_fast(const pocket_fully_connected_params* params,
                                             const int8_t* input, const int8_t* weights,
                                             const int32_t* bias, int8_t* output, void* scratch) {
  if (input == nullptr || weights == nullptr || output == nullptr) return POCKET_ERR_NULL_POINTER;
  const pocket_status status = pocket_fully_connected_s8_check(params, bias);
  if (status != POCKET_OK) return status;
  const int32_t budget = pocket_fully_connected_s8_fast_scratch_bytes(params);
  Layout l{};
  FcGeo geo{};
  if (scratch == nullptr || budget == 0 ||
      fc_plan(POCKET_FAST_SELECTED, params, bias, &l, &geo) != POCKET_OK || l.ops == nullptr) {
    return pocket_fully_connected_s8(params, input, weights, bias, output, nullptr);
  }
  uint8_t* blob = static_cast<uint8_t*>(scratch);
  const pocket_status packed = pocket_fully_connected_s8_fast_pack(POCKET_FAST_SELECTED, params,
                                                                   weights, bias, blob, l.total + 64);
  if (packed != POCKET_OK) return packed;
  return pocket_fully_connected_s8_fast_run(params, blob, input, output, blob + l.total + 64);
}

int pocket_fast_requantize_s8(pocket_fast_variant variant, int32_t count, const int32_t* acc,
                              const int32_t* multiplier, const int32_t* shift, int32_t zero_point,
                              int32_t act_min, int32_t act_max, int8_t* out) {
  variant = resolve(variant);
  if (!pocket_fast_variant_supported(variant)) return 0;
  const VariantOps* ops = ops_of(variant);
  if (ops != nullptr) {
    ops->requant(count, acc, multiplier, shift, zero_point, act_min, act_max, out);
    return 1;
  }
  for (int32_t i = 0; i < count; ++i) {
    out[i] = pocket_requantize_s8(acc[i], multiplier[i], shift[i], zero_point, act_min, act_max);
  }
  return 1;
}

}  // extern "C"
