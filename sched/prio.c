/* prio: strict fixed priorities, SCHED_PRIO_LEVELS FIFO lists per CPU and a bitmap of the
 * non-empty ones, so that pick_next is one count-leading-zeros whatever the load. Round robin
 * with the quantum within a level. Strict means a runnable higher level starves every lower one
 * for as long as it stays runnable: that is the point of the policy (a predictable baseline for
 * real-time-style experiments), not a bug; docs/schedulers.md says more. */
#include "sched.h"

#include "lib/kstring.h"

_Static_assert(SCHED_PRIO_LEVELS >= 1 && SCHED_PRIO_LEVELS <= 32,
               "the non-empty-level bitmap is one 32-bit word");

/* may_alias: rq->storage is declared uint64_t[], and the policy reads it through this type. */
struct prio_rq {
    struct sched_entity *head[SCHED_PRIO_LEVELS]; /* NULL-terminated lists through next/prev */
    struct sched_entity *tail[SCHED_PRIO_LEVELS];
    uint32_t bitmap; /* bit l set iff level l is non-empty */
} __attribute__((may_alias));

_Static_assert(sizeof(struct prio_rq) <= sizeof(((struct sched_rq *)0)->storage),
               "prio run queue must fit in sched_rq.storage");

/* Scratch in se->policy while queued. OWNER: the rq, so that a dequeue naming the wrong queue is
 * refused. LEVEL: the list se is on, because the core may change se->prio before it dequeues
 * (a priority change is dequeue, set, enqueue, but a careless order must not corrupt lists). */
#define PRIO_OWNER 0
#define PRIO_LEVEL 1

static struct prio_rq *prio_q(struct sched_rq *rq)
{
    return (struct prio_rq *)rq->storage;
}

static uint64_t prio_quantum(const struct sched_rq *rq)
{
    return rq->quantum_ticks ? rq->quantum_ticks : 1;
}

/* Out-of-range priorities run at the top level rather than indexing past the arrays. */
static unsigned prio_level(const struct sched_entity *se)
{
    return se->prio < SCHED_PRIO_LEVELS ? se->prio : SCHED_PRIO_LEVELS - 1;
}

/* Highest non-empty level, or -1. */
static int prio_top(uint32_t bitmap)
{
    return bitmap ? 31 - __builtin_clz(bitmap) : -1;
}

/* The most urgent level on another CPU, queued or running (-1: idle), read without its lock:
 * select_cpu only needs a hint. */
static int prio_peek_top(const struct sched_rq *rq)
{
    const struct prio_rq *q = (const struct prio_rq *)rq->storage;
    int queued = prio_top(__atomic_load_n(&q->bitmap, __ATOMIC_RELAXED));
    int running = (int)__atomic_load_n(&rq->running, __ATOMIC_RELAXED) - 1;
    return queued > running ? queued : running;
}

static void prio_mark_queued(struct sched_rq *rq, struct sched_entity *se, unsigned l)
{
    se->on_rq = true;
    se->cpu = rq->cpu;
    se->policy[PRIO_OWNER] = (uint64_t)(uintptr_t)rq;
    se->policy[PRIO_LEVEL] = l;
    rq->nr_queued++;
}

static void prio_link_tail(struct sched_rq *rq, struct sched_entity *se)
{
    struct prio_rq *q = prio_q(rq);
    unsigned l = prio_level(se);

    se->next = NULL;
    se->prev = q->tail[l];
    if (q->tail[l])
        q->tail[l]->next = se;
    else
        q->head[l] = se;
    q->tail[l] = se;
    q->bitmap |= 1u << l;
    prio_mark_queued(rq, se, l);
}

static void prio_link_head(struct sched_rq *rq, struct sched_entity *se)
{
    struct prio_rq *q = prio_q(rq);
    unsigned l = prio_level(se);

    se->prev = NULL;
    se->next = q->head[l];
    if (q->head[l])
        q->head[l]->prev = se;
    else
        q->tail[l] = se;
    q->head[l] = se;
    q->bitmap |= 1u << l;
    prio_mark_queued(rq, se, l);
}

static void prio_unlink(struct sched_rq *rq, struct sched_entity *se)
{
    struct prio_rq *q = prio_q(rq);
    unsigned l = (unsigned)se->policy[PRIO_LEVEL];

    if (se->prev)
        se->prev->next = se->next;
    else
        q->head[l] = se->next;
    if (se->next)
        se->next->prev = se->prev;
    else
        q->tail[l] = se->prev;
    if (!q->head[l])
        q->bitmap &= ~(1u << l);
    se->next = se->prev = NULL;
    se->on_rq = false;
    se->policy[PRIO_OWNER] = 0;
    rq->nr_queued--;
}

static void prio_rq_init(struct sched_rq *rq)
{
    memset(rq->storage, 0, sizeof(rq->storage));
    rq->nr_queued = 0;
}

static void prio_enqueue(struct sched_rq *rq, struct sched_entity *se, bool wakeup)
{
    if (se->on_rq)
        return;
    /* A sleeper starts a fresh quantum; a migrated or new entity keeps what it had left. */
    if (wakeup || se->slice_left == 0 || se->slice_left > prio_quantum(rq))
        se->slice_left = prio_quantum(rq);
    prio_link_tail(rq, se);
}

