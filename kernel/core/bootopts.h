/* The boot options this kernel understands. An option joins this table together with the code
 * that acts on it: the parser reports every option it does not know. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define BOOTOPT_SCHED_DEFAULT "rr"

struct boot_options {
    char test[128];
    char bench[256];
    char trace[64];
    char sched[16];
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
