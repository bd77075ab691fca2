#!/usr/bin/python3
"""Independent weight statistics of an ONNX model, for tests/quant/test_weight_stats.cpp.

Reads the initializers with the onnx package (not pocket's importer) and computes, with numpy in
float64, for every weight and bias of a Conv, Gemm or MatMul node: count, min, max, mean,
population std, and for k = 1, 2, 3 the band mean +- k*std and the number of values strictly
outside it; the same per output channel of the weights. Prints one JSON object:

  {"tensors": [{"name", "op", "role", "count", "min", "max", "mean", "std",
                "bands": [{"k", "lo", "hi", "outside", "percent_outside"}],
                "channels": [{...same fields...}]}]}

Output channels: Conv weights [O, C/g, kh, kw] -> axis 0; Gemm B -> axis 0 if transB else 1;
MatMul B [in, out] -> axis 1. Biases get no per-channel entries (one value per channel).
"""
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def describe(x):
    x = np.asarray(x, dtype=np.float64).ravel()
    mean = float(x.mean())
    std = float(x.std())
    out = {"count": int(x.size), "min": float(x.min()), "max": float(x.max()), "mean": mean, "std": std,
           "bands": []}
    for k in (1, 2, 3):
        lo = mean - k * std
        hi = mean + k * std
        outside = int(np.count_nonzero((x < lo) | (x > hi)))
        out["bands"].append({"k": k, "lo": lo, "hi": hi, "outside": outside,
                             "percent_outside": 100.0 * outside / x.size})
    return out


def main():
    model = onnx.load(sys.argv[1])
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    tensors = []
    seen = set()
    for node in model.graph.node:
        if node.op_type not in ("Conv", "Gemm", "MatMul"):
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        for slot, role in ((1, "weight"), (2, "bias")):
            if slot >= len(node.input) or node.input[slot] not in inits or node.input[slot] in seen:
                continue
            name = node.input[slot]
            seen.add(name)
            w = inits[name].astype(np.float64)
            if role == "bias":
                axis = 0
            elif node.op_type == "Conv":
                axis = 0
            elif node.op_type == "Gemm":
                axis = 0 if attrs.get("transB", 0) else 1
            else:
                axis = 1
            entry = {"name": name, "op": node.op_type, "role": role}
            entry.update(describe(w))
            moved = np.moveaxis(w, axis, 0)
            if role == "weight":
                entry["channels"] = [describe(moved[c]) for c in range(moved.shape[0])]
            tensors.append(entry)
    json.dump({"tensors": tensors}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
