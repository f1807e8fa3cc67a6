/* Scheduler simulator shared by the policy host tests (test_sched_rr.c, test_sched_prio.c): NCPU
 * run queues driven through a policy's sched_ops (pick, run ticks, put back), list walkers that
 * check the links, and a shadow model for randomized runs. The model keeps no lists: a queued
 * entity's place within its level is a key that counts up for tail inserts and down for head
 * inserts, so pick order is (level desc, key asc); with a single-list policy (levels false) it
 * is key order alone.
 *
 * The including test defines NCPU and NENT first. Everything here is static, one copy per test
 * binary; a test need not use all of it. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sched/sched.h"

#if !defined(NCPU) || !defined(NENT)
#error "define NCPU and NENT before including sched_sim.h"
#endif

#define SIM_FN static inline __attribute__((unused))

struct sim {
    const struct sched_ops *ops;
    bool levels;     /* one FIFO list per priority level (prio), else a single list (rr) */
    bool steal_tail; /* steal takes the tail-most unpinned entity, else the first in pick order */
    struct sched_rq rq[NCPU];
    struct sched_rq *rqs[NCPU];
    struct sched_entity se[NENT];
};

static struct sim sim __attribute__((unused)); /* one at a time; static keeps frames small */

/* Sets up NCPU run queues of `policy`, each filled with `garbage` first (rq_init must not rely
 * on a zeroed rq), and NENT idle entities at the default priority. */
SIM_FN bool sim_setup(struct sim *s, const char *policy, int garbage, uint64_t quantum)
{
    memset(s, 0, sizeof(*s));
    s->ops = sched_policy_find(policy);
    if (!s->ops)
        return false;
    for (unsigned c = 0; c < NCPU; c++) {
        memset(&s->rq[c], garbage, sizeof(s->rq[c]));
        s->rq[c].cpu = c;
        s->rq[c].quantum_ticks = quantum;
        s->rq[c].running = 0; /* the core's field: idle until a test says otherwise */
        s->ops->rq_init(&s->rq[c]);
        s->rqs[c] = &s->rq[c];
    }
    for (unsigned i = 0; i < NENT; i++)
        s->se[i].prio = SCHED_PRIO_DEFAULT;
    return true;
}

SIM_FN int id_of(const struct sim *s, const struct sched_entity *e)
{
    return e ? (int)(e - s->se) : -1;
}

SIM_FN struct sched_entity *E(struct sim *s, int i)
{
    return &s->se[i];
}

SIM_FN int pick(struct sim *s, unsigned c)
{
    return id_of(s, s->ops->pick_next(&s->rq[c]));
}

SIM_FN bool tick(struct sim *s, unsigned c, int i)
{
    return s->ops->tick(&s->rq[c], E(s, i));
}

/* Ticks entity i on CPU c up to n times; returns the tick (1-based) that asked for preemption,
 * or 0 when none did. */
SIM_FN int ticks_until_preempt(struct sim *s, unsigned c, int i, int n)
{
    for (int t = 1; t <= n; t++)
        if (tick(s, c, i))
            return t;
    return 0;
}

/* CPU c's queue in pick order (with levels: high to low, each head first), found by walking next
 * from each list's entity without a prev; checks prev mirrors next, one list per level (one in
 * all without levels), and that the walk covers exactly nr_queued entities. With levels it needs
 * se->prio unchanged since enqueue. */
SIM_FN int walk(struct sim *s, unsigned c, int *out)
{
    int head[SCHED_PRIO_LEVELS], n = 0;
    memset(head, -1, sizeof(head));
    for (int i = 0; i < NENT; i++) {
        const struct sched_entity *e = &s->se[i];
        if (e->on_rq && e->cpu == c && !e->prev) {
            unsigned l = s->levels ? e->prio : 0;
            if (l >= SCHED_PRIO_LEVELS || head[l] >= 0)
                return -1; /* two heads: not one list */
            head[l] = i;
        }
    }
    for (int l = SCHED_PRIO_LEVELS - 1; l >= 0; l--) {
        const struct sched_entity *prev = NULL;
        for (const struct sched_entity *e = head[l] >= 0 ? E(s, head[l]) : NULL; e; e = e->next) {
            if (n == NENT || e->prev != prev || !e->on_rq || e->cpu != c ||
                (s->levels && (int)e->prio != l))
                return -1;
            out[n++] = id_of(s, e);
            prev = e;
        }
    }
    return (unsigned)n == s->rq[c].nr_queued ? n : -1;
}

SIM_FN bool order_is(struct sim *s, unsigned c, const int *want, int n)
{
    int got[NENT];
    return walk(s, c, got) == n && memcmp(got, want, sizeof(int) * (size_t)n) == 0;
}

/* Picks n entities from CPU c and compares them with want, then expects the queue empty. */
SIM_FN bool picks_are(struct sim *s, unsigned c, const int *want, int n)
{
    for (int k = 0; k < n; k++)
        if (pick(s, c) != want[k] || s->se[want[k]].on_rq)
            return false;
    return pick(s, c) == -1 && s->rq[c].nr_queued == 0;
}

