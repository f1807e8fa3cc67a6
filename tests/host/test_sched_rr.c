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

struct sim {
    const struct sched_ops *ops;
    struct sched_rq rq[NCPU];
    struct sched_rq *rqs[NCPU];
    struct sched_entity se[NENT];
};

static struct sim sim; /* one at a time; static keeps the tests' frames small */

static bool sim_init(struct sim *s, uint64_t quantum)
{
    memset(s, 0, sizeof(*s));
    s->ops = sched_policy_find("rr");
    if (!s->ops)
        return false;
    for (unsigned c = 0; c < NCPU; c++) {
        /* Garbage first: rq_init must not rely on a zeroed rq. */
        memset(&s->rq[c], 0xa5, sizeof(s->rq[c]));
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

static void enq(struct sim *s, unsigned c, int i, bool wakeup)
{
    s->ops->enqueue(&s->rq[c], E(s, i), wakeup);
}

static int pick(struct sim *s, unsigned c)
{
    return id_of(s, s->ops->pick_next(&s->rq[c]));
}

/* The list on CPU c, head first, by walking next from the one queued entity without a prev;
 * also checks that prev mirrors next and that the walk covers exactly nr_queued entities. */
static int walk(struct sim *s, unsigned c, int *out)
{
    int head = -1, n = 0;
    for (int i = 0; i < NENT; i++) {
        if (s->se[i].on_rq && s->se[i].cpu == c && !s->se[i].prev) {
            if (head >= 0)
                return -1; /* two heads: not one list */
            head = i;
        }
    }
    const struct sched_entity *prev = NULL;
    for (const struct sched_entity *e = head >= 0 ? E(s, head) : NULL; e; e = e->next) {
        if (n == NENT || e->prev != prev || !e->on_rq || e->cpu != c)
            return -1;
        out[n++] = id_of(s, e);
        prev = e;
    }
    return (unsigned)n == s->rq[c].nr_queued ? n : -1;
}

static bool order_is(struct sim *s, unsigned c, const int *want, int n)
{
    int got[NENT];
    return walk(s, c, got) == n && memcmp(got, want, sizeof(int) * (size_t)n) == 0;
}

/* ---- registry -------------------------------------------------------------------------- */

/* Registered by this test binary only: registration is one line, and since the test is linked
 * before the sched/ sources, link order differs from name order, which the name list must not show. */
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
    CHECK(sched_policy_find("r") == NULL);   /* no prefix matching */
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
    CHECK(order_is(s, 1, (int[]){0, 1, 2, 3, 4, 5}, 6));
    for (int i = 0; i < 6; i++) {
        CHECK_EQ(pick(s, 1), i);
        CHECK(!E(s, i)->on_rq);
        CHECK_EQ(E(s, i)->cpu, 1); /* last ran on */
        CHECK_EQ(s->rq[1].nr_queued, 5 - i);
    }
    CHECK_EQ(pick(s, 1), -1);
    CHECK_EQ(s->rq[0].nr_queued, 0);
}

/* Runs CPU 0 for `ticks` ticks: every quantum the running entity is put back and the next one
 * picked. Checks that each turn lasts exactly the quantum and that turns go round in order. */
TEST(rr_quantum_round_robin_fairness)
{
    struct sim *s = &sim;
    enum { K = 5, Q = 3, ROUNDS = 200 };
    unsigned ticks[K] = {0}, turns[K] = {0};
    CHECK(sim_init(s, Q));
    for (int i = 0; i < K; i++)
        enq(s, 0, i, false);
    int curr = pick(s, 0), expect = 0, ran = 0;
    turns[curr]++;
    for (int t = 0; t < K * Q * ROUNDS; t++) {
        CHECK_EQ(curr, expect);
        ticks[curr]++;
        ran++;
        bool preempt = s->ops->tick(&s->rq[0], E(s, curr));
        CHECK_EQ(preempt, ran == Q);
        CHECK_EQ(s->rq[0].nr_queued, K - 1);
        if (preempt) {
            CHECK_EQ(E(s, curr)->slice_left, 0);
            s->ops->put_prev(&s->rq[0], E(s, curr), false);
            CHECK_EQ(E(s, curr)->slice_left, Q);
            curr = pick(s, 0);
            turns[curr]++;
            expect = (expect + 1) % K;
            ran = 0;
            unsigned lo = turns[0], hi = turns[0];
            for (int i = 1; i < K; i++) {
                lo = turns[i] < lo ? turns[i] : lo;
                hi = turns[i] > hi ? turns[i] : hi;
            }
            CHECK(hi - lo <= 1);
        }
    }
    for (int i = 0; i < K; i++)
        CHECK_EQ(ticks[i], Q * ROUNDS);
}

TEST(rr_lone_entity_keeps_running)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 2));
    enq(s, 0, 0, true);
    CHECK_EQ(pick(s, 0), 0);
    for (int t = 0; t < 100; t++) {
        CHECK(!s->ops->tick(&s->rq[0], E(s, 0)));
        CHECK(E(s, 0)->slice_left >= 1 && E(s, 0)->slice_left <= 2);
    }
    /* Company arrives: the slice in progress is finished, then the newcomer runs. */
    enq(s, 0, 1, true);
    uint64_t left = E(s, 0)->slice_left;
    for (uint64_t t = 1; t < left; t++)
        CHECK(!s->ops->tick(&s->rq[0], E(s, 0)));
    CHECK(s->ops->tick(&s->rq[0], E(s, 0)));
}

