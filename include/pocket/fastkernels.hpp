// pocket/fastkernels.hpp - faster HOST int8 kernels beside the C99 reference kernels of runtime/.
//
// The reference kernels (pocket_conv2d_s8, pocket_fully_connected_s8, pocket_maxpool_s8) stay the
// specification: they are what the generated C ships to microcontrollers. The kernels here take
// the SAME parameter structs, return the SAME statuses for the same inputs, and write the SAME
// bytes (tests/fastkernels proves it byte for byte, for every variant the CPU supports). They are
// plain C functions (extern "C"), usable from C and C++.
//
// VARIANTS (one source file each, compiled with its own ISA flags; chosen in ONE place at run time)
//   reference  the runtime's C99 kernels themselves (the fallback; what POCKET_KERNELS=reference
//              forces, so an engine can compare)
//   portable   blocked C++ without intrinsics, auto-vectorised for the baseline ISA
//   avx2       AVX2: int16 multiply-add (vpmaddwd), 8 output channels per register
//   avx512     AVX-512 BW/VL + VNNI: u8 x s8 dot products (vpdpbusd), 8 or 16 output channels
//              per register
// The selection is the best variant the CPU supports, unless the environment variable
// POCKET_KERNELS names another one ("reference", "portable", "avx2", "avx512"; read once, at the
// first call; an unsupported or unknown name is ignored) or pocket_fast_select() is called.
//
// ARITHMETIC is exactly the reference's: int32 accumulation (reassociated: the shapes the kernels
// accept cannot overflow, and int32 wrap-around arithmetic is exact for a result that fits),
// requantization with the one rounding rule of pocket_requant.h, the fused clamp, and a fused max
// pool done on the accumulators (requantization is monotonic, so max-then-requantize equals
// requantize-then-max).
//
// HOW AN ENGINE USES THEM (Prepare/Eval split)
//   compile (once per layer):
//     int64_t packed_bytes, scratch_bytes;
//     pocket_conv2d_s8_fast_plan(POCKET_FAST_SELECTED, &params, bias, &packed_bytes, &scratch_bytes);
//     packed = an owned buffer of packed_bytes (no alignment needed: the blob aligns itself
//              inside; do not move it with memcpy afterwards, pack again instead);
//     pocket_conv2d_s8_fast_pack(POCKET_FAST_SELECTED, &params, filter, bias, packed, packed_bytes);
//     (validates everything the reference's *_check validates, repacks the OHWI weights into the
//     variant's blocked layout, precomputes bias/zero-point corrections and requantization
//     constants, and records the variant, so a later pocket_fast_select() does not affect it)
//   run (per image, per thread):
//     pocket_conv2d_s8_fast_run(&params, packed, input, output, scratch);
//     scratch: scratch_bytes per THREAD (the packed blob is read-only and shared), no alignment
//     needed. run() checks that params equal the packed ones (shape, zero points, clamp, pool,
//     multipliers, shifts); it never allocates.
//   Fully connected: the same with pocket_fully_connected_s8_fast_{plan,pack,run}.
// DROP-IN (same signature as the reference, for code without a prepare step):
//   pocket_conv2d_s8_fast(&params, input, filter, bias, output, scratch) packs into `scratch`
//   (pocket_conv2d_s8_fast_scratch_bytes bytes) on every call, then runs; scratch == NULL runs
//   the reference kernel. Packing each call costs about one pass over the weights.
#pragma once

#include <stdint.h>

#include "pocket_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pocket_fast_variant {
    POCKET_FAST_SELECTED = 0,  /* whatever pocket_fast_selected() returns at the time of the call */
    POCKET_FAST_REFERENCE = 1, /* the runtime's C99 reference kernels */
    POCKET_FAST_PORTABLE = 2,  /* blocked C++, no intrinsics */
    POCKET_FAST_AVX2 = 3,      /* AVX2 (vpmaddwd) */
    POCKET_FAST_AVX512 = 4     /* AVX-512 BW/VL + VNNI (vpdpbusd) */
} pocket_fast_variant;

#define POCKET_FAST_VARIANT_FIRST POCKET_FAST_REFERENCE
#define POCKET_FAST_VARIANT_LAST POCKET_FAST_AVX512

/* 1 when this build contains the variant and this CPU (and OS) can run it; REFERENCE and
 * PORTABLE always; SELECTED always. */
int pocket_fast_variant_supported(pocket_fast_variant variant);
/* "reference", "portable", "avx2", "avx512" ("selected" for POCKET_FAST_SELECTED). */
const char *pocket_fast_variant_name(pocket_fast_variant variant);
/* The variant used for POCKET_FAST_SELECTED (never POCKET_FAST_SELECTED itself). */
pocket_fast_variant pocket_fast_selected(void);
/* Name of the selected variant: pocket_fast_variant_name(pocket_fast_selected()). */
const char *pocket_fast_isa(void);
/* Selects a variant for later calls (thread-safe; blobs packed earlier keep theirs).
 * POCKET_FAST_SELECTED restores the default (best supported, or POCKET_KERNELS).
 * Returns 1 on success, 0 (selection unchanged) when the variant is not supported. */
