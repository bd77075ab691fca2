/*
 * dsp_equivalence.c - the Cortex-M4 DSP kernels (runtime/arm/pocket_*_dsp.c) against the reference
 * kernels, byte for byte, on the emulated core (tests/codegen/dsp_check.sh builds it for
 * Cortex-M4 and runs it under QEMU mps2-an386).
 *
 * Each DSP file compiles the reference kernel in under the name *_reference, so one program calls
 * both on the same data: seeded sweeps over shapes (odd sizes, rows of 1..3 tail bytes, channel
 * counts around the variant's block of 16 and odd counts, every stride and padding up to 3, fused
 * max/avg pools, grouped and depthwise convolutions, batches), quantization (zero points across
 * int8 including the extremes, multipliers with right shifts -31..31 on both requantization paths,
 * clamps), biases up to the accumulator limit, and extreme data (all -128 / 127, weights +-127).
 * Statuses must agree too, and no byte past the output may change.
 * Exit status 0: every case agrees; 1: a mismatch (the first one is described on the console).
 */
#include <stdint.h>
#include <string.h>

#include "pocket_runtime.h"

void pocket_platform_write(const char *text); /* target/startup.c */
pocket_status pocket_conv2d_s8_reference(const pocket_conv2d_params *params, const int8_t *input,
                                         const int8_t *filter, const int32_t *bias,
                                         int8_t *output, void *scratch);
pocket_status pocket_fully_connected_s8_reference(const pocket_fully_connected_params *params,
                                                  const int8_t *input, const int8_t *weights,
                                                  const int32_t *bias, int8_t *output,
                                                  void *scratch);

#define INPUT_MAX 4096
#define FILTER_MAX 8192
#define OUTPUT_MAX 8192
#define CHANNELS_MAX 64
#define GUARD 16

static int8_t input[INPUT_MAX];
static int8_t filter[FILTER_MAX];
static int32_t bias[CHANNELS_MAX];
static int32_t multiplier[CHANNELS_MAX];
static int32_t shift[CHANNELS_MAX];
static int8_t out_dsp[OUTPUT_MAX + GUARD];
static int8_t out_ref[OUTPUT_MAX + GUARD];
static uint32_t rng = 0x2545F491u;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static int32_t uniform(int32_t lo, int32_t hi) /* inclusive */
{
    return lo + (int32_t)(next() % (uint32_t)(hi - lo + 1));
}

static void write_number(const char *label, int32_t value)
{
    char text[16];
    int at = 15;
    uint32_t magnitude = value < 0 ? 0u - (uint32_t)value : (uint32_t)value;
    text[15] = '\0';
    do {
        text[--at] = (char)('0' + magnitude % 10u);
        magnitude /= 10u;
    } while (magnitude != 0u);
    if (value < 0) text[--at] = '-';
    pocket_platform_write(label);
    pocket_platform_write(text + at);
}

/* Data: random, or (1 in 8) all at one extreme. */
static void fill(int8_t *data, int32_t count, int32_t lo, int32_t hi)
{
    const int32_t mode = uniform(0, 15);
    int32_t i;
    for (i = 0; i < count; ++i) {
        data[i] = (int8_t)(mode == 0 ? lo : mode == 1 ? hi : uniform(lo, hi));
    }
}

static int32_t zero_point(void)
{
    const int32_t mode = uniform(0, 5);
    return mode == 0 ? -128 : mode == 1 ? 127 : uniform(-128, 127);
}

/* 1 in 3 cases: small accumulators (inputs within 2 of the zero point, weights within 3) with
 * small shifts, so that outputs stay inside the clamp and rounding ties are frequent. */
static int32_t small;

static void fill_input(int8_t *data, int32_t count, int32_t input_zero_point)
{
    const int32_t lo = input_zero_point - 2 < -128 ? -128 : input_zero_point - 2;
    const int32_t hi = input_zero_point + 2 > 127 ? 127 : input_zero_point + 2;
    fill(data, count, small ? lo : -128, small ? hi : 127);
}

