/*
 * pocket_fully_connected.c - reference int8 fully connected layer. Contract: pocket_runtime.h.
 */
#include "pocket_internal.h"
#include "pocket_requant.h"
#include "pocket_runtime.h"

pocket_status pocket_fully_connected_s8_check(const pocket_fully_connected_params *params,
                                              const int32_t *bias)
{
    int32_t out_feature;
    if (params == 0 || params->output_multiplier == 0 || params->output_shift == 0) {
        return POCKET_ERR_NULL_POINTER;
    }
    if (params->batches < 1 || params->input_features < 1 || params->output_features < 1 ||
        !pocket_product_fits(params->batches, params->input_features, 1, 1) ||
        !pocket_product_fits(params->batches, params->output_features, 1, 1) ||
        !pocket_product_fits(params->output_features, params->input_features, 1, 1)) {
        return POCKET_ERR_BAD_SHAPE;
    }
    if (!pocket_is_int8(params->input_zero_point) || !pocket_is_int8(params->output_zero_point) ||
        !pocket_valid_act_range(params->act_min, params->act_max)) {
        return POCKET_ERR_BAD_QUANT;
    }
    for (out_feature = 0; out_feature < params->output_features; ++out_feature) {
        if (!pocket_valid_multiplier(params->output_multiplier[out_feature],
                                     params->output_shift[out_feature])) {
            return POCKET_ERR_BAD_QUANT;
        }
    }
    for (out_feature = 0; out_feature < params->output_features; ++out_feature) {
        const int32_t feature_bias = bias != 0 ? bias[out_feature] : 0;
        if (!pocket_acc_fits(params->input_features, params->input_zero_point, feature_bias)) {
            return POCKET_ERR_ACC_RANGE;
        }
    }
    return POCKET_OK;
}

int32_t pocket_fully_connected_s8_scratch_bytes(const pocket_fully_connected_params *params)
{
    (void)params;
    return 0;
}

pocket_status pocket_fully_connected_s8(const pocket_fully_connected_params *params,
                                        const int8_t *input, const int8_t *weights,
                                        const int32_t *bias, int8_t *output, void *scratch)
{
    int32_t batch, out_feature, in_feature;
    pocket_status status;
    (void)scratch;

    if (input == 0 || weights == 0 || output == 0) return POCKET_ERR_NULL_POINTER;
    status = pocket_fully_connected_s8_check(params, bias);
    if (status != POCKET_OK) return status;

    for (batch = 0; batch < params->batches; ++batch) {
        const int8_t *input_row = input + batch * params->input_features;
        int8_t *output_row = output + batch * params->output_features;
        for (out_feature = 0; out_feature < params->output_features; ++out_feature) {
            const int8_t *weight_row = weights + out_feature * params->input_features;
            int32_t acc = bias != 0 ? bias[out_feature] : 0;
            for (in_feature = 0; in_feature < params->input_features; ++in_feature) {
                const int32_t centered =
                    (int32_t)input_row[in_feature] - params->input_zero_point;
                acc += centered * (int32_t)weight_row[in_feature];
            }
            output_row[out_feature] = pocket_requantize_s8(
                acc, params->output_multiplier[out_feature], params->output_shift[out_feature],
                params->output_zero_point, params->act_min, params->act_max);
        }
    }
    return POCKET_OK;
}
