/* Endpoints: the objects, and the slow path of every IPC system call (endpoint.h). The slow
 * path handles everything: queues, timeouts, long messages, capability transfer, partners on
 * other CPUs (thread_wake places the woken thread and sends the IPI). It runs under cap_lock
 * with interrupts off; a thread that must wait blocks in thread_block, which drops the lock.
 *
 * Results travel in frames: whoever completes a waiting thread's IPC writes the result (and
 * the message) into that thread's ipc_frame, so a thread resumes the same way whether the slow
 * path, the fast path or its continuation wakes it. */
#include "ipc/kernel/endpoint.h"

#include "abi/syscall.h"
#include "arch/x86_64/apic.h"
#include "cap/capspace.h"
#include "core/panic.h"
#include "core/process.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/kmem.h"

static struct kmem_cache endpoint_cache;

void ipc_complete(struct thread *t, long result)
{
    t->ipc.wait = IPC_IDLE;
    ipc_frame_of(t)->s.nr = (uint64_t)result;
    thread_wake(t);
}

static void release_all(struct ipc_queue *q, long result)
{
    while (q->head) {
        struct thread *t = q->head;
        ipc_unlink(q, t);
        t->ipc.ep = NULL;
        ipc_complete(t, result);
    }
}

/* Nobody can receive any more: whoever waits to send would wait forever. Only the receiving
 * side counts: the last SEND capability going (close is called for that too) leaves receivers
 * waiting, as a server's own original usually still has SEND. */
static void endpoint_close(struct cap_object *o)
{
    struct endpoint *ep = endpoint_of(o);
    if (o->recv_refs)
        return;
    ep->closed = true;
    release_all(&ep->senders, ERR_PIPE);
    release_all(&ep->receivers, ERR_PIPE);
}

static void endpoint_destroy(struct cap_object *o)
{
    endpoint_close(o);
    kmem_free(&endpoint_cache, endpoint_of(o));
}

static const struct cap_type_ops endpoint_ops = {
    .close = endpoint_close,
    .destroy = endpoint_destroy,
};

void endpoint_init(void)
{
    if (kmem_cache_init(&endpoint_cache, "endpoint", sizeof(struct endpoint), 64))
        panic("ipc: cannot create the endpoint cache");
    cap_type_register(CAP_TYPE_ENDPOINT, &endpoint_ops);
}

long endpoint_sys_create(struct process *self)
{
    struct endpoint *ep = kmem_alloc(&endpoint_cache);
    if (!ep)
        return ERR_NOMEM;
    memset(ep, 0, sizeof(*ep));
    cap_object_init(&ep->obj, CAP_TYPE_ENDPOINT);
    long h = cap_sys_insert_new(self, &ep->obj);
    if (h < 0)
        kmem_free(&endpoint_cache, ep);
    return h;
}

/* Takes t off whatever it waits in, as if it had never started waiting. */
static void ipc_cancel(struct thread *t)
{
    switch (t->ipc.wait) {
    case IPC_SENDING:
        ipc_unlink(&t->ipc.ep->senders, t);
        break;
    case IPC_RECEIVING:
        ipc_unlink(&t->ipc.ep->receivers, t);
        break;
    case IPC_AWAIT_REPLY:
        if (t->ipc.replier)
            t->ipc.replier->ipc.reply_to = NULL;
        t->ipc.replier = NULL;
        break;
    case IPC_IDLE:
    case IPC_NOTIFY_WAIT: /* notifications use their own loop (notification.c) */
        break;
    }
    t->ipc.ep = NULL;
    t->ipc.wait = IPC_IDLE;
}

/* Waits until the IPC the caller has set up completes, it is killed, or the deadline passes. */
long ipc_wait_done(struct thread *self, bool timed, uint64_t deadline)
{
    while (self->ipc.wait != IPC_IDLE) {
        bool killed = thread_killed(self);
        if (killed || (timed && timer_ticks() >= deadline)) {
            ipc_cancel(self);
            return killed ? ERR_INTR : ERR_TIMEDOUT;
        }
        thread_block(&cap_lock, timed ? deadline : 0);
    }
    return (long)ipc_frame_of(self)->s.nr;
}

/* server now owes caller a reply. One reply slot per thread: an older caller it never answered
 * is released with ERR_PIPE rather than left waiting for ever. */
static void take_reply_slot(struct thread *server, struct thread *caller)
{
    struct thread *old = server->ipc.reply_to;
    if (old) {
        old->ipc.replier = NULL;
        ipc_complete(old, ERR_PIPE);
    }
    server->ipc.reply_to = caller;
    caller->ipc.replier = server;
    caller->ipc.wait = IPC_AWAIT_REPLY;
}

static int lookup_endpoint(struct thread *self, uint64_t h, unsigned rights,
                           const struct cap_slot **slot)
{
    if (h > UINT32_MAX)
        return ERR_BADF;
    return cap_lookup(&self->proc->caps.t, (cap_handle_t)h, CAP_TYPE_ENDPOINT, rights, slot);
}

struct deadline {
    bool timed;
    uint64_t tick;
};

