/*
 * startup.c - Cortex-M3/M4 startup for QEMU's mps2 boards (mps2-an385: Cortex-M3, mps2-an386:
 * Cortex-M4), shared by the runtime's cross-target test (tests/runtime/qemu_check.sh) and the
 * code that `pocket gen --target cortex-m3|cortex-m4` writes (copied to DIR/target/).
 *
 *   reset_handler   .data copy, .bss clear, then main() through pocket_run_main (stack painting
 *                   and the measured stack depth on the semihosting console), and main's status
 *                   as QEMU's exit status (SYS_EXIT_EXTENDED; run QEMU with -semihosting-config
 *                   enable=on)
 *   fault_handler   any fault (e.g. a DSP instruction on a Cortex-M3): exit status 3
 *
 * Integer only, soft float: nothing needs the FPU. The stack is the .stack section of mps2.ld
 * (at the bottom of RAM, so an overflow runs off the RAM instead of into .data/.bss); it is filled
 * with a pattern before main() and the deepest overwritten word gives the stack used.
 */
#include <stdint.h>

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];
void reset_handler(void);
void fault_handler(void);
void pocket_platform_write(const char *text);
int pocket_run_main(void); /* targets/common/target_support.c */

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

void reset_handler(void)
{
    uint32_t *from = __data_load;
    uint32_t *to = __data_start;
    while (to < __data_end) *to++ = *from++;
    for (to = __bss_start; to < __bss_end; ++to) *to = 0;
    semihosting_exit(pocket_run_main());
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
