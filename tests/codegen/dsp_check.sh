#!/bin/sh
# The Cortex-M4 DSP kernels (runtime/arm/*_dsp.c) give the reference kernels' bytes: builds
# tests/codegen/dsp_equivalence.c (seeded sweeps, both kernels on the same data) for Cortex-M4 at
# -O2 and -Os and runs it under QEMU mps2-an386; checks that the image really contains SMLAD and
# SXTB16, and that the same image faults on the Cortex-M3 board (mps2-an385), i.e. QEMU executes
# the DSP instructions instead of ignoring them.
# Not skipped: a missing arm-none-eabi-gcc or qemu-system-arm is a failure (scripts/packages.txt
# installs them).
# Usage: dsp_check.sh <source dir>
set -u
SRC=$(cd "${1:?usage: dsp_check.sh <source dir>}" && pwd) || exit 1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
for tool in arm-none-eabi-gcc arm-none-eabi-objdump qemu-system-arm; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool not found (install scripts/packages.txt)"; exit 1; }
done
WARN="-std=c99 -pedantic -Wall -Wextra -Wshadow -Wconversion -Werror"
failures=0
for opt in -O2 -Os; do
    flags="-mcpu=cortex-m4 -mthumb -mfloat-abi=soft $opt -g -ffunction-sections -fdata-sections"
    elf="$WORK/dsp$opt.elf"
    # The DSP files include their reference files; the other kernels are the reference ones.
    kernels=""
    for file in "$SRC"/runtime/*.c; do
        case "$(basename "$file")" in
            pocket_conv2d.c | pocket_fully_connected.c) ;;
            *) kernels="$kernels $file" ;;
        esac
    done
    # shellcheck disable=SC2086
    if ! arm-none-eabi-gcc $flags $WARN -I"$SRC/runtime" "$SRC/tests/codegen/dsp_equivalence.c" \
            "$SRC"/runtime/arm/*.c $kernels -c; then
        echo "FAIL $opt: compile"; failures=$((failures + 1)); continue
    fi
    if ! arm-none-eabi-gcc $flags -Wall -Wextra -Werror -fno-tree-loop-distribute-patterns \
            -c "$SRC/targets/arm/startup.c" -o "$WORK/startup.o" ||
       ! arm-none-eabi-gcc $flags -fno-tree-loop-distribute-patterns -c "$SRC/targets/common/target_support.c" \
            -o "$WORK/target_support.o" ||
       ! arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -nostdlib -nostartfiles \
            -T "$SRC/targets/arm/mps2.ld" -Wl,--gc-sections "$WORK"/*.o -lgcc -o "$elf"; then
        echo "FAIL $opt: link"; failures=$((failures + 1)); continue
    fi
    rm -f "$WORK"/*.o
    if [ "$(arm-none-eabi-objdump -d "$elf" | grep -cE '\s(smlad|sxtb16)\s')" -lt 4 ]; then
        echo "FAIL $opt: no SMLAD/SXTB16 in the image"; failures=$((failures + 1))
    fi
    if timeout 300 qemu-system-arm -M mps2-an386 -nographic -no-reboot \
            -semihosting-config enable=on,target=native -kernel "$elf" > "$WORK/run.log" 2>&1; then
        echo "ok   cortex-m4 $opt: $(grep dsp_equivalence "$WORK/run.log")"
    else
        echo "FAIL cortex-m4 $opt (exit status $?):"; cat "$WORK/run.log"; failures=$((failures + 1))
    fi
    timeout 60 qemu-system-arm -M mps2-an385 -nographic -no-reboot \
        -semihosting-config enable=on,target=native -kernel "$elf" > "$WORK/m3.log" 2>&1
    status=$?
    if [ "$status" -eq 3 ]; then
        echo "ok   the same image faults on the Cortex-M3 (exit status 3): the DSP instructions are executed"
    else
        echo "FAIL the image ran on the Cortex-M3 with exit status $status (expected a fault, 3)"
        cat "$WORK/m3.log"; failures=$((failures + 1))
    fi
done
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "the DSP kernels reproduce the reference kernels byte for byte"
