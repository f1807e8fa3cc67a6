/* The SPSC ring on one CPU (issue 5; DESIGN.md mechanism 2): what one 64-byte message costs
 * through ipc/spsc_ring, per message, unbatched and in batches, with and without wake-ups.
 *
 * ring/poll/batch:K: one thread plays producer and consumer in turn, each sample one
 * spsc_ring_send of K messages then one spsc_ring_recv of them (the copy in, one store of the
 * producer's index, the check whether the consumer asked to be woken; the copy out, one store of
 * the consumer's index, the check whether the producer asked), recorded as K messages. Nobody
 * ever sleeps, so no system call is made: what a polling consumer on another CPU costs in ring
 * code, without the cache-line transfers that only cycles mode can see. The benchmark fails
 * unless the ring's counters show no wake-up asked for.
 *
 * ring/notify/batch:K: a producer (ubench, measured) and a consumer thread on ubench's CPU, a
 * ring of max(K, 2) slots. The producer sends K messages at a time and, finding the ring full,
 * announces it and sleeps (SYS_NOTIFY_WAIT); the consumer, which had announced sleep on the
 * empty ring, was signalled (SYS_SIGNAL) by the producer's send, drains the ring K messages per
 * recv, signals the producer and sleeps again. A sample is one ring-full of messages: per side
 * one SYS_SIGNAL, one SYS_NOTIFY_WAIT and one switch to it, recorded as max(K, 2) messages (so
 * batch:1 has one wake-up of each side per two messages). The counters give the signals and
 * sleeps of the measured loop, and the consumer checks every message's sequence number. */
#include "libbench/libbench.h"
#include "sys.h"
#include "ub_ring.h"
#include "ubench.h"

/* Slots of the polling ring: larger than any batch, so a send never finds it full. */
#define POLL_SLOTS 64
/* Word 1 of the message that ends the consumer thread. */
#define QUIT 0x71u

/* ---- polling, one thread --------------------------------------------------------------- */

static void bm_ring_poll(struct lb_state *s)
{
    uint32_t k = (uint32_t)lb_arg(s);
    struct ub_ring r;
    struct spsc_msg in[UB_RING_MAX_BATCH], out[UB_RING_MAX_BATCH];
    if (!ub_ring_open(s, &r, 0, POLL_SLOTS, 0))
        return;
    uint64_t seq = 0;
    while (lb_next(s)) {
        for (uint32_t i = 0; i < k; i++)
            ub_ring_msg(&in[i], seq + i);
        uint64_t t = lb_start(s);
        int sent = spsc_ring_send(&r.p, in, k, &r.pw);
        int got = spsc_ring_recv(&r.c, out, k, &r.cw);
        lb_stop_batch(s, t, k);
        if (sent != 0 || got != (int)k) {
            lb_fail(s, ub_msg("send %d, recv %d of %u messages", sent, got, k));
            break;
        }
        for (uint32_t i = 0; i < k; i++, seq++) {
            if (!ub_ring_msg_ok(&out[i], seq)) {
                lb_fail(s, "a message came out of the ring changed or out of order");
                break;
            }
        }
    }
    struct spsc_stats ps = r.p.stats, cs = r.c.stats;
    lb_counter(s, "ring_msgs", ps.msgs);
    lb_counter(s, "ring_signals", ps.notifies + cs.notifies);
    lb_counter(s, "ring_sleeps", ps.sleeps + cs.sleeps);
    if (ps.notifies + cs.notifies + ps.sleeps + cs.sleeps)
        lb_fail(s, "a side of the polling ring asked for a wake-up");
    ub_ring_close(&r);
}

/* ---- two threads, notifications -------------------------------------------------------- */

struct stream {
    struct ub_ring *r;
    uint32_t batch;
};

#define STREAM_RECV  1 /* spsc_ring_recv failed */
#define STREAM_ORDER 2 /* a message out of sequence or changed */

/* Keeps draining after a bad message, so that the producer never waits for ever on a full
 * ring; the status says what went wrong once QUIT arrives. */
static int stream_consumer(void *arg)
{
    struct stream *st = arg;
    struct spsc_msg buf[UB_RING_MAX_BATCH];
    int status = 0;
    for (uint64_t seq = 0;;) {
        int n = spsc_ring_recv(&st->r->c, buf, st->batch, &st->r->cw);
        if (n <= 0)
            return STREAM_RECV;
        for (int i = 0; i < n; i++, seq++) {
            if (!ub_ring_msg_ok(&buf[i], seq))
                status = STREAM_ORDER;
            if (buf[i].word[1] == QUIT)
                return status;
        }
    }
}

