# rv32imc.mk - RV32IMC with riscv64-unknown-elf-gcc, run on QEMU virt with the Ibex core (RV32IMC
# only: an instruction outside the ISA traps). Included by the Makefile that
# `pocket gen --target rv32imc` writes, which sets PREFIX, MACRO, RUNTIME_SRC, LAYERS, LAYER_MACS
# and ARENA_BYTES.
# Compiled with _zicsr (csrw in the startup), linked with rv32imc (which selects the rv32im/ilp32
# multilib: -march=rv32imc_zicsr matches none and would silently pick rv64 libraries).
# -ffreestanding: Debian's RV32 toolchain has no libc headers; the code needs only <stdint.h>.
CROSS ?= riscv64-unknown-elf-
QEMU ?= qemu-system-riscv32
ARCH_FLAGS := -march=rv32imc_zicsr -mabi=ilp32 -ffreestanding
LINK_FLAGS := -march=rv32imc -mabi=ilp32 -Wl,--no-warn-rwx-segments
QEMU_RUN = $(QEMU) -M virt -bios none -cpu lowrisc-ibex -nographic -no-reboot -kernel
KERNEL_SRC := $(RUNTIME_SRC)
VARIANT :=
START_SRC := target/start.S target/platform.c
LDSCRIPT := target/virt.ld
include target/device.mk
