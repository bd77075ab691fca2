/*
 * pocket_conv2d_dsp.c - pocket_conv2d_s8 for the Cortex-M4 (ARMv7E-M DSP extension).
 *
 * A drop-in for runtime/pocket_conv2d.c: same functions, same contract (pocket_runtime.h), same
 * output bytes. The generated Makefile for cortex-m4 compiles this file INSTEAD of the reference
 * file (a per-file choice at build time). The reference file is included below, so the parameter
 * checks, the output shape and the per-position code used at padded borders and for grouped
 * convolutions are the reference's own code, not a copy.
 *
 * How it is fast
 *   - Four MACs per SMLAD pair: a word of four int8 inputs and a word of four int8 weights are
 *     sign-extended into int16 pairs with SXTB16 (bytes 0 and 2) and SXTB16 ROR #8 (bytes 1 and
 *     3); both operands get the same lane order, so SMLAD multiplies matching lanes and no
 *     repacking is needed.
 *   - Two conv positions x two output channels per pass, in registers (inline assembly): each
 *     loaded word is used twice.
 *   - No centring of the inputs: sum (x - zp) * w = sum x * w - zp * sum w. bias - zp * sum w is
 *     computed once per output channel and call. All of it is modulo 2^32 (SMLAD wraps); the true
 *     accumulator fits in int32 (the kernel check refuses shapes where it might not), so the
 *     wrapped result IS the true accumulator.
 *   - A filter row (filter_width * input_channels bytes) is contiguous in both the NHWC input and
 *     the OHWI filter. Its partial last word is loaded at row_bytes - 4 (overlapping the previous
 *     word, never past the row) with the weight lanes counted already masked to zero.
 *   - Requantization without 64-bit variable shifts (pocket_dsp_requantize in pocket_dsp.h, equal
 *     to pocket_requantize_s8 for every input).
 * Positions whose window needs padding, and every position of a grouped/depthwise convolution or
 * of one whose filter rows are shorter than 4 bytes, use the reference's conv_output_at.
 *
 * GCC for Arm only (the inner loop is Thumb-2 inline assembly), at -Og or higher; compiled only for
 * cores with the DSP extension (-mcpu=cortex-m4/m7/m33 ...). Stack: about 250 bytes (int32
 * arrays of POCKET_DSP_BLOCK channels). No scratch memory.
 */
#include <stdint.h>

#if !defined(__OPTIMIZE__)
#error "pocket_conv2d_dsp.c needs -Og or higher: its inline assembly keeps 14 values in registers (build the reference kernels, DSP=0, for -O0)"
#endif

#include "pocket_dsp.h"
#include "pocket_internal.h"
#include "pocket_requant.h"
#include "pocket_runtime.h"

/* The reference kernel, compiled into this file under another name: its static helpers
 * (check_shape, conv_output_at) and checks are used below; the tests compare the two. */
pocket_status pocket_conv2d_s8_reference(const pocket_conv2d_params *params, const int8_t *input,
                                         const int8_t *filter, const int32_t *bias,
                                         int8_t *output, void *scratch);
#define pocket_conv2d_s8 pocket_conv2d_s8_reference
#include "../pocket_conv2d.c"
#undef pocket_conv2d_s8

/* Output channels per pass; their bias terms and results live on the stack. */
#define POCKET_DSP_BLOCK 16

/* The geometry of one filter window in the input and the filter (row_bytes >= 4). */
typedef struct dsp_window {
    int32_t rows;         /* filter_height */
    int32_t row_bytes;    /* filter_width * input_channels */
    int32_t words;        /* row_bytes / 4 whole words per row */
    int32_t word_bytes;   /* 4 * words */
    int32_t tail_bytes;   /* row_bytes - word_bytes: 0..3 */
    int32_t tail_offset;  /* tail_bytes - 4: the partial word, from the end of the whole words */
    int32_t skip;         /* input_width * input_channels - word_bytes: to the next input row */
    int32_t tail_mask;    /* weight lanes of the partial word still to count (0: none) */
} dsp_window;

