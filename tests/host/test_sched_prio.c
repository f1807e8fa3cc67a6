/* Host tests for sched/prio.c: pick order over all 32 levels (the bitmap), FIFO within a level,
 * wake-up preemption, head-of-level requeue of a preempted entity, tick rules, starvation by
 * design and recovery, stealing, CPU selection and misuse; then a randomized run over 4 CPUs with
 * priority changes, donation and migration, checked step by step against a shadow model. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sched/sched.h"

#define NCPU 4
#define NENT 40
#define TOP  (SCHED_PRIO_LEVELS - 1)
#include "sched_sim.h"

static bool sim_init(struct sim *s, uint64_t quantum)
{
    bool ok = sim_setup(s, "prio", 0x5a, quantum);
    s->levels = true; /* one FIFO list per level; steal takes the first unpinned in pick order */
    return ok;
}

static void enq_p(struct sim *s, unsigned c, int i, unsigned prio, bool wakeup)
{
    s->se[i].prio = prio;
    s->ops->enqueue(&s->rq[c], E(s, i), wakeup);
}

static unsigned sel(struct sim *s, int i, unsigned this_cpu)
{
    return s->ops->select_cpu(s->rqs, NCPU, E(s, i), this_cpu);
}

/* Enqueues entities 0..n-1 on CPU c at the given priorities (not a wake-up). */
static void enq_all(struct sim *s, unsigned c, const unsigned *prios, int n)
{
    for (int i = 0; i < n; i++)
        enq_p(s, c, i, prios[i], false);
}

#define PRIOS(...)                                                                                 \
    (unsigned[]){__VA_ARGS__}, (int)(sizeof((unsigned[]){__VA_ARGS__}) / sizeof(unsigned))

/* ---- directed tests --------------------------------------------------------------------- */

TEST(prio_pick_order_by_priority)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    enq_all(s, 0, PRIOS(5, 20, 1, TOP, 0, 17));
    CHECK_EQ(s->rq[0].nr_queued, 6);
    CHECK(ORDER(0, 3, 1, 5, 0, 2, 4));
    CHECK(PICKS(0, 3, 1, 5, 0, 2, 4));
    enq_all(s, 0, PRIOS(TOP, 1000, 30)); /* out of range runs at the top level */
    CHECK(PICKS(0, 0, 1, 2));
}

TEST(prio_fifo_within_level)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    for (int i = 0; i < 5; i++)
        enq_p(s, 2, i, 10, i % 2);
    enq_p(s, 2, 5, 9, false);
    CHECK(ORDER(2, 0, 1, 2, 3, 4, 5));
    CHECK(PICKS(2, 0, 1, 2, 3, 4, 5));
    for (int i = 0; i < 6; i++)
        CHECK_EQ(E(s, i)->cpu, 2);
}

/* Every subset pattern of levels must pick strictly from the top down: exercises every bit of
 * the bitmap being set, found, and cleared when its level empties. */
