/*
 * pocket_clamp.c - reference element-wise int8 clamp (a standalone ReLU, ReLU6 or Clip).
 * Contract: pocket_runtime.h.
 */
#include "pocket_internal.h"
#include "pocket_requant.h"
#include "pocket_runtime.h"

pocket_status pocket_clamp_check(const pocket_clamp_params *params)
{
    if (params == 0) return POCKET_ERR_NULL_POINTER;
    if (params->element_count < 1) return POCKET_ERR_BAD_SHAPE;
    if (!pocket_valid_act_range(params->act_min, params->act_max)) return POCKET_ERR_BAD_QUANT;
    return POCKET_OK;
}

pocket_status pocket_clamp_s8(const pocket_clamp_params *params, const int8_t *input,
                              int8_t *output)
{
    int32_t element;
    pocket_status status;
    if (input == 0 || output == 0) return POCKET_ERR_NULL_POINTER;
    status = pocket_clamp_check(params);
    if (status != POCKET_OK) return status;

    for (element = 0; element < params->element_count; ++element) {
        /* Element i is read before it is written: in place is fine. */
        output[element] = (int8_t)pocket_clamp_s64(input[element], params->act_min, params->act_max);
    }
    return POCKET_OK;
}
