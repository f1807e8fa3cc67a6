/* Memory objects and page grants end to end (docs/memory-objects.md): each test runs a user
 * program from tests/user that checks one part of the contract and reports through its exit
 * status (its header lists the stages); after each, every frame must be back, which is the
 * check that objects are freed once no capability and no mapping is left, whoever held them
 * and however they ended. Needs the user programs as modules. */
#include "abi/syscall.h"
#include "core/process.h"
#include "core/selftest.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "sched/sched.h"

/* Orphans are freed by the reaper thread, a little after their parent is collected. */
#define SETTLE_TICKS 3000

static uint64_t settled_free_frames(uint64_t want)
{
    for (unsigned i = 0; i < SETTLE_TICKS; i++) {
        kmem_shrink_all();
        if (frames_free() == want)
            break;
        thread_sleep(1);
    }
    return frames_free();
}

static void expect_program_arg(const char *name, const char *arg, int want)
{
    kmem_shrink_all();
    uint64_t before = frames_free();
    struct process *p;
    int err =
        arg ? process_spawn_arg(NULL, name, strlen(name), SCHED_PRIO_DEFAULT, arg, strlen(arg), &p)
            : process_spawn(NULL, name, strlen(name), SCHED_PRIO_DEFAULT, &p);
    if (err) {
        selftest_fail(__FILE__, __LINE__, "spawn %s: %d", name, err);
        return;
    }
    int status = process_wait(p);
    if (status != want) {
        selftest_fail(__FILE__, __LINE__, "%s ended with %d, expected %d", name, status, want);
        return;
    }
    uint64_t after = settled_free_frames(before);
    if (after != before)
        selftest_fail(__FILE__, __LINE__, "%s: %ld frames not returned", name,
                      (long)(before - after));
}

/* Bad sizes, forged, stale and wrong-type handles, missing rights, bad prot and addresses,
 * overlaps, bad grants, protect beyond a mapping's rights, too many mappings: each refused with
 * its own error and nothing changed. */
SELFTEST(memobj, refusals_have_exact_errors)
{
    expect_program_arg("memobj_refusals", NULL, 0);
}

/* Two processes sharing an object, read-only views, mapping into descendants, grants MOVE and
 * SHARE both ways, and the quota charge of an object whose creator has ended. */
SELFTEST(memobj, share_and_grant_between_processes)
{
    char arg[48];
    fmt_snprintf(arg, sizeof arg, "quota_pages=%lu", process_default_limits[RES_FRAMES]);
    expect_program_arg("memobj_share", arg, 0);
}

/* On several CPUs the reader thread runs beside the granting one: only a shootdown stops it. */
SELFTEST(memobj, grant_move_reaches_every_thread_tlb)
{
    expect_program_arg("grant_shootdown", NULL, USER_KILLED_BASE + 14);
}