int pocket_fast_select(pocket_fast_variant variant);

/* ----------------------------------------------------------------------------------------- */
/* conv2d                                                                                     */
/* ----------------------------------------------------------------------------------------- */

/* Sizes for pocket_conv2d_s8_fast_pack / _run with `variant`. Validates like
 * pocket_conv2d_s8_check (same statuses); POCKET_ERR_BAD_SHAPE also when the variant is not
 * supported here. A shape too large for a variant's scratch layout is packed as the reference
 * (pocket_fast_packed_variant tells); then scratch_bytes is 0. */
pocket_status pocket_conv2d_s8_fast_plan(pocket_fast_variant variant,
                                         const pocket_conv2d_params *params, const int32_t *bias,
                                         int64_t *packed_bytes, int64_t *scratch_bytes);
/* Writes the packed layer (weights, bias and requantization constants) into `packed`
 * (packed_bytes as given by _plan; POCKET_ERR_BAD_SHAPE if smaller). */
pocket_status pocket_conv2d_s8_fast_pack(pocket_fast_variant variant,
                                         const pocket_conv2d_params *params, const int8_t *filter,
                                         const int32_t *bias, void *packed, int64_t packed_bytes);
/* Runs a packed layer: writes exactly what pocket_conv2d_s8(params, input, filter, bias, output)
 * writes. POCKET_ERR_NULL_POINTER for a NULL pointer (scratch may be NULL when scratch_bytes
 * was 0); POCKET_ERR_BAD_SHAPE when `packed` was not packed for these params. */
pocket_status pocket_conv2d_s8_fast_run(const pocket_conv2d_params *params, const void *packed,
                                        const int8_t *input, int8_t *output, void *scratch);

/* Drop-in replacement of pocket_conv2d_s8_scratch_bytes / pocket_conv2d_s8: the scratch is the
 * packed layer plus the run scratch of the largest supported variant (0 for invalid params, or
 * when it would not fit an int32; then the reference runs). */
int32_t pocket_conv2d_s8_fast_scratch_bytes(const pocket_conv2d_params *params);
pocket_status pocket_conv2d_s8_fast(const pocket_conv2d_params *params, const int8_t *input,
                                    const int8_t *filter, const int32_t *bias, int8_t *output,
                                    void *scratch);

/* ----------------------------------------------------------------------------------------- */
/* fully connected                                                                            */
/* ----------------------------------------------------------------------------------------- */

pocket_status pocket_fully_connected_s8_fast_plan(pocket_fast_variant variant,
                                                  const pocket_fully_connected_params *params,
                                                  const int32_t *bias, int64_t *packed_bytes,
                                                  int64_t *scratch_bytes);
pocket_status pocket_fully_connected_s8_fast_pack(pocket_fast_variant variant,
                                                  const pocket_fully_connected_params *params,
                                                  const int8_t *weights, const int32_t *bias,
                                                  void *packed, int64_t packed_bytes);
pocket_status pocket_fully_connected_s8_fast_run(const pocket_fully_connected_params *params,
                                                 const void *packed, const int8_t *input,
                                                 int8_t *output, void *scratch);
int32_t pocket_fully_connected_s8_fast_scratch_bytes(const pocket_fully_connected_params *params);
pocket_status pocket_fully_connected_s8_fast(const pocket_fully_connected_params *params,
                                             const int8_t *input, const int8_t *weights,
                                             const int32_t *bias, int8_t *output, void *scratch);

/* ----------------------------------------------------------------------------------------- */
/* max pooling (no packing: one implementation, channels innermost, vectorised by the compiler) */
/* ----------------------------------------------------------------------------------------- */

/* Same contract and statuses as pocket_maxpool_s8; the reference runs when it is selected. */
pocket_status pocket_maxpool_s8_fast(const pocket_pool_params *params, const int8_t *input,
                                     int8_t *output);

/* ----------------------------------------------------------------------------------------- */
/* introspection                                                                              */
/* ----------------------------------------------------------------------------------------- */

/* The variant a packed conv or FC layer runs with (POCKET_FAST_SELECTED when `packed` is not a
 * packed layer). */
pocket_fast_variant pocket_fast_packed_variant(const void *packed);

/* For the exhaustive tests: out[i] = the variant's requantization of acc[i] with multiplier[i]
 * and shift[i], computed by the very code its kernels use (SIMD for avx2/avx512), to be compared
 * with pocket_requantize_s8. Preconditions as pocket_requantize_s8. Returns 0 (nothing written)
 * when the variant is not supported. */
int pocket_fast_requantize_s8(pocket_fast_variant variant, int32_t count, const int32_t *acc,
                              const int32_t *multiplier, const int32_t *shift, int32_t zero_point,
                              int32_t act_min, int32_t act_max, int8_t *out);

#ifdef __cplusplus
} /* extern "C" */
#endif