TEST(prio_bitmap_all_levels)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    /* One per level, enqueued low to high, high to low, and interleaved. */
    for (int pass = 0; pass < 3; pass++) {
        for (int k = 0; k < SCHED_PRIO_LEVELS; k++) {
            int l = pass == 0 ? k : pass == 1 ? TOP - k : (k * 7) % SCHED_PRIO_LEVELS;
            enq_p(s, 1, l, (unsigned)l, false);
        }
        CHECK_EQ(s->rq[1].nr_queued, SCHED_PRIO_LEVELS);
        for (int l = TOP; l >= 0; l--)
            CHECK_EQ(pick(s, 1), l);
        CHECK_EQ(pick(s, 1), -1);
    }
    /* Each level alone, and each level against level 0: a stale or missing bit shows here. */
    for (int l = 0; l < SCHED_PRIO_LEVELS; l++) {
        enq_p(s, 1, 0, (unsigned)l, false);
        CHECK(PICKS(1, 0));
        enq_p(s, 1, 1, 0, false);
        enq_p(s, 1, 2, (unsigned)l, false);
        CHECK(l == 0 ? PICKS(1, 1, 2) : PICKS(1, 2, 1));
    }
    /* Random subsets, emptied partly by dequeue: the remaining top is always picked first. */
    rng_state = 0x1234567887654321ull;
    for (int round = 0; round < 2000; round++) {
        uint32_t mask = (uint32_t)rnd(0xffffffffu) ^ (uint32_t)rnd(0xffffffffu) << 1;
        int n = 0;
        for (int l = 0; l < SCHED_PRIO_LEVELS; l++)
            if (mask >> l & 1)
                enq_p(s, 3, n++, (unsigned)l, false);
        for (int i = 0; i < n; i++) { /* drop about a third, from anywhere */
            if (rnd(3) == 0) {
                s->ops->dequeue(&s->rq[3], E(s, i));
                mask &= ~(1u << E(s, i)->prio);
            }
        }
        CHECK_EQ(s->rq[3].nr_queued, __builtin_popcount(mask));
        for (; mask; mask &= ~(1u << (31 - __builtin_clz(mask)))) {
            int got = pick(s, 3);
            CHECK(got >= 0);
            CHECK_EQ(E(s, got)->prio, 31 - __builtin_clz(mask));
        }
        CHECK_EQ(pick(s, 3), -1);
    }
}

TEST(prio_wakeup_preemption_decision)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    enq_p(s, 0, 0, 10, false);
    CHECK_EQ(pick(s, 0), 0);
    unsigned prio[] = {11, TOP, 10, 9, 0};
    bool preempt[] = {true, true, false, false, false};
    for (int k = 0; k < 5; k++) {
        enq_p(s, 0, 1 + k, prio[k], true);
        CHECK_EQ(s->ops->preempt_on_wakeup(&s->rq[0], E(s, 0), E(s, 1 + k)), preempt[k]);
    }
    CHECK(s->ops->preempt_on_wakeup(&s->rq[0], NULL, E(s, 3))); /* idle CPU */
    E(s, 0)->prio = TOP;                                        /* nothing preempts the top level */
    CHECK(!s->ops->preempt_on_wakeup(&s->rq[0], E(s, 0), E(s, 2)));
}

/* A runs at 10 with B queued at 10; C at 20 wakes and preempts A mid-slice. A must resume before
 * B with the ticks it had left, then B gets its turn when A's slice ends. */
TEST(prio_preempted_requeued_at_head_with_remaining_slice)
{
    struct sim *s = &sim;
    enum { A, B, C };
    CHECK(sim_init(s, 5));
    enq_all(s, 0, PRIOS(10, 10));
    CHECK_EQ(pick(s, 0), A);
    CHECK_EQ(ticks_until_preempt(s, 0, A, 2), 0);
    CHECK_EQ(E(s, A)->slice_left, 3);
    enq_p(s, 0, C, 20, true);
    CHECK(s->ops->preempt_on_wakeup(&s->rq[0], E(s, A), E(s, C)));
    s->ops->put_prev(&s->rq[0], E(s, A), false);
    CHECK_EQ(E(s, A)->slice_left, 3);
    CHECK(ORDER(0, C, A, B));
    CHECK_EQ(pick(s, 0), C);
    CHECK_EQ(ticks_until_preempt(s, 0, C, 12), 0); /* alone at its level: never preempted */
    /* C blocks: A resumes first, for exactly its 3 remaining ticks, then B. */
    CHECK_EQ(pick(s, 0), A);
    CHECK_EQ(ticks_until_preempt(s, 0, A, 12), 3);
    s->ops->put_prev(&s->rq[0], E(s, A), false);
    CHECK_EQ(E(s, A)->slice_left, 5);
    CHECK(ORDER(0, B, A));
}

