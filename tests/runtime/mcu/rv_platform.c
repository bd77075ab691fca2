/*
 * rv_platform.c - C side of the RV32 startup for QEMU virt: clear .bss, run main(), report the
 * status through the sifive_test finisher at 0x100000 (0x5555 = pass, code << 16 | 0x3333 =
 * fail with code), which QEMU turns into its exit status.
 */
#include <stdint.h>

extern uint32_t __bss_start[], __bss_end[];
int main(void);
void rv_start_c(void);

void rv_start_c(void)
{
    volatile uint32_t *finisher = (volatile uint32_t *)0x100000u;
    uint32_t *word;
    int status;
    for (word = __bss_start; word < __bss_end; ++word) *word = 0;
    status = main();
    *finisher = status == 0 ? 0x5555u : ((uint32_t)status << 16) | 0x3333u;
    for (;;) {
    }
}
