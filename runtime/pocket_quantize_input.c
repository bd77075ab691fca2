/*
 * pocket_quantize_input.c - uint8 pixels (HWC interleaved or CHW planar) to int8 NHWC with the
 * model's normalisation folded into a per-channel multiplier, shift and offset.
 * Contract: pocket_runtime.h.
 */
#include "pocket_internal.h"
#include "pocket_requant.h"
#include "pocket_runtime.h"

#define POCKET_INPUT_OFFSET_LIMIT ((int64_t)1 << 61)

pocket_status pocket_quantize_input_check(const pocket_quantize_input_params *params)
{
    int32_t channel;
    if (params == 0 || params->multiplier == 0 || params->shift == 0 || params->offset == 0) {
        return POCKET_ERR_NULL_POINTER;
    }
    if (params->batches < 1 || params->height < 1 || params->width < 1 || params->channels < 1 ||
        !pocket_product_fits(params->batches, params->height, params->width, params->channels)) {
        return POCKET_ERR_BAD_SHAPE;
    }
    switch (params->layout) {
    case POCKET_PIXELS_HWC:
    case POCKET_PIXELS_CHW:
        break;
    default:
        return POCKET_ERR_BAD_SHAPE;
    }
    if (!pocket_is_int8(params->output_zero_point)) return POCKET_ERR_BAD_QUANT;
    for (channel = 0; channel < params->channels; ++channel) {
        /* |pixel * multiplier| < 2^39, so |pixel * multiplier + offset| < 2^62. */
        if (!pocket_valid_multiplier(params->multiplier[channel], params->shift[channel]) ||
            params->offset[channel] > POCKET_INPUT_OFFSET_LIMIT ||
            params->offset[channel] < -POCKET_INPUT_OFFSET_LIMIT) {
            return POCKET_ERR_BAD_QUANT;
        }
    }
    return POCKET_OK;
}

pocket_status pocket_quantize_input_u8(const pocket_quantize_input_params *params,
                                       const uint8_t *pixels, int8_t *output)
{
    int32_t batch, y, x, channel;
    int32_t channel_stride, y_stride, x_stride, image_size;
    pocket_status status;
    if (pixels == 0 || output == 0) return POCKET_ERR_NULL_POINTER;
    status = pocket_quantize_input_check(params);
    if (status != POCKET_OK) return status;

    /* The layout only changes where a pixel is read from; the output is NHWC either way. */
    image_size = params->height * params->width * params->channels;
    if (params->layout == POCKET_PIXELS_HWC) {
        channel_stride = 1;
        x_stride = params->channels;
        y_stride = params->width * params->channels;
    } else {
        channel_stride = params->height * params->width;
        x_stride = 1;
        y_stride = params->width;
    }

    for (batch = 0; batch < params->batches; ++batch) {
        const uint8_t *image = pixels + batch * image_size;
        int8_t *output_pixel = output + batch * image_size;
        for (y = 0; y < params->height; ++y) {
            for (x = 0; x < params->width; ++x) {
                for (channel = 0; channel < params->channels; ++channel) {
                    const int64_t pixel =
                        image[y * y_stride + x * x_stride + channel * channel_stride];
                    const int64_t scaled =
                        pixel * params->multiplier[channel] + params->offset[channel];
                    const int64_t value = pocket_round_shift_s64(scaled, 31 + params->shift[channel]) +
                                          params->output_zero_point;
                    output_pixel[channel] = (int8_t)pocket_clamp_s64(value, INT8_MIN, INT8_MAX);
                }
                output_pixel += params->channels;
            }
        }
    }
    return POCKET_OK;
}