TEST(rr_zero_quantum_is_one_tick)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 0));
    enq(s, 0, 0, false);
    enq(s, 0, 1, false);
    CHECK_EQ(E(s, 0)->slice_left, 1);
    CHECK_EQ(pick(s, 0), 0);
    CHECK(s->ops->tick(&s->rq[0], E(s, 0)));
}

TEST(rr_yield_moves_to_tail)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 5));
    for (int i = 0; i < 4; i++)
        enq(s, 0, i, false);
    CHECK_EQ(pick(s, 0), 0);
    CHECK(!s->ops->tick(&s->rq[0], E(s, 0)));
    CHECK(!s->ops->tick(&s->rq[0], E(s, 0)));
    CHECK_EQ(E(s, 0)->slice_left, 3);
    s->ops->put_prev(&s->rq[0], E(s, 0), true);
    CHECK(order_is(s, 0, (int[]){1, 2, 3, 0}, 4));
    CHECK_EQ(E(s, 0)->slice_left, 5); /* a yield forfeits the rest: next turn is a full one */
    CHECK_EQ(s->rq[0].nr_queued, 4);
    /* Yielding alone comes straight back. */
    struct sim *t = &sim;
    CHECK(sim_init(t, 5));
    enq(t, 0, 7, false);
    CHECK_EQ(pick(t, 0), 7);
    t->ops->put_prev(&t->rq[0], E(t, 7), true);
    CHECK_EQ(pick(t, 0), 7);
}

TEST(rr_preempted_keeps_remainder_at_tail)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 5));
    enq(s, 0, 0, false);
    enq(s, 0, 1, false);
    CHECK_EQ(pick(s, 0), 0);
    CHECK(!s->ops->tick(&s->rq[0], E(s, 0)));
    s->ops->put_prev(&s->rq[0], E(s, 0), false); /* the core's reschedule, not a yield */
    CHECK(order_is(s, 0, (int[]){1, 0}, 2));
    CHECK_EQ(E(s, 0)->slice_left, 4);
}

