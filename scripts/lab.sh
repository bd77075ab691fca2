#!/usr/bin/env bash
# The main job, from a fresh clone: install the packages and build (scripts/setup.sh), find CIFAR-10
# (or download it, checksum-verified), then `pocket lab`: the whole lab in one command, with its
# report in out/ (report.html, report.md, results.json; see docs/lab.md).
#   scripts/lab.sh                 the full lab (about a minute on 2 cores, once built)
#   scripts/lab.sh --quick         a reduced run (1 epoch, fewer images)
#   scripts/lab.sh --resume        reuse the model trained by an earlier run in out/
# Any other `pocket lab` option can be added; `--out DIR` replaces out/.
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
exec $POCKET lab --out out "$@"
