/* rr: per-CPU round robin with a fixed quantum. One FIFO per CPU; the running entity is not in
 * it. Nothing ever jumps the queue: a woken entity waits its turn behind everything already
 * runnable, which makes rr the baseline that every other policy is compared against.
 * See docs/schedulers.md for the semantics the host tests pin down. */
#include "sched.h"

#include "lib/kstring.h"

/* may_alias: rq->storage is declared uint64_t[], and the policy reads it through this type. */
struct rr_rq {
    struct sched_entity *head, *tail; /* NULL-terminated doubly-linked list through next/prev */
} __attribute__((may_alias));

_Static_assert(sizeof(struct rr_rq) <= sizeof(((struct sched_rq *)0)->storage),
               "rr run queue must fit in sched_rq.storage");

/* se->policy[RR_OWNER]: the rq se is queued on, so that a dequeue naming the wrong queue (or an
 * entity whose on_rq is stale) is refused instead of unlinking from a list it is not on. */
#define RR_OWNER 0

static struct rr_rq *rr_q(struct sched_rq *rq)
{
    return (struct rr_rq *)rq->storage;
}

/* A zero quantum (quantum_us= below one tick) would make every tick a slice end and underflow
 * slice arithmetic: treat it as one tick. */
static uint64_t rr_quantum(const struct sched_rq *rq)
{
    return rq->quantum_ticks ? rq->quantum_ticks : 1;
}

/* Another CPU's load (queued, plus the running entity), read without its lock: select_cpu only needs a hint, and a relaxed
 * load says so to the compiler (no tearing, no caching across the loop). */
static unsigned rr_peek_nr(const struct sched_rq *rq)
{
    return __atomic_load_n(&rq->nr_queued, __ATOMIC_RELAXED) +
           (__atomic_load_n(&rq->running, __ATOMIC_RELAXED) != 0);
}

static bool rr_queued_here(const struct sched_rq *rq, const struct sched_entity *se)
{
    return se->on_rq && se->policy[RR_OWNER] == (uint64_t)(uintptr_t)rq;
}

static void rr_link_tail(struct sched_rq *rq, struct sched_entity *se)
{
    struct rr_rq *q = rr_q(rq);

    se->next = NULL;
    se->prev = q->tail;
    if (q->tail)
        q->tail->next = se;
    else
        q->head = se;
    q->tail = se;
    se->on_rq = true;
    se->cpu = rq->cpu;
    se->policy[RR_OWNER] = (uint64_t)(uintptr_t)rq;
    rq->nr_queued++;
}

static void rr_unlink(struct sched_rq *rq, struct sched_entity *se)
{
    struct rr_rq *q = rr_q(rq);

    if (se->prev)
        se->prev->next = se->next;
    else
        q->head = se->next;
    if (se->next)
        se->next->prev = se->prev;
    else
        q->tail = se->prev;
    se->next = se->prev = NULL;
    se->on_rq = false;
    se->policy[RR_OWNER] = 0;
    rq->nr_queued--;
}

static void rr_rq_init(struct sched_rq *rq)
{
    memset(rq->storage, 0, sizeof(rq->storage));
    rq->nr_queued = 0;
}

static void rr_enqueue(struct sched_rq *rq, struct sched_entity *se, bool wakeup)
{
    /* Queued twice would put se on two lists (or twice on one): refuse, and leave the first. */
    if (se->on_rq)
        return;
    /* A sleeper starts a fresh quantum; a migrated or new entity keeps what it had left. */
    if (wakeup || se->slice_left == 0 || se->slice_left > rr_quantum(rq))
        se->slice_left = rr_quantum(rq);
    rr_link_tail(rq, se);
}

static void rr_dequeue(struct sched_rq *rq, struct sched_entity *se)
{
    if (!rr_queued_here(rq, se))
        return;
    rr_unlink(rq, se);
}

static struct sched_entity *rr_pick_next(struct sched_rq *rq)
{
    struct sched_entity *se = rr_q(rq)->head;

    if (se)
        rr_unlink(rq, se);
    return se;
}

static void rr_put_prev(struct sched_rq *rq, struct sched_entity *prev, bool yield)
{
    if (prev->on_rq)
        return;
    /* A yield gives up the rest of the quantum; a preempted entity keeps any remainder (rr only
     * preempts at slice end, so that is the core's own reschedule, not a penalty). */
    if (yield || prev->slice_left == 0)
        prev->slice_left = rr_quantum(rq);
    rr_link_tail(rq, prev);
}

static bool rr_tick(struct sched_rq *rq, struct sched_entity *curr)
{
    if (curr->slice_left > 0)
        curr->slice_left--;
    if (curr->slice_left > 0)
        return false;
    /* Slice over. With company, leave slice_left at 0 so put_prev refills it; alone, a switch
     * would only come back to curr, so refill and keep running. */
    if (rq->nr_queued > 0)
        return true;
    curr->slice_left = rr_quantum(rq);
    return false;
}

static bool rr_preempt_on_wakeup(struct sched_rq *rq, struct sched_entity *curr,
                                 struct sched_entity *woken)
{
    (void)rq;
    (void)woken;
    /* Only an idle CPU (no curr) switches at once; otherwise the woken entity waits its turn. */
    return curr == NULL;
}

static unsigned rr_select_cpu(struct sched_rq *const *rqs, unsigned ncpus,
                              const struct sched_entity *se, unsigned this_cpu)
{
    unsigned last = se->cpu < ncpus ? se->cpu : (this_cpu < ncpus ? this_cpu : 0);
    unsigned best = last, last_nr, best_nr;

    if (se->pinned || ncpus <= 1)
        return last;
    last_nr = best_nr = rr_peek_nr(rqs[last]);
    for (unsigned i = 0; i < ncpus; i++) {
        unsigned nr = rr_peek_nr(rqs[i]);
        if (nr < best_nr) {
            best = i;
            best_nr = nr;
        }
    }
    /* A margin of 2: moving for a difference of 1 would only swap which queue is longer, and
     * would give up a warm cache for nothing. */
    return last_nr >= best_nr + 2 ? best : last;
}

static struct sched_entity *rr_steal(struct sched_rq *busiest)
{
    /* From the tail: that entity would wait longest on busiest, so moving it gains the most, and
     * it is the least likely to still have cache state there. */
    for (struct sched_entity *se = rr_q(busiest)->tail; se; se = se->prev) {
        if (!se->pinned) {
            rr_unlink(busiest, se);
            return se;
        }
    }
    return NULL;
}

/* Round robin ranks nothing above anything else, so the switch is always allowed; fairness
 * comes from the slice, which the pair shares. */
static bool rr_donate(struct sched_rq *rq, struct sched_entity *from, struct sched_entity *to)
{
    (void)rq;
    if (from == to)
        return true;
    /* The quantum follows the thread of control across the IPC: a client cannot get extra CPU
     * time by calling a server, and the server runs on the client's budget. */
    to->slice_left = from->slice_left;
    from->slice_left = 0;
    return true;
}

static const struct sched_ops rr_ops = {
    .name = "rr",
    .description = "per-CPU FIFO round robin, fixed quantum",
    .rq_init = rr_rq_init,
    .enqueue = rr_enqueue,
    .dequeue = rr_dequeue,
    .pick_next = rr_pick_next,
    .put_prev = rr_put_prev,
    .tick = rr_tick,
    .preempt_on_wakeup = rr_preempt_on_wakeup,
    .select_cpu = rr_select_cpu,
    .steal = rr_steal,
    .donate = rr_donate,
};
SCHED_POLICY(rr_ops);
