/* Capability spaces: per-process tables and the capability system calls (capspace.h). */
#include "cap/capspace.h"

#include "core/console.h"
#include "core/process.h"
#include "core/thread.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/layout.h"

struct spinlock cap_lock = SPINLOCK_INIT;
unsigned cap_quota = 64;

static const struct cap_type_ops *type_ops[CAP_TYPE_COUNT];

/* The kernel control object: one for the machine, never destroyed. */
static struct cap_object control = {.type = CAP_TYPE_CONTROL};

void cap_type_register(enum cap_type type, const struct cap_type_ops *ops)
{
    type_ops[type] = ops;
}

unsigned capspace_pages(void)
{
    return (unsigned)((cap_quota * sizeof(struct cap_slot) + PAGE_SIZE - 1) / PAGE_SIZE);
}

static unsigned order_of(unsigned pages)
{
    unsigned order = 0;
    while ((1u << order) < pages)
        order++;
    return order;
}

int capspace_create(struct capspace *cs)
{
    uint64_t phys;
    unsigned pages = capspace_pages();
    if (frame_alloc(order_of(pages), &phys))
        return ERR_NOMEM;
    /* cap_table_init writes every slot: no need to clear the frames first. */
    if (cap_table_init(&cs->t, phys_to_virt(phys), cap_quota)) {
        frame_free(phys, order_of(pages));
        return ERR_NOMEM;
    }
    cs->pages = pages;
    return 0;
}

void cap_drain(struct cap_object *dead)
{
    while (dead) {
        struct cap_object *o = dead;
        dead = o->next_dead;
        o->listed = 0;
        const struct cap_type_ops *ops = type_ops[o->type];
        if (!ops)
            continue;
        if (o->refs == 0)
            ops->destroy(o);
        else if ((o->recv_refs == 0 || o->send_refs == 0) && ops->close)
            ops->close(o);
    }
}

void cap_flush(void)
{
    for (unsigned t = 0; t < CAP_TYPE_COUNT; t++)
        if (type_ops[t] && type_ops[t]->flush)
            type_ops[t]->flush();
}

void capspace_destroy(struct capspace *cs)
{
    if (!cs->pages)
        return;
    struct cap_object *dead = NULL;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    cap_table_clear(&cs->t, &dead);
    cap_drain(dead);
    spin_unlock_irqrestore(&cap_lock, flags);
    cap_flush();
    frame_free(virt_to_phys(cs->t.slots), order_of(cs->pages));
    cs->pages = 0;
}

int capspace_add_control(struct capspace *cs)
{
    cap_handle_t h;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    int err = cap_insert(&cs->t, &control, CAP_RIGHTS_ALL, 0, &h);
    spin_unlock_irqrestore(&cap_lock, flags);
    return err;
}

int capspace_copy(struct capspace *src, cap_handle_t h, struct capspace *dst, cap_handle_t *out)
{
    const struct cap_slot *s;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    int err = cap_lookup(&src->t, h, CAP_TYPE_ANY, 0, &s);
    if (!err)
        err = cap_derive(&src->t, h, &dst->t, s->rights, 0, out);
    spin_unlock_irqrestore(&cap_lock, flags);
    return err;
}

/* A handle is 32 bits: a wider value is never one (and must not alias one by truncation). */
static bool handle_ok(uint64_t h)
{
    return h <= UINT32_MAX;
}

long cap_sys_derive(struct process *self, uint64_t h, uint64_t rights, uint64_t badge)
{
    if (!handle_ok(h))
        return ERR_BADF;
    if (rights > CAP_RIGHTS_ALL)
        return ERR_INVAL;
    cap_handle_t out;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    int err = cap_derive(&self->caps.t, (cap_handle_t)h, &self->caps.t, (unsigned)rights, badge,
                         &out);
    spin_unlock_irqrestore(&cap_lock, flags);
    return err ? err : (long)out;
}

long cap_sys_delete(struct process *self, uint64_t h)
{
    if (!handle_ok(h))
        return ERR_BADF;
    struct cap_object *dead = NULL;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    int err = cap_delete(&self->caps.t, (cap_handle_t)h, &dead);
    cap_drain(dead);
    spin_unlock_irqrestore(&cap_lock, flags);
    cap_flush();
    return err;
}

long cap_sys_revoke(struct process *self, uint64_t h)
{
    if (!handle_ok(h))
        return ERR_BADF;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    int n = cap_revoke(&self->caps.t, (cap_handle_t)h);
    spin_unlock_irqrestore(&cap_lock, flags);
    return n;
}

long cap_sys_info(struct process *self, uint64_t h)
{
    if (!handle_ok(h))
        return ERR_BADF;
    const struct cap_slot *s;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    int err = cap_lookup(&self->caps.t, (cap_handle_t)h, CAP_TYPE_ANY, 0, &s);
    long info = err ? err : CAP_INFO(s->type, s->rights);
    spin_unlock_irqrestore(&cap_lock, flags);
    return info;
}

long cap_sys_insert_new(struct process *self, struct cap_object *obj)
{
    cap_handle_t h;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    int err = cap_insert(&self->caps.t, obj, CAP_RIGHTS_ALL, 0, &h);
    spin_unlock_irqrestore(&cap_lock, flags);
    return err ? err : (long)h;
}

int cap_check_control(struct process *self, uint64_t h)
{
    if (!handle_ok(h))
        return ERR_BADF;
    const struct cap_slot *s;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    int err = cap_lookup(&self->caps.t, (cap_handle_t)h, CAP_TYPE_CONTROL, CAP_RIGHT_MANAGE, &s);
    spin_unlock_irqrestore(&cap_lock, flags);
    return err;
}
