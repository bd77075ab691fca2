/*
 * pocket_pool.c - reference int8 max, average and global average pooling.
 * Contract: pocket_runtime.h. Input and output share scale and zero point.
 */
#include "pocket_internal.h"
#include "pocket_requant.h"
#include "pocket_runtime.h"

static pocket_status check_pool(const pocket_pool_params *params, int32_t *output_height,
                                int32_t *output_width)
{
    if (params == 0) return POCKET_ERR_NULL_POINTER;
    if (params->batches < 1 || params->input_height < 1 || params->input_width < 1 ||
        params->channels < 1 || params->filter_height < 1 || params->filter_width < 1 ||
        params->stride_height < 1 || params->stride_width < 1) {
        return POCKET_ERR_BAD_SHAPE;
    }
    /* A pad at least as large as the filter would allow a window made only of padding. */
    if (params->pad_top < 0 || params->pad_bottom < 0 || params->pad_left < 0 ||
        params->pad_right < 0 || params->pad_top >= params->filter_height ||
        params->pad_bottom >= params->filter_height || params->pad_left >= params->filter_width ||
        params->pad_right >= params->filter_width) {
        return POCKET_ERR_BAD_SHAPE;
    }
    if ((int64_t)params->filter_height * params->filter_width > POCKET_POOL_MAX_COUNT) {
        return POCKET_ERR_BAD_SHAPE;
    }
    *output_height = pocket_window_extent(params->input_height, params->pad_top,
                                          params->pad_bottom, params->filter_height,
                                          params->stride_height);
    *output_width = pocket_window_extent(params->input_width, params->pad_left, params->pad_right,
                                         params->filter_width, params->stride_width);
    if (*output_height < 1 || *output_width < 1 ||
        !pocket_product_fits(params->batches, params->input_height, params->input_width,
                             params->channels) ||
        !pocket_product_fits(params->batches, *output_height, *output_width, params->channels)) {
        return POCKET_ERR_BAD_SHAPE;
    }
    if (!pocket_valid_act_range(params->act_min, params->act_max)) return POCKET_ERR_BAD_QUANT;
    return POCKET_OK;
}

pocket_status pocket_pool_check(const pocket_pool_params *params)
{
    int32_t output_height = 0;
    int32_t output_width = 0;
    return check_pool(params, &output_height, &output_width);
}

pocket_status pocket_pool_output_shape(const pocket_pool_params *params, int32_t *output_height,
                                       int32_t *output_width)
{
    int32_t height = 0;
    int32_t width = 0;
    pocket_status status;
    if (output_height == 0 || output_width == 0) return POCKET_ERR_NULL_POINTER;
    status = check_pool(params, &height, &width);
    if (status != POCKET_OK) return status;
    *output_height = height;
    *output_width = width;
    return POCKET_OK;
}

/* One loop nest for both poolings; `average` selects the reduction. */
static pocket_status pool_s8(const pocket_pool_params *params, const int8_t *input,
                             int8_t *output, int average)
{
    int32_t output_height = 0;
    int32_t output_width = 0;
    int32_t batch, out_y, out_x, channel, in_y, in_x;
    pocket_status status;

    if (input == 0 || output == 0) return POCKET_ERR_NULL_POINTER;
    status = pocket_pool_output_shape(params, &output_height, &output_width);
    if (status != POCKET_OK) return status;

    for (batch = 0; batch < params->batches; ++batch) {
        for (out_y = 0; out_y < output_height; ++out_y) {
            /* The window clipped to the input: padding never contributes. */
            const int32_t in_y_origin = out_y * params->stride_height - params->pad_top;
            const int32_t in_y_begin = in_y_origin > 0 ? in_y_origin : 0;
            const int32_t in_y_end = in_y_origin + params->filter_height < params->input_height
                                         ? in_y_origin + params->filter_height
                                         : params->input_height;
            for (out_x = 0; out_x < output_width; ++out_x) {
                const int32_t in_x_origin = out_x * params->stride_width - params->pad_left;
                const int32_t in_x_begin = in_x_origin > 0 ? in_x_origin : 0;
                const int32_t in_x_end = in_x_origin + params->filter_width < params->input_width
                                             ? in_x_origin + params->filter_width
                                             : params->input_width;
                const int32_t count = (in_y_end - in_y_begin) * (in_x_end - in_x_begin);
                int8_t *output_pixel =
                    output +
                    ((batch * output_height + out_y) * output_width + out_x) * params->channels;
                for (channel = 0; channel < params->channels; ++channel) {
                    int32_t reduced = average ? 0 : INT8_MIN;
                    for (in_y = in_y_begin; in_y < in_y_end; ++in_y) {
                        for (in_x = in_x_begin; in_x < in_x_end; ++in_x) {
                            const int32_t value =
                                input[((batch * params->input_height + in_y) *
                                           params->input_width + in_x) * params->channels +
                                      channel];
                            if (average) {
                                reduced += value;
                            } else if (value > reduced) {
                                reduced = value;
                            }
                        }
                    }
                    if (average) reduced = pocket_round_div_s32(reduced, count);
                    output_pixel[channel] =
                        (int8_t)pocket_clamp_s64(reduced, params->act_min, params->act_max);
                }
            }
        }
    }
    return POCKET_OK;
}

pocket_status pocket_maxpool_s8(const pocket_pool_params *params, const int8_t *input,
                                int8_t *output)
{
    return pool_s8(params, input, output, 0);
}

pocket_status pocket_avgpool_s8(const pocket_pool_params *params, const int8_t *input,
                                int8_t *output)
{
    return pool_s8(params, input, output, 1);
}

pocket_status pocket_global_avgpool_check(const pocket_global_pool_params *params)
{
    if (params == 0) return POCKET_ERR_NULL_POINTER;
    if (params->batches < 1 || params->height < 1 || params->width < 1 || params->channels < 1 ||
        (int64_t)params->height * params->width > POCKET_POOL_MAX_COUNT ||
        !pocket_product_fits(params->batches, params->height, params->width, params->channels)) {
        return POCKET_ERR_BAD_SHAPE;
    }
    if (!pocket_valid_act_range(params->act_min, params->act_max)) return POCKET_ERR_BAD_QUANT;
    return POCKET_OK;
}

pocket_status pocket_global_avgpool_s8(const pocket_global_pool_params *params,
                                       const int8_t *input, int8_t *output)
{
    int32_t batch, channel, pixel, pixels;
    pocket_status status;
    if (input == 0 || output == 0) return POCKET_ERR_NULL_POINTER;
    status = pocket_global_avgpool_check(params);
    if (status != POCKET_OK) return status;

    pixels = params->height * params->width;
    for (batch = 0; batch < params->batches; ++batch) {
        const int8_t *input_image = input + batch * pixels * params->channels;
        for (channel = 0; channel < params->channels; ++channel) {
            int32_t sum = 0;
            for (pixel = 0; pixel < pixels; ++pixel) {
                sum += input_image[pixel * params->channels + channel];
            }
            output[batch * params->channels + channel] = (int8_t)pocket_clamp_s64(
                pocket_round_div_s32(sum, pixels), params->act_min, params->act_max);
        }
    }
    return POCKET_OK;
}
