#!/usr/bin/env bash
# The main job, from a fresh clone: install and build, find CIFAR-10, train the lab's LeNet-5 with
# the default recipe, evaluate it, run the lab's quantization table, quantize it to int8 and
# evaluate the integer-only model. (`pocket lab` will replace this sequence with one command.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
POCKET=build/release/bin/pocket
if [ -z "${POCKET_DATA:-}" ]; then
  for d in ./data/cifar-10-batches-bin ../shared/data/cifar-10-batches-bin; do
    if [ -f "$d/test_batch.bin" ]; then export POCKET_DATA="$d"; break; fi
  done
fi
if [ -z "${POCKET_DATA:-}" ]; then
  echo "lab: no CIFAR-10 found in ./data or ../shared/data; downloading it into ./data" >&2
  $POCKET download --dir ./data
  export POCKET_DATA=./data/cifar-10-batches-bin
fi
mkdir -p out
$POCKET train --out out/lenet.onnx "$@"
$POCKET eval out/lenet.onnx
$POCKET sweep out/lenet.onnx
$POCKET quantize out/lenet.onnx --out out/lenet.pqm --show-graph
$POCKET eval out/lenet.pqm --engine int8
