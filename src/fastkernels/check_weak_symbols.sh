#!/bin/sh
# Fails when an ISA-specific object of the fastkernels library defines a weak (COMDAT) symbol:
# the linker keeps one copy of each such symbol for the whole program, and if it kept the copy
# compiled with -mavx512f (say, of an inline helper or a template), baseline code would call it
# on CPUs without AVX-512. Usage: check_weak_symbols.sh libpocket_fastkernels.a
command -v nm >/dev/null 2>&1 || { echo "nm not found: skipped"; exit 77; }
lib=$1
[ -f "$lib" ] || { echo "no such library: $lib"; exit 1; }
weak=$(nm -A --defined-only "$lib" | grep -E 'kernels_(avx2|avx512)\.cpp\.o:' | awk '$2 ~ /^[WVuw]$/')
if [ -n "$weak" ]; then
  echo "weak symbols defined in ISA-specific objects (make them static or put them in an anonymous namespace):"
  echo "$weak"
  exit 1
fi
echo "ok: no weak symbols in the ISA-specific objects of $lib"
