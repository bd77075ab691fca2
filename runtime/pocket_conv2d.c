/*
 * pocket_conv2d.c - reference int8 convolution (grouped/depthwise) with fused clamp and pool.
 * Contract: pocket_runtime.h. One plain loop nest; the pooled output position drives it, and each
 * conv output inside its pooling window is computed by conv_output_at().
 */
#include "pocket_internal.h"
#include "pocket_requant.h"
#include "pocket_runtime.h"

/* Conv output extent before pooling; 0 when the shape is invalid. */
static void conv_extent(const pocket_conv2d_params *params, int32_t *conv_height,
                        int32_t *conv_width)
{
    *conv_height = pocket_window_extent(params->input_height, params->pad_top, params->pad_bottom,
                                        params->filter_height, params->stride_height);
    *conv_width = pocket_window_extent(params->input_width, params->pad_left, params->pad_right,
                                       params->filter_width, params->stride_width);
}

static pocket_status check_shape(const pocket_conv2d_params *params, int32_t *output_height,
                                 int32_t *output_width)
{
    int32_t conv_height = 0;
    int32_t conv_width = 0;
    const pocket_fused_pool *pool = &params->pool;
    if (params->batches < 1 || params->input_height < 1 || params->input_width < 1 ||
        params->input_channels < 1 || params->output_channels < 1 || params->filter_height < 1 ||
        params->filter_width < 1 || params->stride_height < 1 || params->stride_width < 1 ||
        params->pad_top < 0 || params->pad_left < 0 || params->pad_bottom < 0 ||
        params->pad_right < 0 || params->groups < 1) {
        return POCKET_ERR_BAD_SHAPE;
    }
    if (params->input_channels % params->groups != 0 ||
        params->output_channels % params->groups != 0) {
        return POCKET_ERR_BAD_SHAPE;
    }
    conv_extent(params, &conv_height, &conv_width);
    if (conv_height < 1 || conv_width < 1) return POCKET_ERR_BAD_SHAPE;
    switch (pool->kind) {
    case POCKET_POOL_NONE:
        *output_height = conv_height;
        *output_width = conv_width;
        break;
    case POCKET_POOL_MAX:
    case POCKET_POOL_AVG:
        if (pool->filter_height < 1 || pool->filter_width < 1 || pool->stride_height < 1 ||
            pool->stride_width < 1 || pool->filter_height > conv_height ||
            pool->filter_width > conv_width ||
            (int64_t)pool->filter_height * pool->filter_width > POCKET_POOL_MAX_COUNT) {
            return POCKET_ERR_BAD_SHAPE;
        }
        *output_height = (conv_height - pool->filter_height) / pool->stride_height + 1;
        *output_width = (conv_width - pool->filter_width) / pool->stride_width + 1;
        break;
    default:
        return POCKET_ERR_BAD_SHAPE;
    }
    /* Every index used by the kernel stays below INT32_MAX. */
    if (!pocket_product_fits(params->batches, params->input_height, params->input_width,
                             params->input_channels) ||
        !pocket_product_fits(params->output_channels, params->filter_height, params->filter_width,
                             params->input_channels / params->groups) ||
        !pocket_product_fits(params->batches, conv_height, conv_width, params->output_channels)) {
        return POCKET_ERR_BAD_SHAPE;
    }
    return POCKET_OK;
}

pocket_status pocket_conv2d_output_shape(const pocket_conv2d_params *params,
                                         int32_t *output_height, int32_t *output_width)
{
    int32_t height = 0;
    int32_t width = 0;
    pocket_status status;
    if (params == 0 || output_height == 0 || output_width == 0) return POCKET_ERR_NULL_POINTER;
    status = check_shape(params, &height, &width);
    if (status != POCKET_OK) return status;
    *output_height = height;
    *output_width = width;
    return POCKET_OK;
}

pocket_status pocket_conv2d_s8_check(const pocket_conv2d_params *params, const int32_t *bias)
{
    int32_t height = 0;
    int32_t width = 0;
    int64_t terms;
    int32_t out_channel;
    pocket_status status;
    if (params == 0 || params->output_multiplier == 0 || params->output_shift == 0) {
        return POCKET_ERR_NULL_POINTER;
    }
    status = check_shape(params, &height, &width);
    if (status != POCKET_OK) return status;
    if (!pocket_is_int8(params->input_zero_point) || !pocket_is_int8(params->output_zero_point) ||
        !pocket_valid_act_range(params->act_min, params->act_max)) {
        return POCKET_ERR_BAD_QUANT;
    }
    for (out_channel = 0; out_channel < params->output_channels; ++out_channel) {
        if (!pocket_valid_multiplier(params->output_multiplier[out_channel],
                                     params->output_shift[out_channel])) {
            return POCKET_ERR_BAD_QUANT;
        }
    }
    terms = (int64_t)params->filter_height * params->filter_width *
            (params->input_channels / params->groups);
    for (out_channel = 0; out_channel < params->output_channels; ++out_channel) {
        const int32_t channel_bias = bias != 0 ? bias[out_channel] : 0;
        if (!pocket_acc_fits(terms, params->input_zero_point, channel_bias)) {
            return POCKET_ERR_ACC_RANGE;
        }
    }
    return POCKET_OK;
}

