/* Endpoints: synchronous rendezvous IPC (DESIGN.md, IPC mechanism 1). The slow path lives in
 * endpoint.c, the message transfer in transfer.c, the fast path and the system call entry in
 * fastpath.c; docs/ipc.md describes the whole. Everything here is protected by cap_lock. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "abi/ipc.h"
#include "cap/captable.h"
#include "core/syscall.h"
#include "core/thread.h"

/* Threads waiting on an endpoint, FIFO; doubly linked through thread.ipc so that a thread that
 * is killed or times out leaves in O(1). */
struct ipc_queue {
    struct thread *head, *tail;
};

struct endpoint {
    struct cap_object obj;
    struct ipc_queue senders, receivers;
    bool closed; /* no capability with RECEIVE is left: senders get ERR_PIPE */
};

static inline struct endpoint *endpoint_of(struct cap_object *o)
{
    return (struct endpoint *)o; /* obj is the first member */
}

static inline struct ipc_frame *ipc_frame_of(const struct thread *t)
{
    return (struct ipc_frame *)thread_stack_top(t) - 1;
}

/* Data words 0-6, register slot to register slot. */
static inline void ipc_copy_words(const struct ipc_frame *from, struct ipc_frame *to)
{
    to->s.rdx = from->s.rdx;
    to->s.r10 = from->s.r10;
    to->s.r8 = from->s.r8;
    to->s.r9 = from->s.r9;
    to->r12 = from->r12;
    to->r13 = from->r13;
    to->r14 = from->r14;
}

static inline void ipc_enqueue(struct ipc_queue *q, struct thread *t)
{
    t->ipc.next = NULL;
    t->ipc.prev = q->tail;
    if (q->tail)
        q->tail->ipc.next = t;
    else
        q->head = t;
    q->tail = t;
}

static inline void ipc_unlink(struct ipc_queue *q, struct thread *t)
{
    if (t->ipc.prev)
        t->ipc.prev->ipc.next = t->ipc.next;
    else
        q->head = t->ipc.next;
    if (t->ipc.next)
        t->ipc.next->ipc.prev = t->ipc.prev;
    else
        q->tail = t->ipc.prev;
    t->ipc.next = t->ipc.prev = NULL;
}

/* Per-CPU counters (IPC_CTL_STATS sums them). */
struct ipc_cpu_stats {
    uint64_t fast_call, fast_reply_recv, slow_call, slow_reply_recv, slow_other;
    uint64_t slow_reason[IPC_SLOW_REASONS];
} __attribute__((aligned(64)));
extern struct ipc_cpu_stats ipc_stats_cpu[];
extern bool ipc_fastpath_enabled;

void endpoint_init(void);
/* SYS_ENDPOINT_CREATE. */
long endpoint_sys_create(struct process *self);
/* The slow path of every IPC system call; stores the result in f->s.nr. Interrupts off. */
void ipc_slowpath(struct ipc_frame *f);
/* A thread leaving its process: off every queue, its caller released with ERR_PIPE, its
 * replier told to forget it. */
void ipc_thread_exit(struct thread *t);
/* Waits, under cap_lock, until the IPC the caller has set up completes (returns the result
 * from its frame), it is killed (ERR_INTR) or the deadline passes (ERR_TIMEDOUT). */
long ipc_wait_done(struct thread *self, bool timed, uint64_t deadline);
/* Completes a blocked thread's IPC with `result` (in its frame) and wakes it. */
void ipc_complete(struct thread *t, long result);

/* transfer.c: copies the message described by the sender's frame (tag, registers, and through
 * the IPC buffers longer words and capabilities) into the receiver's frame; `rights` are those
 * of the capability the message was sent through (GRANT lets capabilities travel). Checks
 * everything before it changes anything: on an error nothing is transferred, and the error
 * belongs to the sender. */
int ipc_transfer(struct thread *from, struct thread *to, unsigned rights);
/* Checks a tag's fixed rules: ERR_INVAL for reserved bits, len or caps too large. */
int ipc_tag_check(uint64_t tag);
