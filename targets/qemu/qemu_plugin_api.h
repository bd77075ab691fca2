/*
 * qemu_plugin_api.h - the part of QEMU's TCG plugin C API that insncount.c uses, declared for
 * this project (Debian's qemu-system-* packages export the plugin functions and accept -plugin,
 * but ship no qemu-plugin.h). Plugin API version 1, as in QEMU 7.2; QEMU's structures stay opaque.
 * For another QEMU release compare with that release's include/qemu/qemu-plugin.h.
 */
#ifndef POCKET_QEMU_PLUGIN_API_H
#define POCKET_QEMU_PLUGIN_API_H

#include <stddef.h>
#include <stdint.h>

#define POCKET_PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;

/* enum qemu_plugin_op: QEMU_PLUGIN_INLINE_ADD_U64 */
#define POCKET_PLUGIN_INLINE_ADD_U64 0
/* enum qemu_plugin_cb_flags: QEMU_PLUGIN_CB_NO_REGS */
#define POCKET_PLUGIN_CB_NO_REGS 0

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, int op, void *ptr,
                                                uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb, int flags,
                                            void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                    void *userdata);

#endif /* POCKET_QEMU_PLUGIN_API_H */
