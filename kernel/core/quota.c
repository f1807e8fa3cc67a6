/* Hierarchical quotas: a charge to a process is a charge to each process it is accounted under,
 * so a subtree can never hold more than its root's limit, however deep a fork bomb grows it.
 * When a process ends, everything accounted under it (its children, and orphans of children that
 * ended before it) is re-accounted under its own charge parent, so the chain only ever names
 * live processes and the counts above stay exact. */
#include "core/process.h"
#include "lib/err.h"

int quota_charge(struct process *p, enum process_resource res, uint64_t n)
{
    for (struct process *q = p; q; q = q->charge_parent)
        if (q->used[res] + n > q->limit[res])
            return ERR_NOMEM;
    for (struct process *q = p; q; q = q->charge_parent)
        q->used[res] += n;
    return 0;
}

void quota_uncharge(struct process *p, enum process_resource res, uint64_t n)
{
    for (struct process *q = p; q; q = q->charge_parent)
        q->used[res] -= n;
}

int quota_charge_frames(struct vmspace *vs, int64_t n)
{
    struct process *p = (struct process *)((char *)vs - offsetof(struct process, vs));
    uint64_t flags = spin_lock_irqsave(&process_lock);
    int err = 0;
    if (n > 0)
        err = quota_charge(p, RES_FRAMES, (uint64_t)n);
    else
        quota_uncharge(p, RES_FRAMES, (uint64_t)-n);
    spin_unlock_irqrestore(&process_lock, flags);
    return err;
}
