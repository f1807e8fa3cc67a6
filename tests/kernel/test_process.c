/* Processes end to end: the user test programs of docs/abi.md run in their own address spaces
 * and report through their exit status; after each, every frame must be back. Needs the user
 * programs as modules (tests/boot/cases.py passes every program in build/user). */
#include "program_check.h"

#include "abi/syscall.h"
#include "core/process.h"
#include "core/thread.h"
#include "core/selftest.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "sched/sched.h"

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

/* A grandchild orphaned by its parent's end is accounted under its grandparent; when the
 * grandparent ends too, the grandchild's chain must move up past it, not keep naming a freed
 * process (every later charge would walk freed memory). The grandparent and the grandchild are
 * held suspended so that the order of the ends does not depend on timing. */
SELFTEST(process, orphan_charges_move_up_when_the_grandparent_ends)
{
    kmem_shrink_all();
    uint64_t before = frames_free();
    struct process *a, *b, *c;
    if (process_spawn(NULL, "sleeper", 7, SCHED_PRIO_DEFAULT, &a)) {
        selftest_fail(__FILE__, __LINE__, "spawn the grandparent");
        return;
    }
    thread_suspend(a->threads);
    if (process_spawn(a, "sleeper", 7, SCHED_PRIO_DEFAULT, &b) ||
        process_spawn(b, "sleeper", 7, SCHED_PRIO_DEFAULT, &c)) {
        selftest_fail(__FILE__, __LINE__, "spawn the parent and the grandchild");
        thread_request(a->threads, THREAD_PENDING_KILL);
        process_wait(a);
        return;
    }
    thread_suspend(c->threads);
    bool under_b = c->charge_parent == b;
    for (unsigned i = 0; i < 5000 && !__atomic_load_n(&c->orphan, __ATOMIC_ACQUIRE); i++)
        thread_sleep(1);
    bool under_a = c->orphan && c->charge_parent == a;
    struct process *above_a = a->charge_parent;
    thread_request(a->threads, THREAD_PENDING_KILL);
    int status = process_wait(a);
    uint64_t flags = spin_lock_irqsave(&process_lock);
    bool moved_up = c->charge_parent == above_a;
    spin_unlock_irqrestore(&process_lock, flags);
    /* C, an orphan, is ended and freed by the reaper before judging, so a failure leaks
     * nothing into the tests after this one. */
    thread_request(c->threads, THREAD_PENDING_KILL);
    uint64_t after = settled_free_frames(before);
    if (!under_b || !under_a || status != PROCESS_KILLED_STATUS || !moved_up || after != before)
        selftest_fail(__FILE__, __LINE__,
                      "charge chain: under parent %d, under grandparent once orphaned %d, "
                      "grandparent status %d, moved up past the ended grandparent %d, "
                      "frames not returned %ld",
                      under_b, under_a, status, moved_up, (long)(before - after));
}
