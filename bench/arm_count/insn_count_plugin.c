/* A QEMU TCG plugin (plugin API version 1, QEMU 7.2) that counts the guest instructions executed
 * and prints "insns: N" through qemu's log (-d plugin) at exit. With the argument "by_symbol=on"
 * it also prints "symbol: N NAME" per guest function (the ELF symbol qemu finds for each
 * instruction; "?" where there is none), so a count can be split by kernel.
 * QEMU 7.2 packages no plugin header, so the few API functions used are declared here with the 7.2
 * signatures. Counts one vCPU (qemu-user: one guest thread); the inline adds are not atomic, so
 * the guest must run one thread. Built by bench/arm_insn_count.py with the host gcc:
 *   gcc -shared -fPIC -O2 insn_count_plugin.c -o libinsn_count.so */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t; /* read by nothing here */
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
extern const char *qemu_plugin_insn_symbol(const struct qemu_plugin_insn *insn);
extern void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                                     void *ptr, uint64_t imm);
extern void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                       void *ptr, uint64_t imm);
extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
extern void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t insn_total;

/* Per-symbol counters. The inline adds hold pointers to them, so each lives in its own allocation
 * and never moves; the table of pointers is open-addressed by name and only grows. */
struct symbol_count {
  uint64_t count;
  char *name;
};
static struct symbol_count **symbols;
static size_t symbols_capacity, symbols_used;
static int by_symbol;

static size_t hash_name(const char *s) {
  size_t h = 1469598103934665603ull;
  for (; *s; ++s) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static void insert(struct symbol_count *entry) {
  size_t i = hash_name(entry->name) & (symbols_capacity - 1);
  while (symbols[i]) i = (i + 1) & (symbols_capacity - 1);
  symbols[i] = entry;
}

static struct symbol_count *counter_for(const char *name) {
  if (!name || !*name) name = "?";
  if (2 * (symbols_used + 1) > symbols_capacity) {
    struct symbol_count **old = symbols;
    size_t old_capacity = symbols_capacity;
    symbols_capacity = old_capacity ? 2 * old_capacity : 1024;
    symbols = calloc(symbols_capacity, sizeof *symbols);
    if (!symbols) abort();
    for (size_t i = 0; i < old_capacity; ++i)
      if (old[i]) insert(old[i]);
    free(old);
  }
  size_t i = hash_name(name) & (symbols_capacity - 1);
  for (; symbols[i]; i = (i + 1) & (symbols_capacity - 1))
    if (strcmp(symbols[i]->name, name) == 0) return symbols[i];
  struct symbol_count *entry = calloc(1, sizeof *entry);
  if (!entry || !(entry->name = strdup(name))) abort();
  symbols[i] = entry;
  ++symbols_used;
  return entry;
}

/* At translation time: every execution of this block adds its instruction count; by symbol, each
 * run of instructions of one function adds its length when its first instruction executes. */
static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insn_total, (uint64_t)n);
  if (!by_symbol) return;
  size_t start = 0;
  while (start < n) {
    struct qemu_plugin_insn *first = qemu_plugin_tb_get_insn(tb, start);
    const char *name = qemu_plugin_insn_symbol(first);
    size_t end = start + 1;
    while (end < n) {
      const char *next = qemu_plugin_insn_symbol(qemu_plugin_tb_get_insn(tb, end));
      if (next != name && (!next || !name || strcmp(next, name) != 0)) break;
      ++end;
    }
    qemu_plugin_register_vcpu_insn_exec_inline(first, QEMU_PLUGIN_INLINE_ADD_U64, &counter_for(name)->count,
                                               (uint64_t)(end - start));
    start = end;
  }
}

static void on_plugin_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  char line[4096];
  snprintf(line, sizeof line, "insns: %" PRIu64 "\n", insn_total);
  qemu_plugin_outs(line);
  for (size_t i = 0; i < symbols_capacity; ++i) {
    if (!symbols[i] || !symbols[i]->count) continue;
    snprintf(line, sizeof line, "symbol: %" PRIu64 " %s\n", symbols[i]->count, symbols[i]->name);
    qemu_plugin_outs(line);
  }
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
  (void)info;
  for (int i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "by_symbol=on") == 0) {
      by_symbol = 1;
    } else {
      fprintf(stderr, "insn_count_plugin: unknown argument %s (known: by_symbol=on)\n", argv[i]);
      return -1;
    }
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
  qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
  return 0;
}
