#!/bin/sh
# Checks the ISA-specific objects of the fastkernels library (kernels_avx2/avx512), whose code
# must only ever run after the dispatcher has checked the CPU:
#   1. no weak (COMDAT) symbol: the linker keeps one copy of each such symbol for the whole
#      program, and if it kept the copy compiled with -mavx512f (say, of an inline helper or a
#      template), baseline code would call it on CPUs without AVX-512;
#   2. no static initialiser using vector or mask registers: initialisers run at program start
#      on every CPU.
# Usage: check_isa_objects.sh libpocket_fastkernels.a
command -v nm >/dev/null 2>&1 || { echo "nm not found: skipped"; exit 77; }
command -v objdump >/dev/null 2>&1 || { echo "objdump not found: skipped"; exit 77; }
command -v ar >/dev/null 2>&1 || { echo "ar not found: skipped"; exit 77; }
[ -f "$1" ] || { echo "no such library: $1"; exit 1; }
lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
status=0
weak=$(nm -A --defined-only "$lib" | grep -E 'kernels_(avx2|avx512)\.cpp\.o:' | awk '$2 ~ /^[WVuw]$/')
if [ -n "$weak" ]; then
  echo "weak symbols defined in ISA-specific objects (make them static or put them in an anonymous namespace):"
  echo "$weak"
  status=1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for member in $(ar t "$lib" | grep -E '^kernels_(avx2|avx512)\.cpp\.o$'); do
  (cd "$dir" && ar x "$lib" "$member") || { echo "cannot extract $member from $lib"; exit 1; }
  vector=$(objdump -d --no-show-raw-insn -j .text.startup "$dir/$member" 2>/dev/null | grep -E '%(x|y|z)mm|%k[0-7]')
  if [ -n "$vector" ]; then
    echo "$member: a static initialiser uses vector registers:"
    echo "$vector"
    status=1
  fi
done
[ $status -eq 0 ] && echo "ok: no weak symbols and no vector code in static initialisers of the ISA objects of $lib"
exit $status
