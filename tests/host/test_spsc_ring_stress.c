/* Host stress tests for ipc/spsc_ring.c with two real threads. Messages carry their sequence
 * number and a checksummed payload and must arrive exactly once and in order:
 *   - busy: 2,000,000 messages; both sides poll and never sleep, so no notify is ever asked for;
 *   - sleep: 2,000,000 messages through spsc_ring_send / spsc_ring_recv, sleeping on a futex
 *     with no spin at all;
 *   - random: 2,000,000 messages by zero-copy reserve/commit and peek/release of random sizes,
 *     sleeping after a spin;
 *   - ping-pong: 200,000 round trips over a request and a reply ring, with a random spin before
 *     each sleep. Here every message is the last one for a while, so a lost wake-up cannot be
 *     rescued by the next publish: it hangs at once.
 * In the one-way sleeping modes each side now and then stops for a moment, so that the other
 * one really finds the ring empty (or full) and sleeps. A watchdog fails the test when nothing
 * arrives for STALL_S seconds (a lost wake-up leaves both sides asleep) and wakes both sides to
 * end it. This is a correctness test: nothing here asserts on speed. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "spsc_ring_fixture.h"

#define STREAM_MSGS   2000000u
#define PINGPONG_MSGS 50000u
#define STRESS_SLOTS  256u
#define BATCH         32u
#define STALL_S       10
#define STR_(x)       #x
#define STR(x)        STR_(x)
#define PAUSE_EVERY   (1u << 16) /* messages between a side's short stops */
#define PAUSE_US      200

enum mode { BUSY, SLEEP, RANDOM, PINGPONG };

/* A binary semaphore on a futex word: the sticky sleep the ring requires (a post before the
 * wait makes the wait return at once). A post enters the kernel only for a waiter that said it
 * is there, and a wait polls a little before it goes there: a quick wake-up then costs no system
 * call, and the ping-pong test gets through many announce/publish races a second. */
struct event {
    uint32_t word; /* EV_* */
};

enum { EV_IDLE, EV_POSTED, EV_KERNEL };
#define EV_SPIN 200

struct stress;

/* One thread's waiter context: it sleeps on its own event and posts the other thread's. */
struct side {
    struct stress *s;
    struct event *mine, *peer;
    uint64_t sleeps, notifies;
};

struct stress {
    enum mode mode;
    uint32_t spin;
    uint64_t msgs;
    struct pair r, back; /* back: the replies of PINGPONG */
    struct event prod_ev, cons_ev;
    struct side prod_side, cons_side; /* the threads producing and consuming on r */
    uint64_t received; /* written by the consumer of r, polled by the watchdog */
    uint32_t abort;    /* a thread failed or the watchdog fired: everyone stops */
    uint32_t done;     /* threads finished */
    bool stalled;
    const char *error; /* first failure a thread saw, and where */
    uint64_t error_seq;
};

static bool aborted(struct stress *s)
{
    return __atomic_load_n(&s->abort, __ATOMIC_RELAXED) != 0;
}

static void fail(struct stress *s, const char *what, uint64_t seq)
{
    if (!__atomic_exchange_n(&s->abort, 1, __ATOMIC_RELAXED)) {
        s->error = what;
        s->error_seq = seq;
    }
}

