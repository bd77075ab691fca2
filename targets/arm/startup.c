/*
 * startup.c - Cortex-M3/M4 startup for QEMU's mps2 boards (mps2-an385: Cortex-M3, mps2-an386:
 * Cortex-M4), shared by the runtime's cross-target test (tests/runtime/qemu_check.sh) and the
 * code that `pocket gen --target cortex-m3|cortex-m4` writes (copied to DIR/target/).
 *
 *   reset_handler   .data copy, .bss clear, stack painting, main(), then the measured stack depth
 *                   on the semihosting console and main's status as QEMU's exit status
 *                   (SYS_EXIT_EXTENDED; run QEMU with -semihosting-config enable=on)
 *   fault_handler   any fault (e.g. a DSP instruction on a Cortex-M3): exit status 3
 *   pocket_profile_mark   an empty, never inlined function; the generated code calls it before
 *                   every layer when built with -D<PREFIX>_PROFILE, and the QEMU plugin
 *                   (targets/qemu/insncount.c) counts the instructions between its executions
 *
 * Integer only, soft float: nothing needs the FPU. The stack is the .stack section of mps2.ld
 * (at the bottom of RAM, so an overflow runs off the RAM instead of into .data/.bss); it is filled
 * with a pattern before main() and the deepest overwritten word gives the stack used.
 */
#include <stdint.h>

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];
int main(void);
void reset_handler(void);
void fault_handler(void);
void pocket_profile_mark(uint32_t layer);
void pocket_platform_write(const char *text);

#define STACK_PAINT 0xA5A5A5A5u

static void semihosting_call(uint32_t operation, const volatile void *argument)
{
    register uint32_t r0 __asm__("r0") = operation;
    register const volatile void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

/* SYS_WRITE0: a NUL-terminated string on QEMU's semihosting console (its stderr). */
void pocket_platform_write(const char *text)
{
    semihosting_call(0x04u, text);
}

static void semihosting_exit(int status)
{
    /* ADP_Stopped_ApplicationExit and the status, as SYS_EXIT_EXTENDED (0x20) expects. */
    volatile uint32_t block[2];
    block[0] = 0x20026u;
    block[1] = (uint32_t)status;
    semihosting_call(0x20u, block);
    for (;;) {
    }
}

__attribute__((noinline)) void pocket_profile_mark(uint32_t layer)
{
    __asm__ volatile("" : : "r"(layer) : "memory");
}

/* Fills the stack below the current frame (minus a margin for this function) with the pattern. */
__attribute__((noinline)) static void paint_stack(void)
{
    volatile uint32_t *word = __stack_bottom;
    volatile uint32_t *const limit = (volatile uint32_t *)__builtin_frame_address(0) - 16;
    while (word < limit) *word++ = STACK_PAINT;
}

/* Bytes between the stack top and the deepest word that no longer holds the pattern. */
static uint32_t stack_used(void)
{
    const volatile uint32_t *word = __stack_bottom;
    while (word < (const volatile uint32_t *)__stack_top && *word == STACK_PAINT) ++word;
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)word);
}

static void write_decimal(const char *before, uint32_t value, const char *after)
{
    char digits[11];
    int at = 10;
    digits[10] = '\0';
    do {
        digits[--at] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    pocket_platform_write(before);
    pocket_platform_write(digits + at);
    pocket_platform_write(after);
}

void reset_handler(void)
{
    uint32_t *from = __data_load;
    uint32_t *to = __data_start;
    uint32_t used, reserved;
    int status;
    while (to < __data_end) *to++ = *from++;
    for (to = __bss_start; to < __bss_end; ++to) *to = 0;
    paint_stack();
    status = main();
    used = stack_used();
    reserved = (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_bottom);
    write_decimal("pocket: stack used ", used, " bytes of ");
    write_decimal("", reserved, " reserved\n");
    if (used >= reserved) {
        pocket_platform_write("pocket: STACK OVERFLOW\n");
        if (status == 0) status = 4;
    }

    semihosting_exit(status);
}

void fault_handler(void)
{
    pocket_platform_write("pocket: FAULT (exception on the emulated core)\n");
    semihosting_exit(3);
}

/* Initial stack pointer, reset, then NMI, HardFault, MemManage, BusFault, UsageFault. */
__attribute__((section(".vectors"), used)) const uintptr_t pocket_vectors[8] = {
    (uintptr_t)__stack_top,   (uintptr_t)reset_handler, (uintptr_t)fault_handler,
    (uintptr_t)fault_handler, (uintptr_t)fault_handler, (uintptr_t)fault_handler,
    (uintptr_t)fault_handler, 0};