static void requantization(int32_t channels)
{
    int32_t c;
    const int32_t wide = uniform(0, 3) == 0;
    /* 1 in 3 layers: multipliers 0.5 and 0.75 (times 2^-shift), whose products land exactly on
     * rounding ties for many accumulators: ties must round away from zero on both signs. */
    const int32_t ties = uniform(0, 2) == 0;
    for (c = 0; c < channels; ++c) {
        multiplier[c] = uniform(0, 20) == 0 ? 0 : (int32_t)(0x40000000u + (next() & 0x3FFFFFFFu));
        if (ties) multiplier[c] = uniform(0, 1) ? 1073741824 : 1610612736;
        /* Mostly the right shifts of real layers (1..14: the high-word path), sometimes any shift
         * (<= 0 takes the header's path). */
        shift[c] = wide ? uniform(-31, 31) : uniform(-1, 14);
        if (small) shift[c] = uniform(-1, 4);
    }
}

static void act_range(int32_t *act_min, int32_t *act_max)
{
    const int32_t mode = uniform(0, 3);
    if (mode == 0) {
        *act_min = -128;
        *act_max = 127;
    } else {
        *act_min = uniform(-128, 127);
        *act_max = uniform(*act_min, 127);
    }
}

/* Biases within the accumulator limit for `terms` products (or none). */
static const int32_t *biases(int32_t channels, int64_t terms, int32_t input_zero_point)
{
    const int64_t up = 127 - (int64_t)input_zero_point, down = (int64_t)input_zero_point + 128;
    const int64_t worst = terms * (up > down ? up : down) * 128;
    const int64_t room = INT32_MAX - worst;
    int32_t c;
    if (uniform(0, 4) == 0 || room <= 0) return 0;
    for (c = 0; c < channels; ++c) {
        const int32_t limit = room > 1000000000 ? 1000000000 : (int32_t)room;
        bias[c] = uniform(0, 6) == 0 ? (uniform(0, 1) ? limit : -limit) : uniform(-limit / 8, limit / 8);
    }
    return bias;
}

static int32_t compare(int32_t bytes, pocket_status dsp, pocket_status ref)
{
    int32_t i;
    if (dsp != ref) {
        write_number("  status dsp ", (int32_t)dsp);
        write_number(" reference ", (int32_t)ref);
        pocket_platform_write("\n");
        return 1;
    }
    for (i = 0; i < bytes + GUARD && i < OUTPUT_MAX + GUARD; ++i) {
        if (out_dsp[i] != out_ref[i]) {
            write_number("  byte ", i);
            write_number(" of ", bytes);
            write_number(": dsp ", out_dsp[i]);
            write_number(" reference ", out_ref[i]);
            pocket_platform_write("\n");
            return 1;
        }
    }
    return 0;
}

static void clear_outputs(void)
{
    int32_t i;
    for (i = 0; i < OUTPUT_MAX + GUARD; ++i) {
        out_dsp[i] = (int8_t)0x5A;
        out_ref[i] = (int8_t)0x5A;
    }
}

static void describe_conv(const pocket_conv2d_params *p, int32_t index)
{
    write_number("conv case ", index);
    write_number(": batches ", p->batches);
    write_number(" in ", p->input_height);
    write_number("x", p->input_width);
    write_number("x", p->input_channels);
    write_number(" out channels ", p->output_channels);
    write_number(" filter ", p->filter_height);
    write_number("x", p->filter_width);
    write_number(" stride ", p->stride_height);
    write_number("x", p->stride_width);
    write_number(" pad ", p->pad_top);
    write_number("/", p->pad_left);
    write_number("/", p->pad_bottom);
    write_number("/", p->pad_right);
    write_number(" groups ", p->groups);
    write_number(" pool ", (int32_t)p->pool.kind);
    write_number(" ", p->pool.filter_height);
    write_number("x", p->pool.filter_width);
    write_number("/", p->pool.stride_height);
    write_number(" zp ", p->input_zero_point);
    write_number(",", p->output_zero_point);
    write_number(" act ", p->act_min);
    write_number(",", p->act_max);
    pocket_platform_write("\n");
}

/* Quantization, data and biases for the convolution shape in *p (random), then both kernels;
 * returns 1 on a mismatch, 0 on agreement, and counts OK cases. */
