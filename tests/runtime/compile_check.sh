#!/bin/sh
# Compiles every runtime/*.c the way a user's toolchain will, with warnings as errors:
#   host:    cc (and clang when present) -std=c99 -pedantic -Wall -Wextra -Wshadow -Wconversion -Werror
#   Arm:     arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb (soft float) and -mcpu=cortex-m0 (no divider)
#   RISC-V:  riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32 -ffreestanding
# and checks that the cross-compiled objects reference nothing but integer helpers of libgcc and
# memcpy/memset: no float emulation (__aeabi_f*/__aeabi_d*, __*sf*/__*df*), no malloc, no stdio.
# -ffreestanding on RISC-V: Debian's rv32 toolchain ships no libc headers without picolibc; the
# runtime needs only <stdint.h>, which GCC provides freestanding.
# Exit status: 0 pass, 1 failure, 77 skipped (no compiler at all).
# Usage: compile_check.sh <runtime dir>
set -u
RUNTIME_DIR=${1:?usage: compile_check.sh <runtime dir>}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
WARN="-std=c99 -pedantic -Wall -Wextra -Wshadow -Wconversion -Werror"
failures=0
compilers=0

# Integer helpers and block moves that any C compiler may call. Everything else is a failure.
ALLOWED='^(__aeabi_(l|ul|i|ui)divmod|__aeabi_(u)?idiv|__aeabi_(llsl|llsr|lasr|lmul)|__(u)?(div|mod)(si|di)3|__(ashl|ashr|lshr|mul)di3|__mulsi3|memcpy|memset|memmove)$'

compile_all() { # name nm compiler flags...
    name=$1; nm_tool=$2; shift 2
    compilers=$((compilers + 1))
    objects=""
    for source in "$RUNTIME_DIR"/*.c; do
        object="$WORK/$name-$(basename "$source" .c).o"
        if ! "$@" $WARN -I"$RUNTIME_DIR" -c "$source" -o "$object"; then
            echo "FAIL [$name] $source"
            failures=$((failures + 1))
        else
            objects="$objects $object"
        fi
    done
    # Every public header compiles on its own.
    for header in "$RUNTIME_DIR"/*.h; do
        printf '#include "%s"\n' "$(basename "$header")" > "$WORK/$name-header.c"
        if ! "$@" $WARN -I"$RUNTIME_DIR" -c "$WORK/$name-header.c" -o "$WORK/$name-header.o"; then
            echo "FAIL [$name] $header does not compile on its own"
            failures=$((failures + 1))
        fi
    done
    if [ -n "$nm_tool" ] && [ -n "$objects" ]; then
        # shellcheck disable=SC2086
        bad=$("$nm_tool" -u $objects | awk 'NF == 2 && $1 == "U" {print $2}' | sort -u | grep -Ev "$ALLOWED")
        if [ -n "$bad" ]; then
            echo "FAIL [$name] objects reference symbols outside the integer-only allowlist:"
            echo "$bad"
            failures=$((failures + 1))
        fi
    fi
    echo "checked [$name]: $*"
}

have() { command -v "$1" >/dev/null 2>&1; }

# Types whose size or signedness differ between host and microcontroller ABIs (plain char is
# unsigned on Arm and RISC-V, long is 32-bit there), floating point, allocation and I/O have no
# place in the runtime. Comments are stripped first (the preprocessor keeps directives as is).
if have cc; then
    for file in "$RUNTIME_DIR"/*.c "$RUNTIME_DIR"/*.h; do
        hits=$(cc -fpreprocessed -dD -E -P "$file" 2>/dev/null |
               grep -nE '\b(char|short|long|float|double|malloc|calloc|realloc|free|printf|stdio)\b')
        if [ -n "$hits" ]; then
            echo "FAIL forbidden token in $file:"
            echo "$hits"
            failures=$((failures + 1))
        fi
    done
fi

if have cc; then compile_all host-cc "" cc -O2; fi
if have clang; then compile_all host-clang "" clang -O2; fi
if have arm-none-eabi-gcc; then
    compile_all cortex-m4 arm-none-eabi-nm arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -O2
    compile_all cortex-m0 arm-none-eabi-nm arm-none-eabi-gcc -mcpu=cortex-m0 -mthumb -Os
else
    echo "note: arm-none-eabi-gcc not found, Arm check skipped"
fi
if have riscv64-unknown-elf-gcc; then
    compile_all rv32imc riscv64-unknown-elf-nm riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32 -ffreestanding -O2
else
    echo "note: riscv64-unknown-elf-gcc not found, RISC-V check skipped"
fi

if [ "$compilers" -eq 0 ]; then
    echo "no C compiler found"
    exit 77
fi
if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all runtime sources compile cleanly with $compilers toolchain configurations"
exit 0
