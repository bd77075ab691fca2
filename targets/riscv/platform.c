/*
 * platform.c - C side of the RV32 startup for QEMU virt: clear .bss, run main() through
 * pocket_run_main (targets/common/target_support.c: stack painting, the measured stack depth on
 * the console, here the NS16550 UART at 0x10000000, QEMU's -nographic stdout), and report main's
 * status through the sifive_test finisher at 0x100000 (0x5555 = pass, code << 16 | 0x3333 = fail
 * with code), which QEMU turns into its exit status.
 */
#include <stdint.h>

extern uint32_t __bss_start[], __bss_end[];
void rv_start_c(void);
void pocket_platform_write(const char *text);
int pocket_run_main(void); /* targets/common/target_support.c */

void pocket_platform_write(const char *text)
{
    volatile uint8_t *const uart = (volatile uint8_t *)0x10000000u;
    while (*text != '\0') *uart = (uint8_t)*text++;
}

void rv_start_c(void)
{
    volatile uint32_t *finisher = (volatile uint32_t *)0x100000u;
    uint32_t *word;
    int status;
    for (word = __bss_start; word < __bss_end; ++word) *word = 0;
    status = pocket_run_main();
    *finisher = status == 0 ? 0x5555u : ((uint32_t)status << 16) | 0x3333u;
    for (;;) {
    }
}