static struct deadline deadline_of(const struct ipc_frame *f)
{
    struct deadline d = {false, 0};
    uint64_t now = timer_ticks();
    /* A timeout too large to add is as good as none. */
    if ((f->s.rsi & IPC_TIMEOUT) && f->r15 <= UINT64_MAX - now)
        d = (struct deadline){true, now + f->r15};
    return d;
}

static long do_send(struct thread *self, struct ipc_frame *f, bool is_call)
{
    const struct cap_slot *slot;
    int err = ipc_tag_check(f->s.rsi);
    if (err || (err = lookup_endpoint(self, f->s.rdi, CAP_RIGHT_SEND, &slot)))
        return err;
    /* Copied now: a message may move the very capability it is sent through. */
    struct endpoint *ep = endpoint_of(slot->obj);
    uint64_t badge = slot->badge;
    unsigned rights = slot->rights;
    struct deadline d = deadline_of(f);
    if (ep->closed)
        return ERR_PIPE;

    self->ipc.badge = badge;
    self->ipc.rights = (uint8_t)rights;
    self->ipc.is_call = is_call;
    struct thread *r = ep->receivers.head;
    if (r) {
        if ((err = ipc_transfer(self, r, rights)))
            return err;
        ipc_unlink(&ep->receivers, r);
        r->ipc.ep = NULL;
        ipc_frame_of(r)->s.rdi = badge;
        if (is_call)
            take_reply_slot(r, self);
        ipc_complete(r, 0);
        if (!is_call)
            return 0;
    } else {
        if (f->s.rsi & IPC_NONBLOCK)
            return ERR_AGAIN;
        self->ipc.wait = IPC_SENDING;
        self->ipc.ep = ep;
        ipc_enqueue(&ep->senders, self);
    }
    return ipc_wait_done(self, d.timed, d.tick);
}

static long do_reply(struct thread *self)
{
    int err = ipc_tag_check(ipc_frame_of(self)->s.rsi);
    struct thread *caller = self->ipc.reply_to;
    if (err)
        return err;
    if (!caller)
        return ERR_NOENT;
    /* Capabilities in a reply need GRANT on the capability the caller called through. */
    if ((err = ipc_transfer(self, caller, caller->ipc.rights)))
        return err;
    self->ipc.reply_to = NULL;
    caller->ipc.replier = NULL;
    ipc_complete(caller, 0);
    return 0;
}

static long do_recv(struct thread *self, struct ipc_frame *f, bool reply_first)
{
    const struct cap_slot *slot;
    int err = lookup_endpoint(self, f->s.rdi, CAP_RIGHT_RECEIVE, &slot);
    if (err || (err = ipc_tag_check(f->s.rsi)))
        return err;
    struct endpoint *ep = endpoint_of(slot->obj);
    struct deadline d = deadline_of(f);
    uint64_t flags = f->s.rsi;
    if (reply_first && self->ipc.reply_to && (err = do_reply(self)))
        return err;

    while (ep->senders.head) {
        struct thread *s = ep->senders.head;
        ipc_unlink(&ep->senders, s);
        s->ipc.ep = NULL;
        /* A message this receiver cannot take is the sender's error; try the next one. */
        if ((err = ipc_transfer(s, self, s->ipc.rights))) {
            ipc_complete(s, err);
            continue;
        }
        f->s.rdi = s->ipc.badge;
        if (s->ipc.is_call)
            take_reply_slot(self, s);
        else
            ipc_complete(s, 0);
        return 0;
    }
    if (flags & IPC_NONBLOCK)
        return ERR_AGAIN;
    /* A reply still owed stays owed while this thread waits: only another call needs the
     * slot (take_reply_slot). */
    self->ipc.wait = IPC_RECEIVING;
    self->ipc.ep = ep;
    ipc_enqueue(&ep->receivers, self);
    return ipc_wait_done(self, d.timed, d.tick);
}

void ipc_slowpath(struct ipc_frame *f)
{
    struct thread *self = thread_current();
    long r;
    spin_lock(&cap_lock);
    switch (f->s.nr) {
    case SYS_CALL:
        r = do_send(self, f, true);
        break;
    case SYS_SEND:
        r = do_send(self, f, false);
        break;
    case SYS_RECV:
        r = do_recv(self, f, false);
        break;
    case SYS_REPLY_RECV:
        r = do_recv(self, f, true);
        break;
    case SYS_REPLY:
        r = do_reply(self);
        break;
    default:
        r = ERR_INVAL;
        break;
    }
    spin_unlock(&cap_lock);
    f->s.nr = (uint64_t)r;
}

void ipc_thread_exit(struct thread *t)
{
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    if (t->ipc.wait != IPC_NOTIFY_WAIT)
        ipc_cancel(t);
    struct thread *caller = t->ipc.reply_to;
    if (caller) {
        t->ipc.reply_to = NULL;
        caller->ipc.replier = NULL;
        ipc_complete(caller, ERR_PIPE);
    }
    spin_unlock_irqrestore(&cap_lock, flags);
}
