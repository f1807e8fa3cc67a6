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

struct sim {
    const struct sched_ops *ops;
    struct sched_rq rq[NCPU];
    struct sched_rq *rqs[NCPU];
    struct sched_entity se[NENT];
};

static struct sim sim;

static bool sim_init(struct sim *s, uint64_t quantum)
{
    memset(s, 0, sizeof(*s));
    s->ops = sched_policy_find("prio");
    if (!s->ops)
        return false;
    for (unsigned c = 0; c < NCPU; c++) {
        memset(&s->rq[c], 0x5a, sizeof(s->rq[c]));
        s->rq[c].cpu = c;
        s->rq[c].quantum_ticks = quantum;
        s->ops->rq_init(&s->rq[c]);
        s->rqs[c] = &s->rq[c];
    }
    for (unsigned i = 0; i < NENT; i++)
        s->se[i].prio = SCHED_PRIO_DEFAULT;
    return true;
}

static int id_of(const struct sim *s, const struct sched_entity *e)
{
    return e ? (int)(e - s->se) : -1;
}

static struct sched_entity *E(struct sim *s, int i)
{
    return &s->se[i];
}

static void enq_p(struct sim *s, unsigned c, int i, unsigned prio, bool wakeup)
{
    s->se[i].prio = prio;
    s->ops->enqueue(&s->rq[c], E(s, i), wakeup);
}

static int pick(struct sim *s, unsigned c)
{
    return id_of(s, s->ops->pick_next(&s->rq[c]));
}

static bool tick(struct sim *s, unsigned c, int i)
{
    return s->ops->tick(&s->rq[c], E(s, i));
}

static unsigned sel(struct sim *s, int i, unsigned this_cpu)
{
    return s->ops->select_cpu(s->rqs, NCPU, E(s, i), this_cpu);
}

/* CPU c's queue in pick order (levels high to low, each head first), found by walking next from
 * each level's entity without a prev; checks prev mirrors next, one list per level, and that the
 * walk covers exactly nr_queued entities. Needs se->prio unchanged since enqueue. */
static int walk(struct sim *s, unsigned c, int *out)
{
    int head[SCHED_PRIO_LEVELS], n = 0;
    memset(head, -1, sizeof(head));
    for (int i = 0; i < NENT; i++) {
        const struct sched_entity *e = &s->se[i];
        if (e->on_rq && e->cpu == c && !e->prev) {
            if (e->prio >= SCHED_PRIO_LEVELS || head[e->prio] >= 0)
                return -1;
            head[e->prio] = i;
        }
    }
    for (int l = TOP; l >= 0; l--) {
        const struct sched_entity *prev = NULL;
        for (const struct sched_entity *e = head[l] >= 0 ? E(s, head[l]) : NULL; e; e = e->next) {
            if (n == NENT || e->prev != prev || !e->on_rq || e->cpu != c || (int)e->prio != l)
                return -1;
            out[n++] = id_of(s, e);
            prev = e;
        }
    }
    return (unsigned)n == s->rq[c].nr_queued ? n : -1;
}

static bool order_is(struct sim *s, unsigned c, const int *want, int n)
{
    int got[NENT];
    return walk(s, c, got) == n && memcmp(got, want, sizeof(int) * (size_t)n) == 0;
}

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* ---- directed tests --------------------------------------------------------------------- */

TEST(prio_pick_order_by_priority)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    unsigned prios[] = {5, 20, 1, TOP, 0, 17};
    for (int i = 0; i < 6; i++)
        enq_p(s, 0, i, prios[i], i % 2);
    CHECK_EQ(s->rq[0].nr_queued, 6);
    int want[] = {3, 1, 5, 0, 2, 4};
    CHECK(order_is(s, 0, want, 6));
    for (int k = 0; k < 6; k++) {
        CHECK_EQ(pick(s, 0), want[k]);
        CHECK_EQ(s->rq[0].nr_queued, 5 - k);
        CHECK(!E(s, want[k])->on_rq);
    }
    CHECK_EQ(pick(s, 0), -1);
}