TEST(rr_wakeup_never_preempts)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 3));
    enq(s, 0, 0, false);
    enq(s, 0, 1, false);
    CHECK_EQ(pick(s, 0), 0);
    for (int i = 2; i < 6; i++) {
        E(s, i)->slice_left = 1; /* a sleeper with little left still gets a full quantum */
        E(s, i)->prio = SCHED_PRIO_LEVELS - 1;
        enq(s, 0, i, true);
        CHECK_EQ(E(s, i)->slice_left, 3);
        CHECK(!s->ops->preempt_on_wakeup(&s->rq[0], E(s, 0), E(s, i)));
    }
    CHECK(order_is(s, 0, (int[]){1, 2, 3, 4, 5}, 5));
    /* An idle CPU has nothing to preempt: it switches to the woken entity at once. */
    CHECK(s->ops->preempt_on_wakeup(&s->rq[0], NULL, E(s, 1)));
}

TEST(rr_steal_skips_pinned)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 3));
    for (int i = 0; i < 5; i++)
        enq(s, 2, i, false);
    E(s, 3)->pinned = E(s, 4)->pinned = true;
    E(s, 1)->pinned = true;
    struct sched_entity *got = s->ops->steal(&s->rq[2]);
    CHECK_EQ(id_of(s, got), 2); /* tail-most unpinned */
    CHECK(!got->on_rq && !got->next && !got->prev);
    CHECK_EQ(s->rq[2].nr_queued, 4);
    CHECK(order_is(s, 2, (int[]){0, 1, 3, 4}, 4));
    CHECK_EQ(id_of(s, s->ops->steal(&s->rq[2])), 0);
    CHECK(s->ops->steal(&s->rq[2]) == NULL); /* only pinned left */
    CHECK_EQ(s->rq[2].nr_queued, 3);
    CHECK(order_is(s, 2, (int[]){1, 3, 4}, 3));
    /* The stolen entity runs elsewhere and can be queued there normally. */
    got->cpu = 0;
    enq(s, 0, 2, false);
    CHECK_EQ(E(s, 2)->cpu, 0);
    CHECK_EQ(pick(s, 0), 2);
}

static void fill(struct sim *s, unsigned c, int n, int *next_id)
{
    for (int i = 0; i < n; i++)
        enq(s, c, (*next_id)++, false);
}

TEST(rr_select_cpu_balancing)
{
    struct sim *s = &sim;
    int next = 0;
    CHECK(sim_init(s, 3));
    fill(s, 0, 3, &next);
    fill(s, 1, 2, &next);
    fill(s, 2, 1, &next);
    fill(s, 3, 5, &next);
    struct sched_entity *w = E(s, NENT - 1);
    const struct sched_ops *o = s->ops;
    w->cpu = 0; /* 3 queued, shortest 1: 2 shorter, move */
    CHECK_EQ(o->select_cpu((struct sched_rq *const *)s->rqs, NCPU, w, 3), 2);
    w->cpu = 1; /* 2 vs 1: not worth it */
    CHECK_EQ(o->select_cpu((struct sched_rq *const *)s->rqs, NCPU, w, 3), 1);
    w->cpu = 2; /* already the shortest */
    CHECK_EQ(o->select_cpu((struct sched_rq *const *)s->rqs, NCPU, w, 3), 2);
    w->cpu = 3; /* 5 vs 1 */
    CHECK_EQ(o->select_cpu((struct sched_rq *const *)s->rqs, NCPU, w, 0), 2);
    w->pinned = true; /* pinned never moves */
    CHECK_EQ(o->select_cpu((struct sched_rq *const *)s->rqs, NCPU, w, 0), 3);
    w->pinned = false;
    w->cpu = 99; /* never ran: starts from this_cpu */
    CHECK_EQ(o->select_cpu((struct sched_rq *const *)s->rqs, NCPU, w, 1), 1);
    CHECK_EQ(o->select_cpu((struct sched_rq *const *)s->rqs, NCPU, w, 0), 2);
    CHECK_EQ(o->select_cpu((struct sched_rq *const *)s->rqs, NCPU, w, 77), 2);
    w->cpu = 3; /* one CPU: nowhere else to go */
    CHECK_EQ(o->select_cpu((struct sched_rq *const *)s->rqs, 1, w, 0), 0);
    /* Ties go to the lowest-numbered shortest queue. */
    pick(s, 3);
    pick(s, 3);
    pick(s, 3);
    pick(s, 3); /* CPU 3 now 1, same as CPU 2 */
    w->cpu = 0;
    CHECK_EQ(o->select_cpu((struct sched_rq *const *)s->rqs, NCPU, w, 0), 2);
}

