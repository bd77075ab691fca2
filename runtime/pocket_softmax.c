/*
 * pocket_softmax.c - reference int8 softmax with an exp table. Contract: pocket_runtime.h.
 * Output scale 1/256, zero point -128 (POCKET_SOFTMAX_OUTPUT_ZERO_POINT).
 */
#include "pocket_internal.h"
#include "pocket_requant.h"
#include "pocket_runtime.h"

pocket_status pocket_softmax_check(const pocket_softmax_params *params)
{
    if (params == 0 || params->exp_table == 0) return POCKET_ERR_NULL_POINTER;
    if (params->rows < 1 || params->depth < 1 || params->depth > POCKET_SOFTMAX_MAX_DEPTH ||
        !pocket_product_fits(params->rows, params->depth, 1, 1)) {
        return POCKET_ERR_BAD_SHAPE;
    }
    /* The row maximum contributes exp_table[0]: it must be positive for a non-zero sum. */
    if (params->exp_table[0] == 0) return POCKET_ERR_BAD_QUANT;
    return POCKET_OK;
}

pocket_status pocket_softmax_s8(const pocket_softmax_params *params, const int8_t *input,
                                int8_t *output)
{
    int32_t row, index;
    pocket_status status;
    if (input == 0 || output == 0) return POCKET_ERR_NULL_POINTER;
    status = pocket_softmax_check(params);
    if (status != POCKET_OK) return status;

    for (row = 0; row < params->rows; ++row) {
        const int8_t *input_row = input + row * params->depth;
        int8_t *output_row = output + row * params->depth;
        int32_t row_max = INT8_MIN;
        int32_t sum = 0; /* <= 32768 * 65535 < 2^31 */
        for (index = 0; index < params->depth; ++index) {
            if (input_row[index] > row_max) row_max = input_row[index];
        }
        for (index = 0; index < params->depth; ++index) {
            sum += params->exp_table[row_max - input_row[index]];
        }
        for (index = 0; index < params->depth; ++index) {
            /* 256 * 65535 < 2^24: exact in int32. */
            const int32_t numerator = 256 * (int32_t)params->exp_table[row_max - input_row[index]];
            const int32_t value =
                pocket_round_div_s32(numerator, sum) + POCKET_SOFTMAX_OUTPUT_ZERO_POINT;
            output_row[index] = (int8_t)pocket_clamp_s64(value, INT8_MIN, INT8_MAX);
        }
    }
    return POCKET_OK;
}
