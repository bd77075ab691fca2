/*
 * pocket_runtime.h - the C99 integer kernels of Pocket AI Lab.
 *
 * These reference kernels are the specification of the integer model: the host engine links
 * them, the generated model.c ships them, and faster host variants must match them byte for byte.
 *
 * Contract shared by every kernel
 *   - Integer only: no float, no allocation, no I/O. Types: int8_t, int32_t, int64_t (uint8_t
 *     for camera pixels, uint16_t for the softmax table). Plain char is never used.
 *   - Layouts: activations NHWC, weights OHWI (O = output channel, I = input channels of the
 *     group). An ONNX NCHW/OIHW model is converted once at import.
 *   - Quantization: real = scale * (q - zero_point). Activations are int8 asymmetric per
 *     tensor (zero point in [-128, 127]); weights are int8 symmetric (zero point 0, values in
 *     [-127, 127]), per output channel; bias is int32 at scale s_in * s_w[c].
 *   - Requantization and every other rescale use the single rounding rule of pocket_requant.h:
 *     M = multiplier * 2^-(31 + shift), shift is a RIGHT shift, result rounded to nearest with
 *     ties away from zero, computed exactly.
 *   - Chained layers: s_in of layer i is s_out of layer i-1, so the requantization of layer i,
 *     O_q = (s_w * s_in / s_out) * sum(W_q * (I_q - zp_in)) + zp_out, only needs those scales.
 *   - Fused clamp: act_min/act_max (int8 values, act_min <= act_max) express ReLU
 *     (act_min = zp_out), ReLU6 (act_max = zp_out + round(6 / s_out), clamped) or none
 *     (-128, 127). pocket::qmath::activation_range() computes them.
 *   - Every kernel validates its parameters on entry (cost O(channels)) and returns a
 *     pocket_status; on an error nothing is written. The matching *_check function runs the
 *     same validation without data, for a plan/prepare step. Output buffers must not overlap
 *     inputs (pocket_add_s8 excepted, see there). Bias pointers may be NULL (zero bias).
 *   - Accumulators are int32. A kernel refuses (POCKET_ERR_ACC_RANGE) shapes for which the
 *     worst case |bias| + K * max|x - zp_in| * 128 could exceed INT32_MAX (K = filter_height *
 *     filter_width * input channels per group), so no signed overflow can happen. For int8 data
 *     with zero bias that allows K up to 65793 at the worst zero point.
 */
#ifndef POCKET_RUNTIME_H
#define POCKET_RUNTIME_H

#include <stdint.h>

#include "pocket_requant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/* Status                                                                                     */
/* ----------------------------------------------------------------------------------------- */

typedef enum pocket_status {
    POCKET_OK = 0,
    POCKET_ERR_NULL_POINTER = 1, /* a required pointer (params, data, multipliers) is NULL */
    POCKET_ERR_BAD_SHAPE = 2,    /* a dimension is out of range or dimensions disagree */
    POCKET_ERR_BAD_QUANT = 3,    /* zero point, multiplier, shift or clamp range out of range */
    POCKET_ERR_ACC_RANGE = 4     /* the int32 accumulator could overflow for this shape/bias */
} pocket_status;

/* ----------------------------------------------------------------------------------------- */
/* conv2d (incl. grouped and depthwise), with fused clamp and fused pooling                  */
/* ----------------------------------------------------------------------------------------- */

typedef enum pocket_pool_kind {
    POCKET_POOL_NONE = 0,
    POCKET_POOL_MAX = 1,
    POCKET_POOL_AVG = 2
} pocket_pool_kind;

/*
 * A pooling fused after a convolution. It runs on the requantized, clamped int8 conv outputs
 * (requantization is monotonic, so max-pool after requantization equals requantization after
 * max-pool). The pooling window is "valid": no padding, floor division for the output size:
 *   pooled_height = (conv_height - filter_height) / stride_height + 1   (likewise for width)
 * MAX: the largest int8 value of the window.
 * AVG: round(sum / (filter_height * filter_width)) of the int8 values of the window, ties away
 *   from zero (pocket_round_div_s32). The zero point cancels: the mean of (q - zp) plus zp is
 *   the mean of q. The result stays within [act_min, act_max]; no further clamp is needed.
 * NONE: the fields other than kind are ignored.
 */
