/* target_support.c - what every emulated target (targets/arm, targets/riscv) shares:
 *   pocket_run_main      paints the stack, runs main(), prints the deepest stack use on the
 *                        platform's console and returns main's status (4 if the stack overflowed);
 *                        the startup code turns it into QEMU's exit status
 *   pocket_profile_mark  an empty, never inlined function; the generated code calls it before every
 *                        layer when built with -D<PREFIX>_PROFILE, and the QEMU plugin
 *                        (targets/qemu/insncount.c) counts the instructions between its executions
 *   memcpy, memset       for the libc-free builds (GCC may emit calls to them)
 * Compiled with -fno-tree-loop-distribute-patterns so the loops below do not become calls to
 * memcpy/memset themselves. Each platform defines pocket_platform_write (its console) and the
 * linker script __stack_bottom / __stack_top. */
#include <stddef.h>
#include <stdint.h>

extern uint32_t __stack_bottom[], __stack_top[];
int main(void);
void pocket_platform_write(const char *text);
int pocket_run_main(void);
void pocket_profile_mark(uint32_t layer);
void *memcpy(void *destination, const void *source, size_t count);
void *memset(void *destination, int value, size_t count);

#define STACK_PAINT 0xA5A5A5A5u

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

int pocket_run_main(void)
{
    uint32_t used, reserved;
    int status;
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
    return status;
}

void *memcpy(void *destination, const void *source, size_t count)
{
    unsigned char *to = (unsigned char *)destination;
    const unsigned char *from = (const unsigned char *)source;
    while (count-- > 0) *to++ = *from++;
    return destination;
}

void *memset(void *destination, int value, size_t count)
{
    unsigned char *to = (unsigned char *)destination;
    while (count-- > 0) *to++ = (unsigned char)value;
    return destination;
}
