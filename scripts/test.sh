#!/usr/bin/env bash
# Builds the release preset and runs the whole test suite, then builds the input-handling areas
# (core, data, ONNX io, quantization) with AddressSanitizer + UBSan and runs their tests again:
# every bad-input test must pass under the sanitizers. This is what CI runs.
# The tests read CIFAR-10 from $POCKET_DATA (default ../shared/data/cifar-10-batches-bin) and the
# ONNX fixtures from $POCKET_FIXTURES (default ../shared/fixtures/onnx).
#   scripts/test.sh            both stages
#   scripts/test.sh --fast     the release stage only
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=1
if [ "${1:-}" = "--fast" ]; then sanitize=0; shift; fi
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release "$@"
if [ "$sanitize" = 1 ]; then
  echo "test.sh: sanitizer stage (dev preset: core, data, io, quant)" >&2
  cmake --preset dev >/dev/null
  cmake --build --preset dev --target test_core test_data test_io test_quant
  ctest --preset dev -L '^(core|data|io|quant)$' "$@"
fi