TEST(prio_fifo_within_level)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    for (int i = 0; i < 5; i++)
        enq_p(s, 2, i, 10, false);
    enq_p(s, 2, 5, 9, false);
    CHECK(order_is(s, 2, (int[]){0, 1, 2, 3, 4, 5}, 6));
    for (int i = 0; i < 6; i++) {
        CHECK_EQ(pick(s, 2), i);
        CHECK_EQ(E(s, i)->cpu, 2);
    }
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
    /* Each level alone, and each level above level 0: a stale or missing bit shows here. */
    for (int l = 0; l < SCHED_PRIO_LEVELS; l++) {
        enq_p(s, 1, 0, (unsigned)l, false);
        CHECK_EQ(pick(s, 1), 0);
        CHECK_EQ(pick(s, 1), -1);
        enq_p(s, 1, 1, 0, false);
        enq_p(s, 1, 2, (unsigned)l, false);
        CHECK_EQ(pick(s, 1), l == 0 ? 1 : 2);
        CHECK_EQ(pick(s, 1), l == 0 ? 2 : 1);
        CHECK_EQ(pick(s, 1), -1);
    }
    /* Random subsets, emptied partly by dequeue: the remaining top is always picked first. */
    rng_state = 0x1234567887654321ull;
    for (int round = 0; round < 2000; round++) {
        uint32_t mask = (uint32_t)rnd(0xffffffffu) ^ (uint32_t)rnd(0xffffffffu) << 1;
        int n = 0;
        for (int l = 0; l < SCHED_PRIO_LEVELS; l++)
            if (mask >> l & 1)
                enq_p(s, 3, n++, (unsigned)l, false);
        for (int i = 0; i < n; i++) /* drop about a third, from anywhere */
            if (rnd(3) == 0) {
                s->ops->dequeue(&s->rq[3], E(s, i));
                mask &= ~(1u << E(s, i)->prio);
            }
        CHECK_EQ(s->rq[3].nr_queued, __builtin_popcount(mask));
        while (mask) {
            int l = 31 - __builtin_clz(mask);
            int got = pick(s, 3);
            CHECK(got >= 0);
            CHECK_EQ(E(s, got)->prio, l);
            mask &= ~(1u << l);
        }
        CHECK_EQ(pick(s, 3), -1);
    }
}

TEST(prio_out_of_range_prio_runs_at_top)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    enq_p(s, 0, 0, TOP, false);
    enq_p(s, 0, 1, 1000, false);
    enq_p(s, 0, 2, 30, false);
    CHECK_EQ(pick(s, 0), 0);
    CHECK_EQ(pick(s, 0), 1);
    CHECK_EQ(pick(s, 0), 2);
}

TEST(prio_wakeup_preemption_decision)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    enq_p(s, 0, 0, 10, false);
    CHECK_EQ(pick(s, 0), 0);
    struct { unsigned prio; bool preempt; } cases[] = {
        {11, true}, {TOP, true}, {10, false}, {9, false}, {0, false},
    };
    for (int k = 0; k < 5; k++) {
        enq_p(s, 0, 1 + k, cases[k].prio, true);
        CHECK_EQ(s->ops->preempt_on_wakeup(&s->rq[0], E(s, 0), E(s, 1 + k)), cases[k].preempt);
    }
    CHECK(s->ops->preempt_on_wakeup(&s->rq[0], NULL, E(s, 3))); /* idle CPU */
    /* Top-level curr: nothing preempts it. */
    E(s, 0)->prio = TOP;
    CHECK(!s->ops->preempt_on_wakeup(&s->rq[0], E(s, 0), E(s, 2)));
}

/* A runs at 10 with B queued at 10; C at 20 wakes and preempts A mid-slice. A must resume before
 * B with the ticks it had left, then B gets its turn when A's slice ends. */
