/*
 * pocket_fully_connected_dsp.c - pocket_fully_connected_s8 for the Cortex-M4 (ARMv7E-M DSP
 * extension).
 *
 * A drop-in for runtime/pocket_fully_connected.c: same functions, same contract
 * (pocket_runtime.h), same output bytes. The generated Makefile for cortex-m4 compiles this file
 * INSTEAD of the reference file (a per-file choice at build time); the reference file is included
 * below, so the parameter check is the reference's own code, not a copy.
 *
 * How it is fast: four input features per step are loaded as one word, sign-extended into two
 * int16 pairs (SXTB16 and SXTB16 ROR #8: bytes 0/2 and 1/3) and centred with SSUB16
 * (x - input_zero_point is within [-255, 255]: no lane overflows); four weight rows are loaded
 * the same way and SMLAD adds two products at a time, all in registers (inline assembly). The
 * sums are the reference's sums in another order; every partial sum is bounded by the kernel
 * check's worst case, so none overflows. The last input_features % 4 features are done one at a
 * time. Requantization without 64-bit variable shifts (pocket_dsp_requantize in pocket_dsp.h,
 * equal to pocket_requantize_s8).
 *
 * GCC for Arm only (Thumb-2 inline assembly, GCC's arithmetic >> of negative values), at -Og or
 * higher. No scratch memory; a few words of stack.
 */
#include <stdint.h>

#if !defined(__OPTIMIZE__)
#error "pocket_fully_connected_dsp.c needs -Og or higher and no frame pointer: its inline assembly keeps 14 values in registers (build the reference kernels, DSP=0, for -O0 or -fno-omit-frame-pointer)"
#endif

#include "pocket_dsp.h"
#include "pocket_internal.h"
#include "pocket_requant.h"
#include "pocket_runtime.h"

/* The reference kernel, compiled into this file under another name (its check is used below;
 * tests compare the two). */
pocket_status pocket_fully_connected_s8_reference(const pocket_fully_connected_params *params,
                                                  const int8_t *input, const int8_t *weights,
                                                  const int32_t *bias, int8_t *output,
                                                  void *scratch);
#define pocket_fully_connected_s8 pocket_fully_connected_s8_reference
#include "../pocket_fully_connected.c"
#undef pocket_fully_connected_s8

/*
 * acc[r] += sum_i (input[i] - zero_point) * w_r[i] for four weight rows w_0..w_3 (a row may
 * repeat: its sum is then computed twice). In assembly so that the four sums, five pointers,
 * the lanes and the zero-point pair stay in registers: per word of four features 5 LDR,
 * 10 SXTB16, 2 SSUB16, 8 SMLAD (16 MACs) + 3 for the loop. The last features % 4 features in C.
 */
