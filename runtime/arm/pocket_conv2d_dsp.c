/*
 * pocket_conv2d_dsp.c - pocket_conv2d_s8 for the Cortex-M4 (ARMv7E-M DSP extension).
 *
 * A drop-in for runtime/pocket_conv2d.c: same functions, same contract (pocket_runtime.h), same
 * output bytes. The generated Makefile for cortex-m4 compiles this file INSTEAD of the reference
 * file (a per-file choice at build time). The reference file is included below, so the parameter
 * checks and the output shape are the reference's own code, not a copy.
 *
 * How it is fast
 *   - im2col per conv position: the position's window, in the filter's own order (OHWI: filter
 *     rows of filter_width * group_channels bytes, one after the other; padded input positions
 *     hold input_zero_point, grouped convolutions take their channel slice), is copied into an
 *     int8 staging buffer, then widened one word at a time with SXTB16 (bytes 0, 2) and SXTB16
 *     ROR #8 (bytes 1, 3) into an int16 buffer. The weights get the same lane order when loaded,
 *     so SMLAD multiplies matching lanes, two MACs per instruction. The K = filter_height *
 *     filter_width * group_channels inputs make (K - 1) / 4 whole words and a last word taken
 *     at K - 4 (overlapping the previous one, never past the window), whose lanes that were
 *     counted already are set to 0 in the int16 buffer, so the inner loop needs no masks.
 *   - Two conv positions x two output channels per pass (assembly, all in registers): the two
 *     positions' int16 words are interleaved so that one pointer with LDRD feeds both; per four
 *     K elements 2 LDRD + 2 LDR + 4 SXTB16 + 8 SMLAD = 16 instructions for 16 MACs.
 *   - No centring of the inputs: sum (x - zp) * w = sum x * w - zp * sum w. bias - zp * sum w is
 *     computed once per output channel and call. All of it is modulo 2^32 (SMLAD wraps); the true
 *     accumulator fits in int32 (the kernel check refuses shapes where it might not), so the
 *     wrapped result IS the true accumulator. Padding holds zp, i.e. contributes 0.
 *   - Fused max pool (and no pool, a 1x1 max pool) on the accumulators: requantization does not
 *     decrease as the accumulator grows (multipliers are >= 0, clamping is monotonic), so the
 *     requantized maximum is the maximum of the requantized values; one requantization per
 *     pooled output. Average pooling requantizes every conv output first, as the reference.
 *   - Requantization without 64-bit variable shifts (pocket_dsp_requantize in pocket_dsp.h, equal
 *     to pocket_requantize_s8 for every input).
 * Windows over POCKET_DSP_K_MAX elements are done in chunks of that size (the im2col is then
 * redone for every pair of channels: correct, slower). K < 4: the weights are copied into a
 * local word first, so that the last word is never read before the filter.
 *
 * GCC for Arm only (the inner loop is a Thumb-2 naked assembly function), at -Og or higher;
 * compiled only for cores with the DSP extension (-mcpu=cortex-m4/m7/m33 ...). Stack: a frame of
 * about 1.3 KiB (the int16 and int8 window buffers; -fstack-usage: 1320 bytes at -Os). No
 * scratch memory. Loads weights and inputs with unaligned LDR (the core must not trap unaligned
 * accesses: CCR.UNALIGN_TRP clear, the reset value).
 * One difference from the reference's contract: a layer with 2^31 - 1 or more conv position
 * evaluations (batches x output pixels x pooling window) returns POCKET_ERR_BAD_SHAPE.
 */
#include <stdint.h>
#include <string.h>

#if !defined(__OPTIMIZE__)
#error "pocket_conv2d_dsp.c needs -Og or higher (build the reference kernels, DSP=0, for -O0)"
#endif

#include "pocket_dsp.h"
#include "pocket_internal.h"
#include "pocket_requant.h"
#include "pocket_runtime.h"

/* The reference kernel, compiled into this file under another name: its checks are used below;
 * the tests compare the two. */
pocket_status pocket_conv2d_s8_reference(const pocket_conv2d_params *params, const int8_t *input,
                                         const int8_t *filter, const int32_t *bias,
                                         int8_t *output, void *scratch);
#define pocket_conv2d_s8 pocket_conv2d_s8_reference
#include "../pocket_conv2d.c"
#undef pocket_conv2d_s8

/* Window elements per im2col chunk (a multiple of 4). */
#define POCKET_DSP_K_MAX 152

