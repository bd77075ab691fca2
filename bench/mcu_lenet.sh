#!/bin/sh
# Measured cost of the generated LeNet on a Cortex-M4 (QEMU mps2-an386), printed as JSON:
# text/data/bss bytes, flash and RAM, arena bytes (planned, and its lower bound), stack bytes
# (measured by stack painting), and the exact instruction count of one inference, total and per
# layer, from the project's QEMU TCG plugin (targets/qemu/insncount.c), with instructions per MAC;
# for the DSP kernels and the reference kernels, at -Os (what the flash budget is measured at) and
# -O2.
#
# The model: the fixture lenet_bias quantized with the default settings and the lab normalisation on
# 64 CIFAR-10 training images (`pocket quantize`), generated with `pocket gen --target cortex-m4
# --main --images 1`, built and measured with the generated Makefile (make size / run / count).
#
# Usage: mcu_lenet.sh <pocket binary> <work dir> [out.json]
#   POCKET_DATA (CIFAR-10) and POCKET_FIXTURES (ONNX fixtures) default to ../shared/... beside the
#   source tree. Needs arm-none-eabi-gcc, qemu-system-arm, cc, make, python3.
set -eu
POCKET=${1:?usage: mcu_lenet.sh <pocket binary> <work dir> [out.json]}
WORK=${2:?usage: mcu_lenet.sh <pocket binary> <work dir> [out.json]}
OUT_JSON=${3:-$WORK/mcu_lenet.json}
SRC=$(cd "$(dirname "$0")/.." && pwd)
export POCKET_DATA="${POCKET_DATA:-$SRC/../shared/data/cifar-10-batches-bin}"
FIXTURES="${POCKET_FIXTURES:-$SRC/../shared/fixtures/onnx}"
for tool in arm-none-eabi-gcc qemu-system-arm cc make python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "mcu_lenet: $tool not found" >&2; exit 1; }
done
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
case "$POCKET" in /*) ;; *) POCKET="$(pwd)/$POCKET" ;; esac

"$POCKET" quantize "$FIXTURES/lenet_bias.onnx" --normalize lab --calib 64 --out "$WORK/lenet.pqm" >"$WORK/quantize.log"
rm -rf "$WORK/gen"
(cd "$WORK" && "$POCKET" gen lenet.pqm --out gen --prefix lenet --main --images 1 --target cortex-m4 --json) >"$WORK/gen.json"

for opt in -Os -O2; do
    for dsp in 1 0; do
        tag="dsp$dsp$opt"
        make --no-print-directory -s -C "$WORK/gen" size OPT="$opt" DSP="$dsp" >"$WORK/size-$tag.txt"
        make --no-print-directory -s -C "$WORK/gen" run OPT="$opt" DSP="$dsp" >"$WORK/run-$tag.txt" 2>&1
        make --no-print-directory -s -C "$WORK/gen" count OPT="$opt" DSP="$dsp" >"$WORK/count-$tag.txt" 2>&1
    done
done

python3 - "$WORK" "$OUT_JSON" <<'EOF'
import json, re, sys
work, out_path = sys.argv[1], sys.argv[2]
gen = json.load(open(f"{work}/gen.json"))

def key_values(path, prefix):
    for line in open(path):
        if line.startswith(prefix):
            return {k: int(v) for k, v in (w.split("=") for w in line[len(prefix):].split())}
    raise SystemExit(f"mcu_lenet: no '{prefix}' line in {path}")

layers = [l["name"] for l in gen["layers"]]
layer_ids = None
variants = []
for opt in ["-Os", "-O2"]:
    for dsp in [1, 0]:
        tag = f"dsp{dsp}{opt}"
        size = key_values(f"{work}/size-{tag}.txt", "size:")
        count = key_values(f"{work}/count-{tag}.txt", "count:")
        run = open(f"{work}/run-{tag}.txt").read()
        stack = int(re.search(r"stack used ([0-9]+) bytes", run).group(1))
        status = int(re.search(r"exit status ([0-9]+)", run).group(1))
        fixed = {"inference", "macs", "total", "inferences", "inference_min", "inference_max"}
        per_layer = {}
        for layer, macs in zip([k for k in count if k not in fixed], [l["macs"] for l in gen["layers"]]):
            per_layer[layer] = {"instructions": count[layer], "macs": macs,
                                "instructions_per_mac": round(count[layer] / macs, 3)}
        variants.append({
            "kernels": "dsp" if dsp else "reference",
            "opt": opt,
            "self_check_exit_status": status,
            "text_bytes": size["text"], "data_bytes": size["data"], "bss_bytes": size["bss"],
            "stack_reserved_bytes": size["stack"], "stack_used_bytes": stack,
            "flash_bytes": size["flash"],
            "model_flash_bytes": size["model_flash"],
            "model_flash_budget_bytes": size["weights"] + size["biases"] + 8192,
            "code_bytes": size["code"], "parameter_bytes": size["params"],
            "weight_bytes": size["weights"], "bias_bytes": size["biases"],
            "ram_bytes": size["ram"], "static_ram_bytes": size["data"] + size["bss"],
            "arena_bytes": size["arena"],
            "instructions_per_inference": count["inference"],
            "instructions_per_mac": round(count["inference"] / count["macs"], 3),
            "layers": per_layer,
        })
report = {
    "benchmark": "generated LeNet on Cortex-M4 (QEMU mps2-an386, arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb)",
    "model": "fixture lenet_bias, lab normalisation, default quantization, 64 calibration images",
    "macs": gen["totals"]["macs"],
    "planned_arena_bytes": gen["totals"]["arena_bytes"],
    "arena_lower_bound_bytes": gen["totals"]["arena_lower_bound"],
    "instruction_counts": "exact, QEMU TCG plugin (targets/qemu/insncount.c); one inference = the layers "
                          "(input quantization not included); instructions, not cycles",
    "variants": variants,
}
text = json.dumps(report, indent=2)
open(out_path, "w").write(text + "\n")
print(text)
EOF