static int32_t conv_check(pocket_conv2d_params *pp, int32_t index, int32_t *ok_cases)
{
    pocket_conv2d_params p = *pp;
    int32_t height = 0, width = 0, group_channels, bytes;
    const int32_t *b;
    pocket_status dsp, ref;
    p.input_zero_point = zero_point();
    p.output_zero_point = zero_point();
    act_range(&p.act_min, &p.act_max);
    requantization(p.output_channels);
    p.output_multiplier = multiplier;
    p.output_shift = shift;
    group_channels = p.input_channels / p.groups;
    if (p.batches * p.input_height * p.input_width * p.input_channels > INPUT_MAX ||
        p.output_channels * p.filter_height * p.filter_width * group_channels > FILTER_MAX ||
        p.output_channels > CHANNELS_MAX) {
        write_number("conv case too big for the test buffers: ", index);
        pocket_platform_write("\n");
        return 1;
    }
    fill_input(input, p.batches * p.input_height * p.input_width * p.input_channels, p.input_zero_point);
    fill(filter, p.output_channels * p.filter_height * p.filter_width * group_channels, small ? -3 : -127,
         small ? 3 : 127);
    b = biases(p.output_channels, (int64_t)p.filter_height * p.filter_width * group_channels,
               p.input_zero_point);
    if (pocket_conv2d_output_shape(&p, &height, &width) != POCKET_OK) return 0;
    bytes = p.batches * height * width * p.output_channels;
    if (bytes > OUTPUT_MAX) return 0;
    clear_outputs();
    dsp = pocket_conv2d_s8(&p, input, filter, b, out_dsp, 0);
    ref = pocket_conv2d_s8_reference(&p, input, filter, b, out_ref, 0);
    if (compare(bytes, dsp, ref)) {
        describe_conv(&p, index);
        return 1;
    }
    if (ref == POCKET_OK) ++*ok_cases;
    return 0;
}

/* One random convolution; returns 1 on a mismatch, 0 on agreement, and counts OK cases. */
static int32_t conv_case(int32_t index, int32_t *ok_cases)
{
    pocket_conv2d_params p;
    int32_t conv_h, conv_w;
    const int32_t kind = uniform(0, 9);
    small = uniform(0, 2) == 0;
    p.batches = uniform(0, 7) == 0 ? 2 : 1;
    p.input_height = uniform(1, 10);
    p.input_width = uniform(1, 10);
    p.input_channels = kind == 0 ? 16 : uniform(1, 9);
    p.groups = 1;
    if (kind == 1) p.groups = p.input_channels;                          /* depthwise */
    if (kind == 2 && p.input_channels % 2 == 0) p.groups = 2;           /* grouped */
    p.output_channels = p.groups * uniform(1, p.groups > 1 ? 3 : 20);
    if (kind == 3) p.output_channels = uniform(15, 34);                 /* around the block size */
    p.filter_height = uniform(1, 5);
    p.filter_width = uniform(1, 5);
    p.stride_height = uniform(1, 3);
    p.stride_width = uniform(1, 3);
    p.pad_top = uniform(0, 3) == 0 ? uniform(1, 3) : 0;
    p.pad_left = uniform(0, 3) == 0 ? uniform(1, 3) : 0;
    p.pad_bottom = uniform(0, 3) == 0 ? uniform(1, 3) : 0;
    p.pad_right = uniform(0, 3) == 0 ? uniform(1, 3) : 0;
    if (p.input_height + p.pad_top + p.pad_bottom < p.filter_height) p.filter_height = 1;
    if (p.input_width + p.pad_left + p.pad_right < p.filter_width) p.filter_width = 1;
    conv_h = (p.input_height + p.pad_top + p.pad_bottom - p.filter_height) / p.stride_height + 1;
    conv_w = (p.input_width + p.pad_left + p.pad_right - p.filter_width) / p.stride_width + 1;
    p.pool.kind = POCKET_POOL_NONE;
    p.pool.filter_height = p.pool.filter_width = p.pool.stride_height = p.pool.stride_width = 0;
    if (uniform(0, 2) != 0) {
        p.pool.kind = uniform(0, 2) == 0 ? POCKET_POOL_AVG : POCKET_POOL_MAX;
        p.pool.filter_height = uniform(1, conv_h < 3 ? conv_h : 3);
        p.pool.filter_width = uniform(1, conv_w < 3 ? conv_w : 3);
        p.pool.stride_height = uniform(1, 3);
        p.pool.stride_width = uniform(1, 3);
    }
    return conv_check(&p, index, ok_cases);
}