/* One call of the assembly kernel (field offsets are used by the assembly; it advances w, init,
 * acc and pairs). */
typedef struct dsp_job {
    const int32_t *buffer;  /*  0: int16 pairs: per 4 K elements a even, a odd, b even, b odd */
    const int8_t *w;        /*  4: weights of the first channel of the next pair (at the chunk) */
    int32_t stride;         /*  8: bytes from one channel's weights to the next (0: same twice) */
    int32_t words;          /* 12: whole words before the last one */
    int32_t last_offset;    /* 16: offset of the last weight word from w + 4 * words: -3..0 */
    int32_t pairs;          /* 20: channel pairs, >= 1 */
    const int32_t *init;    /* 24: start sums (two channels per pair, both positions) or 0: acc */
    int32_t *acc;           /* 28: position a at acc[0..], position b at acc[DSP_ACC_B / 4..] */
} dsp_job;

/* Output channels per block; their bias terms and pooled values live on the stack. */
#define POCKET_DSP_BLOCK 16
/* Bytes from position a's sums to position b's in the accumulator array. */
#define DSP_ACC_B 64
#define DSP_STR2(x) #x
#define DSP_STR(x) DSP_STR2(x)

#define POCKET_DSP_GROUP(W0, W1)                                                               \
    "ldrd r7, r8, [r0], #8\n\t"   /* position a: lanes (0, 2), (1, 3) */                       \
    "ldrd r9, r10, [r0], #8\n\t"  /* position b */                                             \
    "ldr r12, " W0 "\n\t"                                                                      \
    "sxtb16 r11, r12\n\t"                                                                      \
    "sxtb16 r12, r12, ror #8\n\t"                                                              \
    "smlad r3, r7, r11, r3\n\t"                                                                \
    "smlad r3, r8, r12, r3\n\t"                                                                \
    "smlad r5, r9, r11, r5\n\t"                                                                \
    "smlad r5, r10, r12, r5\n\t"                                                               \
    "ldr r12, " W1 "\n\t"                                                                      \
    "sxtb16 r11, r12\n\t"                                                                      \
    "sxtb16 r12, r12, ror #8\n\t"                                                              \
    "smlad r4, r7, r11, r4\n\t"                                                                \
    "smlad r4, r8, r12, r4\n\t"                                                                \
    "smlad r6, r9, r11, r6\n\t"                                                                \
    "smlad r6, r10, r12, r6\n\t"

/*
 * For each of job->pairs channel pairs (weights w, w + stride; then w + 2 stride, ...): the sums
 * start from init (a pair of words per channel pair, the same for both positions) or from acc,
 * get the window sums of the chunk added (`words` whole words, two per loop iteration, then the
 * last word, weights at last_offset from where the whole words ended) and are stored to acc.
 * Registers in the loop: r0 the int16 buffer, r1/r2 the weights, r3-r6 the sums, r7-r10 the
 * inputs, r11/r12 the weight lanes, lr the counter.
 */
__attribute__((naked, noinline)) static void dsp_dot(__attribute__((unused)) dsp_job *job)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "ldr r12, [r0, #16]\n\t"
        "push {r0, r12}\n\t"             /* [sp] job, [sp, #4] last_offset */
        "0:\n\t"
        "ldrd r1, r12, [r0, #4]\n\t"     /* w, stride */
        "add r2, r1, r12\n\t"
        "add r12, r2, r12\n\t"
        "str r12, [r0, #4]\n\t"          /* the next pair's w */
        "ldr r12, [r0, #24]\n\t"
        "cmp r12, #0\n\t"
        "beq 4f\n\t"
        "ldrd r3, r4, [r12], #8\n\t"
        "str r12, [r0, #24]\n\t"
        "mov r5, r3\n\t"
        "mov r6, r4\n\t"
        "b 5f\n\t"
        "4:\n\t"
        "ldr r12, [r0, #28]\n\t"
        "ldrd r3, r4, [r12]\n\t"
        "ldrd r5, r6, [r12, #" DSP_STR(DSP_ACC_B) "]\n\t"
        "5:\n\t"
        "ldr lr, [r0, #12]\n\t"
        "ldr r0, [r0]\n\t"
        "lsrs lr, lr, #1\n\t"            /* pairs of words; carry: one more */
        "bcs 2f\n\t"
        "b 3f\n\t"
        "1:\n\t" POCKET_DSP_GROUP("[r1], #4", "[r2], #4")
        "2:\n\t" POCKET_DSP_GROUP("[r1], #4", "[r2], #4")
        "3:\n\t"
        "subs lr, lr, #1\n\t"
        "bpl 1b\n\t"
        "ldr lr, [sp, #4]\n\t"
        POCKET_DSP_GROUP("[r1, lr]", "[r2, lr]")
        "ldr r0, [sp]\n\t"
        "ldr r12, [r0, #28]\n\t"
        "strd r5, r6, [r12, #" DSP_STR(DSP_ACC_B) "]\n\t"
        "strd r3, r4, [r12], #8\n\t"
        "str r12, [r0, #28]\n\t"
        "ldr r12, [r0, #20]\n\t"
        "subs r12, r12, #1\n\t"
        "str r12, [r0, #20]\n\t"
        "bne 0b\n\t"
        "pop {r0, r12}\n\t"
        "pop {r4-r11, pc}\n\t");
}

