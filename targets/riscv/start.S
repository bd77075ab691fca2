/* start.S - RV32 entry for QEMU virt (-bios none starts here in M-mode): gp, sp, a trap handler
 * that reports status 3 through the test finisher, then C (platform.c). Shared by the runtime's
 * cross-target test and the code `pocket gen --target rv32imc` writes (copied to DIR/target/). */
    .section .text.start
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, __stack_top
    la t0, trap_entry
    csrw mtvec, t0
    call rv_start_c
1:  j 1b

    .align 4
trap_entry:
    li t0, 0x100000          /* sifive_test finisher */
    li t1, (3 << 16) | 0x3333  /* FAIL with code 3 */
    sw t1, 0(t0)
2:  j 2b
