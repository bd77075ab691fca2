/*
 * pocket_internal.h - parameter validation shared by the runtime's .c files (not public API).
 * All size arithmetic is done in int64 with explicit bounds, so validation itself cannot
 * overflow whatever the caller passes.
 */
#ifndef POCKET_INTERNAL_H
#define POCKET_INTERNAL_H

#include <stdint.h>

#include "pocket_runtime.h"

/* Largest sum of int8 values a pooling window may produce safely: count * 128 <= INT32_MAX. */
#define POCKET_POOL_MAX_COUNT (INT32_MAX / 128)

static inline int pocket_is_int8(int32_t value)
{
    return value >= INT8_MIN && value <= INT8_MAX;
}

static inline int pocket_valid_act_range(int32_t act_min, int32_t act_max)
{
    return pocket_is_int8(act_min) && pocket_is_int8(act_max) && act_min <= act_max;
}

static inline int pocket_valid_multiplier(int32_t multiplier, int32_t shift)
{
    return multiplier >= 0 && shift >= POCKET_SHIFT_MIN && shift <= POCKET_SHIFT_MAX;
}

/* Output extent of a window sweep: (input + pads - filter) / stride + 1, or 0 (invalid) when the
 * padded input is smaller than the filter or larger than INT32_MAX (so coordinates computed by
 * the kernels stay in int32). Arguments already checked to be >= 0 / >= 1. The division is
 * 32-bit, so no 64-bit division helper is pulled into microcontroller builds. */
static inline int32_t pocket_window_extent(int32_t input, int32_t pad_before, int32_t pad_after,
                                           int32_t filter, int32_t stride)
{
    const int64_t padded = (int64_t)input + pad_before + pad_after;
    if (padded < filter || padded > INT32_MAX) return 0;
    return ((int32_t)padded - filter) / stride + 1;
}

/* 1 when a * b * c * d <= INT32_MAX for non-negative factors, computed without overflow. */
static inline int pocket_product_fits(int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t product = a;
    if (product > INT32_MAX) return 0;
    product *= b; /* <= 2^31 * 2^31 */
    if (product > INT32_MAX) return 0;
    product *= c;
    if (product > INT32_MAX) return 0;
    product *= d;
    return product <= INT32_MAX;
}

/* Largest |q - zero_point| over int8 q. */
static inline int64_t pocket_max_abs_centered(int32_t zero_point)
{
    const int64_t up = (int64_t)INT8_MAX - zero_point;
    const int64_t down = (int64_t)zero_point - INT8_MIN;
    return up > down ? up : down;
}

/* 1 when |bias| + terms * max|x - zp| * 128 <= INT32_MAX, i.e. an int32 accumulator of
 * `terms` products of centered int8 inputs and int8 weights cannot overflow. */
static inline int pocket_acc_fits(int64_t terms, int32_t input_zero_point, int32_t bias)
{
    const int64_t abs_bias = bias < 0 ? -(int64_t)bias : (int64_t)bias;
    return abs_bias + terms * pocket_max_abs_centered(input_zero_point) * 128 <= INT32_MAX;
}

#endif /* POCKET_INTERNAL_H */
