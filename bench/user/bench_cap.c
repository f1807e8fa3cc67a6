/* Capability lookup (TARGETS.md K-4) and notification delivery (IPC-9) from ring 3.
 *
 * IPC-9 is measured as yield/same_as is: a ping-pong between two threads on one CPU, each
 * sample one round trip recorded as a batch of two deliveries (each: a signal, the switch to
 * the waiter, its wait returning the bits).
 *
 * K-4 has no system call of its own: the cheapest one that looks a capability up is
 * SYS_CAP_INFO (handle -> table slot, generation check, type and rights read back), on the same
 * entry path as SYS_NULL. cap/check is its round trip minus SYS_NULL's, both timed in the same
 * iteration of the same loop, so the difference is the lookup and what SYS_CAP_INFO does beyond
 * SYS_NULL's dispatch: an upper bound on the check itself. cap/info is the round trip alone. */
#include "libbench/libbench.h"
#include "sys.h"
#include "ubench.h"

/* One endpoint for the capability benchmarks: any live handle will do, and an endpoint is what
 * every IPC looks up. Kept for the whole run (a table slot, nothing else). */
static long bench_cap(struct lb_state *s)
{
    static long ep;
    if (ep <= 0 && (ep = sys_endpoint_create()) < 0)
        lb_fail(s, ub_msg("sys_endpoint_create failed: %ld", ep));
    return ep;
}

static void bm_cap_info(struct lb_state *s)
{
    long ep = bench_cap(s);
    long want = CAP_INFO(CAP_TYPE_ENDPOINT, CAP_RIGHTS_ALL);
    while (ep > 0 && lb_next(s)) {
        uint64_t t = lb_start(s);
        long r = sys_cap_info((cap_t)ep);
        lb_stop(s, t);
        if (r != want)
            lb_fail(s, ub_msg("SYS_CAP_INFO returned %#lx, not %#lx", r, want));
    }
}
LB_BENCHMARK("cap/info", bm_cap_info, NULL,
             "SYS_CAP_INFO of an endpoint handle from ring 3, end to end (capability lookup on "
             "the SYS_NULL entry path)");

static void bm_cap_check(struct lb_state *s)
{
    long ep = bench_cap(s);
    long want = CAP_INFO(CAP_TYPE_ENDPOINT, CAP_RIGHTS_ALL);
    while (ep > 0 && lb_next(s)) {
        uint64_t t = lb_start(s);
        long r0 = sys_call0(SYS_NULL);
        uint64_t t1 = lb_start(s);
        long r1 = sys_cap_info((cap_t)ep);
        uint64_t t2 = lb_start(s);
        /* Both spans include one clock read; their difference is recorded through a start
         * time moved back by it, so libbench's subtraction of its empty pair leaves it. */
        uint64_t null = t1 - t, info = t2 - t1;
        lb_stop(s, lb_start(s) - (info > null ? info - null : 0));
        if (r0 != 0 || r1 != want)
            lb_fail(s, ub_msg("SYS_NULL %ld, SYS_CAP_INFO %#lx (want %#lx)", r0, r1, want));
    }
}
LB_BENCHMARK("cap/check", bm_cap_check, "K-4",
             "capability check: SYS_CAP_INFO round trip minus SYS_NULL round trip, timed back to "
             "back in each iteration of one loop (the lookup plus SYS_CAP_INFO's result)");

/* ---- notifications ----------------------------------------------------------------------- */

#define NOTIFY_PING 1ull
#define NOTIFY_QUIT 2ull

static long notify_req, notify_rep;

/* Waits for a ping, answers with one; returns on NOTIFY_QUIT (0) or an error (1). */
static int notify_partner(void *arg)
{
    (void)arg;
    for (;;) {
        long bits = sys_notify_wait((cap_t)notify_req, NOTIFY_FOREVER);
        if (bits < 0)
            return 1;
        if (bits & NOTIFY_QUIT)
            return 0;
        if (sys_signal((cap_t)notify_rep, NOTIFY_PING) < 0)
            return 1;
    }
}

static void bm_notify(struct lb_state *s)
{
    static void *stack;
    if (!stack && !(stack = ub_map(UB_STACK_SIZE))) {
        lb_fail(s, "no memory for the partner thread's stack");
        return;
    }
    if ((!notify_req && (notify_req = sys_notification_create()) < 0) ||
        (!notify_rep && (notify_rep = sys_notification_create()) < 0)) {
        lb_fail(s, ub_msg("sys_notification_create failed: %ld, %ld", notify_req, notify_rep));
        notify_req = notify_rep = 0;
        return;
    }
    long tid = thread_start(notify_partner, NULL, stack, UB_STACK_SIZE);
    if (tid < 0) {
        lb_fail(s, ub_msg("thread_start failed: %ld", tid));
        return;
    }
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        long r0 = sys_signal((cap_t)notify_req, NOTIFY_PING);
        long r1 = sys_notify_wait((cap_t)notify_rep, NOTIFY_FOREVER);
        lb_stop_batch(s, t, 2);
        if (r0 < 0 || r1 != (long)NOTIFY_PING) {
            lb_fail(s, ub_msg("signal %ld, wait %ld", r0, r1));
            break;
        }
    }
    int status = -1;
    long r = sys_signal((cap_t)notify_req, NOTIFY_QUIT);
    if (r < 0 || sys_thread_join((int)tid, &status) < 0 || status != 0)
        lb_fail(s, ub_msg("the partner thread did not quit (signal %ld, status %d)", r, status));
}
LB_BENCHMARK("ipc/notify/signal_wait/intra_as", bm_notify, "IPC-9",
             "one delivery of a notification ping-pong between two threads of ubench: signal "
             "the partner's notification and wait on ours, it waits and signals back (a sample "
             "is that round trip, recorded as two deliveries: signal, switch, wait returning)");