/* One conv position of the current pair. */
typedef struct dsp_entry {
    const int8_t *input;  /* the batch's input, at the group's first channel */
    int32_t in_y, in_x;   /* top-left of the window (may be in the padding) */
    int32_t first, last;  /* first / last position of its pooling window */
    int8_t *out;          /* output pixel, at the block's first channel */
    const int8_t *from;   /* inside the input and c->fast: the window's first byte; else 0 */
} dsp_entry;

/* The im2col of one position inside the input, one chunk, no groups, rows of >= 4 bytes (field
 * offsets are used by the assembly). */
typedef struct dsp_rows {
    const int8_t *from;     /*  0: the window's first byte in the input */
    int32_t stride;         /*  4: bytes from one input row to the next */
    int32_t rows;           /*  8: filter_height */
    int32_t row_bytes;      /* 12: >= 4 */
    int32_t *stage;         /* 16: the int8 window, word-aligned */
    int32_t *to;            /* 20: the position's lanes in the int16 buffer */
    int32_t words;          /* 24: whole words before the last one */
    uint32_t mask;          /* 28: the last word's bytes not in the whole words */
    const int8_t *last;     /* 32: the last word: stage + K - 4 */
} dsp_rows;

typedef struct dsp_conv {
    const pocket_conv2d_params *p;
    const int8_t *input;
    const int8_t *filter;
    const int32_t *bias;
    int8_t *output;
    int32_t k;            /* window elements: filter_height * row_bytes */
    int32_t row_bytes;    /* filter_width * group_channels */
    int32_t group_channels;
    int32_t k0, k1;       /* the chunk of the window in the buffers */
    int32_t window;       /* conv positions per pooling window (1 without pooling) */
    int32_t out_height, out_width;
    int32_t first, count; /* the block of output channels */
    int32_t group_base;   /* first input channel of the block's group */
    int32_t fast;         /* dsp_rows_im2col for positions inside the input */
    dsp_job job;
    dsp_rows rows;
    dsp_entry entry[2];
    int32_t base[POCKET_DSP_BLOCK];   /* bias - input_zero_point * sum(weights), modulo 2^32 */
    int32_t pooled[POCKET_DSP_BLOCK];
    int32_t acc[2 * (DSP_ACC_B / 4)];        /* the kernel's sums: position a, then b */
    int32_t stage[1 + POCKET_DSP_K_MAX / 4]; /* int8 window chunk, from byte 4 */
    int32_t buffer[POCKET_DSP_K_MAX];        /* int16 pairs, two positions interleaved */
} dsp_conv;

static uint32_t load_word(const int8_t *at)
{
    uint32_t word;
    memcpy(&word, at, 4);
    return word;
}

/* Window bytes [at, at + length) from `source` (0: the input zero point), clipped to the chunk. */
static void put(dsp_conv *c, int32_t at, int32_t length, const int8_t *source)
{
    const int32_t lo = at > c->k0 ? at : c->k0;
    const int32_t hi = at + length < c->k1 ? at + length : c->k1;
    int8_t *const to = (int8_t *)c->stage + 4 + (lo - c->k0);
    const int32_t n = hi - lo;
    int32_t i;
    if (n <= 0) return;
    if (source == 0) {
        memset(to, c->p->input_zero_point, (uint32_t)n);
        return;
    }
    source += lo - at;
    if (n < 4) {
        for (i = 0; i < n; ++i) to[i] = source[i];
        return;
    }
    for (i = 0; i + 4 < n; i += 4) memcpy(to + i, source + i, 4);
    memcpy(to + n - 4, source + n - 4, 4);
}

