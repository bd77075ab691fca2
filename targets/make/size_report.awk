# size_report.awk - flash and RAM of a linked image, from `size -A ELF` (first file) and
# `nm -S ELF` (second file). Variables: prefix (the model's C prefix), target, arena (planned bytes).
# Flash = the allocated sections stored in the image (code, constants, vectors, .data's initial
# values); RAM = .data + .bss + .stack (the stack reserved by the linker script).
# Symbols are sorted by kind: the model's int8 weights (*_weights), int32 biases (*_bias),
# parameters (*_multiplier, *_shift, *_params, *_exp_table, <prefix>_pixel_*), code (functions),
# the self-check's test data (<prefix>_test_* and main: not part of a deployed model), the arena.
function add_section(name, bytes) {
    if (name ~ /^\.(text|rodata|srodata|ARM\.exidx|vectors)/) { flash += bytes; text += bytes }
    else if (name ~ /^\.(data|sdata)/) { flash += bytes; ram += bytes; data += bytes }
    else if (name ~ /^\.(bss|sbss)/) { ram += bytes; bss += bytes }
    else if (name ~ /^\.stack/) { ram += bytes; stack += bytes }
}
function hex(s,    i, c, v) {
    v = 0
    s = tolower(s)
    for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
    return v
}
FNR == NR {
    if (NF == 3 && $2 ~ /^[0-9]+$/) add_section($1, $2 + 0)
    next
}
NF == 4 {
    bytes = hex($2); type = $3; name = $4
    if (name ~ ("^" prefix "_test_") || name == "main") test_data += bytes
    else if (name == prefix "_arena") arena_bytes += bytes
    else if (name ~ /_weights$/) weights += bytes
    else if (name ~ /_bias$/) biases += bytes
    else if (name ~ /_(multiplier|shift|params|exp_table|offset)$/) params += bytes
    else if (type ~ /^[tTwW]$/) code += bytes
}
END {
    other = text + data - weights - biases - params - code - test_data
    model_flash = flash - test_data
    printf "%s on %s: flash %d bytes, RAM %d bytes\n", prefix, target, flash, ram
    printf "  flash = text %d + data %d\n", text, data
    printf "          model: int8 weights %d + int32 biases %d + parameters %d + code %d + other %d (vectors, strings, padding)\n", weights, biases, params, code, other
    printf "          + test data %d (main.c's images, expected outputs and main(): not part of a deployed model)\n", test_data
    printf "  model flash (without the test data): %d bytes = weights + biases + %d\n", model_flash, model_flash - weights - biases
    printf "  RAM   = data %d + bss %d + stack %d (reserved)\n", data, bss, stack
    printf "          arena %d (planned %d) + other static data %d\n", arena_bytes, arena, data + bss - arena_bytes
    printf "size: flash=%d model_flash=%d text=%d data=%d bss=%d stack=%d ram=%d weights=%d biases=%d params=%d code=%d other=%d test_data=%d arena=%d planned_arena=%d\n", flash, model_flash, text, data, bss, stack, ram, weights, biases, params, code, other, test_data, arena_bytes, arena
}
