/*
 * pocket_add.c - reference element-wise add of two int8 tensors with their own scales and zero
 * points. Contract: pocket_runtime.h.
 */
#include "pocket_internal.h"
#include "pocket_requant.h"
#include "pocket_runtime.h"

pocket_status pocket_add_check(const pocket_add_params *params)
{
    if (params == 0) return POCKET_ERR_NULL_POINTER;
    if (params->element_count < 1) return POCKET_ERR_BAD_SHAPE;
    if (!pocket_is_int8(params->input1_zero_point) || !pocket_is_int8(params->input2_zero_point) ||
        !pocket_is_int8(params->output_zero_point) ||
        !pocket_valid_multiplier(params->input1_multiplier, params->shift) ||
        !pocket_valid_multiplier(params->input2_multiplier, params->shift) ||
        !pocket_valid_act_range(params->act_min, params->act_max)) {
        return POCKET_ERR_BAD_QUANT;
    }
    return POCKET_OK;
}

pocket_status pocket_add_s8(const pocket_add_params *params, const int8_t *input1,
                            const int8_t *input2, int8_t *output)
{
    int32_t element;
    pocket_status status;
    if (input1 == 0 || input2 == 0 || output == 0) return POCKET_ERR_NULL_POINTER;
    status = pocket_add_check(params);
    if (status != POCKET_OK) return status;

    for (element = 0; element < params->element_count; ++element) {
        /* |centered| <= 255 and multipliers < 2^31: each product < 2^39, the sum < 2^40. */
        const int64_t centered1 = (int64_t)input1[element] - params->input1_zero_point;
        const int64_t centered2 = (int64_t)input2[element] - params->input2_zero_point;
        const int64_t sum =
            centered1 * params->input1_multiplier + centered2 * params->input2_multiplier;
        const int64_t value = pocket_round_shift_s64(sum, 31 + params->shift) +
                              params->output_zero_point;
        output[element] = (int8_t)pocket_clamp_s64(value, params->act_min, params->act_max);
    }
    return POCKET_OK;
}