/* Rows of up to this many bytes are copied by the unrolled sequence below (16 words + the last). */
#define DSP_UNROLLED_ROW 68
#define DSP_COPY(K) "ldr.w r8, [r1, #" #K "]\n\tstr.w r8, [r5, #" #K "]\n\t"
#define DSP_COPY_WORDS                                                                         \
    DSP_COPY(60) DSP_COPY(56) DSP_COPY(52) DSP_COPY(48) DSP_COPY(44) DSP_COPY(40) DSP_COPY(36) \
    DSP_COPY(32) DSP_COPY(28) DSP_COPY(24) DSP_COPY(20) DSP_COPY(16) DSP_COPY(12) DSP_COPY(8)  \
    DSP_COPY(4) DSP_COPY(0)

/* Copies the rows into stage (word loads and stores, the row's last word again at its end),
 * then widens stage into the int16 lanes: bytes 0/2 and 1/3 of each word (SXTB16, SXTB16 ROR
 * #8), the last word masked. */
__attribute__((naked, noinline)) static void dsp_rows_im2col(__attribute__((unused)) const dsp_rows *r)
{
    __asm__ volatile(
        ".balign 4\n\t"                 /* the section too: ADR below is resolved by the assembler */
        "push {r4-r10, lr}\n\t"
        "ldrd r1, r2, [r0]\n\t"          /* from, stride */
        "ldrd r3, r4, [r0, #8]\n\t"      /* rows, row_bytes */
        "ldr r5, [r0, #16]\n\t"          /* the row's place in stage */
        "sub r9, r4, #4\n\t"             /* the row's last word */
        "cmp r4, #" DSP_STR(DSP_UNROLLED_ROW) "\n\t"
        "bgt 5f\n\t"
        /* rows of up to 68 bytes: words (row_bytes - 1) / 4 - 1 .. 0 of the unrolled copy */
        "add r10, r9, #3\n\t"
        "lsr r10, r10, #2\n\t"
        "adr.w r6, 9f\n\t"
        "sub r10, r6, r10, lsl #3\n\t"
        "orr r10, r10, #1\n\t"
        "1:\n\t"
        "bx r10\n\t"
        DSP_COPY_WORDS
        "9:\n\t"
        "ldr.w r8, [r1, r9]\n\t"
        "str.w r8, [r5, r9]\n\t"
        "add r5, r5, r4\n\t"
        "add r1, r1, r2\n\t"
        "subs r3, r3, #1\n\t"
        "bne 1b\n\t"
        "b 6f\n\t"
        /* longer rows: a loop */
        "5:\n\t"
        "add r6, r1, r9\n\t"
        "mov r7, r1\n\t"
        "mov r12, r5\n\t"
        "2:\n\t"
        "ldr r8, [r7], #4\n\t"
        "str r8, [r12], #4\n\t"
        "cmp r7, r6\n\t"
        "blo 2b\n\t"
        "ldr r8, [r6]\n\t"
        "str r8, [r5, r9]\n\t"
        "add r5, r5, r4\n\t"
        "add r1, r1, r2\n\t"
        "subs r3, r3, #1\n\t"
        "bne 5b\n\t"
        "6:\n\t"
        "ldr r1, [r0, #16]\n\t"          /* widening: stage */
        "ldrd r2, r3, [r0, #20]\n\t"     /* to, words */
        "add r6, r2, r3, lsl #4\n\t"
        "cmp r2, r6\n\t"
        "beq 4f\n\t"
        "3:\n\t"
        "ldr r8, [r1], #4\n\t"
        "sxtb16 r7, r8\n\t"
        "sxtb16 r8, r8, ror #8\n\t"
        "strd r7, r8, [r2], #16\n\t"
        "cmp r2, r6\n\t"
        "bne 3b\n\t"
        "4:\n\t"
        "ldr r1, [r0, #32]\n\t"
        "ldr r8, [r1]\n\t"
        "ldr r7, [r0, #28]\n\t"
        "and r8, r8, r7\n\t"
        "sxtb16 r7, r8\n\t"
        "sxtb16 r8, r8, ror #8\n\t"
        "strd r7, r8, [r2]\n\t"
        "pop {r4-r10, pc}\n\t");
}

