/* The SPSC ring between two processes (issue 5; DESIGN.md mechanism 2): the same per-message
 * measurement as bench_ring.c, with the ring in a memory object that ubench creates and maps
 * (SYS_MEMOBJ_CREATE, SYS_MEMOBJ_MAP) and sends to the shm_peer process, which maps it too and
 * is the consumer (bench/user/partners/shm_peer.c). ubench is the producer and is measured; both
 * run on ubench's CPU.
 *
 * ring/proc/notify/batch:K: as ring/notify/batch:K (a ring of max(K, 2) slots, one ring-full per
 * sample, per side one SYS_SIGNAL, one SYS_NOTIFY_WAIT and one switch to it), the switches now
 * between address spaces.
 * ring/proc/poll/batch:K: nobody sleeps on a notification. On one CPU a polling consumer in
 * another process runs only when the producer gives the CPU up, so a sample is: publish K
 * messages (spsc_ring_produce_batch), SYS_YIELD to the consumer, which takes them
 * (spsc_ring_consume_batch), finds the ring empty and yields back. Per message that is the ring
 * code plus a yield round trip between two processes divided by K, which is what polling
 * between processes costs without a second CPU; the cross-CPU figures are bench_xcpu.c's (cycles
 * mode).
 *
 * Counters: ring_msgs (published by ubench), ring_signals and ring_sleeps (both sides, the
 * consumer's over the whole run); the poll variants fail unless both are 0, and the consumer
 * checks every message's sequence number. */
#include "libbench/libbench.h"
#include "sys.h"
#include "ub_peer.h"
#include "ub_ring.h"
#include "ubench.h"

#define POLL_SLOTS 64

struct proc_ring {
    struct spsc_producer p;
    long obj, prod_note, cons_note; /* ubench sleeps on prod_note, the peer on cons_note */
    void *va;
    size_t bytes;
};

static int prod_sleep(void *ctx)
{
    long r = sys_notify_wait((cap_t)((struct proc_ring *)ctx)->prod_note, NOTIFY_FOREVER);
    return r < 0 ? (int)r : 0;
}

static void prod_notify(void *ctx)
{
    sys_signal((cap_t)((struct proc_ring *)ctx)->cons_note, 1);
}

static void proc_ring_close(struct proc_ring *r)
{
    if (r->va)
        sys_mem_unmap(r->va, r->bytes);
    if (r->obj > 0)
        sys_cap_delete((cap_t)r->obj);
    if (r->prod_note > 0)
        sys_cap_delete((cap_t)r->prod_note);
    if (r->cons_note > 0)
        sys_cap_delete((cap_t)r->cons_note);
}

/* The object, its mapping, the ring and the notifications, handed to the peer (copies of the
 * capabilities: ubench keeps its own). */
static bool proc_ring_open(struct lb_state *s, struct proc_ring *r, struct ub_peer *peer,
                           uint32_t slots, uint32_t mode, uint32_t batch)
{
    static void *va;
    size_t need = spsc_ring_region_bytes(slots);
    *r = (struct proc_ring){.bytes = (need + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)};
    if (!va && !(va = ub_reserve(spsc_ring_region_bytes(UB_RING_MAX_SLOTS)))) {
        lb_fail(s, "no address space for the ring");
        return false;
    }
    r->obj = sys_memobj_create(r->bytes / PAGE_SIZE);
    long err = r->obj < 0 ? r->obj : sys_memobj_map((cap_t)r->obj, va, PROT_READ | PROT_WRITE, 0);
    if (!err) {
        r->va = va;
        err = spsc_ring_init(va, need, slots);
    }
    if (!err)
        err = spsc_ring_producer_attach(&r->p, va, need);
    if (!err && (r->prod_note = sys_notification_create()) < 0)
        err = r->prod_note;
    if (!err && (r->cons_note = sys_notification_create()) < 0)
        err = r->cons_note;
    if (err) {
        lb_fail(s, ub_msg("cannot set up a ring of %u slots in a memory object: %ld", slots, err));
        proc_ring_close(r);
        return false;
    }
    peer->ipcbuf->caps[0] = (uint32_t)r->obj;
    peer->ipcbuf->caps[1] = (uint32_t)r->cons_note;
    peer->ipcbuf->caps[2] = (uint32_t)r->prod_note;
    struct ipc_msg m = {ipc_tag(UB_PEER_RING, 3, 3), {slots, mode, batch}};
    long rc = ipc_call((cap_t)peer->ep, &m);
    if (rc < 0 || m.w[0]) {
        lb_fail(s, ub_msg("%s refused the ring: call %ld, answer %ld", UB_PEER, rc, (long)m.w[0]));
        proc_ring_close(r);
        return false;
    }
    return true;
}

