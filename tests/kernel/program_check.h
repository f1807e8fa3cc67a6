/* What the kernel self tests that run user programs share: run one, check how it ended, and
 * check that the machine got every frame back (a capability, mapping, endpoint or blocked
 * thread the program or its partners left behind would keep one). */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Free frames once the reaper is idle and the object caches have given back empty slabs;
 * waits a few seconds at most for the count to reach want. */
uint64_t settled_free_frames(uint64_t want);

/* Runs the boot module `name` as a child of the kernel (arg: its argument string, or NULL),
 * and fails the running test unless it exits with want and every frame comes back. */
void expect_program_arg(const char *name, const char *arg, int want);

static inline void expect_program(const char *name, int want)
{
    expect_program_arg(name, NULL, want);
}
