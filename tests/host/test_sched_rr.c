/* Host tests for sched/rr.c and sched/registry.c: a simulated CPU (pick, run ticks through
 * ops->tick, put back) checks FIFO order, exact quanta and fairness, yield, wake-up, stealing,
 * CPU selection and misuse; a randomized run over 4 CPUs is checked against a shadow model. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sched/sched.h"

#define NCPU 4
#define NENT 32
#include "sched_sim.h"

static bool sim_init(struct sim *s, uint64_t quantum)
{
    bool ok = sim_setup(s, "rr", 0xa5, quantum);
    s->steal_tail = true; /* rr steals the tail-most unpinned; one list, so no levels */
    return ok;
}

static void enq(struct sim *s, unsigned c, int i, bool wakeup)
{
    s->ops->enqueue(&s->rq[c], E(s, i), wakeup);
}

/* Enqueues entities first..first+n-1 on CPU c (not a wake-up). */
static void enq_range(struct sim *s, unsigned c, int first, int n)
{
    for (int i = first; i < first + n; i++)
        enq(s, c, i, false);
}

static unsigned sel(struct sim *s, int i, unsigned ncpus, unsigned this_cpu)
{
    return s->ops->select_cpu(s->rqs, ncpus, E(s, i), this_cpu);
}

/* ---- registry -------------------------------------------------------------------------- */

/* Registered by this test binary only: registration is one line, and since the test is linked
 * before the policy files, link order differs from name order: the list must not show it. */
static const struct sched_ops test_only_ops = {.name = "test_only", .description = "test"};
SCHED_POLICY(test_only_ops);

extern const struct sched_ops *const __start_sched_policies[];
extern const struct sched_ops *const __stop_sched_policies[];

TEST(registry_finds_both_policies)
{
    const char *names[] = {"rr", "prio"};
    for (unsigned i = 0; i < 2; i++) {
        const struct sched_ops *ops = sched_policy_find(names[i]);
        CHECK(ops != NULL);
        CHECK_STR(ops->name, names[i]);
        CHECK(ops->description && ops->description[0]);
        CHECK(ops->rq_init && ops->enqueue && ops->dequeue && ops->pick_next && ops->put_prev);
        CHECK(ops->tick && ops->preempt_on_wakeup && ops->select_cpu && ops->steal);
        CHECK(ops->donate);
    }
    CHECK(sched_policy_find("rr") != sched_policy_find("prio"));
}

TEST(registry_unknown_is_null)
{
    CHECK(sched_policy_find("nope") == NULL);
    CHECK(sched_policy_find("") == NULL);
    CHECK(sched_policy_find("r") == NULL); /* no prefix matching */
    CHECK(sched_policy_find("rr ") == NULL);
    CHECK(sched_policy_find("RR") == NULL);
    CHECK(sched_policy_find(NULL) == NULL);
}

TEST(registry_names_list)
{
    char buf[256], copy[256];
    CHECK(sched_policy_names(buf, sizeof(buf)) == buf);
    CHECK(strstr(buf, "rr") && strstr(buf, "prio"));
    /* Every listed name is found, names are sorted, and none is listed twice. */
    strcpy(copy, buf);
    int count = 0;
    const char *prev = "";
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        if (*tok == ' ')
            tok++;
        CHECK(sched_policy_find(tok) != NULL);
        CHECK(strcmp(prev, tok) < 0);
        prev = tok;
        count++;
    }
    CHECK_EQ(count, __stop_sched_policies - __start_sched_policies);
    CHECK(sched_policy_find("test_only") == &test_only_ops);
    CHECK(strstr(buf, "prio, rr, test_only") != NULL);
    /* A short buffer gets a NUL-terminated prefix, never an overrun. */
    char small[5];
    memset(small, 'x', sizeof(small));
    sched_policy_names(small, sizeof(small));
    CHECK_EQ(strlen(small), 4);
    CHECK(strncmp(small, buf, 4) == 0);
    char one[1] = {'x'};
    sched_policy_names(one, 1);
    CHECK_EQ(one[0], '\0');
    CHECK(sched_policy_names(NULL, 0) == NULL);
}

/* ---- directed rr tests ------------------------------------------------------------------ */

TEST(rr_empty_queue)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    CHECK_EQ(s->rq[0].nr_queued, 0);
    CHECK(s->ops->pick_next(&s->rq[0]) == NULL);
    CHECK(s->ops->steal(&s->rq[0]) == NULL);
}

