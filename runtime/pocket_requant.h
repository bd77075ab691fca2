/*
 * pocket_requant.h - the one rounding rule of the Pocket AI Lab integer runtime.
 *
 * Every integer rescale in runtime/ (requantization of a conv/FC accumulator, the two-input add,
 * average pooling, softmax normalisation, input quantization) goes through the functions below.
 * They are static inline so that the host engine, the reference kernels and the generated
 * microcontroller code compile the very same text. Nothing here depends on a build flag.
 *
 * THE RULE
 *   An integer rescale computes round(x / d) for an exact integer x and an integer d > 0
 *   (a power of two 2^n, or a pooling count), rounding to nearest with ties AWAY FROM ZERO.
 *   x is formed exactly (64-bit product, no intermediate rounding), so there is exactly ONE
 *   rounding per rescale, followed by saturation (clamping), which is exact.
 *   The arithmetic is done on magnitudes with unsigned shifts, so no right shift of a negative
 *   value (implementation-defined in C99) and no signed overflow (undefined) ever happens.
 *
 * REQUANTIZATION MULTIPLIER AND THE SHIFT CONVENTION (used everywhere, C and C++)
 *   A positive real multiplier M (for a conv: M = s_in * s_w[c] / s_out) is stored as
 *
 *       M = multiplier * 2^-(31 + shift)
 *
 *   multiplier: int32 in [2^30, 2^31) (a normalised Q0.31 mantissa), or 0 when M rounds to 0;
 *   shift:      int32 in [POCKET_SHIFT_MIN, POCKET_SHIFT_MAX] = [-31, 31].
 *   shift is a RIGHT shift: shift > 0 divides (M < 0.5), shift = 0 means M in [0.5, 1),
 *   shift < 0 multiplies (M >= 1). Larger shift, smaller M. pocket::qmath::quantize_multiplier()
 *   in src/quant/qmath.cpp is the only code that turns a double M into (multiplier, shift).
 *
 *       result = round(acc * multiplier / 2^(31 + shift))      (ties away from zero)
 *
 *   |acc * multiplier| < 2^62, so the product is exact in int64 and the total shift 31 + shift
 *   is in [0, 62].
 *
 * WORKED EXAMPLES (all checked by tests/runtime/test_requant.cpp)
 *   M = 0.75  -> multiplier = 0.75 * 2^31 = 1610612736, shift = 0
 *       acc =    10: 10 * 0.75 = 7.5       -> 8      (tie, away from zero)
 *       acc =   -10:                -7.5   -> -8     (tie, away from zero: symmetric)
 *       acc = 12345: 9258.75               -> 9259
 *   M = 1.5   -> multiplier = 1610612736, shift = -1   (M >= 1: negative shift)
 *       acc =    -3: -4.5                  -> -5
 *   M = 0.25  -> multiplier = 2^30 = 1073741824, shift = 1
 *       acc =     1: 1/4 = 0.25            -> 0
 *       (a two-step "rounding high multiply, then rounding shift" would give
 *        round(round(1 * 0.5) / 2) = round(1 / 2) = 1: two roundings, a different answer.)
 *   M = 1/3   -> multiplier = 1431655765, shift = 1   (quantized M = 0.33333333326)
 *       acc =     3: 4294967295 / 2^32 = 0.99999999977 -> 1
 *   M = 2^-32 -> multiplier = 2^30, shift = 31  (the smallest normal M)
 *       acc = -2^31: -0.5 -> -1;   acc = 2^31 - 1: 0.49999999977 -> 0
 *   int8 output, zero point -5, act range [-128, 127]:
 *       M = 0.75, acc = 1000: 750 - 5 = 745 -> 127 (saturated);  acc = 10: 8 - 5 = 3
 *
 * WHY
 *   Reference libraries round requantization in two steps, or choose the rounding with a build
 *   flag, so host and device may differ by one LSB. Here the rule is fixed, exact and written
 *   down once; the host engine links this header and the generated C ships it, so they agree
 *   bit for bit. See docs/requantization.md.
 */
#ifndef POCKET_REQUANT_H
#define POCKET_REQUANT_H

#include <stdint.h>

#ifdef __cplusplus
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#endif
extern "C" {
#endif

/* Range of the shift of a quantized multiplier (see above). */
#define POCKET_SHIFT_MIN (-31)
#define POCKET_SHIFT_MAX 31

/*
 * round(value / 2^exponent), ties away from zero, exact.
 * Preconditions: 0 <= exponent <= 63, value != INT64_MIN.
 */
static inline int64_t pocket_round_shift_s64(int64_t value, int32_t exponent)
{
    const int negative = value < 0;
    uint64_t magnitude = negative ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    if (exponent > 0) {
        /* magnitude <= 2^63 and the half <= 2^62: the sum cannot wrap. */
        magnitude = (magnitude + ((uint64_t)1 << (exponent - 1))) >> exponent;
    }
    return negative ? -(int64_t)magnitude : (int64_t)magnitude;
}

/*
 * round(numerator / denominator), ties away from zero, exact.
 * Preconditions: denominator > 0, numerator != INT32_MIN.
 */
static inline int32_t pocket_round_div_s32(int32_t numerator, int32_t denominator)
{
    const int negative = numerator < 0;
    const uint32_t magnitude = negative ? 0u - (uint32_t)numerator : (uint32_t)numerator;
    const uint32_t divisor = (uint32_t)denominator;
    /* magnitude < 2^31 and divisor / 2 < 2^30: no wrap. Adding floor(d/2) rounds ties up for
     * even d; for odd d a tie is impossible and the floor is exact. */
    const uint32_t quotient = (magnitude + divisor / 2u) / divisor;
    return negative ? -(int32_t)quotient : (int32_t)quotient;
}

/*
 * round(acc * multiplier / 2^(31 + shift)), exact, unsaturated (|result| < 2^62).
 * Preconditions: 0 <= multiplier, POCKET_SHIFT_MIN <= shift <= POCKET_SHIFT_MAX.
 */
static inline int64_t pocket_multiply_round(int32_t acc, int32_t multiplier, int32_t shift)
{
    return pocket_round_shift_s64((int64_t)acc * (int64_t)multiplier, 31 + shift);
}

/* Clamp a 64-bit value into [lo, hi] (lo <= hi). */
static inline int32_t pocket_clamp_s64(int64_t value, int32_t lo, int32_t hi)
{
    if (value < lo) return lo;
    if (value > hi) return hi;
    return (int32_t)value;
}

/* Requantize to int32, saturating at the int32 range (for wider-than-int8 outputs). */
static inline int32_t pocket_requantize(int32_t acc, int32_t multiplier, int32_t shift)
{
    return pocket_clamp_s64(pocket_multiply_round(acc, multiplier, shift), INT32_MIN, INT32_MAX);
}

/*
 * The int8 requantization used by every kernel:
 *   out = clamp(round(acc * multiplier / 2^(31 + shift)) + zero_point, act_min, act_max)
 * Preconditions: as pocket_multiply_round; -128 <= act_min <= act_max <= 127; the zero point is
 * an int8 value. Saturation to int8 is the clamp (act_min = -128, act_max = 127 for none).
 */
static inline int8_t pocket_requantize_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                          int32_t zero_point, int32_t act_min, int32_t act_max)
{
    const int64_t value = pocket_multiply_round(acc, multiplier, shift) + zero_point;
    return (int8_t)pocket_clamp_s64(value, act_min, act_max);
}

#ifdef __cplusplus
} /* extern "C" */
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#endif

#endif /* POCKET_REQUANT_H */