typedef struct pocket_fused_pool {
    pocket_pool_kind kind;
    int32_t filter_height, filter_width;
    int32_t stride_height, stride_width;
} pocket_fused_pool;

/*
 * Input   [batches][input_height][input_width][input_channels]                 NHWC int8
 * Filter  [output_channels][filter_height][filter_width][input_channels/groups] OHWI int8
 * Bias    [output_channels] int32 (or NULL)
 * Output  [batches][output_height][output_width][output_channels]              NHWC int8
 *
 * conv_height = (input_height + pad_top + pad_bottom - filter_height) / stride_height + 1,
 * likewise conv_width; dilation is 1. Padded input positions hold the real value 0, i.e. the
 * quantized value input_zero_point. Without pooling output = conv size, else the pooled size
 * (pocket_conv2d_output_shape gives both).
 *
 * Groups: input and output channels are split into `groups` equal consecutive blocks; output
 * channel o reads the input channels of block o / (output_channels / groups). Depthwise is
 * groups == input_channels, output_channels = multiplier * input_channels, so output channel
 * o = in_channel * multiplier + k reads input channel in_channel.
 *
 * For output channel o:
 *   acc = bias[o] + sum over filter_y, filter_x, group channel i of
 *         (input[..][in_y][in_x][group_base + i] - input_zero_point) * filter[o][filter_y][filter_x][i]
 *   out = clamp(round(acc * output_multiplier[o] / 2^(31 + output_shift[o])) + output_zero_point,
 *               act_min, act_max)
 * Per-tensor quantization is the special case of equal entries.
 */
typedef struct pocket_conv2d_params {
    int32_t batches;
    int32_t input_height, input_width, input_channels;
    int32_t output_channels;
    int32_t filter_height, filter_width;
    int32_t stride_height, stride_width;
    int32_t pad_top, pad_left, pad_bottom, pad_right;
    int32_t groups;
    int32_t input_zero_point;            /* [-128, 127] */
    int32_t output_zero_point;           /* [-128, 127] */
    const int32_t *output_multiplier;    /* [output_channels], each in [0, 2^31) */
    const int32_t *output_shift;         /* [output_channels], each in [-31, 31] */
    int32_t act_min, act_max;            /* -128 <= act_min <= act_max <= 127 */
    pocket_fused_pool pool;
} pocket_conv2d_params;

/* Validates params (bias may be NULL; it enters the accumulator range check). */
pocket_status pocket_conv2d_s8_check(const pocket_conv2d_params *params, const int32_t *bias);
/* Output height/width after the optional fused pool; validates the shape part of params. */
pocket_status pocket_conv2d_output_shape(const pocket_conv2d_params *params,
                                         int32_t *output_height, int32_t *output_width);
/* Scratch the kernel needs, in bytes. The reference kernel needs none (0); optimized variants
 * with the same signature may need some. */
int32_t pocket_conv2d_s8_scratch_bytes(const pocket_conv2d_params *params);
pocket_status pocket_conv2d_s8(const pocket_conv2d_params *params, const int8_t *input,
                               const int8_t *filter, const int32_t *bias, int8_t *output,
                               void *scratch);

/* ----------------------------------------------------------------------------------------- */
/* fully connected                                                                            */
/* ----------------------------------------------------------------------------------------- */

/*
 * Input [batches][input_features], weights [output_features][input_features] (OI, symmetric
 * int8), bias [output_features] (or NULL), output [batches][output_features].
 *   out[b][o] = clamp(round((bias[o] + sum_i (input[b][i] - input_zero_point) * weights[o][i])
 *                           * output_multiplier[o] / 2^(31 + output_shift[o])) + output_zero_point,
 *                     act_min, act_max)
 * Flattening an NHWC tensor gives features in (y, x, channel) order; the importer permutes the
 * weights of an NCHW-flattened model accordingly.
 */
typedef struct pocket_fully_connected_params {
    int32_t batches;
    int32_t input_features;
    int32_t output_features;
    int32_t input_zero_point;            /* [-128, 127] */
    int32_t output_zero_point;           /* [-128, 127] */
    const int32_t *output_multiplier;    /* [output_features] */
    const int32_t *output_shift;         /* [output_features] */
    int32_t act_min, act_max;
} pocket_fully_connected_params;