TEST(prio_preempted_requeued_at_head_with_remaining_slice)
{
    struct sim *s = &sim;
    enum { A, B, C };
    CHECK(sim_init(s, 5));
    enq_p(s, 0, A, 10, false);
    enq_p(s, 0, B, 10, false);
    CHECK_EQ(pick(s, 0), A);
    CHECK(!tick(s, 0, A));
    CHECK(!tick(s, 0, A));
    CHECK_EQ(E(s, A)->slice_left, 3);
    enq_p(s, 0, C, 20, true);
    CHECK(s->ops->preempt_on_wakeup(&s->rq[0], E(s, A), E(s, C)));
    s->ops->put_prev(&s->rq[0], E(s, A), false);
    CHECK_EQ(E(s, A)->slice_left, 3);
    CHECK(order_is(s, 0, (int[]){C, A, B}, 3));
    CHECK_EQ(pick(s, 0), C);
    for (int t = 0; t < 12; t++) /* C alone at its level: never preempted */
        CHECK(!tick(s, 0, C));
    /* C blocks: A resumes first with its 3 ticks, then B. */
    CHECK_EQ(pick(s, 0), A);
    CHECK(!tick(s, 0, A));
    CHECK(!tick(s, 0, A));
    CHECK(tick(s, 0, A));
    s->ops->put_prev(&s->rq[0], E(s, A), false);
    CHECK_EQ(E(s, A)->slice_left, 5);
    CHECK(order_is(s, 0, (int[]){B, A}, 2));
    CHECK_EQ(pick(s, 0), B);
}

TEST(prio_yield_goes_to_tail_refilled)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 5));
    enq_p(s, 0, 0, 7, false);
    enq_p(s, 0, 1, 7, false);
    enq_p(s, 0, 2, 3, false);
    CHECK_EQ(pick(s, 0), 0);
    CHECK(!tick(s, 0, 0));
    s->ops->put_prev(&s->rq[0], E(s, 0), true);
    CHECK_EQ(E(s, 0)->slice_left, 5);
    CHECK(order_is(s, 0, (int[]){1, 0, 2}, 3));
    /* A yield never drops below lower levels: the yielder still runs before them. */
    CHECK_EQ(pick(s, 0), 1);
    CHECK_EQ(pick(s, 0), 0);
    CHECK_EQ(pick(s, 0), 2);
}