TEST(prio_yield_goes_to_tail_refilled)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 5));
    enq_all(s, 0, PRIOS(7, 7, 3));
    CHECK_EQ(pick(s, 0), 0);
    CHECK(!tick(s, 0, 0));
    s->ops->put_prev(&s->rq[0], E(s, 0), true);
    CHECK_EQ(E(s, 0)->slice_left, 5);
    /* Behind its peers, but never below lower levels. */
    CHECK(ORDER(0, 1, 0, 2));
    CHECK(PICKS(0, 1, 0, 2));
}

TEST(prio_tick_lone_top_not_preempted_peer_gets_turn)
{
    struct sim *s = &sim;
    enum { H = 0, L = 1, P = 2, Q = 4 };
    CHECK(sim_init(s, Q));
    enq_all(s, 0, PRIOS(25, 5));
    CHECK_EQ(pick(s, 0), H);
    for (int t = 0; t < 10 * Q; t++) {
        CHECK(!tick(s, 0, H));
        CHECK(E(s, H)->slice_left >= 1 && E(s, H)->slice_left <= Q);
    }
    /* An equal-priority peer wakes: no preemption, but it runs when H's slice ends. */
    enq_p(s, 0, P, 25, true);
    CHECK(!s->ops->preempt_on_wakeup(&s->rq[0], E(s, H), E(s, P)));
    int left = (int)E(s, H)->slice_left;
    CHECK_EQ(ticks_until_preempt(s, 0, H, Q), left);
    s->ops->put_prev(&s->rq[0], E(s, H), false);
    CHECK(ORDER(0, P, H, L));
    /* From now on H and P alternate, exactly a quantum each; L never runs. */
    for (int turn = 0; turn < 50; turn++) {
        int curr = pick(s, 0);
        CHECK_EQ(curr, turn % 2 ? H : P);
        CHECK_EQ(ticks_until_preempt(s, 0, curr, 2 * Q), Q);
        s->ops->put_prev(&s->rq[0], E(s, curr), false);
    }
}

TEST(prio_tick_preempts_for_higher_enqueued_without_wakeup)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 8));
    enq_p(s, 0, 0, 10, false);
    CHECK_EQ(pick(s, 0), 0);
    CHECK(!tick(s, 0, 0));
    enq_p(s, 0, 1, 12, false); /* migrated in: no preempt_on_wakeup call */
    CHECK(tick(s, 0, 0));
    CHECK_EQ(E(s, 0)->slice_left, 6);
    s->ops->put_prev(&s->rq[0], E(s, 0), false);
    CHECK(ORDER(0, 1, 0));
    CHECK_EQ(pick(s, 0), 1); /* a lower one queued the same way changes nothing */
    CHECK(!tick(s, 0, 1));
}

/* Strict priority starves lower levels by design; they run as soon as everything above blocks. */
TEST(prio_starvation_by_design_and_recovery)
{
    struct sim *s = &sim;
    enum { H1, H2, M, L, Q = 3, TICKS = 3000 };
    unsigned ran[4] = {0};
    CHECK(sim_init(s, Q));
    enq_all(s, 0, PRIOS(20, 20, 10, 0));
    int curr = pick(s, 0);
    for (int t = 0; t < TICKS; t++) {
        ran[curr]++;
        if (tick(s, 0, curr)) {
            s->ops->put_prev(&s->rq[0], E(s, curr), false);
            curr = pick(s, 0);
        }
    }
    CHECK_EQ(ran[H1], TICKS / 2);
    CHECK_EQ(ran[H2], TICKS / 2);
    CHECK_EQ(ran[M] + ran[L], 0);
    /* Both high ones block (curr stops running, the other is dequeued): M runs, alone at its
     * level above L, and keeps the CPU; once M blocks too, L runs. */
    s->ops->dequeue(&s->rq[0], E(s, curr == H1 ? H2 : H1));
    CHECK_EQ(pick(s, 0), M);
    CHECK_EQ(ticks_until_preempt(s, 0, M, 100), 0);
    CHECK(PICKS(0, L));
    enq_p(s, 0, H1, 20, true); /* and the moment a high one wakes, L is preempted */
    CHECK(s->ops->preempt_on_wakeup(&s->rq[0], E(s, L), E(s, H1)));
}