TEST(rr_dequeue_middle_head_tail)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 3));
    for (int i = 0; i < 5; i++)
        enq(s, 0, i, false);
    s->ops->dequeue(&s->rq[0], E(s, 2));
    CHECK(!E(s, 2)->on_rq);
    CHECK_EQ(s->rq[0].nr_queued, 4);
    CHECK(order_is(s, 0, (int[]){0, 1, 3, 4}, 4));
    s->ops->dequeue(&s->rq[0], E(s, 0));
    CHECK(order_is(s, 0, (int[]){1, 3, 4}, 3));
    s->ops->dequeue(&s->rq[0], E(s, 4));
    CHECK(order_is(s, 0, (int[]){1, 3}, 2));
    enq(s, 0, 2, false);
    CHECK(order_is(s, 0, (int[]){1, 3, 2}, 3));
    s->ops->dequeue(&s->rq[0], E(s, 1));
    s->ops->dequeue(&s->rq[0], E(s, 3));
    s->ops->dequeue(&s->rq[0], E(s, 2));
    CHECK_EQ(s->rq[0].nr_queued, 0);
    CHECK_EQ(pick(s, 0), -1);
    enq(s, 0, 4, false); /* an emptied queue works again */
    CHECK_EQ(pick(s, 0), 4);
}

TEST(rr_misuse_is_ignored)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 3));
    for (int i = 0; i < 3; i++)
        enq(s, 0, i, false);
    enq(s, 1, 3, false);
    struct sched_rq before[NCPU];
    struct sched_entity ents[NENT];
    memcpy(before, s->rq, sizeof(before));
    memcpy(ents, s->se, sizeof(ents));
    s->ops->dequeue(&s->rq[0], E(s, 9));  /* never queued */
    s->ops->dequeue(&s->rq[0], E(s, 3));  /* queued, but on CPU 1 */
    s->ops->dequeue(&s->rq[1], E(s, 1));  /* queued on CPU 0, named on CPU 1 */
    enq(s, 0, 1, true);                   /* already queued here */
    enq(s, 2, 0, false);                  /* already queued elsewhere */
    s->ops->put_prev(&s->rq[0], E(s, 2), false); /* queued, so not running */
    CHECK(memcmp(before, s->rq, sizeof(before)) == 0);
    CHECK(memcmp(ents, s->se, sizeof(ents)) == 0);
    /* Dequeue twice: the second does nothing. */
    s->ops->dequeue(&s->rq[0], E(s, 1));
    s->ops->dequeue(&s->rq[0], E(s, 1));
    CHECK_EQ(s->rq[0].nr_queued, 2);
    CHECK(order_is(s, 0, (int[]){0, 2}, 2));
}

TEST(rr_donate_passes_remaining_slice)
{
    struct sim *s = &sim;
    CHECK(sim_init(s, 5));
    enq(s, 0, 0, false);
    enq(s, 0, 2, false);
    CHECK_EQ(pick(s, 0), 0);
    CHECK(!s->ops->tick(&s->rq[0], E(s, 0)));
    CHECK(!s->ops->tick(&s->rq[0], E(s, 0)));
    /* 0 calls 1 (blocked in receive): 1 runs on 0's remaining 3 ticks. */
    s->ops->donate(&s->rq[0], E(s, 0), E(s, 1));
    CHECK_EQ(E(s, 1)->slice_left, 3);
    CHECK_EQ(E(s, 0)->slice_left, 0);
    CHECK_EQ(s->rq[0].nr_queued, 1); /* donate does not touch the queue */
    CHECK(!s->ops->tick(&s->rq[0], E(s, 1)));
    CHECK(!s->ops->tick(&s->rq[0], E(s, 1)));
    CHECK(s->ops->tick(&s->rq[0], E(s, 1)));
    s->ops->donate(&s->rq[0], E(s, 1), E(s, 1)); /* self: no change */
    CHECK_EQ(E(s, 1)->slice_left, 0);
}