/* Quantization, data and biases for the fully connected shape in *pp (random), then both
 * kernels. */
static int32_t fc_check(pocket_fully_connected_params *pp, int32_t index, int32_t *ok_cases)
{
    pocket_fully_connected_params p = *pp;
    const int32_t *b;
    pocket_status dsp, ref;
    int32_t bytes;
    p.input_zero_point = zero_point();
    p.output_zero_point = zero_point();
    act_range(&p.act_min, &p.act_max);
    requantization(p.output_features);
    p.output_multiplier = multiplier;
    p.output_shift = shift;
    fill_input(input, p.batches * p.input_features, p.input_zero_point);
    fill(filter, p.output_features * p.input_features, small ? -3 : -127, small ? 3 : 127);
    b = biases(p.output_features, p.input_features, p.input_zero_point);
    bytes = p.batches * p.output_features;
    clear_outputs();
    dsp = pocket_fully_connected_s8(&p, input, filter, b, out_dsp, 0);
    ref = pocket_fully_connected_s8_reference(&p, input, filter, b, out_ref, 0);
    if (compare(bytes, dsp, ref)) {
        write_number("fully connected case ", index);
        write_number(": batches ", p.batches);
        write_number(" in ", p.input_features);
        write_number(" out ", p.output_features);
        write_number(" zp ", p.input_zero_point);
        write_number(",", p.output_zero_point);
        pocket_platform_write("\n");
        return 1;
    }
    if (ref == POCKET_OK) ++*ok_cases;
    return 0;
}

static int32_t fc_case(int32_t index, int32_t *ok_cases)
{
    pocket_fully_connected_params p;
    small = uniform(0, 2) == 0;
    p.batches = uniform(0, 5) == 0 ? 3 : 1;
    p.input_features = uniform(0, 3) == 0 ? uniform(1, 8) : uniform(1, 400);
    p.output_features = uniform(1, 40);
    if (p.batches * p.input_features > INPUT_MAX) p.batches = 1;
    if (p.output_features * p.input_features > FILTER_MAX) p.output_features = FILTER_MAX / p.input_features;
    return fc_check(&p, index, ok_cases);
}

/* Convolution shapes at the DSP kernel's limits, each run with several random data sets:
 * {batches, in h, w, channels, out channels, filter h, w, stride h, w, pad top, left, bottom,
 *  right, groups, pool kind (0 none, 1 max, 2 avg), pool h, w, stride h, w}. */