/*
 * Window sums of two positions (input windows at in_a, in_b) with two filters (w0, w1):
 *   acc[0] = a.w0, acc[1] = a.w1, acc[2] = b.w0, acc[3] = b.w1   (raw int8 products, modulo 2^32)
 * In assembly so that the four sums, four pointers and six lanes stay in registers: per word of
 * four bytes 4 LDR + 8 SXTB16 + 8 SMLAD (16 MACs) + 3 for the loop. Per filter row: the whole
 * words, then (tail_mask != 0) the word at row_bytes - 4 with the weight lanes counted already
 * masked to zero, then the pointers move to the next row (inputs by input_stride, weights by
 * row_bytes).
 */
static void dot_2x2(const dsp_window *window, const int8_t *in_a, const int8_t *in_b,
                    const int8_t *w0, const int8_t *w1, int32_t acc[4])
{
    int32_t s0, s1, s2, s3;
    int32_t t0, t1, t2, t3, t4, t5;
    /* Copies on the stack: the assembly reads them as [sp, #offset] operands, since no register
     * is left for a pointer to the window. */
    int32_t rows = window->rows;
    const int32_t word_bytes = window->word_bytes;
    const int32_t tail_bytes = window->tail_bytes;
    const int32_t tail_offset = window->tail_offset;
    const int32_t skip = window->skip;
    const int32_t mask = window->tail_mask;
    const int8_t *end;
    __asm__(
        "movs %[s0], #0\n\t"
        "movs %[s1], #0\n\t"
        "movs %[s2], #0\n\t"
        "movs %[s3], #0\n\t"
        "1:\n\t"                                 /* row loop */
        "ldr %[t0], %[word_bytes]\n\t"
        "add %[t0], %[t0], %[p]\n\t"
        "str %[t0], %[end]\n\t"
        "2:\n\t"                                 /* word loop */
        "ldr %[t0], [%[a]], #4\n\t"
        "ldr %[t1], [%[b]], #4\n\t"
        "ldr %[t2], [%[p]], #4\n\t"
        "sxtb16 %[t3], %[t0]\n\t"                /* a: bytes 0, 2 */
        "sxtb16 %[t0], %[t0], ror #8\n\t"        /* a: bytes 1, 3 */
        "sxtb16 %[t4], %[t1]\n\t"
        "sxtb16 %[t1], %[t1], ror #8\n\t"
        "sxtb16 %[t5], %[t2]\n\t"
        "sxtb16 %[t2], %[t2], ror #8\n\t"
        "smlad %[s0], %[t3], %[t5], %[s0]\n\t"
        "smlad %[s0], %[t0], %[t2], %[s0]\n\t"
        "smlad %[s2], %[t4], %[t5], %[s2]\n\t"
        "smlad %[s2], %[t1], %[t2], %[s2]\n\t"
        "ldr %[t2], [%[q]], #4\n\t"
        "sxtb16 %[t5], %[t2]\n\t"
        "sxtb16 %[t2], %[t2], ror #8\n\t"
        "smlad %[s1], %[t3], %[t5], %[s1]\n\t"
        "smlad %[s1], %[t0], %[t2], %[s1]\n\t"
        "smlad %[s3], %[t4], %[t5], %[s3]\n\t"
        "smlad %[s3], %[t1], %[t2], %[s3]\n\t"
        "ldr %[t5], %[end]\n\t"
        "cmp %[p], %[t5]\n\t"
        "bne 2b\n\t"
        "ldr %[t5], %[mask]\n\t"                 /* the partial last word of the row */
        "cmp %[t5], #0\n\t"
        "beq 3f\n\t"
        "ldr %[t5], %[tail_offset]\n\t"
        "ldr %[t0], [%[a], %[t5]]\n\t"
        "ldr %[t1], [%[b], %[t5]]\n\t"
        "ldr %[t2], [%[p], %[t5]]\n\t"
        "ldr %[t5], %[mask]\n\t"
        "and %[t2], %[t2], %[t5]\n\t"
        "sxtb16 %[t3], %[t0]\n\t"
        "sxtb16 %[t0], %[t0], ror #8\n\t"
        "sxtb16 %[t4], %[t1]\n\t"
        "sxtb16 %[t1], %[t1], ror #8\n\t"
        "sxtb16 %[t5], %[t2]\n\t"
        "sxtb16 %[t2], %[t2], ror #8\n\t"
        "smlad %[s0], %[t3], %[t5], %[s0]\n\t"
        "smlad %[s0], %[t0], %[t2], %[s0]\n\t"
        "smlad %[s2], %[t4], %[t5], %[s2]\n\t"
        "smlad %[s2], %[t1], %[t2], %[s2]\n\t"
        "ldr %[t5], %[tail_offset]\n\t"
        "ldr %[t2], [%[q], %[t5]]\n\t"
        "ldr %[t5], %[mask]\n\t"
        "and %[t2], %[t2], %[t5]\n\t"
        "sxtb16 %[t5], %[t2]\n\t"
        "sxtb16 %[t2], %[t2], ror #8\n\t"
        "smlad %[s1], %[t3], %[t5], %[s1]\n\t"
        "smlad %[s1], %[t0], %[t2], %[s1]\n\t"
        "smlad %[s3], %[t4], %[t5], %[s3]\n\t"
        "smlad %[s3], %[t1], %[t2], %[s3]\n\t"
        "3:\n\t"                                 /* next row */
        "ldr %[t5], %[skip]\n\t"
        "add %[a], %[a], %[t5]\n\t"
        "add %[b], %[b], %[t5]\n\t"
        "ldr %[t5], %[tail_bytes]\n\t"
        "add %[p], %[p], %[t5]\n\t"
        "add %[q], %[q], %[t5]\n\t"
        "ldr %[t5], %[rows]\n\t"
        "subs %[t5], %[t5], #1\n\t"
        "str %[t5], %[rows]\n\t"
        "bne 1b"
        : [a] "+r"(in_a), [b] "+r"(in_b), [p] "+r"(w0), [q] "+r"(w1), [s0] "=&r"(s0),
          [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3), [t0] "=&r"(t0), [t1] "=&r"(t1),
          [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4), [t5] "=&r"(t5), [end] "=m"(end),
          [rows] "+m"(rows)
        : [word_bytes] "m"(word_bytes), [tail_bytes] "m"(tail_bytes),
          [tail_offset] "m"(tail_offset), [skip] "m"(skip), [mask] "m"(mask)
        : "cc", "memory");
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

/* Everything one block of output channels needs. */
typedef struct dsp_block {
    const pocket_conv2d_params *params;
    const int8_t *input;
    const int8_t *filter;
    const int32_t *bias;
    dsp_window window;
    int per_position;     /* 1: every position through conv_output_at (grouped, short rows) */
    int32_t first;        /* first output channel of the block */
    int32_t count;        /* channels in the block */
    int32_t filter_size;  /* filter_height * row_bytes */
    int32_t base[POCKET_DSP_BLOCK]; /* bias - input_zero_point * sum(weights), modulo 2^32 */
} dsp_block;

/* The input window of conv position (conv_y, conv_x), or 0 when it needs padding (or the block
 * runs per position). */
static const int8_t *window_at(const dsp_block *block, int32_t batch, int32_t conv_y,
                               int32_t conv_x)
{
    const pocket_conv2d_params *p = block->params;
    const int32_t in_y = conv_y * p->stride_height - p->pad_top;
    const int32_t in_x = conv_x * p->stride_width - p->pad_left;
    if (block->per_position || in_y < 0 || in_x < 0 || in_y + p->filter_height > p->input_height ||
        in_x + p->filter_width > p->input_width) {
        return 0;
    }
    return block->input +
           ((batch * p->input_height + in_y) * p->input_width + in_x) * p->input_channels;
}

/* The block's outputs at one position through the reference's per-position code. */
static void per_position(const dsp_block *block, int32_t batch, int32_t conv_y, int32_t conv_x,
                         int32_t *result)
{
    int32_t j;
    for (j = 0; j < block->count; ++j) {
        result[j] = conv_output_at(block->params, block->input, block->filter, block->bias, batch,
                                   conv_y, conv_x, block->first + j);
    }
}

/*
 * Requantized conv outputs of the block's channels at one or two positions: result_a for
 * (conv_y_a, conv_x_a), and if `pair` result_b for (conv_y_b, conv_x_b).
 */
static void conv_positions(const dsp_block *block, int32_t batch, int32_t conv_y_a,
                           int32_t conv_x_a, int32_t conv_y_b, int32_t conv_x_b, int pair,
                           int32_t *result_a, int32_t *result_b)
{
    const pocket_conv2d_params *p = block->params;
    const int8_t *in_a = window_at(block, batch, conv_y_a, conv_x_a);
    const int8_t *in_b = pair ? window_at(block, batch, conv_y_b, conv_x_b) : in_a;
    const int32_t zero_point = p->output_zero_point, act_min = p->act_min, act_max = p->act_max;
    int32_t j, acc[4];
    if (in_a == 0) {
        per_position(block, batch, conv_y_a, conv_x_a, result_a);
        if (!pair) return;
        if (in_b == 0) {
            per_position(block, batch, conv_y_b, conv_x_b, result_b);
            return;
        }
        in_a = in_b; /* only b is left: compute it as "a" */
        result_a = result_b;
        pair = 0;
    } else if (pair && in_b == 0) {
        per_position(block, batch, conv_y_b, conv_x_b, result_b);
        pair = 0;
        in_b = in_a;
    }
    for (j = 0; j < block->count; j += 2) {
        const int32_t c0 = block->first + j;
        const int32_t c1 = j + 1 < block->count ? c0 + 1 : c0; /* odd count: the last twice */
        int32_t k;
        dot_2x2(&block->window, in_a, in_b, block->filter + c0 * block->filter_size,
                block->filter + c1 * block->filter_size, acc);
        /* acc = {a.c0, a.c1, b.c0, b.c1}. A loop over the two channels keeps the code small. */
        for (k = 0; k < 2 && (k == 0 || c1 != c0); ++k) {
            const int32_t channel = k == 0 ? c0 : c1;
            const int32_t multiplier = p->output_multiplier[channel];
            const int32_t shift = p->output_shift[channel];
            const uint32_t base = (uint32_t)block->base[j + k];
            result_a[j + k] = pocket_dsp_requantize((int32_t)(base + (uint32_t)acc[k]), multiplier,
                                                    shift, zero_point, act_min, act_max);
            if (pair) {
                result_b[j + k] = pocket_dsp_requantize((int32_t)(base + (uint32_t)acc[2 + k]),
                                                        multiplier, shift, zero_point, act_min,
                                                        act_max);
            }
        }
    }
}

/* Fills block->base: bias[c] - input_zero_point * sum of filter c, modulo 2^32. */
static void block_bases(dsp_block *block)
{
    int32_t j, k;
    if (block->per_position) return;
    for (j = 0; j < block->count; ++j) {
        const int32_t channel = block->first + j;
        const int8_t *weights = block->filter + channel * block->filter_size;
        int32_t sum = 0;
        for (k = 0; k < block->filter_size; ++k) sum += weights[k];
        block->base[j] = (int32_t)((uint32_t)(block->bias != 0 ? block->bias[channel] : 0) -
                                   (uint32_t)block->params->input_zero_point * (uint32_t)sum);
    }
}

static void store_block(const dsp_block *block, int8_t *output_pixel, const int32_t *values)
{
    int32_t j;
    for (j = 0; j < block->count; ++j) output_pixel[block->first + j] = (int8_t)values[j];
}

pocket_status pocket_conv2d_s8(const pocket_conv2d_params *params, const int8_t *input,
                               const int8_t *filter, const int32_t *bias, int8_t *output,
                               void *scratch)
{
    int32_t output_height = 0, output_width = 0;
    int32_t batch, out_y, out_x, j;
    pocket_status status;
    dsp_block block;
    int32_t result_a[POCKET_DSP_BLOCK], result_b[POCKET_DSP_BLOCK], pooled[POCKET_DSP_BLOCK];
    static const int32_t tail_masks[4] = {0, -16777216, -65536, -256}; /* 0, 0xFF000000, ... */
    (void)scratch;

    if (input == 0 || filter == 0 || output == 0) return POCKET_ERR_NULL_POINTER;
    status = pocket_conv2d_s8_check(params, bias);
    if (status != POCKET_OK) return status;
    status = pocket_conv2d_output_shape(params, &output_height, &output_width);
    if (status != POCKET_OK) return status;

    block.params = params;
    block.input = input;
    block.filter = filter;
    block.bias = bias;
    block.window.rows = params->filter_height;
    block.window.row_bytes = params->filter_width * (params->input_channels / params->groups);
    block.window.words = block.window.row_bytes / 4;
    block.window.word_bytes = 4 * block.window.words;
    block.window.tail_bytes = block.window.row_bytes - block.window.word_bytes;
    block.window.tail_offset = block.window.tail_bytes - 4;
    block.window.skip = params->input_width * params->input_channels - block.window.word_bytes;
    block.window.tail_mask = tail_masks[block.window.tail_bytes];
    block.per_position = params->groups != 1 || block.window.row_bytes < 4;
    block.filter_size = params->filter_height * block.window.row_bytes;

    for (block.first = 0; block.first < params->output_channels;
         block.first += POCKET_DSP_BLOCK) {
        block.count = params->output_channels - block.first;
        if (block.count > POCKET_DSP_BLOCK) block.count = POCKET_DSP_BLOCK;
        block_bases(&block);
        for (batch = 0; batch < params->batches; ++batch) {
            for (out_y = 0; out_y < output_height; ++out_y) {
                int8_t *const output_row =
                    output + (batch * output_height + out_y) * output_width * params->output_channels;
                if (params->pool.kind == POCKET_POOL_NONE) {
                    /* Two neighbouring output pixels per pass. */
                    for (out_x = 0; out_x < output_width; out_x += 2) {
                        const int pair = out_x + 1 < output_width;
                        conv_positions(&block, batch, out_y, out_x, out_y, out_x + 1, pair,
                                       result_a, result_b);
                        store_block(&block, output_row + out_x * params->output_channels, result_a);
                        if (pair) {
                            store_block(&block, output_row + (out_x + 1) * params->output_channels,
                                        result_b);
                        }
                    }
                    continue;
                }
                /* Fused pooling: the window's conv positions two at a time, in raster order. */
                for (out_x = 0; out_x < output_width; ++out_x) {
                    const pocket_fused_pool *pool = &params->pool;
                    const int is_avg = pool->kind == POCKET_POOL_AVG;
                    const int32_t positions = pool->filter_height * pool->filter_width;
                    const int32_t top = out_y * pool->stride_height;
                    const int32_t left = out_x * pool->stride_width;
                    int32_t position;
                    for (j = 0; j < block.count; ++j) pooled[j] = is_avg ? 0 : INT8_MIN;
                    for (position = 0; position < positions; position += 2) {
                        const int pair = position + 1 < positions;
                        const int32_t next = pair ? position + 1 : position;
                        conv_positions(&block, batch, top + position / pool->filter_width,
                                       left + position % pool->filter_width,
                                       top + next / pool->filter_width,
                                       left + next % pool->filter_width, pair, result_a, result_b);
                        for (j = 0; j < block.count; ++j) {
                            if (is_avg) {
                                pooled[j] += result_a[j] + (pair ? result_b[j] : 0);
                            } else {
                                if (result_a[j] > pooled[j]) pooled[j] = result_a[j];
                                if (pair && result_b[j] > pooled[j]) pooled[j] = result_b[j];
                            }
                        }
                    }
                    if (is_avg) {
                        for (j = 0; j < block.count; ++j) {
                            pooled[j] = pocket_round_div_s32(pooled[j], positions);
                        }
                    }
                    store_block(&block, output_row + out_x * params->output_channels, pooled);
                }
            }
        }
    }
    return POCKET_OK;
}
