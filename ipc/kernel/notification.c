/* Notifications (notification.h). Protected by cap_lock, like every IPC object. */
#include "ipc/kernel/notification.h"

#include "abi/ipc.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "cap/capspace.h"
#include "core/panic.h"
#include "core/process.h"
#include "ipc/kernel/endpoint.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/kmem.h"

struct notification {
    struct cap_object obj;
    uint64_t word;
    struct ipc_queue waiters;
};

static struct kmem_cache notification_cache;

/* Which notification each ISA line signals, under cap_lock. A line is routed to irq_signal
 * from its first binding until its notification dies; an interrupt that finds no notification
 * (it died, the line is not unrouted yet) is counted and dropped. */
static struct irq_binding {
    struct notification *n;
    uint64_t bits;
    bool routed;
} irq_bindings[IRQ_LINES];
static uint64_t irq_dropped[IRQ_LINES];

static struct notification *notification_of(struct cap_object *o)
{
    return (struct notification *)o; /* obj is the first member */
}

/* Every waiter re-checks the word when it runs; the first collects the bits. */
static void wake_waiters(struct notification *n, bool gone)
{
    while (n->waiters.head) {
        struct thread *t = n->waiters.head;
        ipc_unlink(&n->waiters, t);
        t->ipc.wait = IPC_IDLE;
        if (gone)
            t->ipc.ntfn = NULL;
        thread_wake(t);
    }
}

/* Lines whose notification died, to unroute once cap_lock is released (notification_flush). */
static uint32_t unroute_pending;

static void unbind_irqs(struct notification *n)
{
    for (unsigned line = 0; line < IRQ_LINES; line++)
        if (irq_bindings[line].n == n) {
            irq_bindings[line].n = NULL;
            irq_bindings[line].routed = false;
            unroute_pending |= 1u << line;
        }
}

/* After cap_lock is released: irq_unbind waits for a running irq_signal, which takes it. */
static void notification_flush(void)
{
    uint32_t lines = __atomic_exchange_n(&unroute_pending, 0, __ATOMIC_ACQ_REL);
    for (unsigned line = 0; lines; line++, lines >>= 1)
        if (lines & 1)
            irq_unbind(line);
}

/* Interrupt context, interrupts off. */
static void irq_signal(unsigned line, void *ctx)
{
    (void)ctx;
    spin_lock(&cap_lock);
    struct irq_binding *b = &irq_bindings[line];
    if (b->n) {
        b->n->word |= b->bits;
        wake_waiters(b->n, false);
    } else {
        irq_dropped[line]++;
    }
    spin_unlock(&cap_lock);
    irq_ack(line);
}

static bool irq_bound(const struct notification *n)
{
    for (unsigned line = 0; line < IRQ_LINES; line++)
        if (irq_bindings[line].n == n)
            return true;
    return false;
}

/* Nothing can set a bit any more: no SEND capability is left (one cannot be derived back) and
 * no interrupt line is bound. */
static bool orphaned(const struct notification *n)
{
    return n->obj.send_refs == 0 && !irq_bound(n);
}

/* No capability that can wait is left, or nothing can signal any more: either way waiters
 * would wait for ever. */
static void notification_close(struct cap_object *o)
{
    struct notification *n = notification_of(o);
    if (o->recv_refs == 0 || orphaned(n))
        wake_waiters(n, true);
}

static void notification_destroy(struct cap_object *o)
{
    unbind_irqs(notification_of(o));
    wake_waiters(notification_of(o), true);
    kmem_free(&notification_cache, notification_of(o));
}

static const struct cap_type_ops notification_ops = {
    .close = notification_close,
    .destroy = notification_destroy,
    .flush = notification_flush,
};

void notification_init(void)
{
    if (kmem_cache_init(&notification_cache, "notification", sizeof(struct notification), 64))
        panic("ipc: cannot create the notification cache");
    cap_type_register(CAP_TYPE_NOTIFICATION, &notification_ops);
}