TEST(prio_tick_lone_top_not_preempted_peer_gets_turn)
{
    struct sim *s = &sim;
    enum { H = 0, L = 1, P = 2, Q = 4 };
    CHECK(sim_init(s, Q));
    enq_p(s, 0, H, 25, false);
    enq_p(s, 0, L, 5, false);
    CHECK_EQ(pick(s, 0), H);
    for (int t = 0; t < 10 * Q; t++) {
        CHECK(!tick(s, 0, H));
        CHECK(E(s, H)->slice_left >= 1 && E(s, H)->slice_left <= Q);
    }
    /* An equal-priority peer wakes: no preemption, but it runs when H's slice ends. */
    enq_p(s, 0, P, 25, true);
    CHECK(!s->ops->preempt_on_wakeup(&s->rq[0], E(s, H), E(s, P)));
    uint64_t left = E(s, H)->slice_left;
    for (uint64_t t = 1; t < left; t++)
        CHECK(!tick(s, 0, H));
    CHECK(tick(s, 0, H));
    s->ops->put_prev(&s->rq[0], E(s, H), false);
    CHECK(order_is(s, 0, (int[]){P, H, L}, 3));
    /* From now on H and P alternate, exactly a quantum each; L never runs. */
    int curr = pick(s, 0), expect = P;
    for (int turn = 0; turn < 50; turn++) {
        CHECK_EQ(curr, expect);
        for (int t = 1; t < Q; t++)
            CHECK(!tick(s, 0, curr));
        CHECK(tick(s, 0, curr));
        s->ops->put_prev(&s->rq[0], E(s, curr), false);
        curr = pick(s, 0);
        expect = expect == P ? H : P;
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
    CHECK(order_is(s, 0, (int[]){1, 0}, 2));
    /* A lower one enqueued the same way changes nothing. */
    CHECK_EQ(pick(s, 0), 1);
    CHECK(!tick(s, 0, 1));
}

/* Strict priority starves lower levels by design; they run as soon as everything above blocks. */
TEST(prio_starvation_by_design_and_recovery)
{
    struct sim *s = &sim;
    enum { H1, H2, M, L, Q = 3, TICKS = 3000 };
    unsigned ran[4] = {0};
    CHECK(sim_init(s, Q));
    enq_p(s, 0, H1, 20, false);
    enq_p(s, 0, H2, 20, false);
    enq_p(s, 0, M, 10, false);
    enq_p(s, 0, L, 0, false);
    int curr = pick(s, 0);
    for (int t = 0; t < TICKS; t++) {
        ran[curr]++;
        if (tick(s, 0, curr)) {
            s->ops->put_prev(&s->rq[0], E(s, curr), false);
            curr = pick(s, 0);
        }
    }
    CHECK_EQ(ran[H1] + ran[H2], TICKS);
    CHECK(ran[H1] >= TICKS / 2 - Q && ran[H2] >= TICKS / 2 - Q);
    CHECK_EQ(ran[M], 0);
    CHECK_EQ(ran[L], 0);
    /* Both high ones block (curr stops running, the other is dequeued): M runs, alone at its
     * level above L, and keeps the CPU; once M blocks too, L runs. */
    int other = curr == H1 ? H2 : H1;
    s->ops->dequeue(&s->rq[0], E(s, other));
    curr = pick(s, 0);
    CHECK_EQ(curr, M);
    for (int t = 0; t < 100; t++)
        CHECK(!tick(s, 0, M));
    curr = pick(s, 0);
    CHECK_EQ(curr, L);
    CHECK_EQ(s->rq[0].nr_queued, 0);
    /* H1 wakes: it preempts L at once. */
    enq_p(s, 0, H1, 20, true);
    CHECK(s->ops->preempt_on_wakeup(&s->rq[0], E(s, L), E(s, H1)));
}

TEST(prio_steal_takes_highest_unpinned)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    enq_p(s, 1, 0, 30, false);
    E(s, 0)->pinned = true;
    enq_p(s, 1, 1, 25, false);
    E(s, 1)->pinned = true;
    enq_p(s, 1, 2, 25, false);
    enq_p(s, 1, 3, 25, false);
    enq_p(s, 1, 4, 10, false);
    enq_p(s, 1, 5, 31, false);
    E(s, 5)->pinned = true;
    int want[] = {2, 3, 4};
    for (int k = 0; k < 3; k++) {
        struct sched_entity *got = s->ops->steal(&s->rq[1]);
        CHECK_EQ(id_of(s, got), want[k]);
        CHECK(!got->on_rq);
        CHECK_EQ(s->rq[1].nr_queued, 5 - k);
    }
    CHECK(s->ops->steal(&s->rq[1]) == NULL);
    CHECK(order_is(s, 1, (int[]){5, 0, 1}, 3));
    CHECK_EQ(pick(s, 1), 5);
    CHECK_EQ(pick(s, 1), 0);
    CHECK_EQ(pick(s, 1), 1);
    CHECK(s->ops->steal(&s->rq[1]) == NULL);
}