static void bm_ring_notify(struct lb_state *s)
{
    static void *stack;
    uint32_t k = (uint32_t)lb_arg(s);
    uint32_t per_sample = k < 2 ? 2 : k; /* the ring's slots: one ring-full per sample */
    struct ub_ring r;
    struct stream st = {&r, k};
    struct spsc_msg msgs[UB_RING_MAX_BATCH];
    if (!stack && !(stack = ub_map(UB_STACK_SIZE))) {
        lb_fail(s, "no memory for the consumer thread's stack");
        return;
    }
    if (!ub_ring_open(s, &r, 0, per_sample, 0))
        return;
    long tid = thread_start(stream_consumer, &st, stack, UB_STACK_SIZE);
    if (tid < 0) {
        lb_fail(s, ub_msg("thread_start of the consumer failed: %ld", tid));
        ub_ring_close(&r);
        return;
    }
    uint64_t seq = 0, signals = 0, sleeps = 0;
    bool first = true;
    while (lb_next(s)) {
        for (uint32_t i = 0; i < per_sample; i++)
            ub_ring_msg(&msgs[i], seq + i);
        /* The consumer's counters move only while this thread sleeps, i.e. inside the sample. */
        struct spsc_stats p0 = r.p.stats, c0 = r.c.stats;
        int err = 0;
        uint64_t t = lb_start(s);
        for (uint32_t i = 0; i < per_sample && !err; i += k)
            err = spsc_ring_send(&r.p, &msgs[i], k, &r.pw);
        lb_stop_batch(s, t, per_sample);
        if (err) {
            lb_fail(s, ub_msg("spsc_ring_send failed: %d", err));
            break;
        }
        seq += per_sample;
        /* The first sample starts the stream: the consumer has not announced sleep yet. */
        if (!first) {
            signals += r.p.stats.notifies - p0.notifies + r.c.stats.notifies - c0.notifies;
            sleeps += r.p.stats.sleeps - p0.sleeps + r.c.stats.sleeps - c0.sleeps;
        }
        first = false;
    }
    struct spsc_msg quit;
    ub_ring_msg(&quit, seq);
    quit.word[1] = QUIT;
    int err = spsc_ring_send(&r.p, &quit, 1, &r.pw);
    int status = -1;
    if (err || sys_thread_join((int)tid, &status) < 0 || status != 0)
        lb_fail(s, ub_msg("the consumer ended with status %d (quit sent: %d)", status, err));
    lb_counter(s, "ring_msgs", r.p.stats.msgs);
    lb_counter(s, "ring_signals", signals);
    lb_counter(s, "ring_sleeps", sleeps);
    ub_ring_close(&r);
}

#define POLL_DESC(k)                                                                               \
    "one 64-byte message through the SPSC ring, " k ", one thread as producer then consumer, "     \
    "nobody sleeps (no system call): send + recv with their event-suppression checks"
#define NOTIFY_DESC(k, slots)                                                                      \
    "one 64-byte message through the SPSC ring, " k ", producer and consumer threads on one "      \
    "CPU, ring of " slots " slots: per ring-full one SYS_SIGNAL + SYS_NOTIFY_WAIT + switch "       \
    "each way"
LB_BENCHMARK_ARG("ring/poll/batch:1", bm_ring_poll, 1, "IPC-8", POLL_DESC("unbatched"));
LB_BENCHMARK_ARG("ring/poll/batch:16", bm_ring_poll, 16, NULL, POLL_DESC("in batches of 16"));
LB_BENCHMARK_ARG("ring/poll/batch:32", bm_ring_poll, 32, NULL, POLL_DESC("in batches of 32"));
LB_BENCHMARK_ARG("ring/notify/batch:1", bm_ring_notify, 1, "IPC-6", NOTIFY_DESC("unbatched", "2"));
LB_BENCHMARK_ARG("ring/notify/batch:16", bm_ring_notify, 16, "IPC-6",
                 NOTIFY_DESC("in batches of 16", "16"));
LB_BENCHMARK_ARG("ring/notify/batch:32", bm_ring_notify, 32, NULL,
                 NOTIFY_DESC("in batches of 32", "32"));