/* ---- randomized stress against a shadow model ------------------------------------------ */

enum { BLOCKED, QUEUED, RUNNING };

struct model {
    int q[NCPU][NENT], len[NCPU];
    int curr[NCPU];
    int state[NENT];
    unsigned cpu[NENT];
    uint64_t slice[NENT];
    bool pinned[NENT];
};

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static void m_push(struct model *m, unsigned c, int e)
{
    m->q[c][m->len[c]++] = e;
    m->state[e] = QUEUED;
    m->cpu[e] = c;
}

static void m_remove_at(struct model *m, unsigned c, int k)
{
    memmove(&m->q[c][k], &m->q[c][k + 1], sizeof(int) * (size_t)(m->len[c] - k - 1));
    m->len[c]--;
}

static int m_find(const struct model *m, unsigned c, int e)
{
    for (int k = 0; k < m->len[c]; k++)
        if (m->q[c][k] == e)
            return k;
    return -1;
}

static bool m_check(struct sim *s, const struct model *m)
{
    for (unsigned c = 0; c < NCPU; c++) {
        if (!order_is(s, c, m->q[c], m->len[c]))
            return false;
    }
    for (int e = 0; e < NENT; e++) {
        const struct sched_entity *se = &s->se[e];
        if (se->on_rq != (m->state[e] == QUEUED) || se->slice_left != m->slice[e])
            return false;
        if (se->cpu != m->cpu[e])
            return false;
        if (m->pinned[e] && se->cpu != (unsigned)e % NCPU)
            return false;
    }
    return true;
}

/* The core's side of a reschedule on CPU c: pick, or steal from the busiest CPU when idle. */
static bool m_schedule(struct sim *s, struct model *m, unsigned c)
{
    int want = m->len[c] ? m->q[c][0] : -1, got;
    if (want >= 0)
        m_remove_at(m, c, 0);
    got = pick(s, c);
    if (got != want)
        return false;
    if (got < 0) {
        unsigned busiest = 0;
        for (unsigned i = 1; i < NCPU; i++)
            if (m->len[i] > m->len[busiest])
                busiest = i;
        for (int k = m->len[busiest] - 1; k >= 0; k--) {
            if (!m->pinned[m->q[busiest][k]]) {
                want = m->q[busiest][k];
                m_remove_at(m, busiest, k);
                break;
            }
        }
        got = id_of(s, s->ops->steal(&s->rq[busiest]));
        if (got != want)
            return false;
        if (got >= 0)
            s->se[got].cpu = c; /* the core runs it here */
    }
    m->curr[c] = got;
    if (got >= 0) {
        m->state[got] = RUNNING;
        m->cpu[got] = c;
    }
    return true;
}

static int random_in_state(struct model *m, int state)
{
    int start = (int)rnd(NENT);
    for (int k = 0; k < NENT; k++) {
        int e = (start + k) % NENT;
        if (m->state[e] == state)
            return e;
    }
    return -1;
}

