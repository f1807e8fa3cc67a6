/* sys_yield ping-pong between two threads of ubench (same address space) and between ubench
 * and the `yielder` process (two address spaces), the figure sel4bench and Linux publish as
 * yield (TARGETS.md, peers).
 *
 * One sample is one sys_yield call of ubench's measuring thread: it switches to the partner, the
 * partner runs its loop and yields back, so the sample covers two switches and is recorded as a
 * batch of two; the figure is per switch. Each switch includes a system call entry and exit, the
 * policy's put_prev and pick_next, the FPU state and register switch (and the address-space
 * switch across processes), and the partner's loop (a counter increment or loop test).
 *
 * Both sides run at the same priority on one CPU, so every yield must go to the other one under
 * rr and prio. A yield that returns to its caller (the partner on another CPU, or not queued)
 * would measure a system call instead: the benchmarks count who ran and fail rather than report
 * that. With several CPUs and no affinity system call the two may land on different CPUs; the
 * check then fails the benchmark. */
#include "libbench/libbench.h"
#include "sys.h"
#include "ubench.h"

/* Yields before the measured loop so that both sides are in their loops. */
#define SETTLE_YIELDS 4
/* A timer tick that ends a quantum between a partner's return and its count, or that gives a
 * side a second turn, moves the counts apart by one: allow a few of those per run. */
#define SLACK(n) (2 + (n) / 512)

/* Fails the benchmark unless the partner ran once per yield of the measuring thread. */
static void check_alternation(struct lb_state *s, const char *partner, uint64_t mine,
                              uint64_t theirs)
{
    if (theirs + SLACK(mine) < mine || theirs > mine + SLACK(mine))
        lb_fail(s, ub_msg("%s ran %lu times for %lu yields: the two did not alternate (one "
                          "CPU and equal priorities are needed)",
                          partner, theirs, mine));
}

/* ---- two threads of one process -------------------------------------------------------- */

static volatile uint64_t partner_rounds;
static volatile bool partner_stop;

static int same_as_partner(void *arg)
{
    (void)arg;
    while (!partner_stop) {
        partner_rounds++;
        sys_yield();
    }
    return 0;
}

static void bm_yield_same_as(struct lb_state *s)
{
    static void *stack;
    if (!stack && !(stack = ub_map(UB_STACK_SIZE))) {
        lb_fail(s, "no memory for the partner thread's stack");
        return;
    }
    partner_stop = false;
    partner_rounds = 0;
    long tid = thread_start(same_as_partner, NULL, stack, UB_STACK_SIZE);
    if (tid < 0) {
        lb_fail(s, ub_msg("thread_start failed: %ld", tid));
        return;
    }
    for (int i = 0; i < SETTLE_YIELDS; i++)
        sys_yield();
    uint64_t before = partner_rounds, mine = 0;
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        sys_yield();
        lb_stop_batch(s, t, 2);
        mine++;
    }
    uint64_t theirs = partner_rounds - before;
    partner_stop = true;
    if (sys_thread_join((int)tid, NULL) < 0)
        lb_fail(s, "SYS_THREAD_JOIN of the partner failed");
    check_alternation(s, "the partner thread", mine, theirs);
}
LB_BENCHMARK("yield/same_as", bm_yield_same_as, NULL,
             "one switch of a sys_yield ping-pong between two threads of one process (a "
             "sample is one yield there and back, recorded as two switches)");

/* ---- two processes --------------------------------------------------------------------- */

/* The measuring thread's yields, and their number when the yielder had ended: the yielder
 * yields UB_YIELDER_ROUNDS times, so with strict alternation the two are equal. The observer
 * thread waits for the yielder (it blocks, so it takes no turn) and takes the count. */
static volatile uint64_t my_yields, yields_at_exit;
static volatile bool yielder_done;
static volatile long yielder_pid;
static volatile int yielder_status;

static int observer(void *arg)
{
    (void)arg;
    int status = -1;
    long r = sys_wait((int)yielder_pid, &status);
    yields_at_exit = my_yields;
    yielder_status = r < 0 ? (int)r : status;
    yielder_done = true;
    return 0;
}

static void bm_yield_cross_as(struct lb_state *s)
{
    static void *stack;
    if (!stack && !(stack = ub_map(UB_STACK_SIZE))) {
        lb_fail(s, "no memory for the observer thread's stack");
        return;
    }
    my_yields = 0;
    yielder_done = false;
    yielder_pid = sys_spawn("yielder", PRIO_DEFAULT);
    if (yielder_pid < 0) {
        lb_fail(s, ub_msg("cannot spawn yielder: %ld", yielder_pid));
        return;
    }
    long tid = thread_start(observer, NULL, stack, UB_STACK_SIZE);
    if (tid < 0) {
        sys_kill((int)yielder_pid);
        sys_wait((int)yielder_pid, NULL);
        lb_fail(s, ub_msg("thread_start failed: %ld", tid));
        return;
    }
    for (int i = 0; i < SETTLE_YIELDS; i++, my_yields++)
        sys_yield();
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        sys_yield();
        lb_stop_batch(s, t, 2);
        my_yields++;
    }
    if (my_yields + SLACK(UB_YIELDER_ROUNDS) >= UB_YIELDER_ROUNDS)
        lb_fail(s, "more iterations than the yielder's rounds (ubench_abi.h)");
    /* Alternating, the yielder ends within its remaining rounds; one that does not run would
     * never end while this thread yields, so it is killed (and the check fails). */
    while (!yielder_done && my_yields < UB_YIELDER_ROUNDS + SLACK(UB_YIELDER_ROUNDS)) {
        sys_yield();
        my_yields++;
    }
    bool stuck = !yielder_done;
    if (stuck)
        sys_kill((int)yielder_pid);
    sys_thread_join((int)tid, NULL);
    if (stuck)
        lb_fail(s, ub_msg("yielder did not finish its %u rounds in %lu yields: the two did not "
                          "alternate (one CPU and equal priorities are needed)",
                          UB_YIELDER_ROUNDS, my_yields));
    else if (yielder_status != 0)
        lb_fail(s, ub_msg("yielder ended with status %d", yielder_status));
    else
        check_alternation(s, "yielder", yields_at_exit, UB_YIELDER_ROUNDS);
}
LB_BENCHMARK("yield/cross_as", bm_yield_cross_as, NULL,
             "one switch of a sys_yield ping-pong between ubench and the yielder process (a "
             "sample is one yield there and back, recorded as two switches; includes the "
             "address-space switch)");