static void prio_dequeue(struct sched_rq *rq, struct sched_entity *se)
{
    if (!se->on_rq || se->policy[PRIO_OWNER] != (uint64_t)(uintptr_t)rq ||
        se->policy[PRIO_LEVEL] >= SCHED_PRIO_LEVELS)
        return;
    prio_unlink(rq, se);
}

static struct sched_entity *prio_pick_next(struct sched_rq *rq)
{
    struct prio_rq *q = prio_q(rq);
    struct sched_entity *se;

    if (!q->bitmap)
        return NULL;
    se = q->head[prio_top(q->bitmap)];
    prio_unlink(rq, se);
    return se;
}

static void prio_put_prev(struct sched_rq *rq, struct sched_entity *prev, bool yield)
{
    if (prev->on_rq)
        return;
    /* Preempted mid-slice (by a higher level: the only reason prio preempts early): resume
     * first at its level with what is left, so a burst of high-priority work does not cost it
     * its turn among its peers. A yield or a used-up slice goes behind its peers, refilled. */
    if (!yield && prev->slice_left > 0) {
        prio_link_head(rq, prev);
        return;
    }
    prev->slice_left = prio_quantum(rq);
    prio_link_tail(rq, prev);
}

static bool prio_tick(struct sched_rq *rq, struct sched_entity *curr)
{
    uint32_t bitmap = prio_q(rq)->bitmap;
    unsigned l = prio_level(curr);

    if (curr->slice_left > 0)
        curr->slice_left--;
    /* A higher level queued without a wake-up check (an enqueue after migration or a priority
     * change): preempt at the next tick rather than let it wait out curr's slice. */
    if (prio_top(bitmap) > (int)l)
        return true;
    if (curr->slice_left > 0)
        return false;
    /* Slice over: only a peer (an equal level; higher was handled above) takes over. Alone at
     * the top, a switch would come straight back, so refill and keep running. */
    if (bitmap >> l)
        return true;
    curr->slice_left = prio_quantum(rq);
    return false;
}

static bool prio_preempt_on_wakeup(struct sched_rq *rq, struct sched_entity *curr,
                                   struct sched_entity *woken)
{
    (void)rq;
    if (!curr)
        return true;
    /* Strictly higher only: an equal level waits for curr's slice to end (round robin), which
     * keeps a ping-pong of equal-priority IPC partners from switching on every wake-up. */
    return prio_level(woken) > prio_level(curr);
}

static unsigned prio_select_cpu(struct sched_rq *const *rqs, unsigned ncpus,
                                const struct sched_entity *se, unsigned this_cpu)
{
    unsigned last = se->cpu < ncpus ? se->cpu : (this_cpu < ncpus ? this_cpu : 0);
    unsigned best = last;
    int l = (int)prio_level(se), best_top;

    if (se->pinned || ncpus <= 1)
        return last;
    best_top = prio_peek_top(rqs[last]);
    /* Everything queued on the last CPU is lower: se would run there next, cache warm. */
    if (best_top < l)
        return last;
    /* Otherwise look for a CPU where se would be first in line: an empty queue (top -1) beats
     * one with only lower levels, and lower beats higher. Equal-or-higher everywhere: stay,
     * since moving would not make se run sooner. */
    for (unsigned i = 0; i < ncpus; i++) {
        int top = prio_peek_top(rqs[i]);
        if (top < best_top) {
            best = i;
            best_top = top;
        }
    }
    return best_top < l ? best : last;
}

static struct sched_entity *prio_steal(struct sched_rq *busiest)
{
    struct prio_rq *q = prio_q(busiest);

    /* The most urgent unpinned entity: the highest level, and within it the one that has waited
     * longest (the head). Pinned entities are skipped, then whole levels of them. */
    for (uint32_t levels = q->bitmap; levels; levels &= ~(1u << prio_top(levels))) {
        for (struct sched_entity *se = q->head[prio_top(levels)]; se; se = se->next) {
            if (!se->pinned) {
                prio_unlink(busiest, se);
                return se;
            }
        }
    }
    return NULL;
}

/* As seL4's fast path: only when nothing queued here outranks `to`. */
static bool prio_donate(struct sched_rq *rq, struct sched_entity *from, struct sched_entity *to)
{
    if (from == to)
        return true;
    if (prio_top(prio_q(rq)->bitmap) > (int)prio_level(to))
        return false;
    /* The quantum follows the thread of control across the IPC (see rr.c). Priority is not
     * inherited: `to` runs at its own level, and tick/wake-up checks apply to it as usual. */
    to->slice_left = from->slice_left;
    from->slice_left = 0;
    return true;
}

static const struct sched_ops prio_ops = {
    .name = "prio",
    .description = "32 strict priority levels, O(1) bitmap pick, round robin within a level",
    .rq_init = prio_rq_init,
    .enqueue = prio_enqueue,
    .dequeue = prio_dequeue,
    .pick_next = prio_pick_next,
    .put_prev = prio_put_prev,
    .tick = prio_tick,
    .preempt_on_wakeup = prio_preempt_on_wakeup,
    .select_cpu = prio_select_cpu,
    .steal = prio_steal,
    .donate = prio_donate,
};
SCHED_POLICY(prio_ops);
