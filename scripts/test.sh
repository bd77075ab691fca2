#!/usr/bin/env bash
# Builds the release preset and runs the whole test suite (what CI runs).
# The tests read CIFAR-10 from $POCKET_DATA (default ../shared/data/cifar-10-batches-bin) and the
# ONNX fixtures from $POCKET_FIXTURES (default ../shared/fixtures/onnx).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release "$@"
