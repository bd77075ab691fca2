/*
 * platform.c - C side of the RV32 startup for QEMU virt: clear .bss, paint the stack, run main(),
 * print the measured stack depth on the NS16550 UART at 0x10000000 (QEMU's -nographic console,
 * stdout), and report main's status through the sifive_test finisher at 0x100000 (0x5555 = pass,
 * code << 16 | 0x3333 = fail with code), which QEMU turns into its exit status.
 * pocket_profile_mark: an empty, never inlined function the generated code calls before every
 * layer when built with -D<PREFIX>_PROFILE (the QEMU plugin counts instructions between calls).
 */
#include <stdint.h>

extern uint32_t __bss_start[], __bss_end[], __stack_bottom[], __stack_top[];
int main(void);
void rv_start_c(void);
void pocket_profile_mark(uint32_t layer);
void pocket_platform_write(const char *text);

#define STACK_PAINT 0xA5A5A5A5u

void pocket_platform_write(const char *text)
{
    volatile uint8_t *const uart = (volatile uint8_t *)0x10000000u;
    while (*text != '\0') *uart = (uint8_t)*text++;
}

__attribute__((noinline)) void pocket_profile_mark(uint32_t layer)
{
    __asm__ volatile("" : : "r"(layer) : "memory");
}

__attribute__((noinline)) static void paint_stack(void)
{
    volatile uint32_t *word = __stack_bottom;
    volatile uint32_t *const limit = (volatile uint32_t *)__builtin_frame_address(0) - 16;
    while (word < limit) *word++ = STACK_PAINT;
}

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

void rv_start_c(void)
{
    volatile uint32_t *finisher = (volatile uint32_t *)0x100000u;
    uint32_t *word;
    uint32_t used, reserved;
    int status;
    for (word = __bss_start; word < __bss_end; ++word) *word = 0;
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

    *finisher = status == 0 ? 0x5555u : ((uint32_t)status << 16) | 0x3333u;
    for (;;) {
    }
}