/* The window of one position, chunk [k0, k1), into stage; then widened into lanes `slot`. */
static void im2col(dsp_conv *c, const dsp_entry *e, int32_t slot)
{
    const pocket_conv2d_params *p = c->p;
    const int32_t channels = p->input_channels, gc = c->group_channels;
    const int32_t length = c->k1 - c->k0;
    const int32_t words = (length - 1) / 4;
    const int32_t overlap = 4 * words + 4 - length;
    int32_t row, x;
    int32_t *to = c->buffer + 2 * slot;
    const int32_t row_bytes = c->row_bytes;
    uint32_t word;
    {
        for (row = 0; row < p->filter_height; ++row) {
            const int32_t at = row * row_bytes;
            const int32_t y = e->in_y + row;
            const int8_t *line;
            int32_t lo = -e->in_x, hi = p->input_width - e->in_x;
            if (at >= c->k1 || at + row_bytes <= c->k0) continue;
            if (lo < 0) lo = 0;
            if (hi > p->filter_width) hi = p->filter_width;
            if (y < 0 || y >= p->input_height || hi <= lo) {
                put(c, at, row_bytes, 0);
                continue;
            }
            line = e->input + (y * p->input_width + e->in_x) * channels;
            put(c, at, lo * gc, 0);
            if (gc == channels) {
                put(c, at + lo * gc, (hi - lo) * gc, line + lo * channels);
            } else {
                for (x = lo; x < hi; ++x) put(c, at + x * gc, gc, line + x * channels);
            }
            put(c, at + hi * gc, (p->filter_width - hi) * gc, 0);
        }
    }
    {
        const int32_t *from_word = c->stage + 1;
        int32_t *const to_end = to + 4 * words;
        uint32_t even, odd;
        if (to < to_end) {
            __asm__ volatile(
                "1:\n\t"
                "ldr %[w], [%[f]], #4\n\t"
                "sxtb16 %[e], %[w]\n\t"
                "sxtb16 %[o], %[w], ror #8\n\t"
                "strd %[e], %[o], [%[t]], #16\n\t"
                "cmp %[t], %[end]\n\t"
                "bne 1b"
                : [f] "+r"(from_word), [t] "+r"(to), [w] "=&r"(word), [e] "=&r"(even),
                  [o] "=&r"(odd)
                : [end] "r"(to_end)
                : "cc", "memory");
        }
        word = load_word((const int8_t *)c->stage + length) & (~0u << (8 * overlap));
        __asm__("sxtb16 %0, %1" : "=r"(even) : "r"(word));
        __asm__("sxtb16 %0, %1, ror #8" : "=r"(odd) : "r"(word));
        to[0] = (int32_t)even;
        to[1] = (int32_t)odd;
    }
}

/* Position t of the sequence (batch, output pixel, position in its pooling window). */
static void entry_at(dsp_conv *c, int32_t t, dsp_entry *e)
{
    const pocket_conv2d_params *p = c->p;
    const int32_t in_window = t % c->window, pixel = t / c->window;
    const int32_t out_x = pixel % c->out_width, rest = pixel / c->out_width;
    const int32_t out_y = rest % c->out_height, batch = rest / c->out_height;
    int32_t conv_y = out_y, conv_x = out_x;
    if (p->pool.kind != POCKET_POOL_NONE) {
        conv_y = out_y * p->pool.stride_height + in_window / p->pool.filter_width;
        conv_x = out_x * p->pool.stride_width + in_window % p->pool.filter_width;
    }
    e->input = c->input + batch * p->input_height * p->input_width * p->input_channels +
               c->group_base;
    e->in_y = conv_y * p->stride_height - p->pad_top;
    e->in_x = conv_x * p->stride_width - p->pad_left;
    e->first = in_window == 0;
    e->last = in_window == c->window - 1;
    e->out = c->output + pixel * p->output_channels + c->first;
    e->from = 0;
    if (c->fast && e->in_x >= 0 && e->in_y >= 0 && e->in_x + p->filter_width <= p->input_width &&
        e->in_y + p->filter_height <= p->input_height) {
        e->from = e->input + (e->in_y * p->input_width + e->in_x) * p->input_channels;
    }
}

static void fill(dsp_conv *c, int pair)
{
    int32_t slot;
    for (slot = 0; slot <= pair; ++slot) {
        const dsp_entry *const e = &c->entry[slot];
        if (e->from != 0) {
            c->rows.from = e->from;
            c->rows.to = c->buffer + 2 * slot;
            dsp_rows_im2col(&c->rows);
        } else {
            im2col(c, e, slot);
        }
    }
}