TEST(rr_randomized_stress_shadow_model)
{
    struct sim *s = &sim;
    static struct model m;
    const uint64_t Q = 3;
    unsigned picks = 0, steals_checked = 0;
    CHECK(sim_init(s, Q));
    memset(&m, 0, sizeof(m));
    rng_state = 0x9e3779b97f4a7c15ull;
    for (int e = 0; e < NENT; e++) {
        m.state[e] = BLOCKED;
        m.pinned[e] = s->se[e].pinned = e % 5 == 0;
        m.cpu[e] = s->se[e].cpu = (unsigned)e % NCPU;
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
            if (m.slice[cur])
                m.slice[cur]--;
            bool want = false;
            if (m.slice[cur] == 0) {
                if (m.len[c])
                    want = true;
                else
                    m.slice[cur] = Q;
            }
            CHECK_EQ(s->ops->tick(&s->rq[c], E(s, cur)), want);
            if (want) {
                s->ops->put_prev(&s->rq[c], E(s, cur), false);
                m.slice[cur] = Q;
                m_push(&m, c, cur);
                CHECK(m_schedule(s, &m, c));
                picks++;
            }
        } else if (r < 45 && cur >= 0) { /* yield */
            s->ops->put_prev(&s->rq[c], E(s, cur), true);
            m.slice[cur] = Q;
            m_push(&m, c, cur);
            CHECK(m_schedule(s, &m, c));
        } else if (r < 58 && cur >= 0) { /* block */
            m.state[cur] = BLOCKED;
            CHECK(m_schedule(s, &m, c));
        } else if (r < 75) { /* wake up, placed by select_cpu */
            int e = random_in_state(&m, BLOCKED);
            if (e < 0)
                continue;
            unsigned last = m.cpu[e], best = last, t;
            if (!m.pinned[e]) {
                for (unsigned i = 0; i < NCPU; i++)
                    if (m.len[i] < m.len[best])
                        best = i;
                best = m.len[last] >= m.len[best] + 2 ? best : last;
            }
            t = s->ops->select_cpu((struct sched_rq *const *)s->rqs, NCPU, E(s, e), c);
            CHECK_EQ(t, best);
            enq(s, t, e, true);
            m.slice[e] = Q;
            m_push(&m, t, e);
            int tc = m.curr[t];
            bool pre = s->ops->preempt_on_wakeup(&s->rq[t], tc >= 0 ? E(s, tc) : NULL, E(s, e));
            CHECK_EQ(pre, tc < 0);
            if (pre)
                CHECK(m_schedule(s, &m, t));
        } else if (r < 82) { /* a queued entity blocks or exits: dequeue */
            int e = random_in_state(&m, QUEUED);
            if (e < 0)
                continue;
            unsigned ec = m.cpu[e];
            m_remove_at(&m, ec, m_find(&m, ec, e));
            m.state[e] = BLOCKED;
            s->ops->dequeue(&s->rq[ec], E(s, e));
        } else if (r < 87) { /* misuse: must change nothing */
            int e = (int)rnd(NENT);
            unsigned other = (m.cpu[e] + 1 + rnd(NCPU - 1)) % NCPU;
            if (m.state[e] == QUEUED) {
                s->ops->dequeue(&s->rq[other], E(s, e));
                enq(s, other, e, rnd(2));
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
            E(s, e)->cpu = c;
            m.curr[c] = e;
        } else if (r < 96) { /* migration: dequeue here, enqueue there */
            int e = random_in_state(&m, QUEUED);
            if (e < 0 || m.pinned[e])
                continue;
            unsigned from = m.cpu[e], to = rnd(NCPU);
            s->ops->dequeue(&s->rq[from], E(s, e));
            enq(s, to, e, false);
            m_remove_at(&m, from, m_find(&m, from, e));
            if (m.slice[e] == 0 || m.slice[e] > Q)
                m.slice[e] = Q;
            m_push(&m, to, e);
        } else if (cur < 0) { /* idle CPU: reschedule (pick or steal) */
            steals_checked += m.len[c] == 0;
            CHECK(m_schedule(s, &m, c));
        }
        CHECK(m_check(s, &m));
    }
    CHECK(picks > 1000 && steals_checked > 100);
    /* Drain: every queue empties in model order and nothing is left behind. */
    for (unsigned c = 0; c < NCPU; c++) {
        for (int k = 0; k < m.len[c]; k++)
            CHECK_EQ(pick(s, c), m.q[c][k]);
        CHECK_EQ(pick(s, c), -1);
        CHECK_EQ(s->rq[c].nr_queued, 0);
    }
}
