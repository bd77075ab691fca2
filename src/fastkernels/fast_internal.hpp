// Internal interface between the dispatcher (dispatch.cpp) and the variant files
// (kernels_<isa>.cpp). Plain data and function declarations only: this header is included by
// translation units compiled with different ISA flags, so it must not define any function with
// external linkage (an inline function compiled with -mavx512f in one file could be the copy the
// linker keeps for all of them). The variant files keep everything they define in their own
// namespace, and all shared code (fast_driver.hpp) is static or a template over a variant type.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "pocket_runtime.h"

namespace pocket::fast {

// Everything a variant needs to know about a validated conv2d layer, derived once by the
// dispatcher. Counts fit int32 (the reference's checks guarantee it for the tensors; the
// dispatcher checks the padded sizes); products are formed in int64 by the users.
struct ConvGeo {
  int32_t batches;
  int32_t input_height, input_width, input_channels;
  int32_t output_channels;
  int32_t groups;
  int32_t group_in;   // input channels per group
  int32_t group_out;  // output channels per group
  int32_t filter_height, filter_width;
  int32_t stride_height, stride_width;
  int32_t pad_top, pad_left;
  int32_t padded_height, padded_width;  // input + pads
  int32_t conv_height, conv_width;      // before pooling
  int32_t output_height, output_width;  // after pooling
  // Pooling window in conv outputs; POCKET_POOL_NONE runs as a 1x1 max pool of stride 1.
  pocket_pool_kind pool_kind;
  int32_t pool_height, pool_width, pool_stride_height, pool_stride_width;
  int32_t row_length;  // filter_width * group_in: one filter row, contiguous in the padded input
  int32_t input_zero_point, output_zero_point, act_min, act_max;
};

struct FcGeo {
  int32_t batches;
  int32_t input_features, output_features;
  int32_t input_zero_point, output_zero_point, act_min, act_max;
};

// One variant. Body and scratch pointers are 64-byte aligned; sizes are in bytes. The pack
// functions receive validated parameters; bias may be null. multiplier/shift: [output channels].
struct VariantOps {
  int64_t (*conv_body_bytes)(const ConvGeo& geo);
  int64_t (*conv_scratch_bytes)(const ConvGeo& geo);
  void (*conv_pack)(const ConvGeo& geo, const int8_t* filter, const int32_t* bias,
                    const int32_t* multiplier, const int32_t* shift, uint8_t* body);
  void (*conv_run)(const ConvGeo& geo, const uint8_t* body, const int32_t* multiplier,
                   const int32_t* shift, const int8_t* input, int8_t* output, uint8_t* scratch);
  int64_t (*fc_body_bytes)(const FcGeo& geo);
  int64_t (*fc_scratch_bytes)(const FcGeo& geo);
  void (*fc_pack)(const FcGeo& geo, const int8_t* weights, const int32_t* bias,
                  const int32_t* multiplier, const int32_t* shift, uint8_t* body);
  void (*fc_run)(const FcGeo& geo, const uint8_t* body, const int32_t* multiplier,
                 const int32_t* shift, const int8_t* input, int8_t* output, uint8_t* scratch);
  // The variant's requantization of count accumulators, each with its own multiplier and shift,
  // exactly as its kernels do it (for the exhaustive tests).
  void (*requant)(int32_t count, const int32_t* acc, const int32_t* multiplier, const int32_t* shift,
                  int32_t zero_point, int32_t act_min, int32_t act_max, int8_t* out);
};

namespace portable {
extern const VariantOps kOps;
}
namespace avx2 {
extern const VariantOps kOps;
}
namespace avx512 {
extern const VariantOps kOps;
}

}  // namespace pocket::fast