static void bm_ring_proc(struct lb_state *s)
{
    uint32_t k = (uint32_t)lb_arg(s) & 0xffff;
    bool poll = lb_arg(s) >> 16 == UB_PEER_POLL;
    uint32_t per_sample = poll ? k : (k < 2 ? 2 : k); /* notify: one ring-full per sample */
    struct ub_peer peer;
    struct proc_ring r;
    if (!ub_peer_start(s, &peer))
        return;
    if (!proc_ring_open(s, &r, &peer, poll ? POLL_SLOTS : per_sample,
                        poll ? UB_PEER_POLL : UB_PEER_NOTIFY, k)) {
        ub_peer_stop(s, &peer, NULL);
        return;
    }
    const struct spsc_waiter w = {prod_sleep, prod_notify, &r, 0};
    struct spsc_msg msgs[UB_RING_MAX_BATCH];
    uint64_t seq = 0, signals = 0, sleeps = 0;
    bool first = true;
    while (lb_next(s)) {
        for (uint32_t i = 0; i < per_sample; i++)
            ub_ring_msg(&msgs[i], seq + i);
        struct spsc_stats p0 = r.p.stats;
        int err = 0;
        uint64_t t = lb_start(s);
        if (poll) {
            for (uint32_t sent = 0; sent < k;) {
                sent += spsc_ring_produce_batch(&r.p, &msgs[sent], k - sent);
                sys_yield();
            }
        } else {
            for (uint32_t i = 0; i < per_sample && !err; i += k)
                err = spsc_ring_send(&r.p, &msgs[i], k, &w);
        }
        lb_stop_batch(s, t, per_sample);
        if (err) {
            lb_fail(s, ub_msg("spsc_ring_send failed: %d", err));
            break;
        }
        seq += per_sample;
        if (!first) {
            signals += r.p.stats.notifies - p0.notifies;
            sleeps += r.p.stats.sleeps - p0.sleeps;
        }
        first = false;
    }
    struct spsc_msg quit;
    ub_ring_msg(&quit, seq);
    quit.word[1] = UB_PEER_RING_QUIT;
    int err = spsc_ring_send(&r.p, &quit, 1, &w);
    if (err)
        lb_fail(s, ub_msg("the quit message could not be sent: %d", err));
    struct ipc_msg answer = {0};
    ub_peer_stop(s, &peer, &answer);
    signals += answer.w[1];
    sleeps += answer.w[2];
    lb_counter(s, "ring_msgs", r.p.stats.msgs);
    lb_counter(s, "ring_signals", signals);
    lb_counter(s, "ring_sleeps", sleeps);
    if (poll && (signals || sleeps))
        lb_fail(s, "a side of the polling ring asked for a wake-up");
    proc_ring_close(&r);
}

#define POLL_ARG(k)   ((UB_PEER_POLL << 16) | (k))
#define NOTIFY_ARG(k) ((UB_PEER_NOTIFY << 16) | (k))
#define PROC_POLL_DESC(k)                                                                          \
    "one 64-byte message through an SPSC ring in a memory object shared with another process, " k  \
    ", nobody sleeping: per batch the producer's publish, a SYS_YIELD to the consumer process "    \
    "and back, the consumer's take"
#define PROC_NOTIFY_DESC(k, slots)                                                                 \
    "one 64-byte message through an SPSC ring in a memory object shared with another process, " k  \
    ", ring of " slots " slots: per ring-full one SYS_SIGNAL + SYS_NOTIFY_WAIT + "                 \
    "address-space switch each way"
LB_BENCHMARK_ARG("ring/proc/poll/batch:1", bm_ring_proc, POLL_ARG(1), NULL,
                 PROC_POLL_DESC("unbatched"));
LB_BENCHMARK_ARG("ring/proc/poll/batch:16", bm_ring_proc, POLL_ARG(16), NULL,
                 PROC_POLL_DESC("in batches of 16"));
LB_BENCHMARK_ARG("ring/proc/notify/batch:1", bm_ring_proc, NOTIFY_ARG(1), NULL,
                 PROC_NOTIFY_DESC("unbatched", "2"));
LB_BENCHMARK_ARG("ring/proc/notify/batch:16", bm_ring_proc, NOTIFY_ARG(16), NULL,
                 PROC_NOTIFY_DESC("in batches of 16", "16"));