__attribute__((noinline)) static int32_t requantize(const dsp_conv *c, int32_t acc, int32_t channel)
{
    const pocket_conv2d_params *p = c->p;
    return pocket_dsp_requantize(acc, p->output_multiplier[channel], p->output_shift[channel],
                                 p->output_zero_point, p->act_min, p->act_max);
}

/* The kernel's word counts for a chunk of `length` window elements. */
static void set_chunk(dsp_job *job, int32_t length)
{
    job->words = (length - 1) / 4;
    job->last_offset = length - 4 - 4 * job->words;
}

/* The sums of one entry (acc: its block channels) into the pooled values and the outputs. Max
 * (or no) pooling on the accumulators, one requantization per window; average pooling
 * requantizes each. */
static void take(dsp_conv *c, const dsp_entry *e, const int32_t *acc)
{
    int32_t *const pooled = c->pooled;
    const int32_t count = c->count;
    int32_t j;
    if (c->p->pool.kind == POCKET_POOL_AVG) {
        for (j = 0; j < count; ++j) {
            const int32_t v = requantize(c, acc[j], c->first + j);
            pooled[j] = e->first ? v : pooled[j] + v;
            if (e->last) e->out[j] = (int8_t)pocket_round_div_s32(pooled[j], c->window);
        }
        return;
    }
    for (j = 0; j < count; ++j) {
        int32_t v = acc[j];
        if (!e->first && pooled[j] > v) v = pooled[j];
        pooled[j] = v;
        if (e->last) e->out[j] = (int8_t)requantize(c, v, c->first + j);
    }
}

/* Both entries in one max-pooling window (the first is not its window's last): one pass. */
static void take_max_pair(dsp_conv *c)
{
    int32_t *const pooled = c->pooled;
    const int32_t *const a = c->acc, *const b = c->acc + DSP_ACC_B / 4;
    const int first = c->entry[0].first, last = c->entry[1].last;
    int8_t *const out = c->entry[1].out;
    int32_t j;
    for (j = 0; j < c->count; ++j) {
        int32_t v = a[j] > b[j] ? a[j] : b[j];
        if (!first && pooled[j] > v) v = pooled[j];
        pooled[j] = v;
        if (last) out[j] = (int8_t)requantize(c, v, c->first + j);
    }
}

/* The block's channels at the current pair of positions, chunk by chunk. */
static void run_channels(dsp_conv *c, int pair)
{
    const int8_t *const weights =
        c->k < 4 ? (const int8_t *)(c->buffer + 8) + 4 : c->filter + c->first * c->k;
    dsp_job *const job = &c->job;
    for (c->k0 = 0; c->k0 < c->k; c->k0 += POCKET_DSP_K_MAX) {
        c->k1 = c->k0 + POCKET_DSP_K_MAX < c->k ? c->k0 + POCKET_DSP_K_MAX : c->k;
        fill(c, pair);
        if (c->k > POCKET_DSP_K_MAX) set_chunk(job, c->k1 - c->k0);
        job->w = weights + c->k0;
        job->stride = c->k;
        job->init = c->k0 == 0 ? c->base : 0;
        job->acc = c->acc;
        job->pairs = c->count >> 1;
        if (job->pairs > 0) dsp_dot(job);
        if (c->count & 1) { /* the last channel twice; w, init and acc are at it */
            job->stride = 0;
            job->pairs = 1;
            dsp_dot(job);
        }
    }
    if (pair && c->p->pool.kind == POCKET_POOL_MAX && !c->entry[0].last) {
        take_max_pair(c);
        return;
    }
    take(c, &c->entry[0], c->acc);
    if (pair) take(c, &c->entry[1], c->acc + DSP_ACC_B / 4);
}

/* Fills c->base: bias[c] - input_zero_point * sum of filter c, modulo 2^32 (odd count: the last
 * one twice); K < 4: the block's weights into the int16 buffer, past the lanes. */
