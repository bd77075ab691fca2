/*
 * pocket_dsp.h - helpers shared by the Cortex-M4 DSP kernels (runtime/arm/pocket_conv2d_dsp.c,
 * runtime/arm/pocket_fully_connected_dsp.c). Not a public header.
 *
 * GCC for Arm only. Relies on GCC's documented implementation-defined behaviour: >> of a negative
 * signed value is arithmetic, and converting an out-of-range unsigned value to a signed type
 * wraps modulo 2^N.
 */
#ifndef POCKET_DSP_H
#define POCKET_DSP_H

#include <stdint.h>

#include "pocket_requant.h"

/* Multipliers of 0.5 and more (shift <= 0, rare in practice): the header's function, out of
 * line so that the fast path below stays small. A weak definition: every kernel file that
 * includes this header emits it, the linker keeps one copy. */
int32_t pocket_dsp_requantize_low(int32_t acc, int32_t multiplier, int32_t shift,
                                  int32_t zero_point, int32_t act_min, int32_t act_max);
__attribute__((weak, noinline)) int32_t pocket_dsp_requantize_low(int32_t acc, int32_t multiplier,
                                                                  int32_t shift, int32_t zero_point,
                                                                  int32_t act_min, int32_t act_max)
{
    return pocket_requantize_s8(acc, multiplier, shift, zero_point, act_min, act_max);
}

/*
 * pocket_requantize_s8 without 64-bit variable shifts:
 *   out = clamp(round(acc * multiplier / 2^(31 + shift)) + zero_point, act_min, act_max)
 * rounding half away from zero, for every int32 acc and every valid multiplier and shift.
 *
 * Why it is equal, for shift s >= 1 (n = 31 + s), p = acc * multiplier (|p| < 2^62):
 *   round-half-away(p / 2^n) = floor((P + 2^(n-1)) / 2^n)   with P = p - [p < 0]
 *     (p >= 0: round half up. p < 0: write -p + 2^(n-1) = a 2^n + r with 0 <= r < 2^n; then
 *      p - 1 + 2^(n-1) = -a 2^n + (2^n - 1 - r) and 0 <= 2^n - 1 - r < 2^n, so the floor is -a,
 *      which is -round-half-up(-p / 2^n).)
 *   With P = h 2^31 + r (h = floor(P / 2^31), fits in int32; 0 <= r < 2^31):
 *     floor((P + 2^(n-1)) / 2^n) = floor((h + 2^(s-1) + r / 2^31) / 2^s) = floor((h + 2^(s-1)) / 2^s)
 *     because h + 2^(s-1) is an integer and 0 <= r / 2^31 < 1.
 *   With h = q 2^s + m (q = h >> s, m = h & (2^s - 1)):
 *     floor((h + 2^(s-1)) / 2^s) = q + ((m + 2^(s-1)) >> s)   (m + 2^(s-1) < 2^32: no wrap)
 * The tests compare the kernels that use it with the reference kernels on QEMU, including
 * multipliers whose products land exactly on ties.
 */
__attribute__((always_inline, unused)) static inline int32_t pocket_dsp_requantize(
    int32_t acc, int32_t multiplier, int32_t shift, int32_t zero_point, int32_t act_min,
    int32_t act_max)
{
    if (shift >= 1) {
        const int64_t product = (int64_t)acc * multiplier;
        const int64_t floored = product - (product < 0 ? 1 : 0);
        const int32_t high = (int32_t)(floored >> 31);
        const uint32_t low_bits = (uint32_t)high & ((1u << shift) - 1u);
        const int32_t value = (high >> shift) +
                              (int32_t)((low_bits + (1u << (shift - 1))) >> shift) + zero_point;
        return value < act_min ? act_min : (value > act_max ? act_max : value);
    }
    return pocket_dsp_requantize_low(acc, multiplier, shift, zero_point, act_min, act_max);
}

#endif /* POCKET_DSP_H */