static long futex(uint32_t *word, int op, uint32_t val)
{
    return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

static void ev_post(struct event *e)
{
    if (__atomic_exchange_n(&e->word, EV_POSTED, __ATOMIC_RELEASE) == EV_KERNEL)
        futex(&e->word, FUTEX_WAKE_PRIVATE, 1);
}

static bool ev_take(struct event *e, uint32_t from)
{
    return __atomic_compare_exchange_n(&e->word, &from, EV_IDLE, false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

static int ev_wait(struct event *e, struct stress *s)
{
    for (int i = 0; i < EV_SPIN; i++) {
        if (ev_take(e, EV_POSTED))
            return 0;
        __builtin_ia32_pause();
    }
    for (;;) {
        if (__atomic_exchange_n(&e->word, EV_KERNEL, __ATOMIC_ACQUIRE) == EV_POSTED) {
            ev_take(e, EV_KERNEL); /* fails only if posted again since: that post stays */
            return 0;
        }
        if (aborted(s))
            return ERR_BUSY;
        futex(&e->word, FUTEX_WAIT_PRIVATE, EV_KERNEL);
    }
}

static int side_sleep(void *ctx)
{
    struct side *x = ctx;
    x->sleeps++;
    return ev_wait(x->mine, x->s);
}

static void side_notify(void *ctx)
{
    struct side *x = ctx;
    x->notifies++;
    ev_post(x->peer);
}

/* Busy mode's poll: yields now and then so that the test also finishes on one CPU. */
static void backoff(uint32_t *fails)
{
    if (++*fails % 16 == 0)
        sched_yield();
    else
        __builtin_ia32_pause();
}

static bool crossed(uint64_t before, uint64_t after, uint64_t offset)
{
    return (before + offset) / PAUSE_EVERY != (after + offset) / PAUSE_EVERY;
}

static void *producer(void *arg)
{
    struct stress *s = arg;
    struct spsc_producer *p = &s->r.p;
    struct spsc_waiter w = {.sleep = side_sleep, .notify = side_notify, .ctx = &s->prod_side,
                            .spin = s->spin};
    struct spsc_msg batch[BATCH];
    uint64_t seq = 0, rnd = 0x9e3779b97f4a7c15ull;
    uint32_t fails = 0;
    while (seq < s->msgs && !aborted(s)) {
        uint64_t before = seq;
        uint32_t left = (uint32_t)(s->msgs - seq);
        uint32_t n = left < BATCH ? left : BATCH;
        if (s->mode == RANDOM) {
            uint32_t want = 1 + (uint32_t)(ring_rand(&rnd) % (STRESS_SLOTS + 16));
            uint32_t got = spsc_ring_reserve(p, want < left ? want : left);
            if (got == 0) {
                if (spsc_ring_wait_writable(p, &w) < 0)
                    break;
                continue;
            }
            uint32_t m = 1 + (uint32_t)(ring_rand(&rnd) % got);
            for (uint32_t i = 0; i < m; i++)
                msg_fill(spsc_ring_reserved_slot(p, i), seq + i);
            spsc_ring_commit(p, m);
            seq += m;
            if (spsc_ring_needs_notify(p))
                side_notify(&s->prod_side);
        } else {
            for (uint32_t i = 0; i < n; i++)
                msg_fill(&batch[i], seq + i);
            if (s->mode == SLEEP) {
                if (spsc_ring_send(p, batch, n, &w) < 0)
                    break;
                seq += n;
            } else {
                uint32_t got = spsc_ring_produce_batch(p, batch, n);
                if (got == 0)
                    backoff(&fails);
                seq += got;
                if (spsc_ring_needs_notify(p))
                    fail(s, "busy producer told to notify a consumer that never sleeps", seq);
            }
        }
        if (s->mode != BUSY && crossed(before, seq, PAUSE_EVERY / 2))
            usleep(PAUSE_US); /* let the consumer run dry and sleep */
    }
    __atomic_add_fetch(&s->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *consumer(void *arg)
{
    struct stress *s = arg;
    struct spsc_consumer *c = &s->r.c;
    struct spsc_waiter w = {.sleep = side_sleep, .notify = side_notify, .ctx = &s->cons_side,
                            .spin = s->spin};
    struct spsc_msg batch[BATCH];
    uint64_t seq = 0, rnd = 0x2545f4914f6cdd1dull;
    uint32_t fails = 0;
    while (seq < s->msgs && !aborted(s)) {
        uint64_t before = seq;
        if (s->mode == RANDOM) {
            uint32_t got = spsc_ring_peek(c, 1 + (uint32_t)(ring_rand(&rnd) % (STRESS_SLOTS + 16)));
            if (got == 0) {
                if (spsc_ring_wait_readable(c, &w) < 0)
                    break;
                continue;
            }
            uint32_t m = 1 + (uint32_t)(ring_rand(&rnd) % got);
            for (uint32_t i = 0; i < m; i++, seq++)
                if (!msg_ok(spsc_ring_peeked_slot(c, i), seq))
                    fail(s, "message lost, repeated, reordered or corrupted", seq);
            spsc_ring_release(c, m);
            if (spsc_ring_space_needs_notify(c))
                side_notify(&s->cons_side);
        } else {
            int got;
            if (s->mode == SLEEP) {
                got = spsc_ring_recv(c, batch, BATCH, &w);
                if (got < 0)
                    break;
            } else {
                got = (int)spsc_ring_consume_batch(c, batch, BATCH);
                if (got == 0)
                    backoff(&fails);
                if (spsc_ring_space_needs_notify(c))
                    fail(s, "busy consumer told to notify a producer that never sleeps", seq);
            }
            for (int i = 0; i < got; i++, seq++)
                if (!msg_ok(&batch[i], seq))
                    fail(s, "message lost, repeated, reordered or corrupted", seq);
        }
        __atomic_store_n(&s->received, seq, __ATOMIC_RELAXED);
        if (s->mode != BUSY && crossed(before, seq, 0))
            usleep(PAUSE_US); /* let the producer fill the ring and sleep */
    }
    __atomic_add_fetch(&s->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* PINGPONG, producer side of r: each request waits for its echo on back. */
static void *client(void *arg)
{
    struct stress *s = arg;
    struct spsc_waiter w = {.sleep = side_sleep, .notify = side_notify, .ctx = &s->prod_side};
    uint64_t rnd = 0x853c49e6748fea9bull;
    for (uint64_t seq = 0; seq < s->msgs && !aborted(s); seq++) {
        struct spsc_msg m;
        msg_fill(&m, seq);
        /* Varies where the announcement falls against the peer's publish. */
        w.spin = (uint32_t)(ring_rand(&rnd) % 64);
        if (spsc_ring_send(&s->r.p, &m, 1, &w) < 0 || spsc_ring_recv(&s->back.c, &m, 1, &w) < 0)
            break;
        if (!msg_ok(&m, seq))
            fail(s, "echo lost, repeated, reordered or corrupted", seq);
    }
    __atomic_add_fetch(&s->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *server(void *arg)
{
    struct stress *s = arg;
    struct spsc_waiter w = {.sleep = side_sleep, .notify = side_notify, .ctx = &s->cons_side};
    uint64_t rnd = 0xda942042e4dd58b5ull;
    for (uint64_t seq = 0; seq < s->msgs && !aborted(s); seq++) {
        struct spsc_msg m;
        w.spin = (uint32_t)(ring_rand(&rnd) % 64);
        if (spsc_ring_recv(&s->r.c, &m, 1, &w) < 0)
            break;
        if (!msg_ok(&m, seq))
            fail(s, "request lost, repeated, reordered or corrupted", seq);
        if (spsc_ring_send(&s->back.p, &m, 1, &w) < 0)
            break;
        __atomic_store_n(&s->received, seq + 1, __ATOMIC_RELAXED);
    }
    __atomic_add_fetch(&s->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs both threads to the end under the watchdog. Returns false if the ring could not be set
 * up; failures of the run itself are left in s for the test to check. */
static bool stress_run(struct stress *s, enum mode mode, uint32_t spin)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->spin = spin;
    s->msgs = mode == PINGPONG ? PINGPONG_MSGS : STREAM_MSGS;
    if (pair_new(&s->r, STRESS_SLOTS) != 0 ||
        (mode == PINGPONG && pair_new(&s->back, STRESS_SLOTS) != 0))
        return false;
    s->prod_side = (struct side){.s = s, .mine = &s->prod_ev, .peer = &s->cons_ev};
    s->cons_side = (struct side){.s = s, .mine = &s->cons_ev, .peer = &s->prod_ev};
    pthread_t tp, tc;
    if (pthread_create(&tc, NULL, mode == PINGPONG ? server : consumer, s) != 0)
        return false;
    if (pthread_create(&tp, NULL, mode == PINGPONG ? client : producer, s) != 0) {
        fail(s, "pthread_create", 0);
        pthread_join(tc, NULL);
        return false;
    }
    uint64_t last = 0;
    double start = now_s(), last_change = start;
    while (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) < 2) {
        usleep(10000);
        uint64_t got = __atomic_load_n(&s->received, __ATOMIC_RELAXED);
        if (got != last) {
            last = got;
            last_change = now_s();
        } else if (!aborted(s) && now_s() - last_change > STALL_S) {
            s->stalled = true;
            fail(s, "watchdog: nothing arrived for " STR(STALL_S) " s (lost wake-up?)", got);
        }
        if (aborted(s)) { /* a side may be asleep for ever: wake both until they see it */
            ev_post(&s->prod_ev);
            ev_post(&s->cons_ev);
        }
    }
    pthread_join(tp, NULL);
    pthread_join(tc, NULL);
    static const char *const names[] = {"busy", "sleep", "random", "ping-pong"};
    printf("  %s: %.0f ms; producer %llu batches, %llu sleeps, %llu notifies; consumer %llu "
           "batches, %llu sleeps, %llu notifies\n",
           names[mode], (now_s() - start) * 1e3, (unsigned long long)s->r.p.stats.batches,
           (unsigned long long)s->prod_side.sleeps, (unsigned long long)s->prod_side.notifies,
           (unsigned long long)s->r.c.stats.batches, (unsigned long long)s->cons_side.sleeps,
           (unsigned long long)s->cons_side.notifies);
    return true;
}

/* Sums one thread's counters over the ring handles it holds (back is all zero unless PINGPONG). */
static uint64_t thread_sleeps(const struct spsc_stats *a, const struct spsc_stats *b)
{
    return a->sleeps + b->sleeps;
}

static uint64_t thread_notifies(const struct spsc_stats *a, const struct spsc_stats *b)
{
    return a->notifies + b->notifies;
}

static void check_run(struct stress *s)
{
    struct spsc_ring_hdr *h = s->r.hdr, *b = s->back.hdr ? s->back.hdr : h;
    if (s->error)
        check_fail(__FILE__, __LINE__,
                   "%s: at message %llu; prod/cons/flags %u %u %u %u, back ring %u %u %u %u",
                   s->error, (unsigned long long)s->error_seq, h->prod, h->cons,
                   h->cons_sleeping, h->prod_sleeping, b->prod, b->cons, b->cons_sleeping,
                   b->prod_sleeping);
    CHECK(!s->error && !s->stalled);
    CHECK_EQ(s->received, s->msgs);
    CHECK_EQ(s->r.p.stats.msgs, s->msgs);
    CHECK_EQ(s->r.c.stats.msgs, s->msgs);
    CHECK_EQ(h->prod, s->msgs);
    CHECK_EQ(h->cons, s->msgs);
    CHECK(!s->r.p.broken && !s->r.c.broken);
    if (s->mode == PINGPONG)
        CHECK(s->back.p.stats.msgs == s->msgs && s->back.c.stats.msgs == s->msgs);
    /* The rings' counters agree with what the callbacks saw. */
    CHECK_EQ(thread_sleeps(&s->r.p.stats, &s->back.c.stats), s->prod_side.sleeps);
    CHECK_EQ(thread_sleeps(&s->r.c.stats, &s->back.p.stats), s->cons_side.sleeps);
    CHECK_EQ(thread_notifies(&s->r.p.stats, &s->back.c.stats), s->prod_side.notifies);
    CHECK_EQ(thread_notifies(&s->r.c.stats, &s->back.p.stats), s->cons_side.notifies);
    /* A sleep ends only on a post from the peer (posts to an awake side may merge). */
    CHECK(s->cons_side.sleeps <= s->prod_side.notifies);
    CHECK(s->prod_side.sleeps <= s->cons_side.notifies);
    pair_free(&s->r);
    pair_free(&s->back);
}

static struct stress run;

TEST(stress_busy_spin)
{
    CHECK(stress_run(&run, BUSY, 0));
    check_run(&run);
    CHECK_EQ(run.prod_side.sleeps + run.cons_side.sleeps, 0);
    CHECK_EQ(run.prod_side.notifies + run.cons_side.notifies, 0);
}

/* Sleeping modes: both sides must have slept and been woken, or the path went untested. */
static void check_slept(const struct stress *s)
{
    CHECK(s->prod_side.sleeps > 0 && s->cons_side.sleeps > 0);
    CHECK(s->prod_side.notifies > 0 && s->cons_side.notifies > 0);
}

TEST(stress_sleep_notify)
{
    CHECK(stress_run(&run, SLEEP, 0));
    check_run(&run);
    check_slept(&run);
}

TEST(stress_random_batches)
{
    CHECK(stress_run(&run, RANDOM, 64));
    check_run(&run);
    check_slept(&run);
}

TEST(stress_ping_pong)
{
    CHECK(stress_run(&run, PINGPONG, 0));
    check_run(&run);
    check_slept(&run);
}
