/* The scheduler interface, in the spirit of Linux's sched_class and sched_ext's ops: the kernel
 * core owns threads, locks and CPUs; a policy owns only the order in which runnable entities run.
 * Policies are pure C (no arch code, no locks: the core calls every op with the run queue's lock
 * held), so they are unit-tested on the host. A new policy is one file plus one SCHED_POLICY line;
 * the core finds it by name (`sched=` at boot) and never names one itself. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_PRIO_LEVELS  32 /* priorities 0..31; higher runs first */
#define SCHED_PRIO_DEFAULT 16

/* The schedulable part of a thread. Fields above `policy` are the core's contract with every
 * policy; `policy` is scratch space that belongs to the policy the entity is queued on. */
struct sched_entity {
    struct sched_entity *next, *prev; /* run-queue links, owned by the policy while queued */
    unsigned prio;                    /* 0..SCHED_PRIO_LEVELS-1 */
    unsigned cpu;                     /* the run queue it is queued on or last ran on */
    uint64_t slice_left;              /* ticks left in the current quantum */
    bool on_rq;                       /* queued (not running, not blocked) */
    bool pinned;                      /* may not migrate (idle threads, per-CPU work) */
    uint64_t policy[4];
};

/* One per CPU. `storage` is the policy's: its queues, bitmaps, counters. */
struct sched_rq {
    unsigned cpu;
    unsigned nr_queued;      /* entities queued, maintained by the policy */
    uint64_t quantum_ticks;  /* from quantum_us=, set by the core before rq_init */
    /* What runs on this CPU: 0 when idle, else its priority + 1. Written by the core under the
     * queue's lock; select_cpu reads other CPUs' without it, as a hint. */
    unsigned running;
    uint64_t storage[72];
};

struct sched_ops {
    const char *name;
    const char *description;
    void (*rq_init)(struct sched_rq *rq);
    /* Make se runnable on rq. wakeup: it was blocked (policies may favour it) rather than
     * preempted or newly created. */
    void (*enqueue)(struct sched_rq *rq, struct sched_entity *se, bool wakeup);
    /* Remove a queued se (it blocked, exited, changed priority or migrates). */
    void (*dequeue)(struct sched_rq *rq, struct sched_entity *se);
    /* Remove and return the entity to run next, or NULL when nothing is queued. */
    struct sched_entity *(*pick_next)(struct sched_rq *rq);
    /* The running entity stops running but stays runnable (preempted, or yielded when `yield`):
     * put it back where the policy wants it. */
    void (*put_prev)(struct sched_rq *rq, struct sched_entity *prev, bool yield);
    /* A timer tick while curr runs; true when curr should be preempted. */
    bool (*tick)(struct sched_rq *rq, struct sched_entity *curr);
    /* se was just enqueued on rq by a wake-up while curr runs there: preempt curr now? */
    bool (*preempt_on_wakeup)(struct sched_rq *rq, struct sched_entity *curr,
                              struct sched_entity *woken);
    /* Which CPU should se run on (new or waking)? rqs[i] is CPU i's queue. */
    unsigned (*select_cpu)(struct sched_rq *const *rqs, unsigned ncpus,
                           const struct sched_entity *se, unsigned this_cpu);
    /* Load balancing: remove and return one queued, unpinned entity from busiest for an idle
     * CPU to run, or NULL. */
    struct sched_entity *(*steal)(struct sched_rq *busiest);
    /* IPC direct switch (DESIGN.md, IPC fast path): may `from`, running on rq, hand the CPU
     * straight to the blocked `to`, without a pick and without touching the queue? False when
     * that would run `to` ahead of something the policy ranks higher; then the IPC takes the
     * slow path through the scheduler. When true the policy has accounted for the switch
     * (e.g. `to` inherits the remaining slice). from == to changes nothing. */
    bool (*donate)(struct sched_rq *rq, struct sched_entity *from, struct sched_entity *to);
};

/* Registration: a pointer in the `sched_policies` section (the kernel linker script keeps it;
 * host tests use the __start_/__stop_ symbols GNU ld provides). */
#define SCHED_POLICY(ops_)                                                                     \
    static const struct sched_ops *const sched_policy_ptr_##ops_                               \
        __attribute__((used, section("sched_policies"), aligned(sizeof(void *)))) = &ops_

/* The registered policy with this name, or NULL. */
const struct sched_ops *sched_policy_find(const char *name);
/* Writes "rr, prio, ..." (all registered names) into buf; returns buf. */
const char *sched_policy_names(char *buf, size_t size);