TEST(rr_fifo_order)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 4));
    for (int i = 0; i < 6; i++) {
        enq(s, 1, i, i % 2);
        CHECK_EQ(s->rq[1].nr_queued, i + 1);
        CHECK(E(s, i)->on_rq);
        CHECK_EQ(E(s, i)->cpu, 1);
        CHECK_EQ(E(s, i)->slice_left, 4);
    }
    CHECK(ORDER(1, 0, 1, 2, 3, 4, 5));
    CHECK(PICKS(1, 0, 1, 2, 3, 4, 5));
    for (int i = 0; i < 6; i++)
        CHECK_EQ(E(s, i)->cpu, 1); /* last ran on */
    CHECK_EQ(s->rq[0].nr_queued, 0);
}

/* K entities on one CPU for many rounds: each turn lasts exactly the quantum, turns go round in
 * FIFO order, and turn counts never differ by more than one. */
TEST(rr_quantum_round_robin_fairness)
{
    struct sim *s = &sim;
    enum { K = 5, Q = 3, ROUNDS = 200 };
    unsigned turns[K] = {0};
    CHECK(sim_init(s, Q));
    enq_range(s, 0, 0, K);
    for (int turn = 0; turn < K * ROUNDS; turn++) {
        int curr = pick(s, 0);
        CHECK_EQ(curr, turn % K);
        CHECK_EQ(s->rq[0].nr_queued, K - 1);
        CHECK_EQ(ticks_until_preempt(s, 0, curr, 2 * Q), Q);
        CHECK_EQ(E(s, curr)->slice_left, 0);
        s->ops->put_prev(&s->rq[0], E(s, curr), false);
        CHECK_EQ(E(s, curr)->slice_left, Q);
        turns[curr]++;
        for (int i = 0; i < K; i++)
            CHECK(turns[i] + 1 >= turns[curr]);
    }
    for (int i = 0; i < K; i++)
        CHECK_EQ(turns[i], ROUNDS);
}

TEST(rr_lone_entity_keeps_running)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 2));
    enq(s, 0, 0, true);
    CHECK_EQ(pick(s, 0), 0);
    for (int t = 0; t < 100; t++) {
        CHECK(!tick(s, 0, 0));
        CHECK(E(s, 0)->slice_left >= 1 && E(s, 0)->slice_left <= 2);
    }
    /* Company arrives: the slice in progress is finished, then the newcomer runs. */
    enq(s, 0, 1, true);
    int left = (int)E(s, 0)->slice_left;
    CHECK_EQ(ticks_until_preempt(s, 0, 0, 10), left);
}

TEST(rr_zero_quantum_is_one_tick)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 0));
    enq_range(s, 0, 0, 2);
    CHECK_EQ(E(s, 0)->slice_left, 1);
    CHECK_EQ(pick(s, 0), 0);
    CHECK(tick(s, 0, 0));
}

TEST(rr_yield_moves_to_tail)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 5));
    enq_range(s, 0, 0, 4);
    CHECK_EQ(pick(s, 0), 0);
    CHECK_EQ(ticks_until_preempt(s, 0, 0, 2), 0);
    CHECK_EQ(E(s, 0)->slice_left, 3);
    s->ops->put_prev(&s->rq[0], E(s, 0), true);
    CHECK(ORDER(0, 1, 2, 3, 0));
    CHECK_EQ(E(s, 0)->slice_left, 5); /* a yield forfeits the rest: next turn is a full one */
    /* Yielding alone comes straight back. */
    CHECK(sim_init(s, 5));
    enq(s, 0, 7, false);
    CHECK_EQ(pick(s, 0), 7);
    s->ops->put_prev(&s->rq[0], E(s, 7), true);
    CHECK(PICKS(0, 7));
}

TEST(rr_preempted_keeps_remainder_at_tail)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 5));
    enq_range(s, 0, 0, 2);
    CHECK_EQ(pick(s, 0), 0);
    CHECK(!tick(s, 0, 0));
    s->ops->put_prev(&s->rq[0], E(s, 0), false); /* the core's reschedule, not a yield */
    CHECK(ORDER(0, 1, 0));
    CHECK_EQ(E(s, 0)->slice_left, 4);
}

TEST(rr_wakeup_never_preempts)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 3));
    enq_range(s, 0, 0, 2);
    CHECK_EQ(pick(s, 0), 0);
    for (int i = 2; i < 6; i++) {
        E(s, i)->slice_left = 1; /* a sleeper with little left still gets a full quantum */
        E(s, i)->prio = SCHED_PRIO_LEVELS - 1; /* and rr ignores priorities */
        enq(s, 0, i, true);
        CHECK_EQ(E(s, i)->slice_left, 3);
        CHECK(!s->ops->preempt_on_wakeup(&s->rq[0], E(s, 0), E(s, i)));
    }
    CHECK(ORDER(0, 1, 2, 3, 4, 5));
    /* An idle CPU has nothing to preempt: it switches to the woken entity at once. */
    CHECK(s->ops->preempt_on_wakeup(&s->rq[0], NULL, E(s, 1)));
}