static void dot_4_rows(const int8_t *input, const int8_t *w0, const int8_t *w1, const int8_t *w2,
                       const int8_t *w3, int32_t features, int32_t zero_point, int32_t acc[4])
{
    /* (zp, zp) in two int16 lanes; zp is in [-128, 127]. */
    const int32_t zero_points = (int32_t)(((uint32_t)zero_point & 0xFFFFu) * 0x10001u);
    const int32_t words = features / 4;
    const int8_t *const end = input + 4 * words;
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    int32_t x_even, x_odd, w_even, w_odd, feature;
    if (words > 0) {
        __asm__(
            "1:\n\t"
            "ldr %[xo], [%[x]], #4\n\t"
            "sxtb16 %[xe], %[xo]\n\t"                /* bytes 0, 2 */
            "sxtb16 %[xo], %[xo], ror #8\n\t"        /* bytes 1, 3 */
            "ssub16 %[xe], %[xe], %[zp]\n\t"         /* x - zp: within [-255, 255] */
            "ssub16 %[xo], %[xo], %[zp]\n\t"
            "ldr %[wo], [%[p0]], #4\n\t"
            "sxtb16 %[we], %[wo]\n\t"
            "sxtb16 %[wo], %[wo], ror #8\n\t"
            "smlad %[s0], %[xe], %[we], %[s0]\n\t"
            "smlad %[s0], %[xo], %[wo], %[s0]\n\t"
            "ldr %[wo], [%[p1]], #4\n\t"
            "sxtb16 %[we], %[wo]\n\t"
            "sxtb16 %[wo], %[wo], ror #8\n\t"
            "smlad %[s1], %[xe], %[we], %[s1]\n\t"
            "smlad %[s1], %[xo], %[wo], %[s1]\n\t"
            "ldr %[wo], [%[p2]], #4\n\t"
            "sxtb16 %[we], %[wo]\n\t"
            "sxtb16 %[wo], %[wo], ror #8\n\t"
            "smlad %[s2], %[xe], %[we], %[s2]\n\t"
            "smlad %[s2], %[xo], %[wo], %[s2]\n\t"
            "ldr %[wo], [%[p3]], #4\n\t"
            "sxtb16 %[we], %[wo]\n\t"
            "sxtb16 %[wo], %[wo], ror #8\n\t"
            "smlad %[s3], %[xe], %[we], %[s3]\n\t"
            "smlad %[s3], %[xo], %[wo], %[s3]\n\t"
            "ldr %[we], %[end]\n\t"
            "cmp %[x], %[we]\n\t"
            "bne 1b"
            : [x] "+r"(input), [p0] "+r"(w0), [p1] "+r"(w1), [p2] "+r"(w2), [p3] "+r"(w3),
              [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [xe] "=&r"(x_even),
              [xo] "=&r"(x_odd), [we] "=&r"(w_even), [wo] "=&r"(w_odd)
            : [zp] "r"(zero_points), [end] "m"(end)
            : "cc", "memory");
    }
    for (feature = 4 * words; feature < features; ++feature) {
        const int32_t centered = (int32_t)*input++ - zero_point;
        s0 += centered * (int32_t)*w0++;
        s1 += centered * (int32_t)*w1++;
        s2 += centered * (int32_t)*w2++;
        s3 += centered * (int32_t)*w3++;
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

pocket_status pocket_fully_connected_s8(const pocket_fully_connected_params *params,
                                        const int8_t *input, const int8_t *weights,
                                        const int32_t *bias, int8_t *output, void *scratch)
{
    int32_t batch, out_feature;
    pocket_status status;
    (void)scratch;

    if (input == 0 || weights == 0 || output == 0) return POCKET_ERR_NULL_POINTER;
    status = pocket_fully_connected_s8_check(params, bias);
    if (status != POCKET_OK) return status;

    for (batch = 0; batch < params->batches; ++batch) {
        const int8_t *input_row = input + batch * params->input_features;
        int8_t *output_row = output + batch * params->output_features;
        for (out_feature = 0; out_feature < params->output_features; out_feature += 4) {
            /* Four rows per pass; past the last row, the last row again (its results unused). */
            int32_t rows[4], acc[4], k;
            for (k = 0; k < 4; ++k) {
                rows[k] = out_feature + k < params->output_features ? out_feature + k
                                                                    : params->output_features - 1;
                acc[k] = bias != 0 ? bias[rows[k]] : 0;
            }
            dot_4_rows(input_row, weights + rows[0] * params->input_features,
                       weights + rows[1] * params->input_features,
                       weights + rows[2] * params->input_features,
                       weights + rows[3] * params->input_features, params->input_features,
                       params->input_zero_point, acc);
            for (k = 0; k < 4 && out_feature + k < params->output_features; ++k) {
                output_row[out_feature + k] = (int8_t)pocket_dsp_requantize(
                    acc[k], params->output_multiplier[rows[k]], params->output_shift[rows[k]],
                    params->output_zero_point, params->act_min, params->act_max);
            }
        }
    }
    return POCKET_OK;
}
