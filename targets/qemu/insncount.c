/*
 * insncount.c - a QEMU TCG plugin that counts the guest instructions a program executes, and
 * the count at every execution of one marker address.
 *
 *   qemu-system-arm ... -plugin libinsncount.so,mark=0x<address>[,out=<file>]
 *
 *   total    every instruction the vCPU executed (startup code included)
 *   mark     each time the instruction at <address> executes (the first instruction of the empty
 *            function pocket_profile_mark, which the generated code calls before every layer),
 *            the number of instructions executed before it is recorded; differences of
 *            consecutive marks are the instructions of one layer
 * Output ("insncount: total N", then "insncount: mark I COUNT" per mark) goes to <file>, or to
 * stderr. The counts are a property of the guest program, identical from run to run (QEMU has no
 * timing model: these are instructions, not cycles). One vCPU. Bit 0 of the address is ignored
 * (Thumb symbols). Every instruction gets an inline 64-bit add when it is translated, so counting
 * costs little; the marker gets a callback.
 *
 * Build: cc -std=c99 -O2 -shared -fPIC -fvisibility=hidden insncount.c -o libinsncount.so
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

POCKET_PLUGIN_EXPORT int qemu_plugin_version = 1;

#define MAX_MARKS 1000000

static uint64_t executed;
static uint64_t mark_address = UINT64_MAX;
static uint64_t *marks;
static size_t mark_count;
static size_t marks_dropped;
static const char *out_path;

static void on_mark(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    (void)userdata;
    if (marks != NULL && mark_count < MAX_MARKS) {
        marks[mark_count++] = executed;
    } else {
        ++marks_dropped;
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t i;
    const size_t n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    for (i = 0; i < n; ++i) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        /* The mark callback runs before the instruction's own increment: a mark records the
         * instructions executed before the marker function. */
        if ((qemu_plugin_insn_vaddr(insn) & ~(uint64_t)1) == mark_address) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, POCKET_PLUGIN_CB_NO_REGS, NULL);
        }
        qemu_plugin_register_vcpu_insn_exec_inline(insn, POCKET_PLUGIN_INLINE_ADD_U64, &executed, 1);
    }
}

static void report_at_exit(qemu_plugin_id_t id, void *userdata)
{
    FILE *out = stderr;
    size_t i;
    (void)id;
    (void)userdata;
    if (out_path != NULL) {
        out = fopen(out_path, "w");
        if (out == NULL) {
            fprintf(stderr, "insncount: cannot write %s\n", out_path);
            out = stderr;
        }
    }
    fprintf(out, "insncount: total %llu\n", (unsigned long long)executed);
    for (i = 0; i < mark_count; ++i) {
        fprintf(out, "insncount: mark %lu %llu\n", (unsigned long)i, (unsigned long long)marks[i]);
    }
    if (marks_dropped != 0) {
        fprintf(out, "insncount: %lu marks not recorded\n", (unsigned long)marks_dropped);
    }
    if (out != stderr) {
        fclose(out);
    }
    free(marks);
    marks = NULL;
}

POCKET_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                             char **argv)
{
    int i;
    (void)info;
    for (i = 0; i < argc; ++i) {
        const char *arg = argv[i];
        if (strncmp(arg, "mark=", 5) == 0) {
            char *end = NULL;
            const unsigned long long value = strtoull(arg + 5, &end, 0);
            if (arg[5] == '\0' || end == NULL || *end != '\0') {
                fprintf(stderr, "insncount: bad address in '%s'\n", arg);
                return -1;
            }
            mark_address = (uint64_t)value & ~(uint64_t)1;
        } else if (strncmp(arg, "out=", 4) == 0) {
            out_path = arg + 4; /* argv lives as long as the plugin */
        } else {
            fprintf(stderr, "insncount: unknown argument '%s' (mark=ADDRESS, out=FILE)\n", arg);
            return -1;
        }
    }
    marks = (uint64_t *)malloc(MAX_MARKS * sizeof *marks);
    if (marks == NULL) {
        fprintf(stderr, "insncount: out of memory\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, report_at_exit, NULL);
    return 0;
}