TEST(rr_steal_skips_pinned)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 3));
    enq_range(s, 2, 0, 5);
    E(s, 1)->pinned = E(s, 3)->pinned = E(s, 4)->pinned = true;
    struct sched_entity *got = s->ops->steal(&s->rq[2]);
    CHECK_EQ(id_of(s, got), 2); /* tail-most unpinned */
    CHECK(!got->on_rq && !got->next && !got->prev);
    CHECK_EQ(s->rq[2].nr_queued, 4);
    CHECK(ORDER(2, 0, 1, 3, 4));
    CHECK_EQ(id_of(s, s->ops->steal(&s->rq[2])), 0);
    CHECK(s->ops->steal(&s->rq[2]) == NULL); /* only pinned left */
    CHECK(ORDER(2, 1, 3, 4));
    /* The stolen entity runs elsewhere and can be queued there normally. */
    got->cpu = 0;
    enq(s, 0, 2, false);
    CHECK_EQ(E(s, 2)->cpu, 0);
    CHECK(PICKS(0, 2));
}

TEST(rr_select_cpu_balancing)
{
    struct sim *s = &sim;
    int w = NENT - 1;
    CHECK(sim_init(s, 3));
    enq_range(s, 0, 0, 3); /* queue lengths 3, 2, 1, 5 */
    enq_range(s, 1, 3, 2);
    enq_range(s, 2, 5, 1);
    enq_range(s, 3, 6, 5);
    E(s, w)->cpu = 0; /* 3 queued, shortest 1: 2 shorter, move */
    CHECK_EQ(sel(s, w, NCPU, 3), 2);
    E(s, w)->cpu = 1; /* 2 vs 1: not worth it */
    CHECK_EQ(sel(s, w, NCPU, 3), 1);
    E(s, w)->cpu = 2; /* already the shortest */
    CHECK_EQ(sel(s, w, NCPU, 3), 2);
    E(s, w)->cpu = 3; /* 5 vs 1 */
    CHECK_EQ(sel(s, w, NCPU, 0), 2);
    E(s, w)->pinned = true; /* pinned never moves */
    CHECK_EQ(sel(s, w, NCPU, 0), 3);
    E(s, w)->pinned = false;
    E(s, w)->cpu = 99; /* never ran: starts from this_cpu */
    CHECK_EQ(sel(s, w, NCPU, 1), 1);
    CHECK_EQ(sel(s, w, NCPU, 0), 2);
    CHECK_EQ(sel(s, w, NCPU, 77), 2);
    E(s, w)->cpu = 3; /* one CPU: nowhere else to go */
    CHECK_EQ(sel(s, w, 1, 0), 0);
    for (int k = 0; k < 4; k++) /* CPU 3 down to 1, the same as CPU 2: ties go to the lowest */
        pick(s, 3);
    E(s, w)->cpu = 0;
    CHECK_EQ(sel(s, w, NCPU, 0), 2);
}

/* An empty queue on a CPU that runs something is a load of one, not an idle CPU. */
TEST(rr_select_cpu_counts_the_running_entity)
{
    struct sim *s = &sim;
    int w = NENT - 1;
    CHECK(sim_init(s, 3));
    enq_range(s, 0, 0, 2); /* CPU0: 2 queued and one running = 3 */
    s->rq[0].running = 1;
    s->rq[1].running = 1;  /* CPU1: 0 queued, one running = 1 */
    s->rq[2].running = 1;
    s->rq[3].running = 0;  /* CPU3: idle */
    E(s, w)->cpu = 0;
    CHECK_EQ(sel(s, w, NCPU, 0), 3);
    s->rq[3].running = 1; /* 3 vs 1: still worth moving, to the lowest such CPU */
    CHECK_EQ(sel(s, w, NCPU, 0), 1);
    s->rq[0].running = 0; /* 2 vs 1: not worth it */
    CHECK_EQ(sel(s, w, NCPU, 0), 0);
}

TEST(rr_dequeue_middle_head_tail)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 3));
    enq_range(s, 0, 0, 5);
    s->ops->dequeue(&s->rq[0], E(s, 2));
    CHECK(!E(s, 2)->on_rq);
    CHECK(ORDER(0, 0, 1, 3, 4));
    s->ops->dequeue(&s->rq[0], E(s, 0));
    CHECK(ORDER(0, 1, 3, 4));
    s->ops->dequeue(&s->rq[0], E(s, 4));
    CHECK(ORDER(0, 1, 3));
    enq(s, 0, 2, false);
    CHECK(ORDER(0, 1, 3, 2));
    for (int i = 1; i <= 3; i++)
        s->ops->dequeue(&s->rq[0], E(s, i));
    CHECK_EQ(pick(s, 0), -1);
    enq(s, 0, 4, false); /* an emptied queue works again */
    CHECK(PICKS(0, 4));
}