pocket_status pocket_fully_connected_s8_check(const pocket_fully_connected_params *params,
                                              const int32_t *bias);
int32_t pocket_fully_connected_s8_scratch_bytes(const pocket_fully_connected_params *params);
pocket_status pocket_fully_connected_s8(const pocket_fully_connected_params *params,
                                        const int8_t *input, const int8_t *weights,
                                        const int32_t *bias, int8_t *output, void *scratch);

/* ----------------------------------------------------------------------------------------- */
/* max / average pooling (input and output share scale and zero point)                       */
/* ----------------------------------------------------------------------------------------- */

/*
 * Input [batches][input_height][input_width][channels], output
 * [batches][output_height][output_width][channels] with
 *   output_height = (input_height + pad_top + pad_bottom - filter_height) / stride_height + 1.
 * Padding is never part of a window: each pad must be smaller than the filter extent on its
 * axis, so every window holds at least one input element.
 * Max: the largest input value of the window, clamped to [act_min, act_max].
 * Avg: round(sum / count), count = number of input elements in the window (padding excluded,
 *   as ONNX count_include_pad = 0 and TFLite), ties away from zero, clamped.
 */
typedef struct pocket_pool_params {
    int32_t batches;
    int32_t input_height, input_width, channels;
    int32_t filter_height, filter_width;
    int32_t stride_height, stride_width;
    int32_t pad_top, pad_left, pad_bottom, pad_right;
    int32_t act_min, act_max;
} pocket_pool_params;

pocket_status pocket_pool_check(const pocket_pool_params *params);
pocket_status pocket_pool_output_shape(const pocket_pool_params *params, int32_t *output_height,
                                       int32_t *output_width);
pocket_status pocket_maxpool_s8(const pocket_pool_params *params, const int8_t *input,
                                int8_t *output);
pocket_status pocket_avgpool_s8(const pocket_pool_params *params, const int8_t *input,
                                int8_t *output);

/*
 * Global average pooling: [batches][height][width][channels] -> [batches][channels],
 * out = clamp(round(sum over height*width / (height*width)), act_min, act_max), ties away from
 * zero. Identical to pocket_avgpool_s8 with a full-size window and no padding.
 */
typedef struct pocket_global_pool_params {
    int32_t batches;
    int32_t height, width, channels;
    int32_t act_min, act_max;
} pocket_global_pool_params;

pocket_status pocket_global_avgpool_check(const pocket_global_pool_params *params);
pocket_status pocket_global_avgpool_s8(const pocket_global_pool_params *params,
                                       const int8_t *input, int8_t *output);

/* ----------------------------------------------------------------------------------------- */
/* add of two int8 tensors with their own scales and zero points                             */
/* ----------------------------------------------------------------------------------------- */

/*
 * out = clamp(output_zero_point + round(((in1 - zp1) * m1 + (in2 - zp2) * m2) / 2^(31 + shift)),
 *             act_min, act_max)
 * where s1 / s_out = m1 * 2^-(31 + shift) and s2 / s_out = m2 * 2^-(31 + shift) share ONE shift
 * (pocket::qmath::quantize_multiplier_pair), so the sum is exact in int64 and rounded once.
 * Same shape, no broadcasting. output may be the same buffer as input1 or input2 (element i
 * is read before it is written), but must not partially overlap them.
 */
typedef struct pocket_add_params {
    int32_t element_count;
    int32_t input1_zero_point, input2_zero_point, output_zero_point; /* [-128, 127] */
    int32_t input1_multiplier, input2_multiplier;                    /* [0, 2^31) */
    int32_t shift;                                                   /* [-31, 31] */
    int32_t act_min, act_max;
} pocket_add_params;

pocket_status pocket_add_check(const pocket_add_params *params);
pocket_status pocket_add_s8(const pocket_add_params *params, const int8_t *input1,
                            const int8_t *input2, int8_t *output);

/* ----------------------------------------------------------------------------------------- */
/* clamp: a standalone ReLU / ReLU6 / Clip (input and output share scale and zero point)      */
/* ----------------------------------------------------------------------------------------- */