TEST(prio_select_cpu)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    int w = NENT - 1;
    /* CPU0: top 20. CPU1: top 12. CPU2: top 5. CPU3: empty. */
    enq_p(s, 0, 0, 20, false);
    enq_p(s, 0, 1, 3, false);
    enq_p(s, 1, 2, 12, false);
    enq_p(s, 2, 3, 5, false);
    E(s, w)->prio = 15;
    E(s, w)->cpu = 1; /* only lower queued there: stay */
    CHECK_EQ(sel(s, w, 0), 1);
    E(s, w)->cpu = 0; /* higher queued on CPU0, CPU3 idle: go there */
    CHECK_EQ(sel(s, w, 0), 3);
    E(s, w)->pinned = true;
    CHECK_EQ(sel(s, w, 2), 0);
    E(s, w)->pinned = false;
    enq_p(s, 3, 4, 1, false); /* no idle CPU: the one with the lowest top (CPU3, 1) */
    CHECK_EQ(sel(s, w, 0), 3);
    enq_p(s, 3, 5, 18, false); /* CPU3 top 18: now CPU2 (5) */
    CHECK_EQ(sel(s, w, 0), 2);
    E(s, w)->prio = 20; /* equal on its CPU counts as busy */
    CHECK_EQ(sel(s, w, 1), 2);
    E(s, w)->prio = 4; /* every queue holds something at or above 4: stay */
    CHECK_EQ(sel(s, w, 1), 0);
    E(s, w)->prio = 5;
    CHECK_EQ(sel(s, w, 1), 0);
    E(s, w)->cpu = 2; /* CPU2's top 5 equals it: still nowhere better */
    CHECK_EQ(sel(s, w, 1), 2);
    E(s, w)->cpu = 1000; /* never ran: starts from this_cpu */
    E(s, w)->prio = 13;
    CHECK_EQ(sel(s, w, 1), 1);
    CHECK_EQ(sel(s, w, 0), 2);
    CHECK_EQ(s->ops->select_cpu(s->rqs, 1, E(s, w), 0), 0);
    /* Two idle CPUs: the lower-numbered one. */
    s->ops->dequeue(&s->rq[3], E(s, 4));
    s->ops->dequeue(&s->rq[3], E(s, 5));
    s->ops->dequeue(&s->rq[2], E(s, 3));
    E(s, w)->cpu = 0;
    CHECK_EQ(sel(s, w, 0), 2);
}

TEST(prio_dequeue_middle_and_priority_change)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    for (int i = 0; i < 5; i++)
        enq_p(s, 0, i, 8, false);
    enq_p(s, 0, 5, 9, false);
    s->ops->dequeue(&s->rq[0], E(s, 2));
    CHECK(order_is(s, 0, (int[]){5, 0, 1, 3, 4}, 5));
    s->ops->dequeue(&s->rq[0], E(s, 5)); /* empties level 9: its bit must clear */
    CHECK(order_is(s, 0, (int[]){0, 1, 3, 4}, 4));
    /* Priority change the proper way: dequeue, set, enqueue (keeps the remaining slice). */
    E(s, 3)->slice_left = 2;
    s->ops->dequeue(&s->rq[0], E(s, 3));
    enq_p(s, 0, 3, 30, false);
    CHECK_EQ(E(s, 3)->slice_left, 2);
    CHECK(order_is(s, 0, (int[]){3, 0, 1, 4}, 4));
    /* The careless way: prio changed while queued. Dequeue must still unlink from the list the
     * entity is really on, leaving level 8 intact (the head, so that the level's head pointer
     * must be updated, and the new level 2 must stay empty). */
    E(s, 0)->prio = 2;
    s->ops->dequeue(&s->rq[0], E(s, 0));
    CHECK(!E(s, 0)->on_rq);
    CHECK(order_is(s, 0, (int[]){3, 1, 4}, 3));
    CHECK_EQ(pick(s, 0), 3);
    CHECK_EQ(pick(s, 0), 1);
    CHECK_EQ(pick(s, 0), 4);
    CHECK_EQ(pick(s, 0), -1);
    CHECK_EQ(s->rq[0].nr_queued, 0);
}

TEST(prio_misuse_is_ignored)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    enq_p(s, 0, 0, 4, false);
    enq_p(s, 0, 1, 4, false);
    enq_p(s, 0, 2, 9, false);
    enq_p(s, 1, 3, 4, false);
    struct sched_rq before[NCPU];
    struct sched_entity ents[NENT];
    memcpy(before, s->rq, sizeof(before));
    memcpy(ents, s->se, sizeof(ents));
    s->ops->dequeue(&s->rq[0], E(s, 9));
    s->ops->dequeue(&s->rq[0], E(s, 3));
    s->ops->dequeue(&s->rq[1], E(s, 1));
    s->ops->enqueue(&s->rq[0], E(s, 1), true);
    s->ops->enqueue(&s->rq[2], E(s, 2), false);
    s->ops->put_prev(&s->rq[0], E(s, 0), true);
    CHECK(memcmp(before, s->rq, sizeof(before)) == 0);
    CHECK(memcmp(ents, s->se, sizeof(ents)) == 0);
    s->ops->dequeue(&s->rq[0], E(s, 1));
    s->ops->dequeue(&s->rq[0], E(s, 1));
    CHECK_EQ(s->rq[0].nr_queued, 2);
    CHECK(order_is(s, 0, (int[]){2, 0}, 2));
}