long notification_sys_create(struct process *self)
{
    struct notification *n = kmem_alloc(&notification_cache);
    if (!n)
        return ERR_NOMEM;
    memset(n, 0, sizeof(*n));
    cap_object_init(&n->obj, CAP_TYPE_NOTIFICATION);
    long h = cap_sys_insert_new(self, &n->obj);
    if (h < 0)
        kmem_free(&notification_cache, n);
    return h;
}

static int lookup(struct process *self, uint64_t h, unsigned rights, struct notification **out)
{
    const struct cap_slot *s;
    if (h > UINT32_MAX)
        return ERR_BADF;
    int err = cap_lookup(&self->caps.t, (cap_handle_t)h, CAP_TYPE_NOTIFICATION, rights, &s);
    if (!err)
        *out = notification_of(s->obj);
    return err;
}

long notification_sys_signal(struct process *self, uint64_t h, uint64_t bits)
{
    struct notification *n;
    if (bits & ~NOTIFY_BITS_MASK)
        return ERR_INVAL;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    int err = lookup(self, h, CAP_RIGHT_SEND, &n);
    if (!err && bits) {
        n->word |= bits;
        wake_waiters(n, false);
    }
    spin_unlock_irqrestore(&cap_lock, flags);
    return err;
}

long notification_sys_wait(struct process *self, uint64_t h, uint64_t ticks)
{
    struct thread *t = thread_current();
    struct notification *n;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    long r = lookup(self, h, CAP_RIGHT_RECEIVE, &n);
    uint64_t now = timer_ticks();
    bool timed = ticks != NOTIFY_FOREVER && ticks <= UINT64_MAX - now;
    uint64_t deadline = now + (timed ? ticks : 0);
    while (!r) {
        if (n->word) {
            r = (long)n->word;
            n->word = 0;
            break;
        }
        if (ticks == NOTIFY_POLL) {
            r = ERR_AGAIN;
        } else if (orphaned(n)) {
            r = ERR_PIPE;
        } else if (thread_killed(t)) {
            r = ERR_INTR;
        } else if (timed && timer_ticks() >= deadline) {
            r = ERR_TIMEDOUT;
        } else {
            t->ipc.wait = IPC_NOTIFY_WAIT;
            t->ipc.ntfn = n;
            ipc_enqueue(&n->waiters, t);
            thread_block(&cap_lock, timed ? deadline : 0);
            if (t->ipc.wait == IPC_NOTIFY_WAIT) { /* a kill or the deadline woke it */
                ipc_unlink(&n->waiters, t);
                t->ipc.wait = IPC_IDLE;
            }
            if (!t->ipc.ntfn) /* the notification closed or died meanwhile */
                r = ERR_PIPE;
            t->ipc.ntfn = NULL;
        }
    }
    spin_unlock_irqrestore(&cap_lock, flags);
    return r;
}

long notification_sys_irq_bind(struct process *self, uint64_t control, uint64_t line,
                               uint64_t h, uint64_t bits)
{
    struct notification *n;
    int err = cap_check_control(self, control);
    if (err)
        return err;
    if (line >= IRQ_LINES || !bits || (bits & ~NOTIFY_BITS_MASK))
        return ERR_INVAL;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    struct irq_binding *b = &irq_bindings[line];
    if (!(err = lookup(self, h, CAP_RIGHT_SEND, &n)) && b->n && b->n != n)
        err = ERR_BUSY;
    bool route = !err && !b->routed;
    if (!err) {
        b->n = n;
        b->bits = bits;
        b->routed = true;
    }
    spin_unlock_irqrestore(&cap_lock, flags);
    if (!route)
        return err;
    /* Routed outside cap_lock: irq_signal takes it. */
    if ((err = irq_bind((unsigned)line, irq_signal, NULL))) {
        flags = spin_lock_irqsave(&cap_lock);
        b->n = NULL;
        b->routed = false;
        spin_unlock_irqrestore(&cap_lock, flags);
    }
    return err;
}
