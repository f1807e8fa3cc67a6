/* Scheduler primitives (TARGETS.md K-2, K-3) under the policy chosen at boot. */
#include <stddef.h>
#include <stdint.h>

#include "core/thread.h"
#include "libbench/libbench.h"
#include "lib/kstring.h"
#include "sched/sched.h"

static volatile bool partner_stop;

static void yield_partner(void *arg)
{
    (void)arg;
    while (!partner_stop)
        thread_yield();
}

/* Two kernel threads of equal priority yielding to each other: one timed thread_yield covers two
 * switches (there and back), so it is recorded as a batch of two. Includes the policy's
 * put_prev and pick_next, the FXSAVE/FXRSTOR pair and the register switch. */
static void bm_context_switch(struct lb_state *s)
{
    partner_stop = false;
    struct thread *partner = thread_create_pinned(yield_partner, NULL, SCHED_PRIO_DEFAULT);
    if (!partner) {
        lb_fail(s, "thread_create failed");
        return;
    }
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        thread_yield();
        lb_stop_batch(s, t, 2);
    }
    partner_stop = true;
    thread_join(partner);
}
LB_BENCHMARK("context_switch/kernel_thread", bm_context_switch, "K-2",
             "one switch between two kernel threads via thread_yield (same address space)");

/* The policy alone, on a private run queue holding four entities: put the running one back and
 * pick the next, the decision a reschedule makes. */
static void bm_sched_decision(struct lb_state *s)
{
    static struct sched_rq rq;
    static struct sched_entity se[4];
    const struct sched_ops *ops = sched_policy_find(sched_policy_name());
    memset(&rq, 0, sizeof(rq));
    memset(se, 0, sizeof(se));
    rq.quantum_ticks = 10;
    ops->rq_init(&rq);
    for (int i = 0; i < 4; i++) {
        se[i].prio = SCHED_PRIO_DEFAULT;
        ops->enqueue(&rq, &se[i], false);
    }
    struct sched_entity *curr = ops->pick_next(&rq);
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        ops->put_prev(&rq, curr, true);
        curr = ops->pick_next(&rq);
        lb_stop(s, t);
    }
}
LB_BENCHMARK("sched_decision/put_prev+pick_next", bm_sched_decision, "K-3",
             "the boot policy's put_prev + pick_next with four runnable entities");