#define INTS(...)     (int[]){__VA_ARGS__}, (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int))
#define ORDER(c, ...) order_is(s, c, INTS(__VA_ARGS__))
#define PICKS(c, ...) picks_are(s, c, INTS(__VA_ARGS__))

/* The checks both misuse tests share, with 0, 1, 2 queued on CPU 0 (the two left after 1 is
 * dequeued are `rest`, in pick order) and 3 on CPU 1: dequeue of one never queued or on the wrong
 * CPU, enqueue of 1 on CPU 0 again and of `elsewhere` on CPU 2, and put_prev of `queued` (so not
 * running) change nothing; dequeuing 1 twice does it once. Stops the test on a failed check. */
#define CHECK_MISUSE_IGNORED(s, elsewhere, queued, yield, ...)                                     \
    do {                                                                                           \
        struct sched_rq before[NCPU];                                                              \
        struct sched_entity ents[NENT];                                                            \
        memcpy(before, (s)->rq, sizeof(before));                                                   \
        memcpy(ents, (s)->se, sizeof(ents));                                                       \
        (s)->ops->dequeue(&(s)->rq[0], E(s, 9));                /* never queued */                 \
        (s)->ops->dequeue(&(s)->rq[0], E(s, 3));                /* queued, but on CPU 1 */         \
        (s)->ops->dequeue(&(s)->rq[1], E(s, 1));                /* queued on CPU 0, named on 1 */  \
        (s)->ops->enqueue(&(s)->rq[0], E(s, 1), true);          /* already queued here */          \
        (s)->ops->enqueue(&(s)->rq[2], E(s, elsewhere), false); /* already queued elsewhere */     \
        (s)->ops->put_prev(&(s)->rq[0], E(s, queued), yield);   /* queued, so not running */       \
        CHECK(memcmp(before, (s)->rq, sizeof(before)) == 0);                                       \
        CHECK(memcmp(ents, (s)->se, sizeof(ents)) == 0);                                           \
        (s)->ops->dequeue(&(s)->rq[0], E(s, 1));                                                   \
        (s)->ops->dequeue(&(s)->rq[0], E(s, 1)); /* twice: the second does nothing */              \
        CHECK_EQ((s)->rq[0].nr_queued, 2);                                                         \
        CHECK(order_is(s, 0, INTS(__VA_ARGS__)));                                                  \
    } while (0)

static uint64_t rng_state __attribute__((unused));

SIM_FN uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* ---- shadow model of `sim` for randomized runs ------------------------------------------ */

enum { BLOCKED, QUEUED, RUNNING };
static struct {
    int state[NENT], curr[NCPU];
    unsigned cpu[NENT];
    long key[NENT], tail_key, head_key;
    uint64_t slice[NENT];
    unsigned steals;
} m __attribute__((unused));

/* Resets the model and the rng; every pin_every-th entity is pinned to CPU e % NCPU, where all
 * start (blocked, never run). */
SIM_FN void m_start(uint64_t seed, int pin_every)
{
    memset(&m, 0, sizeof(m));
    rng_state = seed;
    for (int e = 0; e < NENT; e++) {
        sim.se[e].pinned = e % pin_every == 0;
        m.cpu[e] = sim.se[e].cpu = (unsigned)e % NCPU;
    }
    for (unsigned c = 0; c < NCPU; c++)
        m.curr[c] = -1;
}

SIM_FN void m_queue(int e, unsigned c, bool head)
{
    m.state[e] = QUEUED;
    m.cpu[e] = c;
    m.key[e] = head ? --m.head_key : ++m.tail_key;
}

SIM_FN bool m_before(int a, int b)
{
    unsigned pa = sim.levels ? sim.se[a].prio : 0, pb = sim.levels ? sim.se[b].prio : 0;
    return pa != pb ? pa > pb : m.key[a] < m.key[b];
}

/* CPU c's queue in pick order (only its unpinned entities when asked); returns the length. */
SIM_FN int m_queue_of(unsigned c, int *out, bool unpinned_only)
{
    int n = 0;
    for (int e = 0; e < NENT; e++) {
        if (m.state[e] != QUEUED || m.cpu[e] != c || (unpinned_only && sim.se[e].pinned))
            continue;
        int k = n++;
        for (; k > 0 && m_before(e, out[k - 1]); k--)
            out[k] = out[k - 1];
        out[k] = e;
    }
    return n;
}

SIM_FN int m_len(unsigned c)
{
    int q[NENT];
    return m_queue_of(c, q, false);
}

SIM_FN bool m_check(void)
{
    int q[NENT];
    for (unsigned c = 0; c < NCPU; c++)
        if (!order_is(&sim, c, q, m_queue_of(c, q, false)))
            return false;
    for (int e = 0; e < NENT; e++) {
        const struct sched_entity *se = &sim.se[e];
        if (se->on_rq != (m.state[e] == QUEUED) || se->slice_left != m.slice[e] ||
            se->cpu != m.cpu[e] || (se->pinned && se->cpu != (unsigned)e % NCPU))
            return false;
    }
    return true;
}