static void bases(dsp_conv *c)
{
    int32_t j, i;
    for (j = 0; j < c->count; ++j) {
        const int32_t channel = c->first + j;
        const int8_t *weights = c->filter + channel * c->k;
        int32_t sum = 0;
        for (i = 0; i + 4 <= c->k; i += 4) { /* four bytes: two SXTB16 lanes pairs, SMLAD by 1 */
            const uint32_t word = load_word(weights + i), ones = 0x00010001u;
            uint32_t even, odd;
            __asm__("sxtb16 %0, %1" : "=r"(even) : "r"(word));
            __asm__("sxtb16 %0, %1, ror #8" : "=r"(odd) : "r"(word));
            __asm__("smlad %0, %1, %2, %0" : "+r"(sum) : "r"(even), "r"(ones));
            __asm__("smlad %0, %1, %2, %0" : "+r"(sum) : "r"(odd), "r"(ones));
        }
        for (; i < c->k; ++i) sum += weights[i];
        c->base[j] = (int32_t)((uint32_t)(c->bias != 0 ? c->bias[channel] : 0) -
                               (uint32_t)c->p->input_zero_point * (uint32_t)sum);
    }
    if (c->count & 1) c->base[c->count] = c->base[c->count - 1];
    if (c->k < 4) { /* after the 4 words of lanes that K < 4 uses */
        memcpy((int8_t *)(c->buffer + 8) + 4, c->filter + c->first * c->k,
               (uint32_t)(c->count * c->k));
    }
}

static void run_block(dsp_conv *c)
{
    const int32_t total = c->p->batches * c->out_height * c->out_width * c->window;
    int32_t t;
    bases(c);
    c->job.buffer = c->buffer;
    set_chunk(&c->job, c->k); /* used when the window is one chunk */
    for (t = 0; t < total; t += 2) {
        const int pair = t + 1 < total;
        entry_at(c, t, &c->entry[0]);
        if (pair) entry_at(c, t + 1, &c->entry[1]);
        run_channels(c, pair);
    }
}

pocket_status pocket_conv2d_s8(const pocket_conv2d_params *params, const int8_t *input,
                               const int8_t *filter, const int32_t *bias, int8_t *output,
                               void *scratch)
{
    dsp_conv c;
    int32_t per_group, group_end;
    pocket_status status;
    (void)scratch;

    if (input == 0 || filter == 0 || output == 0) return POCKET_ERR_NULL_POINTER;
    status = pocket_conv2d_s8_check(params, bias);
    if (status != POCKET_OK) return status;
    status = pocket_conv2d_output_shape(params, &c.out_height, &c.out_width);
    if (status != POCKET_OK) return status;
    c.p = params;
    c.input = input;
    c.filter = filter;
    c.bias = bias;
    c.output = output;
    c.group_channels = params->input_channels / params->groups;
    c.row_bytes = params->filter_width * c.group_channels;
    c.k = params->filter_height * c.row_bytes;
    c.window = params->pool.kind == POCKET_POOL_NONE
                   ? 1
                   : params->pool.filter_height * params->pool.filter_width;
    /* run_block counts conv positions (each pooling window's included) in int32: shapes with
     * 2^31 - 1 or more of them, which the reference would run (billions of windows: absurd on a
     * microcontroller), get a status instead of a partial result. The only difference from the
     * reference's contract. */
    if ((uint32_t)(params->batches * c.out_height * c.out_width) > /* fits: the check's bound */
        (uint32_t)(INT32_MAX - 1) / (uint32_t)c.window) {
        return POCKET_ERR_BAD_SHAPE;
    }
    c.stage[0] = 0; /* read, masked, by the last word of a chunk under 4 bytes */
    c.fast = c.group_channels == params->input_channels && c.k <= POCKET_DSP_K_MAX &&
             c.row_bytes >= 4;
    c.rows.stride = params->input_width * params->input_channels;
    c.rows.rows = params->filter_height;
    c.rows.row_bytes = c.row_bytes;
    c.rows.stage = c.stage + 1;
    c.rows.words = (c.k - 1) / 4;
    c.rows.mask = ~0u << (8 * (4 * c.rows.words + 4 - c.k));
    c.rows.last = (const int8_t *)c.stage + c.k;
    per_group = params->output_channels / params->groups;
    for (c.first = 0; c.first < params->output_channels; c.first += c.count) {
        group_end = (c.first / per_group + 1) * per_group;
        c.count = group_end - c.first;
        if (c.count > POCKET_DSP_BLOCK) c.count = POCKET_DSP_BLOCK;
        c.group_base = (c.first / per_group) * c.group_channels;
        run_block(&c);
    }
    return POCKET_OK;
}