/*
 * out[i] = clamp(in[i], act_min, act_max) over element_count int8 values. An activation that
 * follows a conv, FC or add is fused into that kernel's act_min/act_max instead; this kernel is
 * for one that cannot be fused (e.g. its input has other consumers). output may be the same
 * buffer as input (in place), but must not partially overlap it.
 */
typedef struct pocket_clamp_params {
    int32_t element_count;
    int32_t act_min, act_max; /* -128 <= act_min <= act_max <= 127 */
} pocket_clamp_params;

pocket_status pocket_clamp_check(const pocket_clamp_params *params);
pocket_status pocket_clamp_s8(const pocket_clamp_params *params, const int8_t *input,
                              int8_t *output);

/* ----------------------------------------------------------------------------------------- */
/* softmax                                                                                    */
/* ----------------------------------------------------------------------------------------- */

/* Output quantization of pocket_softmax_s8 (as TFLite): real = (q + 128) / 256. */
#define POCKET_SOFTMAX_OUTPUT_ZERO_POINT (-128)
#define POCKET_SOFTMAX_OUTPUT_SCALE_LOG2 (-8)
#define POCKET_SOFTMAX_EXP_TABLE_SIZE 256
#define POCKET_SOFTMAX_MAX_DEPTH 32768

/*
 * Softmax over the last axis: input [rows][depth] int8 (scale s_in, any zero point),
 * output [rows][depth] int8 with scale 1/256 and zero point -128.
 * Softmax is shift invariant, so only d = max_row - q (0..255) matters. exp_table[d] holds
 * round(32768 * exp(-beta * s_in * d)) (pocket::qmath::softmax_exp_table; exp_table[0] = 32768),
 * a property of the layer, like a multiplier. Then
 *   sum = sum_j exp_table[max - q_j]
 *   out_j = clamp(round(256 * exp_table[max - q_j] / sum) - 128, -128, 127)   (ties away)
 * 1 <= depth <= POCKET_SOFTMAX_MAX_DEPTH keeps every intermediate in int32.
 */
typedef struct pocket_softmax_params {
    int32_t rows;
    int32_t depth;
    const uint16_t *exp_table; /* [POCKET_SOFTMAX_EXP_TABLE_SIZE], exp_table[0] > 0 */
} pocket_softmax_params;

pocket_status pocket_softmax_check(const pocket_softmax_params *params);
pocket_status pocket_softmax_s8(const pocket_softmax_params *params, const int8_t *input,
                                int8_t *output);

/* ----------------------------------------------------------------------------------------- */
/* input quantization: uint8 camera/dataset pixels -> int8 NHWC with the normalisation folded */
/* ----------------------------------------------------------------------------------------- */

typedef enum pocket_pixel_layout {
    POCKET_PIXELS_HWC = 0, /* interleaved [batches][height][width][channels]: what a camera gives */
    POCKET_PIXELS_CHW = 1  /* planar [batches][channels][height][width]: the CIFAR-10 files */
} pocket_pixel_layout;

/*
 * The model input is x = pixel * a[c] + b[c] (normalisation, e.g. (p/255 - mean)/std) and is
 * quantized with (s_in, zp_in). Folded (pocket::qmath::fold_input_normalization):
 *   a[c] / s_in = multiplier[c] * 2^-(31 + shift[c]),   b[c] / s_in = offset[c] * 2^-(31 + shift[c])
 *   out = clamp(round((pixel * multiplier[c] + offset[c]) / 2^(31 + shift[c])) + output_zero_point,
 *               -128, 127)                                                   (ties away)
 * Output is always NHWC int8. Channels are in the order of the pixels (RGB for CIFAR-10 and
 * most cameras); the per-channel arrays must follow the same order.
 */
typedef struct pocket_quantize_input_params {
    int32_t batches;
    int32_t height, width, channels;
    pocket_pixel_layout layout;
    const int32_t *multiplier; /* [channels], [0, 2^31) */
    const int32_t *shift;      /* [channels], [-31, 31] */
    const int64_t *offset;     /* [channels], |offset| <= 2^61 */
    int32_t output_zero_point; /* [-128, 127] */
} pocket_quantize_input_params;

pocket_status pocket_quantize_input_check(const pocket_quantize_input_params *params);
pocket_status pocket_quantize_input_u8(const pocket_quantize_input_params *params,
                                       const uint8_t *pixels, int8_t *output);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* POCKET_RUNTIME_H */
