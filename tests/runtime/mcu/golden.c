/*
 * golden.c - runs every runtime kernel on deterministic pseudo-random data and hashes the
 * results. Built for the host and for Cortex-M4 / RV32IMC under QEMU by qemu_check.sh: equal
 * checksums show the kernels are bit-exact across the three targets. Portable C99, no libc.
 */
#include "golden.h"

#include "pocket_requant.h"
#include "pocket_runtime.h"

static uint32_t rng_state = 0x12345678u;
static uint32_t hash_state = 2166136261u;

static uint32_t next_random(void)
{
    /* xorshift32 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int32_t random_in(int32_t lo, int32_t hi)
{
    const uint32_t span = (uint32_t)(hi - lo) + 1u;
    return lo + (int32_t)(next_random() % span);
}

static void fill_s8(int8_t *data, int32_t count, int32_t lo, int32_t hi)
{
    int32_t i;
    for (i = 0; i < count; ++i) data[i] = (int8_t)random_in(lo, hi);
}

static void hash_u32(uint32_t value)
{
    int32_t byte;
    for (byte = 0; byte < 4; ++byte) {
        hash_state ^= (value >> (8 * byte)) & 0xFFu;
        hash_state *= 16777619u;
    }
}

static void hash_s8(const int8_t *data, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        hash_state ^= (uint32_t)(uint8_t)data[i];
        hash_state *= 16777619u;
    }
}

#define MAX_CHANNELS 16
static int8_t input_buffer[4096];
static int8_t input2_buffer[4096];
static int8_t filter_buffer[4096];
static int8_t output_buffer[4096];
static uint8_t pixel_buffer[1024];
static int32_t bias_buffer[MAX_CHANNELS];
static int32_t multiplier_buffer[MAX_CHANNELS];
static int32_t shift_buffer[MAX_CHANNELS];
static int64_t offset_buffer[MAX_CHANNELS];
static uint16_t exp_table[POCKET_SOFTMAX_EXP_TABLE_SIZE];

static void random_requant(int32_t channels, int32_t shift_lo, int32_t shift_hi)
{
    int32_t c;
    for (c = 0; c < channels; ++c) {
        multiplier_buffer[c] = random_in(1 << 30, INT32_MAX);
        shift_buffer[c] = random_in(shift_lo, shift_hi);
        bias_buffer[c] = random_in(-20000, 20000);
    }
}

static int run_conv(int32_t in_channels, int32_t out_channels, int32_t groups, int32_t kernel,
                    int32_t stride, pocket_pool_kind pool)
{
    pocket_conv2d_params p;
    int32_t height = 0, width = 0;
    pocket_status status;
    p.batches = 2;
    p.input_height = 9;
    p.input_width = 7;
    p.input_channels = in_channels;
    p.output_channels = out_channels;
    p.filter_height = kernel;
    p.filter_width = kernel;
    p.stride_height = stride;
    p.stride_width = 1;
    p.pad_top = 1;
    p.pad_left = kernel / 2;
    p.pad_bottom = 0;
    p.pad_right = 1;
    p.groups = groups;
    p.input_zero_point = random_in(-128, 127);
    p.output_zero_point = random_in(-128, 127);
    p.output_multiplier = multiplier_buffer;
    p.output_shift = shift_buffer;
    p.act_min = random_in(-128, -60);
    p.act_max = random_in(60, 127);
    p.pool.kind = pool;
    p.pool.filter_height = 2;
    p.pool.filter_width = 3;
    p.pool.stride_height = 2;
    p.pool.stride_width = 1;
    fill_s8(input_buffer, 2 * 9 * 7 * in_channels, -128, 127);
    fill_s8(filter_buffer, out_channels * kernel * kernel * (in_channels / groups), -127, 127);
    random_requant(out_channels, 6, 12);
    status = pocket_conv2d_output_shape(&p, &height, &width);
    if (status != POCKET_OK) return 0;
    status = pocket_conv2d_s8(&p, input_buffer, filter_buffer, bias_buffer, output_buffer, 0);
    if (status != POCKET_OK) return 0;
    hash_s8(output_buffer, 2 * height * width * out_channels);
    return 1;
}

static int run_fully_connected(void)
{
    pocket_fully_connected_params p;
    p.batches = 3;
    p.input_features = 150;
    p.output_features = 13;
    p.input_zero_point = random_in(-128, 127);
    p.output_zero_point = random_in(-128, 127);
    p.output_multiplier = multiplier_buffer;
    p.output_shift = shift_buffer;
    p.act_min = -128;
    p.act_max = 127;
    fill_s8(input_buffer, 3 * 150, -128, 127);
    fill_s8(filter_buffer, 13 * 150, -127, 127);
    random_requant(13, 8, 14);
    if (pocket_fully_connected_s8(&p, input_buffer, filter_buffer, bias_buffer, output_buffer, 0) !=
        POCKET_OK) {
        return 0;
    }
    hash_s8(output_buffer, 3 * 13);
    return 1;
}

static int run_pools(void)
{
    pocket_pool_params p;
    pocket_global_pool_params g;
    int32_t height = 0, width = 0;
    p.batches = 2;
    p.input_height = 11;
    p.input_width = 10;
    p.channels = 5;
    p.filter_height = 3;
    p.filter_width = 2;
    p.stride_height = 2;
    p.stride_width = 3;
    p.pad_top = 1;
    p.pad_left = 1;
    p.pad_bottom = 2;
    p.pad_right = 0;
    p.act_min = -100;
    p.act_max = 120;
    fill_s8(input_buffer, 2 * 11 * 10 * 5, -128, 127);
    if (pocket_pool_output_shape(&p, &height, &width) != POCKET_OK) return 0;
    if (pocket_maxpool_s8(&p, input_buffer, output_buffer) != POCKET_OK) return 0;
    hash_s8(output_buffer, 2 * height * width * 5);
    if (pocket_avgpool_s8(&p, input_buffer, output_buffer) != POCKET_OK) return 0;
    hash_s8(output_buffer, 2 * height * width * 5);
    g.batches = 2;
    g.height = 11;
    g.width = 10;
    g.channels = 5;
    g.act_min = -128;
    g.act_max = 127;
    if (pocket_global_avgpool_s8(&g, input_buffer, output_buffer) != POCKET_OK) return 0;
    hash_s8(output_buffer, 2 * 5);
    return 1;
}

static int run_add(void)
{
    pocket_add_params p;
    p.element_count = 4096;
    p.input1_zero_point = random_in(-128, 127);
    p.input2_zero_point = random_in(-128, 127);
    p.output_zero_point = random_in(-128, 127);
    p.input1_multiplier = random_in(1 << 30, INT32_MAX);
    p.input2_multiplier = random_in(0, INT32_MAX);
    p.shift = random_in(-1, 3);
    p.act_min = -128;
    p.act_max = 127;
    fill_s8(input_buffer, 4096, -128, 127);
    fill_s8(input2_buffer, 4096, -128, 127);
    if (pocket_add_s8(&p, input_buffer, input2_buffer, output_buffer) != POCKET_OK) return 0;
    hash_s8(output_buffer, 4096);
    return 1;
}

static int run_clamp(void)
{
    pocket_clamp_params p;
    p.element_count = 1000;
    p.act_min = random_in(-128, 0);
    p.act_max = random_in(0, 127);
    fill_s8(input_buffer, 1000, -128, 127);
    if (pocket_clamp_s8(&p, input_buffer, output_buffer) != POCKET_OK) return 0;
    hash_s8(output_buffer, 1000);
    return 1;
}

static int run_softmax(void)
{
    pocket_softmax_params p;
    int32_t d;
    /* Any non-increasing table will do: the kernel is checked, not the table's accuracy. */
    for (d = 0; d < POCKET_SOFTMAX_EXP_TABLE_SIZE; ++d) {
        exp_table[d] = (uint16_t)((32768u >> (d / 16)) - (uint32_t)(d % 16) * (32768u >> (d / 16)) / 32u);
    }
    p.rows = 7;
    p.depth = 37;
    p.exp_table = exp_table;
    fill_s8(input_buffer, 7 * 37, -128, 127);
    if (pocket_softmax_s8(&p, input_buffer, output_buffer) != POCKET_OK) return 0;
    hash_s8(output_buffer, 7 * 37);
    return 1;
}