/* The core's side of a reschedule on CPU c: pick, or steal from the busiest CPU when idle. */
SIM_FN bool m_schedule(unsigned c)
{
    int q[NENT], want = m_queue_of(c, q, false) ? q[0] : -1, got = pick(&sim, c);
    if (got < 0 && want < 0) {
        unsigned busiest = 0;
        for (unsigned i = 1; i < NCPU; i++)
            if (m_len(i) > m_len(busiest))
                busiest = i;
        int n = m_queue_of(busiest, q, true);
        want = n ? q[sim.steal_tail ? n - 1 : 0] : -1;
        got = id_of(&sim, sim.ops->steal(&sim.rq[busiest]));
        if (got >= 0) {
            sim.se[got].cpu = c; /* the core runs it here */
            m.steals++;
        }
    }
    if (got != want)
        return false;
    m.curr[c] = got;
    if (got >= 0) {
        m.state[got] = RUNNING;
        m.cpu[got] = c;
    }
    return true;
}

/* CPU c's entity yields: back at its level's tail with a full quantum; then reschedule. */
SIM_FN bool m_yield(unsigned c, uint64_t quantum)
{
    int cur = m.curr[c];
    sim.ops->put_prev(&sim.rq[c], E(&sim, cur), true);
    m.slice[cur] = quantum;
    m_queue(cur, c, false);
    return m_schedule(c);
}

/* CPU c's entity blocks; then reschedule. */
SIM_FN bool m_block(unsigned c)
{
    m.state[m.curr[c]] = BLOCKED;
    return m_schedule(c);
}

SIM_FN int random_in_state(int state)
{
    int start = (int)rnd(NENT);
    for (int k = 0; k < NENT; k++)
        if (m.state[(start + k) % NENT] == state)
            return (start + k) % NENT;
    return -1;
}

/* A random queued entity blocks or exits: dequeue. False when none is queued. */
SIM_FN bool m_dequeue_random(void)
{
    int e = random_in_state(QUEUED);
    if (e < 0)
        return false;
    m.state[e] = BLOCKED;
    sim.ops->dequeue(&sim.rq[m.cpu[e]], E(&sim, e));
    return true;
}

/* Misuse on a random entity (dequeue or enqueue on the wrong CPU, put_prev of a queued one, or
 * dequeue of one not queued): must change nothing, which the caller's m_check confirms. */
SIM_FN void m_misuse(void)
{
    int e = (int)rnd(NENT);
    unsigned other = (m.cpu[e] + 1 + rnd(NCPU - 1)) % NCPU;
    if (m.state[e] == QUEUED) {
        sim.ops->dequeue(&sim.rq[other], E(&sim, e));
        sim.ops->enqueue(&sim.rq[other], E(&sim, e), rnd(2));
        sim.ops->put_prev(&sim.rq[m.cpu[e]], E(&sim, e), rnd(2));
    } else {
        sim.ops->dequeue(&sim.rq[m.cpu[e]], E(&sim, e));
    }
}

/* IPC call on CPU c: its entity donates to a random blocked receiver, which runs in its place.
 * False when there is no receiver that may run on c. */
SIM_FN bool m_donate(unsigned c)
{
    int cur = m.curr[c], e = random_in_state(BLOCKED);
    if (e < 0 || (sim.se[e].pinned && (unsigned)e % NCPU != c))
        return false;
    /* A refusal (a higher-ranked entity is queued) changes nothing: the call goes slow. */
    if (!sim.ops->donate(&sim.rq[c], E(&sim, cur), E(&sim, e)))
        return false;
    m.slice[e] = m.slice[cur];
    m.slice[cur] = 0;
    m.state[cur] = BLOCKED;
    m.state[e] = RUNNING;
    m.cpu[e] = sim.se[e].cpu = c;
    m.curr[c] = e;
    return true;
}

/* Entity e is (re)queued on CPU `to`, not as a wake-up: it keeps a remaining slice within the
 * quantum, else gets a full one. */
SIM_FN void m_requeue(int e, unsigned to, uint64_t quantum)
{
    sim.ops->enqueue(&sim.rq[to], E(&sim, e), false);
    m.slice[e] = m.slice[e] == 0 || m.slice[e] > quantum ? quantum : m.slice[e];
    m_queue(e, to, false);
}

/* Migration: a random queued unpinned entity is dequeued here and enqueued on a random CPU.
 * False when there is none. */
SIM_FN bool m_migrate(uint64_t quantum)
{
    int e = random_in_state(QUEUED);
    if (e < 0 || sim.se[e].pinned)
        return false;
    unsigned to = rnd(NCPU);
    sim.ops->dequeue(&sim.rq[m.cpu[e]], E(&sim, e));
    m_requeue(e, to, quantum);
    return true;
}