TEST(prio_donate_passes_remaining_slice)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 6));
    enq_p(s, 0, 0, 10, false);
    enq_p(s, 0, 2, 10, false);
    CHECK_EQ(pick(s, 0), 0);
    CHECK(!tick(s, 0, 0));
    E(s, 1)->prio = 3; /* a low-priority server runs on the client's slice, at its own level */
    s->ops->donate(&s->rq[0], E(s, 0), E(s, 1));
    CHECK_EQ(E(s, 1)->slice_left, 5);
    CHECK_EQ(E(s, 0)->slice_left, 0);
    CHECK_EQ(s->rq[0].nr_queued, 1);
    CHECK(tick(s, 0, 1)); /* entity 2 (10) is queued above the server */
}

/* ---- randomized stress against a shadow model ------------------------------------------ */

enum { BLOCKED, QUEUED, RUNNING };

struct model {
    int q[NCPU][SCHED_PRIO_LEVELS][NENT], len[NCPU][SCHED_PRIO_LEVELS], nr[NCPU];
    int curr[NCPU];
    int state[NENT];
    unsigned cpu[NENT];
    uint64_t slice[NENT];
    bool pinned[NENT];
};

static int m_top(const struct model *m, unsigned c)
{
    for (int l = TOP; l >= 0; l--)
        if (m->len[c][l])
            return l;
    return -1;
}

static void m_insert(struct model *m, unsigned c, int e, bool head)
{
    int l = (int)sim.se[e].prio;
    if (head) {
        memmove(&m->q[c][l][1], &m->q[c][l][0], sizeof(int) * (size_t)m->len[c][l]);
        m->q[c][l][0] = e;
    } else {
        m->q[c][l][m->len[c][l]] = e;
    }
    m->len[c][l]++;
    m->nr[c]++;
    m->state[e] = QUEUED;
    m->cpu[e] = c;
}

static void m_remove(struct model *m, unsigned c, int e)
{
    int l = (int)sim.se[e].prio;
    for (int k = 0; k < m->len[c][l]; k++) {
        if (m->q[c][l][k] == e) {
            memmove(&m->q[c][l][k], &m->q[c][l][k + 1],
                    sizeof(int) * (size_t)(m->len[c][l] - k - 1));
            m->len[c][l]--;
            m->nr[c]--;
            return;
        }
    }
    abort(); /* the model itself is wrong */
}

static bool m_check(struct sim *s, const struct model *m)
{
    for (unsigned c = 0; c < NCPU; c++) {
        int want[NENT], n = 0;
        for (int l = TOP; l >= 0; l--)
            for (int k = 0; k < m->len[c][l]; k++)
                want[n++] = m->q[c][l][k];
        if (!order_is(s, c, want, n))
            return false;
    }
    for (int e = 0; e < NENT; e++) {
        const struct sched_entity *se = &s->se[e];
        if (se->on_rq != (m->state[e] == QUEUED) || se->slice_left != m->slice[e] ||
            se->cpu != m->cpu[e])
            return false;
        if (m->pinned[e] && se->cpu != (unsigned)e % NCPU)
            return false;
    }
    return true;
}

static bool m_schedule(struct sim *s, struct model *m, unsigned c)
{
    int want = -1, got, top = m_top(m, c);
    if (top >= 0) {
        want = m->q[c][top][0];
        m_remove(m, c, want);
    }
    got = pick(s, c);
    if (got != want)
        return false;
    if (got < 0) {
        unsigned busiest = 0;
        for (unsigned i = 1; i < NCPU; i++)
            if (m->nr[i] > m->nr[busiest])
                busiest = i;
        for (int l = TOP; l >= 0 && want < 0; l--)
            for (int k = 0; k < m->len[busiest][l] && want < 0; k++)
                if (!m->pinned[m->q[busiest][l][k]])
                    want = m->q[busiest][l][k];
        if (want >= 0)
            m_remove(m, busiest, want);
        got = id_of(s, s->ops->steal(&s->rq[busiest]));
        if (got != want)
            return false;
        if (got >= 0)
            s->se[got].cpu = c;
    }
    m->curr[c] = got;
    if (got >= 0) {
        m->state[got] = RUNNING;
        m->cpu[got] = c;
    }
    return true;
}

