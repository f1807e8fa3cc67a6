/* The SPSC ring across two CPUs (issue 5): latency and throughput between a producer and a
 * consumer that run at the same time, each polling before it sleeps (DESIGN.md: "polling with a
 * bounded spin, then sleep"). What they measure is cache-line transfer between cores, which
 * exists only in cycles mode on hardware (KVM or bare metal): under icount TCG runs vCPUs one
 * after the other and every load costs one tick, so there the benchmarks skip (lb_skip) with
 * the reason rather than give a number, as they do with one CPU.
 *
 * xcpu/ring/roundtrip: ubench sends one 64-byte message on a request ring, a thread on another
 *   CPU receives it and sends it back on a reply ring; a sample is one round trip.
 * xcpu/ring/stream/batch:16: ubench streams messages in batches of 16 into a ring of 256 slots
 *   that the thread on the other CPU drains 16 at a time; a sample is 256 messages sent, i.e.
 *   in the steady state the consumer's pace (the report turns it into messages per second). */
#include "libbench/libbench.h"
#include "sys.h"
#include "ub_ring.h"
#include "ubench.h"

/* Polls before a side sleeps: of the order of a cross-core round trip and more, so that a busy
 * pair stays out of the kernel (docs/ipc-ring.md, "Waiting"). */
#define SPIN            4096
#define STREAM_SLOTS    256
#define STREAM_BATCH    16
#define PLACE_TRIES     100
#define SPINS_PER_YIELD 0xfffff /* a mask */
#define QUIT            0x71u
#define ROUNDTRIP       0 /* lb_arg */
#define STREAM          1

/* Why the TSC does not count cycles here, or NULL where it does: bare metal (no hypervisor bit)
 * or KVM. Under QEMU TCG it counts instructions (icount) or follows emulation speed. */
static const char *not_cycles(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 31)))
        return NULL;
    char sig[13];
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000000), "c"(0));
    memcpy(sig, &b, 4);
    memcpy(sig + 4, &c, 4);
    memcpy(sig + 8, &d, 4);
    sig[12] = '\0';
    if (!memcmp(sig, "KVMKVMKVM\0\0\0", 12))
        return NULL;
    return ub_msg("not cycles mode: hypervisor '%s' is not KVM, so the TSC counts instructions "
                  "(icount) or emulation speed, not cross-CPU cycles",
                  sig);
}

struct peer {
    struct ub_ring *req, *rep; /* rep is NULL for the stream */
    long home;                 /* ubench's CPU */
    volatile long cpu;         /* the peer's once placed; -1: it could not leave home */
    volatile bool placed;
};

/* Leaves ubench's CPU: unpinned (it started pinned there, as ubench's threads do) and yielding
 * while ubench keeps that CPU busy, it waits in its run queue until an idle CPU steals it, as
 * tests/user/ipc_smp.c places its server. */
static bool place(struct peer *pr)
{
    long cpu = -1;
    for (int i = 0; i < PLACE_TRIES && (cpu < 0 || cpu == pr->home); i++) {
        sys_pin(0);
        sys_yield();
        cpu = sys_pin(1);
    }
    pr->cpu = cpu == pr->home ? -1 : cpu;
    pr->placed = true;
    return pr->cpu >= 0;
}

static int peer_thread(void *arg)
{
    struct peer *pr = arg;
    struct spsc_msg buf[STREAM_BATCH];
    if (!place(pr))
        return 0;
    for (;;) {
        int n = spsc_ring_recv(&pr->req->c, buf, STREAM_BATCH, &pr->req->cw);
        if (n <= 0)
            return 1;
        if (pr->rep && spsc_ring_send(&pr->rep->p, buf, (uint32_t)n, &pr->rep->pw))
            return 2;
        for (int i = 0; i < n; i++)
            if (buf[i].word[1] == QUIT)
                return 0;
    }
}

