#include "core/bootopts.h"

#include <stddef.h>

#include "abi/transport.h"
#include "arch/x86_64/percpu.h"
#include "core/cmdline.h"
#include "core/console.h"
#include "lib/fmt.h"
#include "lib/kstring.h"

struct boot_options bootopt = {
    .sched = BOOTOPT_SCHED_DEFAULT,
    .ipc = TRANSPORT_DEFAULT,
    .quantum_us = 10000,
    .quota_procs = 128,
    .quota_threads = 512,
    .quota_mem_kib = 64 * 1024,
    .quota_caps = 64,
    .pcid = true,
    .fastpath = true,
};
static uint64_t seen;

static const struct opt_desc options[] = {
    {.name = "test",
     .type = OPT_STRING,
     .offset = offsetof(struct boot_options, test),
     .size = sizeof(bootopt.test),
     .help = "run in-kernel self tests: all, or a comma list of suites / suite.name"},
    {.name = "bench",
     .type = OPT_STRING,
     .offset = offsetof(struct boot_options, bench),
     .size = sizeof(bootopt.bench),
     .help = "run in-kernel benchmarks: all, or a comma list of names and globs"},
    {.name = "trace",
     .type = OPT_STRING,
     .offset = offsetof(struct boot_options, trace),
     .size = sizeof(bootopt.trace),
     .help = "record trace events: off, on, or a comma list of syscall,ipc,sched,irq,exc,mark"},
    {.name = "sched",
     .type = OPT_STRING,
     .offset = offsetof(struct boot_options, sched),
     .size = sizeof(bootopt.sched),
     .help = "scheduling policy by name (one file each in sched/; an unknown name lists them)"},
    {.name = "ipc",
     .type = OPT_STRING,
     .offset = offsetof(struct boot_options, ipc),
     .size = sizeof(bootopt.ipc),
     .help = "user-level transport the workloads use: fastpath, ring or zcopy (docs/transport.md)"},
    {.name = "quantum_us",
     .type = OPT_UINT,
     .offset = offsetof(struct boot_options, quantum_us),
     .min = 1000,
     .max = 1000000,
     .help = "scheduler quantum in microseconds (a multiple of the 1 ms tick)"},
    {.name = "quota_procs",
     .type = OPT_UINT,
     .offset = offsetof(struct boot_options, quota_procs),
     .min = 1,
     .max = 65536,
     .help = "processes a process started by the kernel and all its descendants may hold"},
    {.name = "quota_threads",
     .type = OPT_UINT,
     .offset = offsetof(struct boot_options, quota_threads),
     .min = 1,
     .max = 1u << 20,
     .help = "threads such a process tree may hold"},
    {.name = "quota_mem_kib",
     .type = OPT_UINT,
     .offset = offsetof(struct boot_options, quota_mem_kib),
     .min = 256,
     .max = 1ul << 34,
     .help = "memory (pages, page tables, kernel stacks) such a process tree may hold, in KiB"},
    {.name = "quota_caps",
     .type = OPT_UINT,
     .offset = offsetof(struct boot_options, quota_caps),
     .min = 1,
     .max = 4096,
     .help = "capabilities each process's table holds"},
    {.name = "fastpath",
     .type = OPT_BOOL,
     .offset = offsetof(struct boot_options, fastpath),
     .help = "IPC register fast path for call and reply_recv (off: every IPC takes the slow path)"},
    {.name = "pcid",
     .type = OPT_BOOL,
     .offset = offsetof(struct boot_options, pcid),
     .help = "tag TLB entries with PCIDs when the CPU has them (off: every switch flushes)"},
    {.name = "smp",
     .type = OPT_UINT,
     .offset = offsetof(struct boot_options, smp),
     .min = 1,
     .max = MAX_CPUS,
     .help = "CPUs to run, the boot CPU included (default: every CPU the firmware lists)"},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static void report(void *ctx, const char *message)
{
    (void)ctx;
    kprintf("cmdline: error: %s\n", message);
}

static const char *parsed_line;

int bootopts_parse(const char *line)
{
    parsed_line = line;
    return cmdline_parse(line, options, NOPTIONS, &bootopt, &seen, report, NULL);
}

bool bootopt_given(const char *name)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (!strcmp(options[i].name, name))
            return (seen >> i) & 1;
    return false;
}

bool bootopt_named(const char *name)
{
    size_t len = strlen(name);
    for (const char *p = parsed_line; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!strncmp(p, name, len) && p[len] == '=')
            return true;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            p++;
    }
    return false;
}

int bootopts_check_ipc(void)
{
    static const char *const known[] = TRANSPORT_NAMES;
    char list[64] = "";
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (!strcmp(bootopt.ipc, known[i]))
            return 0;
        size_t len = strlen(list);
        fmt_snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", known[i]);
    }
    kprintf("cmdline: error: option 'ipc': no transport '%s' (known: %s); using %s\n", bootopt.ipc,
            list, TRANSPORT_DEFAULT);
    memcpy(bootopt.ipc, TRANSPORT_DEFAULT, sizeof(TRANSPORT_DEFAULT));
    return 1;
}