TEST(prio_steal_takes_highest_unpinned)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    enq_all(s, 1, PRIOS(30, 25, 25, 25, 10, TOP));
    E(s, 0)->pinned = E(s, 1)->pinned = E(s, 5)->pinned = true;
    int want[] = {2, 3, 4};
    for (int k = 0; k < 3; k++) {
        struct sched_entity *got = s->ops->steal(&s->rq[1]);
        CHECK_EQ(id_of(s, got), want[k]);
        CHECK(!got->on_rq);
        CHECK_EQ(s->rq[1].nr_queued, 5 - k);
    }
    CHECK(s->ops->steal(&s->rq[1]) == NULL);
    CHECK(ORDER(1, 5, 0, 1));
    CHECK(PICKS(1, 5, 0, 1));
    CHECK(s->ops->steal(&s->rq[1]) == NULL);
}

/* Where would an entity of priority `prio` that last ran on `last` go, woken from this_cpu? */
static unsigned sel_as(struct sim *s, unsigned prio, unsigned last, unsigned this_cpu)
{
    s->se[NENT - 1].prio = prio;
    s->se[NENT - 1].cpu = last;
    return sel(s, NENT - 1, this_cpu);
}

/* A CPU whose queue is empty but which runs something is not idle: what runs counts. */
TEST(prio_select_cpu_counts_the_running_entity)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    enq_all(s, 0, PRIOS(20, 3)); /* CPU0 busy with queued work; CPUs 1-3 have empty queues */
    s->rq[1].running = 25 + 1;   /* CPU1 runs a priority-25 entity */
    s->rq[2].running = 10 + 1;   /* CPU2 runs a priority-10 one */
    CHECK_EQ(sel_as(s, 15, 0, 0), 3); /* CPU3 is the only idle one */
    s->rq[3].running = 12 + 1;
    CHECK_EQ(sel_as(s, 15, 0, 0), 2); /* none idle: the lowest running level wins */
    CHECK_EQ(sel_as(s, 9, 0, 0), 0);  /* at or above 9 everywhere: stay */
}

TEST(prio_select_cpu)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    /* CPU0: top 20. CPU1: top 12. CPU2: top 5. CPU3: empty. */
    enq_all(s, 0, PRIOS(20, 3));
    enq_p(s, 1, 2, 12, false);
    enq_p(s, 2, 3, 5, false);
    CHECK_EQ(sel_as(s, 15, 1, 0), 1); /* only lower queued there: stay */
    CHECK_EQ(sel_as(s, 15, 0, 0), 3); /* higher queued on CPU0, CPU3 idle: go there */
    E(s, NENT - 1)->pinned = true;
    CHECK_EQ(sel_as(s, 15, 0, 2), 0);
    E(s, NENT - 1)->pinned = false;
    enq_p(s, 3, 4, 1, false); /* no idle CPU: the one with the lowest top (CPU3, 1) */
    CHECK_EQ(sel_as(s, 15, 0, 0), 3);
    enq_p(s, 3, 5, 18, false); /* CPU3 top 18: now CPU2 (5) */
    CHECK_EQ(sel_as(s, 15, 0, 0), 2);
    CHECK_EQ(sel_as(s, 20, 0, 1), 2); /* equal on its CPU counts as busy */
    CHECK_EQ(sel_as(s, 4, 0, 1), 0);  /* every queue holds something at or above 4: stay */
    CHECK_EQ(sel_as(s, 5, 0, 1), 0);
    CHECK_EQ(sel_as(s, 5, 2, 1), 2);     /* CPU2's top 5 equals it: still nowhere better */
    CHECK_EQ(sel_as(s, 13, 1000, 1), 1); /* never ran: starts from this_cpu */
    CHECK_EQ(sel_as(s, 13, 1000, 0), 2);
    CHECK_EQ(s->ops->select_cpu(s->rqs, 1, E(s, NENT - 1), 0), 0); /* one CPU */
    /* Two idle CPUs: the lower-numbered one. */
    s->ops->dequeue(&s->rq[3], E(s, 4));
    s->ops->dequeue(&s->rq[3], E(s, 5));
    s->ops->dequeue(&s->rq[2], E(s, 3));
    CHECK_EQ(sel_as(s, 13, 0, 0), 2);
}

