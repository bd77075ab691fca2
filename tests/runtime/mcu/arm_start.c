/*
 * arm_start.c - minimal Cortex-M startup for QEMU's mps2 boards: vector table, .data copy,
 * .bss clear, main(), then the exit status through Arm semihosting (SYS_EXIT_EXTENDED), which
 * QEMU turns into its own exit status (run with -semihosting-config enable=on).
 */
#include <stdint.h>

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];
int main(void);
void reset_handler(void);
void fault_handler(void);

static void semihosting_exit(int status)
{
    /* ADP_Stopped_ApplicationExit and the status, as SYS_EXIT_EXTENDED (0x20) expects. */
    volatile uint32_t block[2];
    register uint32_t operation __asm__("r0") = 0x20u;
    register volatile uint32_t *argument __asm__("r1") = block;
    block[0] = 0x20026u;
    block[1] = (uint32_t)status;
    __asm__ volatile("bkpt 0xAB" : "+r"(operation) : "r"(argument) : "memory");
    for (;;) {
    }
}

void reset_handler(void)
{
    uint32_t *from = __data_load;
    uint32_t *to = __data_start;
    while (to < __data_end) *to++ = *from++;
    for (to = __bss_start; to < __bss_end; ++to) *to = 0;
    semihosting_exit(main());
}

void fault_handler(void)
{
    semihosting_exit(3);
}

/* Initial stack pointer, reset, then NMI, HardFault, MemManage, BusFault, UsageFault. */
__attribute__((section(".vectors"), used)) const uintptr_t pocket_vectors[8] = {
    (uintptr_t)__stack_top,   (uintptr_t)reset_handler, (uintptr_t)fault_handler,
    (uintptr_t)fault_handler, (uintptr_t)fault_handler, (uintptr_t)fault_handler,
    (uintptr_t)fault_handler, 0};