static void roundtrips(struct lb_state *s, struct ub_ring *req, struct ub_ring *rep)
{
    for (uint64_t seq = 0; lb_next(s); seq++) {
        struct spsc_msg m, back;
        ub_ring_msg(&m, seq);
        uint64_t t = lb_start(s);
        int sent = spsc_ring_send(&req->p, &m, 1, &req->pw);
        int got = spsc_ring_recv(&rep->c, &back, 1, &rep->cw);
        lb_stop(s, t);
        if (sent || got != 1 || !ub_ring_msg_ok(&back, seq)) {
            lb_fail(s, "the reply is not the message sent");
            return;
        }
    }
}

static void stream(struct lb_state *s, struct ub_ring *req)
{
    struct spsc_msg m[STREAM_BATCH];
    for (uint64_t seq = 0; lb_next(s);) {
        int err = 0;
        uint64_t t = lb_start(s);
        for (uint32_t i = 0; i < STREAM_SLOTS && !err; i += STREAM_BATCH) {
            for (uint32_t j = 0; j < STREAM_BATCH; j++)
                ub_ring_msg(&m[j], seq++);
            err = spsc_ring_send(&req->p, m, STREAM_BATCH, &req->pw);
        }
        lb_stop_batch(s, t, STREAM_SLOTS);
        if (err) {
            lb_fail(s, ub_msg("spsc_ring_send failed: %d", err));
            return;
        }
    }
}

static void bm_xcpu(struct lb_state *s)
{
    static void *stack;
    const char *why = not_cycles();
    if (why) {
        lb_skip(s, why);
        return;
    }
    bool rt = lb_arg(s) == ROUNDTRIP;
    struct ub_ring req, rep;
    if (!stack && !(stack = ub_map(UB_STACK_SIZE))) {
        lb_fail(s, "no memory for the peer thread's stack");
        return;
    }
    if (!ub_ring_open(s, &req, 0, rt ? 2 : STREAM_SLOTS, SPIN))
        return;
    if (rt && !ub_ring_open(s, &rep, 1, 2, SPIN)) {
        ub_ring_close(&req);
        return;
    }
    struct peer pr = {&req, rt ? &rep : NULL, sys_pin(1), -1, false};
    long tid = thread_start(peer_thread, &pr, stack, UB_STACK_SIZE);
    if (tid < 0) {
        lb_fail(s, ub_msg("thread_start of the peer failed: %ld", tid));
    } else {
        /* Spinning without system calls keeps this CPU busy, which is what makes an idle one
         * steal the peer; a yield now and then lets it run its tries when there is no other. */
        for (uint64_t spins = 1; !pr.placed; spins++) {
            __asm__ volatile("pause");
            if ((spins & SPINS_PER_YIELD) == 0)
                sys_yield();
        }
        if (pr.cpu < 0) {
            lb_skip(s, ub_msg("one CPU: the peer thread stayed on ubench's CPU %ld through %d "
                              "yields (boot with SMP >= 2)",
                              pr.home, PLACE_TRIES));
        } else {
            if (rt)
                roundtrips(s, &req, &rep);
            else
                stream(s, &req);
            struct spsc_msg quit;
            ub_ring_msg(&quit, 0);
            quit.word[1] = QUIT;
            spsc_ring_send(&req.p, &quit, 1, &req.pw);
        }
        int status = -1;
        if (sys_thread_join((int)tid, &status) < 0 || status != 0)
            lb_fail(s, ub_msg("the peer thread ended with status %d", status));
    }
    if (rt)
        ub_ring_close(&rep);
    ub_ring_close(&req);
}
LB_BENCHMARK_ARG("xcpu/ring/roundtrip", bm_xcpu, ROUNDTRIP, NULL,
                 "round trip of a 64-byte message over two SPSC rings between ubench and a "
                 "thread on another CPU, both polling before they sleep (cycles mode, SMP >= 2; "
                 "skipped otherwise)");
LB_BENCHMARK_ARG("xcpu/ring/stream/batch:16", bm_xcpu, STREAM, NULL,
                 "one 64-byte message of a stream in batches of 16 through an SPSC ring of 256 "
                 "slots to a thread on another CPU, both polling before they sleep (cycles mode, "
                 "SMP >= 2; skipped otherwise)");
