/* Kernel threads through the scheduler core and whichever policy sched= chose. Tests of one
 * CPU's ordering pin their threads to the CPU that runs the test (the boot CPU); the last test
 * checks that unpinned work spreads over every CPU. */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "core/selftest.h"
#include "core/thread.h"
#include "lib/kstring.h"
#include "mm/frames.h"

static uint64_t counter;

static void add_with_yields(void *arg)
{
    for (uint64_t i = 0; i < (uint64_t)arg; i++) {
        __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
        if (i % 100 == 0)
            thread_yield();
    }
}

SELFTEST(sched, threads_run_and_join)
{
    struct thread *t[8];
    uint64_t frames = frames_free();
    counter = 0;
    for (int i = 0; i < 8; i++) {
        t[i] = thread_create(add_with_yields, (void *)1000ul, SCHED_PRIO_DEFAULT);
        KCHECK(t[i] != NULL);
    }
    for (int i = 0; i < 8; i++)
        KCHECK_EQ(thread_join(t[i]), 0);
    KCHECK_EQ(counter, 8000);
    KCHECK_EQ(frames_free(), frames);
}

static volatile unsigned order_log[16], order_len;

static void log_and_yield(void *arg)
{
    for (int i = 0; i < 4; i++) {
        order_log[order_len++] = (unsigned)(uint64_t)arg;
        thread_yield();
    }
}

/* Equal priorities alternate on yield under every policy (FIFO within a level). */
SELFTEST(sched, yield_alternates)
{
    order_len = 0;
    struct thread *a = thread_create_pinned(log_and_yield, (void *)1ul, SCHED_PRIO_DEFAULT);
    struct thread *b = thread_create_pinned(log_and_yield, (void *)2ul, SCHED_PRIO_DEFAULT);
    KCHECK(a && b);
    thread_join(a);
    thread_join(b);
    KCHECK_EQ(order_len, 8);
    for (unsigned i = 1; i < order_len; i++)
        KCHECK(order_log[i] != order_log[i - 1]);
}

static volatile bool other_ran;

static void spin_until_other_runs(void *arg)
{
    (void)arg;
    uint64_t start = timer_ticks();
    while (!other_ran && timer_ticks() < start + 2000)
        cpu_relax();
}

static void mark_ran(void *arg)
{
    (void)arg;
    other_ran = true;
}

/* Neither thread yields: the second only runs if the timer preempts the first. */
SELFTEST(sched, timer_preempts_a_spinning_thread)
{
    other_ran = false;
    struct thread *spinner = thread_create_pinned(spin_until_other_runs, NULL, SCHED_PRIO_DEFAULT);
    struct thread *marker = thread_create_pinned(mark_ran, NULL, SCHED_PRIO_DEFAULT);
    KCHECK(spinner && marker);
    thread_join(spinner);
    thread_join(marker);
    KCHECK(other_ran);
}

/* The kernel is built without SSE, so nothing but this asm touches xmm0 (hence no clobber). */
static void sse_owner(void *arg)
{
    uint64_t want = (uint64_t)arg, got;
    for (int i = 0; i < 50; i++) {
        __asm__ volatile("movq %0, %%xmm0" : : "r"(want));
        thread_yield();
        __asm__ volatile("movq %%xmm0, %0" : "=r"(got));
        if (got != want)
            thread_exit(1);
    }
}

SELFTEST(sched, sse_state_is_per_thread)
{
    struct thread *a = thread_create_pinned(sse_owner, (void *)0x1111222233334444ul, SCHED_PRIO_DEFAULT);
    struct thread *b = thread_create_pinned(sse_owner, (void *)0x5555666677778888ul, SCHED_PRIO_DEFAULT);
    KCHECK(a && b);
    KCHECK_EQ(thread_join(a), 0);
    KCHECK_EQ(thread_join(b), 0);
}

static volatile bool hog_stop;
static volatile uint64_t worst_lateness;

static void low_priority_hog(void *arg)
{
    (void)arg;
    while (!hog_stop)
        cpu_relax();
}

static void sleepy_high(void *arg)
{
    (void)arg;
    worst_lateness = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t deadline = timer_ticks() + 2;
        thread_sleep_until(deadline);
        uint64_t late = timer_ticks() - deadline;
        if (late > worst_lateness)
            worst_lateness = late;
    }
}

/* A thread waking while a lower-priority thread spins: under prio it must run within one tick
 * of its deadline (preemption on wake-up; the slack is a tick that may land between the wake-up
 * and the first instruction when the host is loaded); under rr it waits for the hog's quantum. */
SELFTEST(sched, wakeup_preemption_follows_policy)
{
    hog_stop = false;
    struct thread *hog = thread_create_pinned(low_priority_hog, NULL, 5);
    struct thread *high = thread_create_pinned(sleepy_high, NULL, 25);
    KCHECK(hog && high);
    thread_join(high);
    hog_stop = true;
    thread_join(hog);
    if (!strcmp(sched_policy_name(), "prio"))
        KCHECK(worst_lateness <= 1);
    else
        KCHECK(worst_lateness <= 10 + 1); /* one quantum of the hog */
}

static uint32_t cpus_seen;
static volatile bool spread_stop;

static void spin_and_note_cpu(void *arg)
{
    (void)arg;
    uint64_t start = timer_ticks();
    while (!spread_stop && timer_ticks() < start + 2000) {
        __atomic_fetch_or(&cpus_seen, 1u << this_cpu()->index, __ATOMIC_RELAXED);
        if (__atomic_load_n(&cpus_seen, __ATOMIC_RELAXED) == (1u << ncpus) - 1)
            spread_stop = true;
        cpu_relax();
    }
}

/* More spinning threads than CPUs, none yielding: placement and idle CPUs pulling work must
 * get every CPU running some of them. */
SELFTEST(sched, work_spreads_over_every_cpu)
{
    struct thread *t[2 * MAX_CPUS];
    unsigned n = 2 * ncpus;
    cpus_seen = 0;
    spread_stop = false;
    for (unsigned i = 0; i < n; i++) {
        t[i] = thread_create(spin_and_note_cpu, NULL, SCHED_PRIO_DEFAULT);
        KCHECK(t[i] != NULL);
    }
    for (unsigned i = 0; i < n; i++)
        thread_join(t[i]);
    KCHECK_EQ(cpus_seen, (1u << ncpus) - 1);
}