TEST(prio_dequeue_middle_and_priority_change)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    enq_all(s, 0, PRIOS(8, 8, 8, 8, 8, 9));
    s->ops->dequeue(&s->rq[0], E(s, 2));
    CHECK(ORDER(0, 5, 0, 1, 3, 4));
    s->ops->dequeue(&s->rq[0], E(s, 5)); /* empties level 9: its bit must clear */
    CHECK(ORDER(0, 0, 1, 3, 4));
    /* Priority change the proper way: dequeue, set, enqueue (keeps the remaining slice). */
    E(s, 3)->slice_left = 2;
    s->ops->dequeue(&s->rq[0], E(s, 3));
    enq_p(s, 0, 3, 30, false);
    CHECK_EQ(E(s, 3)->slice_left, 2);
    CHECK(ORDER(0, 3, 0, 1, 4));
    /* The careless way: prio changed while queued. Dequeue must still unlink from the list the
     * entity is really on (it is level 8's head: the wrong level's head pointer would move). */
    E(s, 0)->prio = 2;
    s->ops->dequeue(&s->rq[0], E(s, 0));
    CHECK(!E(s, 0)->on_rq);
    CHECK(ORDER(0, 3, 1, 4));
    CHECK(PICKS(0, 3, 1, 4));
}

TEST(prio_misuse_is_ignored)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    enq_all(s, 0, PRIOS(4, 4, 9));
    enq_p(s, 1, 3, 4, false);
    CHECK_MISUSE_IGNORED(s, 2, 0, true, 2, 0);
}

TEST(prio_donate_passes_remaining_slice)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 6));
    enq_all(s, 0, PRIOS(10, 3, 10));
    s->ops->dequeue(&s->rq[0], E(s, 1)); /* 1: a low-priority server, blocked in receive */
    CHECK_EQ(pick(s, 0), 0);
    CHECK(!tick(s, 0, 0));
    /* 2 (10) is queued above the server (3): a direct switch would run 1 ahead of it. */
    CHECK(!s->ops->donate(&s->rq[0], E(s, 0), E(s, 1)));
    CHECK_EQ(E(s, 0)->slice_left, 5);
    /* At the queued level it may: 1 runs on 0's remaining slice. */
    E(s, 1)->prio = 10;
    CHECK(s->ops->donate(&s->rq[0], E(s, 0), E(s, 1)));
    CHECK_EQ(E(s, 1)->slice_left, 5);
    CHECK_EQ(E(s, 0)->slice_left, 0);
    CHECK_EQ(s->rq[0].nr_queued, 1);
    CHECK(s->ops->donate(&s->rq[0], E(s, 1), E(s, 1))); /* self: no change */
    CHECK_EQ(E(s, 1)->slice_left, 5);
}

/* ---- randomized stress against a shadow model ------------------------------------------ */

/* The shadow model (sched_sim.h) orders a queue by level, then by key within the level. */
static int m_top(unsigned c)
{
    int q[NENT];
    return m_queue_of(c, q, false) ? (int)sim.se[q[0]].prio : -1;
}

/* Preempt CPU c's entity (put back, not a yield) and reschedule, as the core does. */
static bool m_preempt(unsigned c, uint64_t quantum)
{
    int cur = m.curr[c];
    bool head = m.slice[cur] > 0;
    sim.ops->put_prev(&sim.rq[c], E(&sim, cur), false);
    if (!head)
        m.slice[cur] = quantum;
    m_queue(cur, c, head);
    return m_schedule(c);
}

/* Few distinct levels half of the time, so that equal-priority peers are common. */
static unsigned random_prio(void)
{
    static const unsigned common[] = {0, 7, 16, 16, 24, TOP};
    return rnd(2) ? common[rnd(6)] : rnd(SCHED_PRIO_LEVELS);
}