static const int16_t fixed_conv[][19] = {
    /* windows over the im2col chunk (152): 153, 2 x 152, 256, 400, chunks with padding */
    {1, 2, 2, 153, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
    {1, 3, 2, 152, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
    {1, 2, 1, 152, 2, 2, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
    {1, 6, 6, 16, 5, 4, 4, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2},
    {1, 6, 5, 16, 3, 5, 5, 2, 1, 2, 1, 2, 2, 1, 2, 2, 1, 1, 1},
    {2, 5, 5, 7, 17, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 3, 3, 2, 2},
    /* windows of 1..5 elements (K < 4: the weights through a local copy) */
    {1, 5, 5, 1, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
    {1, 4, 5, 2, 17, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2},
    {1, 5, 4, 3, 16, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1},
    {1, 5, 5, 1, 5, 1, 3, 1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0},
    {1, 5, 5, 4, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
    {1, 5, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 3, 3, 1, 1},
    {1, 3, 3, 3, 6, 1, 1, 1, 1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0}, /* depthwise, K = 1 */
    /* filter rows of 4n + 0..3 bytes */
    {1, 6, 6, 4, 6, 3, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2},
    {1, 6, 6, 5, 6, 3, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2},
    {1, 6, 6, 3, 6, 3, 2, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2},
    {1, 6, 9, 7, 6, 3, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2},
    {1, 8, 8, 3, 6, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2}, /* LeNet conv1 shape */
    {1, 9, 9, 6, 16, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2}, /* LeNet conv2 shape (K 150) */
    /* padding on one side at a time, then all sides, strides 1 and 2 */
    {1, 5, 6, 3, 4, 3, 3, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0},
    {1, 5, 6, 3, 4, 3, 3, 1, 1, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0},
    {1, 5, 6, 3, 4, 3, 3, 1, 1, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0},
    {1, 5, 6, 3, 4, 3, 3, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0},
    {1, 6, 7, 2, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 2, 1, 1},
    {1, 3, 3, 4, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 2, 3, 3, 1, 1},
    /* groups and depthwise (channel multipliers 1 and 2), stride 2 */
    {1, 6, 6, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 1, 2, 2, 2, 2},
    {1, 7, 7, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 8, 0, 0, 0, 0, 0},
    {1, 7, 7, 5, 10, 3, 3, 1, 1, 1, 1, 1, 1, 5, 2, 2, 2, 2, 2},
    {2, 6, 6, 6, 18, 3, 3, 1, 1, 0, 0, 0, 0, 6, 1, 2, 2, 2, 2},
    /* pools: average 2x2 / 3x3 / 1x3, max with odd windows and overlapping strides */
    {1, 8, 8, 3, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2},
    {1, 8, 8, 3, 5, 3, 3, 1, 1, 0, 0, 0, 0, 1, 2, 3, 3, 1, 1},
    {1, 8, 8, 3, 5, 3, 3, 1, 1, 0, 0, 0, 0, 1, 2, 1, 3, 1, 2},
    {1, 8, 8, 3, 7, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 3, 3, 2, 2},
    {1, 8, 8, 3, 7, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 3, 1, 3},
    {1, 9, 9, 2, 3, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 2, 2, 1, 1},
    /* odd output channel counts: 1, 3, 15, 17, 33 (blocks of 16 and a lone channel) */
    {1, 5, 5, 3, 1, 3, 3, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
    {1, 5, 5, 3, 3, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2, 1, 1},
    {1, 5, 5, 3, 15, 3, 3, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
    {1, 5, 5, 3, 17, 3, 3, 1, 1, 0, 0, 0, 0, 1, 2, 2, 2, 2, 2},
    {1, 5, 5, 3, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2},
    /* one conv position (no pair), odd position counts */
    {1, 3, 3, 3, 5, 3, 3, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
    {1, 3, 5, 3, 5, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 3, 1, 1},
};

static const int16_t fixed_fc[] = {1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 13, 14, 15, 397, 398, 399, 401, 402, 403};

static int32_t fixed_cases(int32_t *conv_ok, int32_t *fc_ok)
{
    int32_t i, repeat, failures = 0;
    for (i = 0; i < (int32_t)(sizeof fixed_conv / sizeof fixed_conv[0]); ++i) {
        const int16_t *f = fixed_conv[i];
        pocket_conv2d_params p;
        p.batches = f[0];
        p.input_height = f[1];
        p.input_width = f[2];
        p.input_channels = f[3];
        p.output_channels = f[4];
        p.filter_height = f[5];
        p.filter_width = f[6];
        p.stride_height = f[7];
        p.stride_width = f[8];
        p.pad_top = f[9];
        p.pad_left = f[10];
        p.pad_bottom = f[11];
        p.pad_right = f[12];
        p.groups = f[13];
        p.pool.kind = f[14] == 0 ? POCKET_POOL_NONE : f[14] == 1 ? POCKET_POOL_MAX : POCKET_POOL_AVG;
        p.pool.filter_height = f[15];
        p.pool.filter_width = f[16];
        p.pool.stride_height = f[17];
        p.pool.stride_width = f[18];
        for (repeat = 0; repeat < 6; ++repeat) {
            small = repeat % 3 == 0;
            failures += conv_check(&p, 10000 + i, conv_ok);
        }
    }
    for (i = 0; i < (int32_t)(sizeof fixed_fc / sizeof fixed_fc[0]); ++i) {
        pocket_fully_connected_params p;
        p.input_features = fixed_fc[i];
        for (repeat = 0; repeat < 6; ++repeat) {
            small = repeat % 3 == 0;
            p.batches = repeat == 1 ? 2 : 1;
            p.output_features = 1 + repeat * 3; /* 1, 4, 7, 10, 13, 16 */
            failures += fc_check(&p, 10000 + i, fc_ok);
        }
    }
    return failures;
}

/* The one documented difference from the reference: 2^31 - 1 or more conv position evaluations
 * (batches x output pixels x pooling window; here 217 x 217 pixels x a 216x216 pool over a
 * 432x432x1 input) give POCKET_ERR_BAD_SHAPE, not a partial result. The kernel returns before
 * reading the data, so one-element arrays do. */
static int32_t position_limit(void)
{
    pocket_conv2d_params p;
    static const int32_t one_multiplier = 1 << 30, one_shift = 1;
    memset(&p, 0, sizeof p);
    p.batches = 1;
    p.input_height = p.input_width = 432;
    p.input_channels = p.output_channels = p.groups = 1;
    p.filter_height = p.filter_width = p.stride_height = p.stride_width = 1;
    p.output_multiplier = &one_multiplier;
    p.output_shift = &one_shift;
    p.act_min = -128;
    p.act_max = 127;
    p.pool.kind = POCKET_POOL_MAX;
    p.pool.filter_height = p.pool.filter_width = 216;
    p.pool.stride_height = p.pool.stride_width = 1;
    if (pocket_conv2d_s8_check(&p, 0) != POCKET_OK) {
        pocket_platform_write("dsp_equivalence: the position-limit shape is not a valid shape\n");
        return 1;
    }
    if (pocket_conv2d_s8(&p, input, filter, 0, out_dsp, 0) != POCKET_ERR_BAD_SHAPE) {
        pocket_platform_write("dsp_equivalence: 2^31 conv positions did not give POCKET_ERR_BAD_SHAPE\n");
        return 1;
    }
    return 0;
}

int main(void)
{
    int32_t i, failures = 0, conv_ok = 0, fc_ok = 0;
    const int32_t cases = 3000;
    int32_t fixed_conv_ok = 0, fixed_fc_ok = 0;
    const int32_t fixed_conv_cases = 6 * (int32_t)(sizeof fixed_conv / sizeof fixed_conv[0]);
    const int32_t fixed_fc_cases = 6 * (int32_t)(sizeof fixed_fc / sizeof fixed_fc[0]);
    if (position_limit() != 0) return 1;
    failures += fixed_cases(&fixed_conv_ok, &fixed_fc_ok);
    write_number("dsp_equivalence: fixed conv cases ", fixed_conv_cases);
    write_number(" (", fixed_conv_ok);
    write_number(" valid), fixed fully connected cases ", fixed_fc_cases);
    write_number(" (", fixed_fc_ok);
    write_number(" valid), mismatches ", failures);
    pocket_platform_write("\n");
    /* Every fixed case is a valid shape: an error status there means the case tests nothing. */
    if (fixed_conv_ok != fixed_conv_cases || fixed_fc_ok != fixed_fc_cases) {
        pocket_platform_write("dsp_equivalence: a fixed case was refused by the kernels\n");
        return 1;
    }
    for (i = 0; i < cases && failures < 3; ++i) failures += conv_case(i, &conv_ok);
    for (i = 0; i < cases && failures < 3; ++i) failures += fc_case(i, &fc_ok);
    write_number("dsp_equivalence: conv cases ", cases);
    write_number(" (", conv_ok);
    write_number(" valid), fully connected cases ", cases);
    write_number(" (", fc_ok);
    write_number(" valid), mismatches ", failures);
    pocket_platform_write("\n");
    /* Most cases must be valid, or the sweep tests only the parameter checks. */
    if (conv_ok < cases / 2 || fc_ok < cases / 2) {
        pocket_platform_write("dsp_equivalence: too few valid cases\n");
        return 1;
    }
    return failures == 0 ? 0 : 1;
}