TEST(rr_misuse_is_ignored)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 3));
    enq_range(s, 0, 0, 3);
    enq(s, 1, 3, false);
    CHECK_MISUSE_IGNORED(s, 0, 2, false, 0, 2);
}

TEST(rr_donate_passes_remaining_slice)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 5));
    enq(s, 0, 0, false);
    enq(s, 0, 2, false);
    CHECK_EQ(pick(s, 0), 0);
    CHECK_EQ(ticks_until_preempt(s, 0, 0, 2), 0);
    /* 0 calls 1 (blocked in receive): 1 runs on 0's remaining 3 ticks. */
    CHECK(s->ops->donate(&s->rq[0], E(s, 0), E(s, 1)));
    CHECK_EQ(E(s, 1)->slice_left, 3);
    CHECK_EQ(E(s, 0)->slice_left, 0);
    CHECK_EQ(s->rq[0].nr_queued, 1); /* donate does not touch the queue */
    CHECK_EQ(ticks_until_preempt(s, 0, 1, 10), 3);
    CHECK(s->ops->donate(&s->rq[0], E(s, 1), E(s, 1))); /* self: no change */
    CHECK_EQ(E(s, 1)->slice_left, 0);
}

/* ---- randomized stress against a shadow model ------------------------------------------ */

/* rr only appends, so a queue in pick order is its entities by insert key (sched_sim.h). */
TEST(rr_randomized_stress_shadow_model)
{
    struct sim *s = &sim;
    const uint64_t Q = 3;
    unsigned preempts = 0;
    CHECK(sim_init(s, Q));
    m_start(0x9e3779b97f4a7c15ull, 5);

    for (int step = 0; step < 200000; step++) {
        unsigned c = rnd(NCPU);
        int cur = m.curr[c], r = (int)rnd(100);
        if (r < 35 && cur < 0) { /* timer tick on an idle CPU: look for work */
            CHECK(m_schedule(c));
        } else if (r < 35) { /* timer tick */
            m.slice[cur] -= m.slice[cur] > 0;
            bool want = m.slice[cur] == 0 && m_len(c) > 0;
            if (m.slice[cur] == 0)
                m.slice[cur] = Q; /* by tick when alone, by put_prev when preempted */
            CHECK_EQ(tick(s, c, cur), want);
            if (want) {
                s->ops->put_prev(&s->rq[c], E(s, cur), false);
                m_queue(cur, c, false);
                CHECK(m_schedule(c));
                preempts++;
            }
        } else if (r < 58 && cur >= 0) { /* yield, or block */
            CHECK(r < 45 ? m_yield(c, Q) : m_block(c));
        } else if (r < 75) { /* wake up, placed by select_cpu */
            int e = random_in_state(BLOCKED);
            if (e < 0)
                continue;
            unsigned last = m.cpu[e], best = last;
            for (unsigned i = 0; i < NCPU; i++)
                best = m_len(i) < m_len(best) ? i : best;
            unsigned t = !s->se[e].pinned && m_len(last) >= m_len(best) + 2 ? best : last;
            CHECK_EQ(sel(s, e, NCPU, c), t);
            enq(s, t, e, true);
            m.slice[e] = Q;
            m_queue(e, t, false);
            int tc = m.curr[t];
            struct sched_entity *curr_se = tc >= 0 ? E(s, tc) : NULL;
            CHECK_EQ(s->ops->preempt_on_wakeup(&s->rq[t], curr_se, E(s, e)), tc < 0);
            if (tc < 0)
                CHECK(m_schedule(t));
        } else if (r < 82) { /* a queued entity blocks or exits: dequeue */
            if (!m_dequeue_random())
                continue;
        } else if (r < 87) { /* misuse: must change nothing */
            m_misuse();
        } else if (r < 92 && cur >= 0) { /* IPC call: donate to a blocked receiver */
            if (!m_donate(c))
                continue;
        } else if (r < 96) { /* migration: dequeue here, enqueue there */
            if (!m_migrate(Q))
                continue;
        } else if (cur < 0) { /* idle CPU: pick or steal */
            CHECK(m_schedule(c));
        }
        CHECK(m_check());
    }
    CHECK(preempts > 1000 && m.steals > 100);
    for (unsigned c = 0; c < NCPU; c++) {
        int q[NENT], n = m_queue_of(c, q, false);
        CHECK(picks_are(s, c, q, n));
    }
}