int32_t pocket_conv2d_s8_scratch_bytes(const pocket_conv2d_params *params)
{
    (void)params;
    return 0;
}

/* The requantized, clamped conv output at (batch, conv_y, conv_x, out_channel). */
static int32_t conv_output_at(const pocket_conv2d_params *params, const int8_t *input,
                              const int8_t *filter, const int32_t *bias, int32_t batch,
                              int32_t conv_y, int32_t conv_x, int32_t out_channel)
{
    const int32_t input_height = params->input_height;
    const int32_t input_width = params->input_width;
    const int32_t input_channels = params->input_channels;
    const int32_t group_channels = input_channels / params->groups;
    const int32_t out_channels_per_group = params->output_channels / params->groups;
    const int32_t group_base = (out_channel / out_channels_per_group) * group_channels;
    const int32_t in_y_origin = conv_y * params->stride_height - params->pad_top;
    const int32_t in_x_origin = conv_x * params->stride_width - params->pad_left;
    int32_t acc = bias != 0 ? bias[out_channel] : 0;
    int32_t filter_y, filter_x, group_channel;

    for (filter_y = 0; filter_y < params->filter_height; ++filter_y) {
        const int32_t in_y = in_y_origin + filter_y;
        if (in_y < 0 || in_y >= input_height) continue; /* padding: x - zp = 0 */
        for (filter_x = 0; filter_x < params->filter_width; ++filter_x) {
            const int32_t in_x = in_x_origin + filter_x;
            const int8_t *input_pixel;
            const int8_t *filter_pixel;
            if (in_x < 0 || in_x >= input_width) continue;
            input_pixel =
                input + ((batch * input_height + in_y) * input_width + in_x) * input_channels +
                group_base;
            filter_pixel = filter + ((out_channel * params->filter_height + filter_y) *
                                         params->filter_width + filter_x) * group_channels;
            for (group_channel = 0; group_channel < group_channels; ++group_channel) {
                const int32_t centered =
                    (int32_t)input_pixel[group_channel] - params->input_zero_point;
                acc += centered * (int32_t)filter_pixel[group_channel];
            }
        }
    }
    return pocket_requantize_s8(acc, params->output_multiplier[out_channel],
                                params->output_shift[out_channel], params->output_zero_point,
                                params->act_min, params->act_max);
}

pocket_status pocket_conv2d_s8(const pocket_conv2d_params *params, const int8_t *input,
                               const int8_t *filter, const int32_t *bias, int8_t *output,
                               void *scratch)
{
    int32_t output_height = 0;
    int32_t output_width = 0;
    int32_t pool_height = 1, pool_width = 1, pool_stride_height = 1, pool_stride_width = 1;
    int32_t batch, out_y, out_x, out_channel, pool_y, pool_x;
    const int is_avg = params != 0 && params->pool.kind == POCKET_POOL_AVG;
    pocket_status status;
    (void)scratch;

    if (input == 0 || filter == 0 || output == 0) return POCKET_ERR_NULL_POINTER;
    status = pocket_conv2d_s8_check(params, bias);
    if (status != POCKET_OK) return status;
    status = pocket_conv2d_output_shape(params, &output_height, &output_width);
    if (status != POCKET_OK) return status;
    if (params->pool.kind != POCKET_POOL_NONE) {
        /* No pooling is a 1x1 max pool with stride 1. */
        pool_height = params->pool.filter_height;
        pool_width = params->pool.filter_width;
        pool_stride_height = params->pool.stride_height;
        pool_stride_width = params->pool.stride_width;
    }

    for (batch = 0; batch < params->batches; ++batch) {
        for (out_y = 0; out_y < output_height; ++out_y) {
            for (out_x = 0; out_x < output_width; ++out_x) {
                int8_t *output_pixel =
                    output + ((batch * output_height + out_y) * output_width + out_x) *
                                 params->output_channels;
                for (out_channel = 0; out_channel < params->output_channels; ++out_channel) {
                    int32_t pooled = is_avg ? 0 : INT8_MIN;
                    for (pool_y = 0; pool_y < pool_height; ++pool_y) {
                        const int32_t conv_y = out_y * pool_stride_height + pool_y;
                        for (pool_x = 0; pool_x < pool_width; ++pool_x) {
                            const int32_t conv_x = out_x * pool_stride_width + pool_x;
                            const int32_t value = conv_output_at(params, input, filter, bias,
                                                                 batch, conv_y, conv_x,
                                                                 out_channel);
                            if (is_avg) {
                                pooled += value;
                            } else if (value > pooled) {
                                pooled = value;
                            }
                        }
                    }
                    if (is_avg) pooled = pocket_round_div_s32(pooled, pool_height * pool_width);
                    output_pixel[out_channel] = (int8_t)pooled;
                }
            }
        }
    }
    return POCKET_OK;
}