static int random_in_state(const struct model *m, int state)
{
    int start = (int)rnd(NENT);
    for (int k = 0; k < NENT; k++) {
        int e = (start + k) % NENT;
        if (m->state[e] == state)
            return e;
    }
    return -1;
}

/* Few distinct levels half of the time, so that equal-priority peers are common. */
static unsigned random_prio(void)
{
    static const unsigned common[] = {0, 7, 16, 16, 24, TOP};
    return rnd(2) ? common[rnd(6)] : rnd(SCHED_PRIO_LEVELS);
}

/* Preempt curr on c (put back, not a yield) and reschedule, as the core does. */
static bool m_preempt(struct sim *s, struct model *m, unsigned c, uint64_t quantum)
{
    int cur = m->curr[c];
    s->ops->put_prev(&s->rq[c], E(s, cur), false);
    bool head = m->slice[cur] > 0;
    if (!head)
        m->slice[cur] = quantum;
    m_insert(m, c, cur, head);
    return m_schedule(s, m, c);
}

TEST(prio_randomized_stress_shadow_model)
{
    struct sim *s = &sim;
    static struct model m;
    const uint64_t Q = 4;
    unsigned heads = 0, wake_preempts = 0, steals = 0;
    CHECK(sim_init(s, Q));
    memset(&m, 0, sizeof(m));
    rng_state = 0xdeadbeefcafef00dull;
    for (int e = 0; e < NENT; e++) {
        m.state[e] = BLOCKED;
        m.pinned[e] = s->se[e].pinned = e % 7 == 0;
        m.cpu[e] = s->se[e].cpu = (unsigned)e % NCPU;
        s->se[e].prio = random_prio();
    }
    for (unsigned c = 0; c < NCPU; c++)
        m.curr[c] = -1;

    for (int step = 0; step < 200000; step++) {
        unsigned c = rnd(NCPU);
        int cur = m.curr[c], r = (int)rnd(100);
        if (r < 35) { /* timer tick */
            if (cur < 0) {
                CHECK(m_schedule(s, &m, c));
                continue;
            }
            int l = (int)s->se[cur].prio, top = m_top(&m, c);
            bool want = false;
            if (m.slice[cur])
                m.slice[cur]--;
            if (top > l)
                want = true;
            else if (m.slice[cur] == 0 && top == l)
                want = true;
            else if (m.slice[cur] == 0)
                m.slice[cur] = Q;
            CHECK_EQ(tick(s, c, cur), want);
            if (want) {
                heads += m.slice[cur] > 0;
                CHECK(m_preempt(s, &m, c, Q));
            }
        } else if (r < 43 && cur >= 0) { /* yield */
            s->ops->put_prev(&s->rq[c], E(s, cur), true);
            m.slice[cur] = Q;
            m_insert(&m, c, cur, false);
            CHECK(m_schedule(s, &m, c));
        } else if (r < 55 && cur >= 0) { /* block */
            m.state[cur] = BLOCKED;
            CHECK(m_schedule(s, &m, c));
        } else if (r < 72) { /* wake up, placed by select_cpu */
            int e = random_in_state(&m, BLOCKED);
            if (e < 0)
                continue;
            unsigned last = m.cpu[e], best = last;
            int p = (int)s->se[e].prio, best_top = m_top(&m, last);
            if (!m.pinned[e] && best_top >= p) {
                for (unsigned i = 0; i < NCPU; i++) {
                    if (m_top(&m, i) < best_top) {
                        best = i;
                        best_top = m_top(&m, i);
                    }
                }
                if (best_top >= p)
                    best = last;
            }
            unsigned t = sel(s, e, c);
            CHECK_EQ(t, best);
            s->ops->enqueue(&s->rq[t], E(s, e), true);
            m.slice[e] = Q;
            m_insert(&m, t, e, false);
            int tc = m.curr[t];
            bool want = tc < 0 || p > (int)s->se[tc].prio;
            CHECK_EQ(s->ops->preempt_on_wakeup(&s->rq[t], tc >= 0 ? E(s, tc) : NULL, E(s, e)),
                     want);
            if (want && tc >= 0) {
                wake_preempts++;
                CHECK(m_preempt(s, &m, t, Q));
            } else if (want) {
                CHECK(m_schedule(s, &m, t));
            }
        } else if (r < 78) { /* a queued entity blocks or exits */
            int e = random_in_state(&m, QUEUED);
            if (e < 0)
                continue;
            m_remove(&m, m.cpu[e], e);
            m.state[e] = BLOCKED;
            s->ops->dequeue(&s->rq[m.cpu[e]], E(s, e));
        } else if (r < 84) { /* priority change: queued (dequeue, set, enqueue) or not */
            int e = (int)rnd(NENT);
            unsigned np = random_prio();
            if (m.state[e] == QUEUED) {
                unsigned ec = m.cpu[e];
                s->ops->dequeue(&s->rq[ec], E(s, e));
                m_remove(&m, ec, e);
                s->se[e].prio = np;
                s->ops->enqueue(&s->rq[ec], E(s, e), false);
                if (m.slice[e] == 0 || m.slice[e] > Q)
                    m.slice[e] = Q;
                m_insert(&m, ec, e, false);
            } else {
                s->se[e].prio = np; /* running: the next tick sees it */
            }
        } else if (r < 88) { /* misuse: must change nothing */
            int e = (int)rnd(NENT);
            unsigned other = (m.cpu[e] + 1 + rnd(NCPU - 1)) % NCPU;
            if (m.state[e] == QUEUED) {
                s->ops->dequeue(&s->rq[other], E(s, e));
                s->ops->enqueue(&s->rq[other], E(s, e), rnd(2));
                s->ops->put_prev(&s->rq[m.cpu[e]], E(s, e), rnd(2));
            } else {
                s->ops->dequeue(&s->rq[m.cpu[e]], E(s, e));
            }
        } else if (r < 92 && cur >= 0) { /* IPC call: donate to a blocked receiver */
            int e = random_in_state(&m, BLOCKED);
            if (e < 0 || (m.pinned[e] && (unsigned)e % NCPU != c))
                continue;
            s->ops->donate(&s->rq[c], E(s, cur), E(s, e));
            m.slice[e] = m.slice[cur];
            m.slice[cur] = 0;
            m.state[cur] = BLOCKED;
            m.state[e] = RUNNING;
            m.cpu[e] = c;
            s->se[e].cpu = c;
            m.curr[c] = e;
        } else if (r < 96) { /* migration */
            int e = random_in_state(&m, QUEUED);
            if (e < 0 || m.pinned[e])
                continue;
            unsigned from = m.cpu[e], to = rnd(NCPU);
            s->ops->dequeue(&s->rq[from], E(s, e));
            s->ops->enqueue(&s->rq[to], E(s, e), false);
            m_remove(&m, from, e);
            if (m.slice[e] == 0 || m.slice[e] > Q)
                m.slice[e] = Q;
            m_insert(&m, to, e, false);
        } else if (cur < 0) { /* idle CPU: pick or steal */
            steals += m.nr[c] == 0;
            CHECK(m_schedule(s, &m, c));
        }
        for (unsigned i = 0; i < NCPU; i++)
            CHECK_EQ(s->rq[i].nr_queued, m.nr[i]);
        CHECK(m_check(s, &m));
    }
    CHECK(heads > 500 && wake_preempts > 500 && steals > 100);
    for (unsigned c = 0; c < NCPU; c++) {
        for (int l = TOP; l >= 0; l--)
            for (int k = 0; k < m.len[c][l]; k++)
                CHECK_EQ(pick(s, c), m.q[c][l][k]);
        CHECK_EQ(pick(s, c), -1);
    }
}
