/* The boot options this kernel understands. An option joins this table together with the code
 * that acts on it: the parser reports every option it does not know. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define BOOTOPT_SCHED_DEFAULT "rr"

struct boot_options {
    char test[256];
    char bench[256];
    char trace[64];
    char sched[16];
    char ipc[16]; /* the user-level transport workloads use (kernel/abi/transport.h) */
    uint64_t quantum_us;
    uint64_t quota_procs, quota_threads, quota_mem_kib, quota_caps;
    bool pcid;
    bool fastpath;
    uint64_t smp; /* CPUs to run, boot CPU included; 0 (not given): all */
};

extern struct boot_options bootopt;

/* Parses the options part of the command line (image name already skipped), printing one
 * "cmdline: error: ..." line per problem; returns the number of problems. */
int bootopts_parse(const char *line);
bool bootopt_given(const char *name);
/* Whether the command line names the option at all, with a valid value or not: a boot asked to
 * run tests must end with a verdict even when its test= value was refused. */
bool bootopt_named(const char *name);
/* Checks `ipc=` against the transports libsys registers; an unknown one is reported, replaced
 * by the default and counted (returns the number of problems, as bootopts_parse). */
int bootopts_check_ipc(void);