TEST(prio_randomized_stress_shadow_model)
{
    struct sim *s = &sim;
    const uint64_t Q = 4;
    unsigned heads = 0, wake_preempts = 0;
    CHECK(sim_init(s, Q));
    m_start(0xdeadbeefcafef00dull, 7);
    for (int e = 0; e < NENT; e++)
        s->se[e].prio = random_prio();

    for (int step = 0; step < 200000; step++) {
        unsigned c = rnd(NCPU);
        int cur = m.curr[c], r = (int)rnd(100);
        if (r < 35 && cur < 0) { /* timer tick on an idle CPU: look for work */
            CHECK(m_schedule(c));
        } else if (r < 35) { /* timer tick */
            int l = (int)s->se[cur].prio, top = m_top(c);
            m.slice[cur] -= m.slice[cur] > 0;
            bool want = top > l || (m.slice[cur] == 0 && top == l);
            if (!want && m.slice[cur] == 0)
                m.slice[cur] = Q;
            CHECK_EQ(tick(s, c, cur), want);
            heads += want && m.slice[cur] > 0;
            if (want)
                CHECK(m_preempt(c, Q));
        } else if (r < 55 && cur >= 0) { /* yield, or block */
            CHECK(r < 43 ? m_yield(c, Q) : m_block(c));
        } else if (r < 72) { /* wake up, placed by select_cpu */
            int e = random_in_state(BLOCKED);
            if (e < 0)
                continue;
            /* Stay unless something at or above p is queued there; then the first CPU with the
             * lowest top below p (idle counts as -1). */
            int p = (int)s->se[e].prio, best_top = m_top(m.cpu[e]);
            unsigned t = m.cpu[e];
            for (unsigned i = 0; i < NCPU && !s->se[e].pinned && m_top(m.cpu[e]) >= p; i++) {
                if (m_top(i) < p && m_top(i) < best_top) {
                    t = i;
                    best_top = m_top(i);
                }
            }
            CHECK_EQ(sel(s, e, c), t);
            s->ops->enqueue(&s->rq[t], E(s, e), true);
            m.slice[e] = Q;
            m_queue(e, t, false);
            int tc = m.curr[t];
            bool want = tc < 0 || p > (int)s->se[tc].prio;
            struct sched_entity *curr_se = tc >= 0 ? E(s, tc) : NULL;
            CHECK_EQ(s->ops->preempt_on_wakeup(&s->rq[t], curr_se, E(s, e)), want);
            wake_preempts += want && tc >= 0;
            if (want)
                CHECK(tc >= 0 ? m_preempt(t, Q) : m_schedule(t));
        } else if (r < 78) { /* a queued entity blocks or exits */
            if (!m_dequeue_random())
                continue;
        } else if (r < 84) { /* priority change: dequeue, set, enqueue; or of one not queued */
            int e = (int)rnd(NENT);
            bool queued = m.state[e] == QUEUED;
            if (queued)
                s->ops->dequeue(&s->rq[m.cpu[e]], E(s, e));
            s->se[e].prio = random_prio();
            if (queued)
                m_requeue(e, m.cpu[e], Q);
        } else if (r < 88) { /* misuse: must change nothing */
            m_misuse();
        } else if (r < 92 && cur >= 0) { /* IPC call: donate to a blocked receiver */
            if (!m_donate(c))
                continue;
        } else if (r < 96) { /* migration */
            if (!m_migrate(Q))
                continue;
        } else if (cur < 0) { /* idle CPU: pick or steal */
            CHECK(m_schedule(c));
        }
        CHECK(m_check());
    }
    CHECK(heads > 500 && wake_preempts > 500 && m.steals > 100);
    for (unsigned c = 0; c < NCPU; c++) {
        int q[NENT], n = m_queue_of(c, q, false);
        CHECK(picks_are(s, c, q, n));
    }
}
