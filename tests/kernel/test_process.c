/* Processes end to end: the user test programs of docs/abi.md run in their own address spaces
 * and report through their exit status; after each, every frame must be back. Needs the user
 * programs as modules (tests/boot/cases.py passes every program in build/user). */
#include "abi/syscall.h"
#include "core/process.h"
#include "core/selftest.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "sched/sched.h"

/* Orphans are freed by the reaper thread, a little after their parent is collected. */
#define SETTLE_TICKS 3000

static int run(const char *name, int *status)
{
    struct process *p;
    int err = process_spawn(NULL, name, strlen(name), SCHED_PRIO_DEFAULT, &p);
    if (err)
        return err;
    *status = process_wait(p);
    return 0;
}

/* Free frames once the reaper is idle and the object caches have given back empty slabs. */
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

/* Runs the program and checks its status and that the machine got every frame back. */
static void expect_program(const char *name, int want)
{
    kmem_shrink_all();
    uint64_t before = frames_free();
    int status = -1;
    int err = run(name, &status);
    if (err) {
        selftest_fail(__FILE__, __LINE__, "spawn %s: %d", name, err);
        return;
    }
    if (status != want) {
        selftest_fail(__FILE__, __LINE__, "%s ended with %d, expected %d", name, status, want);
        return;
    }
    uint64_t after = settled_free_frames(before);
    if (after != before)
        selftest_fail(__FILE__, __LINE__, "%s: %ld frames not returned", name,
                      (long)(before - after));
}

SELFTEST(process, syscall_arguments_are_checked)
{
    expect_program("syscall_args", 0);
}

SELFTEST(process, memory_map_protect_unmap)
{
    expect_program("memory", 0);
    expect_program("bad_unmap_read", USER_KILLED_BASE + 14);
    expect_program("bad_protect_write", USER_KILLED_BASE + 14);
}

/* On several CPUs the reader thread runs beside the unmapping one: only a shootdown stops it. */
SELFTEST(process, unmap_reaches_every_thread_tlb)
{
    expect_program("shootdown", USER_KILLED_BASE + 14);
}

SELFTEST(process, threads_share_memory_join_suspend_resume)
{
    expect_program("threads", 0);
}

SELFTEST(process, over_100_processes_at_once)
{
    expect_program("spawner", 0);
}

SELFTEST(process, fork_bomb_is_contained_by_quotas)
{
    expect_program("forkbomb", 0);
    expect_program("hello", 0); /* and the machine still works */
}

SELFTEST(process, kill_ends_descendants_anywhere)
{
    expect_program("killer", 0);
}

/* prio_wake's own header explains the check; under round robin the woken thread waits for
 * the hogs' quanta, and the program must say so (status 5): the test can tell the two apart.
 * It times ticks with the TSC, so it runs only when named, in boot cases under icount, where
 * time is instructions and a loaded host cannot make a tick look late. */
SELFTEST_EXPLICIT(process, high_priority_wakeup_preempts_a_hog)
{
    expect_program("prio_wake", !strcmp(sched_policy_name(), "prio") ? 0 : 5);
}