static int run_quantize_input(pocket_pixel_layout layout)
{
    pocket_quantize_input_params p;
    int32_t c, i;
    p.batches = 2;
    p.height = 8;
    p.width = 9;
    p.channels = 3;
    p.layout = layout;
    p.multiplier = multiplier_buffer;
    p.shift = shift_buffer;
    p.offset = offset_buffer;
    p.output_zero_point = random_in(-128, 127);
    for (c = 0; c < 3; ++c) {
        multiplier_buffer[c] = random_in(1 << 30, INT32_MAX);
        shift_buffer[c] = random_in(-2, 1);
        offset_buffer[c] = -(int64_t)random_in(0, 1 << 30) * (int64_t)random_in(0, 256);
    }
    for (i = 0; i < 2 * 8 * 9 * 3; ++i) pixel_buffer[i] = (uint8_t)random_in(0, 255);
    if (pocket_quantize_input_u8(&p, pixel_buffer, output_buffer) != POCKET_OK) return 0;
    hash_s8(output_buffer, 2 * 8 * 9 * 3);
    return 1;
}

static void run_requant_sweep(void)
{
    int32_t i;
    for (i = 0; i < 20000; ++i) {
        const int32_t acc = (int32_t)next_random();
        const int32_t multiplier = random_in(0, INT32_MAX);
        const int32_t shift = random_in(POCKET_SHIFT_MIN, POCKET_SHIFT_MAX);
        hash_u32((uint32_t)pocket_requantize(acc, multiplier, shift));
        hash_u32((uint32_t)pocket_requantize_s8(acc, multiplier, shift, random_in(-128, 127), -128, 127));
        hash_u32((uint32_t)pocket_round_div_s32(acc == INT32_MIN ? 0 : acc, random_in(1, 1000)));
    }
}

uint32_t pocket_golden_checksum(void)
{
    if (!run_conv(6, 8, 1, 3, 1, POCKET_POOL_NONE)) return 0;
    if (!run_conv(5, 10, 5, 3, 2, POCKET_POOL_MAX)) return 0; /* depthwise, multiplier 2 */
    if (!run_conv(6, 9, 3, 2, 1, POCKET_POOL_AVG)) return 0;  /* grouped */
    if (!run_conv(7, 5, 1, 1, 1, POCKET_POOL_AVG)) return 0;  /* pointwise */
    if (!run_fully_connected()) return 0;
    if (!run_pools()) return 0;
    if (!run_add()) return 0;
    if (!run_clamp()) return 0;
    if (!run_softmax()) return 0;
    if (!run_quantize_input(POCKET_PIXELS_HWC)) return 0;
    if (!run_quantize_input(POCKET_PIXELS_CHW)) return 0;
    run_requant_sweep();
    return hash_state == 0 ? 1u : hash_state;
}
