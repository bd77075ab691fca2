# count_report.awk - instructions per layer from the output of target/qemu/insncount.c run with
# mark=<address of pocket_profile_mark>. The generated code calls the mark before layer i and once
# after the last layer, so each inference gives (layers + 1) marks and layer i of an inference is
# the difference of marks i+1 and i (the few instructions of the call to the empty mark function
# included). Variables: target, layers (names), macs (per layer, same order).
/^insncount: total / { total = $3 }
/^insncount: mark / { mark[n++] = $4 }
END {
    count = split(layers, name, " ")
    split(macs, mac, " ")
    if (n < count + 1) { print "count_report: fewer marks than layers + 1 (was the program built with PROFILE=1?)"; exit 1 }
    inferences = int(n / (count + 1))
    first = mark[count] - mark[0]
    for (i = 1; i <= count; i++) total_macs += mac[i]
    printf "instructions on %s (QEMU TCG plugin, exact): %d in the whole program, %d inferences\n", target, total, inferences
    printf "  one inference: %d instructions, %d MACs, %.3f instructions per MAC\n", first, total_macs, total_macs ? first / total_macs : 0
    printf "  %-20s %12s %10s %10s\n", "layer", "instructions", "MACs", "per MAC"
    line = sprintf("count: inference=%d macs=%d total=%d inferences=%d", first, total_macs, total, inferences)
    for (i = 1; i <= count; i++) {
        d = mark[i] - mark[i - 1]
        printf "  %-20s %12d %10d %10s\n", name[i], d, mac[i], mac[i] ? sprintf("%.3f", d / mac[i]) : "-"
        line = line sprintf(" %s=%d", name[i], d)
    }
    # Inferences differ a little (clamps, max pooling and rounding branch on the data).
    lo = first; hi = first
    for (k = 1; k < inferences; k++) {
        d = mark[k * (count + 1) + count] - mark[k * (count + 1)]
        if (d < lo) lo = d
        if (d > hi) hi = d
    }
    printf "  over the %d inferences: %d .. %d instructions\n", inferences, lo, hi
    print line sprintf(" inference_min=%d inference_max=%d", lo, hi)
}
