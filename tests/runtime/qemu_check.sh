#!/bin/sh
# Bit-exactness of the runtime across targets: tests/runtime/mcu/golden.c runs every kernel on
# deterministic data and hashes the results. The host build prints the checksum; the same source
# is then built for Cortex-M3, Cortex-M4 (QEMU mps2-an385/an386, semihosting exit) and RV32IMC
# (QEMU virt with the Ibex core, test-finisher exit) at -O2 and -Os, each checking the host's
# checksum and exiting 0 on a match.
# Exit status: 0 pass, 1 failure, 77 skipped (no host compiler, or no cross toolchain + QEMU).
# POCKET_GOLDEN_OVERRIDE=<checksum> replaces the host's checksum (to see the check fail).
# Usage: qemu_check.sh <runtime dir> <tests/runtime/mcu dir>
set -u
RUNTIME_DIR=${1:?usage: qemu_check.sh <runtime dir> <mcu dir>}
MCU_DIR=${2:?usage: qemu_check.sh <runtime dir> <mcu dir>}
RUNTIME_DIR=$(cd "$RUNTIME_DIR" && pwd) || exit 1
MCU_DIR=$(cd "$MCU_DIR" && pwd) || exit 1
# Startup code, linker scripts and memcpy/memset: the shared copies in targets/ (the code that
# `pocket gen` writes uses the same files).
TARGETS_DIR=$(cd "$(dirname "$0")/../../targets" && pwd) || exit 1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1  # object files of the runtime land here
have() { command -v "$1" >/dev/null 2>&1; }
WARN="-std=c99 -pedantic -Wall -Wextra -Wshadow -Wconversion -Werror"
INCLUDES="-I$RUNTIME_DIR -I$MCU_DIR"

have cc || { echo "no host cc"; exit 77; }
# shellcheck disable=SC2086
cc $WARN -O2 $INCLUDES "$MCU_DIR/golden.c" "$MCU_DIR/host_main.c" "$RUNTIME_DIR"/*.c -o "$WORK/host" || exit 1
EXPECTED=${POCKET_GOLDEN_OVERRIDE:-$("$WORK/host")} || { echo "host run failed"; exit 1; }
echo "host checksum: $EXPECTED"

failures=0
targets=0

run() { # name command...
    name=$1; shift
    if timeout 120 "$@" >"$WORK/$name.log" 2>&1; then
        echo "ok   $name"
    else
        echo "FAIL $name (exit status $?; 1 = checksum differs, 3 = fault)"
        cat "$WORK/$name.log"
        failures=$((failures + 1))
    fi
    targets=$((targets + 1))
}

if have arm-none-eabi-gcc && have qemu-system-arm; then
    for cpu in cortex-m3:mps2-an385 cortex-m4:mps2-an386; do
        core=${cpu%%:*}; machine=${cpu#*:}
        for opt in -O2 -Os; do
            elf="$WORK/$core$opt.elf"
            flags="-mcpu=$core -mthumb -mfloat-abi=soft $opt -ffunction-sections -fdata-sections"
            # shellcheck disable=SC2086
            if arm-none-eabi-gcc $flags $WARN $INCLUDES -DPOCKET_GOLDEN_EXPECTED="$EXPECTED" -c \
                   "$MCU_DIR/golden.c" -o "$WORK/golden.o" &&
               arm-none-eabi-gcc $flags $WARN $INCLUDES -DPOCKET_GOLDEN_EXPECTED="$EXPECTED" -c \
                   "$MCU_DIR/target_main.c" -o "$WORK/target_main.o" &&
               arm-none-eabi-gcc $flags -Wall -Wextra -Werror -c "$TARGETS_DIR/arm/startup.c" -o "$WORK/start.o" &&
               arm-none-eabi-gcc $flags -fno-tree-loop-distribute-patterns -c "$TARGETS_DIR/common/target_support.c" -o "$WORK/target_support.o" &&
               arm-none-eabi-gcc $flags $WARN $INCLUDES -c "$RUNTIME_DIR"/*.c &&
               arm-none-eabi-gcc $flags -nostdlib -nostartfiles -T "$TARGETS_DIR/arm/mps2.ld" -Wl,--gc-sections \
                   "$WORK/golden.o" "$WORK/target_main.o" "$WORK/start.o" "$WORK/target_support.o" ./pocket_*.o -lgcc -o "$elf"; then
                run "$core$opt" qemu-system-arm -M "$machine" -nographic -no-reboot \
                    -semihosting-config enable=on,target=native -kernel "$elf"
            else
                echo "FAIL $core$opt: build"
                failures=$((failures + 1))
            fi
            rm -f ./pocket_*.o
        done
    done
else
    echo "note: arm-none-eabi-gcc or qemu-system-arm not found, Arm targets skipped"
fi

if have riscv64-unknown-elf-gcc && have qemu-system-riscv32; then
    for opt in -O2 -Os; do
        elf="$WORK/rv32imc$opt.elf"
        # Compile with _zicsr (csrw in the startup), link with rv32imc (the rv32im multilib).
        flags="-march=rv32imc_zicsr -mabi=ilp32 -ffreestanding $opt -ffunction-sections -fdata-sections"
        # shellcheck disable=SC2086
        if riscv64-unknown-elf-gcc $flags $WARN $INCLUDES -DPOCKET_GOLDEN_EXPECTED="$EXPECTED" -c \
               "$MCU_DIR/golden.c" -o "$WORK/golden.o" &&
           riscv64-unknown-elf-gcc $flags $WARN $INCLUDES -DPOCKET_GOLDEN_EXPECTED="$EXPECTED" -c \
               "$MCU_DIR/target_main.c" -o "$WORK/target_main.o" &&
           riscv64-unknown-elf-gcc $flags -c "$TARGETS_DIR/riscv/start.S" -o "$WORK/start_s.o" &&
           riscv64-unknown-elf-gcc $flags -Wall -Wextra -Werror -c "$TARGETS_DIR/riscv/platform.c" -o "$WORK/start.o" &&
           riscv64-unknown-elf-gcc $flags -fno-tree-loop-distribute-patterns -c "$TARGETS_DIR/common/target_support.c" -o "$WORK/target_support.o" &&
           riscv64-unknown-elf-gcc $flags $WARN $INCLUDES -c "$RUNTIME_DIR"/*.c &&
           riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32 -nostdlib -nostartfiles -T "$TARGETS_DIR/riscv/virt.ld" \
               -Wl,--gc-sections -Wl,--no-warn-rwx-segments "$WORK/start_s.o" "$WORK/start.o" "$WORK/golden.o" "$WORK/target_main.o" \
               "$WORK/target_support.o" ./pocket_*.o -lgcc -o "$elf"; then
            run "rv32imc$opt" qemu-system-riscv32 -M virt -bios none -cpu lowrisc-ibex -nographic \
                -no-reboot -kernel "$elf"
        else
            echo "FAIL rv32imc$opt: build"
            failures=$((failures + 1))
        fi
        rm -f ./pocket_*.o
    done
else
    echo "note: riscv64-unknown-elf-gcc or qemu-system-riscv32 not found, RISC-V targets skipped"
fi

if [ "$targets" -eq 0 ] && [ "$failures" -eq 0 ]; then
    echo "no cross toolchain with QEMU found"
    exit 77
fi
if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all $targets emulated targets reproduce the host checksum $EXPECTED"
