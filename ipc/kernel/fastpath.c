/* The IPC system call entry and the register fast path (DESIGN.md, IPC mechanism 1).
 *
 * syscall.S saves every user register into an ipc_frame and calls ipc_syscall with interrupts
 * off. For call and reply_recv, the fast path checks, in order, that the message is a short
 * one (tag and up to seven words, no capabilities, no flags), that the capability names an
 * endpoint with the right, that the partner is blocked waiting for exactly this (a receiver on
 * the endpoint; the caller owed a reply), that it last ran on this CPU and has no timeout or
 * pending request, and that the scheduler lets it run in the caller's place (its donate hook).
 * Any check that fails falls to the slow path, counted by reason. Then the committed work: the
 * IPC state changes, eight words go from frame to frame, the CPU switches to the partner
 * (thread_direct_switch: address space, FPU state, entry stack; no run queue is touched) and
 * leaves for ring 3 as the partner, from the partner's frame, releasing the locks only once it
 * runs on the partner's stack. The caller is left blocked with a
 * continuation (ipc_resume) as its saved context, so that the slow path or the scheduler can
 * resume it like any other thread. docs/ipc.md walks through it. */
#include "abi/syscall.h"
#include "arch/x86_64/percpu.h"
#include "cap/capspace.h"
#include "core/process.h"
#include "core/syscall.h"
#include "core/console.h"
#include "ipc/kernel/endpoint.h"
#include "ipc/kernel/ipc.h"
#include "lib/err.h"
#include "mm/layout.h"
#include "mm/vmspace.h"

_Static_assert(SYS_IPC_FIRST == 48, "syscall.S hard-codes where the IPC numbers start");

bool ipc_fastpath_enabled = true;
struct ipc_cpu_stats ipc_stats_cpu[MAX_CPUS];

__attribute__((noreturn)) void ipc_return_to(struct ipc_frame *f);
void ipc_resume(void);
void ipc_syscall(struct ipc_frame *f);
void ipc_resumed(void);
void ipc_fastpath_unlock(void);

/* The fast path's own check: length up to the register words, no capabilities, no flags, no
 * reserved bits. */
#define FAST_TAG_MASK 0xFFFFull

/* Saved context of a thread the fast path blocks: context_switch pops six callee-saved
 * registers (their values do not matter: ipc_exit reloads every user register from the frame)
 * and returns into ipc_resume with rsp at the frame. The slot below the frame is the return
 * address of the call into ipc_syscall, which the fast path never returns through. */
static inline void block_with_continuation(struct thread *t, struct ipc_frame *f)
{
    uint64_t *sp = (uint64_t *)f;
    sp[-1] = (uint64_t)ipc_resume;
    t->saved_rsp = (uint64_t)(sp - 7);
}

/* The checks call and reply_recv share before they look at the partner: the fast path is on,
 * the message fits the registers, and (under cap_lock, which the caller then holds whatever
 * the outcome) the handle names an endpoint with `rights`. Returns IPC_SLOW_REASONS when all
 * hold, else the reason to fall back. */
static inline enum ipc_slow_reason fast_entry(const struct ipc_frame *f, struct thread *self,
                                              unsigned rights, const struct cap_slot **slot)
{
    if (__builtin_expect(!ipc_fastpath_enabled, 0))
        return IPC_SLOW_DISABLED;
    if (__builtin_expect((f->s.rsi & FAST_TAG_MASK) > IPC_REG_WORDS, 0))
        return IPC_SLOW_MESSAGE;
    spin_lock(&cap_lock);
    if (__builtin_expect(f->s.rdi > UINT32_MAX ||
                             cap_lookup(&self->proc->caps.t, (cap_handle_t)f->s.rdi,
                                        CAP_TYPE_ENDPOINT, rights, slot),
                         0))
        return IPC_SLOW_CAP;
    return IPC_SLOW_REASONS;
}

/* Returns only to fall back to the slow path. */
static inline void fastpath_call(struct ipc_frame *f, struct percpu *cpu)
{
    struct ipc_cpu_stats *st = &ipc_stats_cpu[cpu->index];
    struct thread *self = cpu->current, *dest;
    const struct cap_slot *slot;
    uint64_t tag = f->s.rsi;
    enum ipc_slow_reason why = fast_entry(f, self, CAP_RIGHT_SEND, &slot);

    if (why == IPC_SLOW_DISABLED || why == IPC_SLOW_MESSAGE)
        goto slow;
    if (why != IPC_SLOW_REASONS)
        goto unlock_cap;
    struct endpoint *ep = endpoint_of(slot->obj);
    dest = ep->receivers.head;
    if (__builtin_expect(!dest, 0)) {
        why = IPC_SLOW_NO_PARTNER;
        goto unlock_cap;
    }
    if (__builtin_expect(dest->se.cpu != cpu->index, 0)) {
        why = IPC_SLOW_REMOTE;
        goto unlock_cap;
    }
    spin_lock(&cpu->rq_lock);
    if (__builtin_expect(dest->state != THREAD_BLOCKED || dest->sleeping || dest->pending ||
                             dest->ipc.reply_to,
                         0)) {
        why = IPC_SLOW_PARTNER;
        goto unlock_rq;
    }
    if (__builtin_expect(!thread_direct_switch(cpu, self, dest), 0)) {
        why = IPC_SLOW_POLICY;
        goto unlock_rq;
    }

    /* Committed. dest is the head of the receive queue. */
    ep->receivers.head = dest->ipc.next;
    if (dest->ipc.next)
        dest->ipc.next->ipc.prev = NULL;
    else
        ep->receivers.tail = NULL;
    dest->ipc.ep = NULL;
    dest->ipc.wait = IPC_IDLE;
    dest->ipc.reply_to = self;
    self->ipc.wait = IPC_AWAIT_REPLY;
    self->ipc.replier = dest;
    self->ipc.rights = slot->rights;
    struct ipc_frame *df = ipc_frame_of(dest);
    df->s.nr = 0;
    df->s.rdi = slot->badge;
    df->s.rsi = tag;
    ipc_copy_words(f, df);
    block_with_continuation(self, f);
    st->fast_call++;
    ipc_return_to(df);

unlock_rq:
    spin_unlock(&cpu->rq_lock);
unlock_cap:
    spin_unlock(&cap_lock);
slow:
    st->slow_reason[why]++;
    st->slow_call++;
}

static inline void fastpath_reply_recv(struct ipc_frame *f, struct percpu *cpu)
{
    struct ipc_cpu_stats *st = &ipc_stats_cpu[cpu->index];
    struct thread *self = cpu->current, *caller;
    const struct cap_slot *slot;
    uint64_t tag = f->s.rsi;
    enum ipc_slow_reason why = fast_entry(f, self, CAP_RIGHT_RECEIVE, &slot);

    if (why == IPC_SLOW_DISABLED || why == IPC_SLOW_MESSAGE)
        goto slow;
    if (why != IPC_SLOW_REASONS)
        goto unlock_cap;
    caller = self->ipc.reply_to;
    if (__builtin_expect(!caller, 0)) {
        why = IPC_SLOW_NO_PARTNER;
        goto unlock_cap;
    }
    struct endpoint *ep = endpoint_of(slot->obj);
    if (__builtin_expect(ep->senders.head != NULL, 0)) {
        why = IPC_SLOW_QUEUED;
        goto unlock_cap;
    }
    if (__builtin_expect(caller->se.cpu != cpu->index, 0)) {
        why = IPC_SLOW_REMOTE;
        goto unlock_cap;
    }
    spin_lock(&cpu->rq_lock);
    if (__builtin_expect(caller->state != THREAD_BLOCKED || caller->sleeping || caller->pending,
                         0)) {
        why = IPC_SLOW_PARTNER;
        goto unlock_rq;
    }
    if (__builtin_expect(!thread_direct_switch(cpu, self, caller), 0)) {
        why = IPC_SLOW_POLICY;
        goto unlock_rq;
    }

    /* Committed: the reply goes to the caller, and this thread waits on the endpoint. */
    self->ipc.reply_to = NULL;
    caller->ipc.replier = NULL;
    caller->ipc.wait = IPC_IDLE;
    struct ipc_frame *cf = ipc_frame_of(caller);
    cf->s.nr = 0;
    cf->s.rsi = tag;
    ipc_copy_words(f, cf);
    self->ipc.wait = IPC_RECEIVING;
    self->ipc.ep = ep;
    ipc_enqueue(&ep->receivers, self);
    block_with_continuation(self, f);
    st->fast_reply_recv++;
    ipc_return_to(cf);

unlock_rq:
    spin_unlock(&cpu->rq_lock);
unlock_cap:
    spin_unlock(&cap_lock);
slow:
    st->slow_reason[why]++;
    st->slow_reply_recv++;
}

/* From ipc_return_to, on the stack of the thread the fast path switched to. */
void ipc_fastpath_unlock(void)
{
    spin_unlock(&this_cpu()->rq_lock);
    spin_unlock(&cap_lock);
}

void ipc_syscall(struct ipc_frame *f)
{
    struct percpu *cpu = this_cpu();
    if (f->s.nr == SYS_CALL)
        fastpath_call(f, cpu);
    else if (f->s.nr == SYS_REPLY_RECV)
        fastpath_reply_recv(f, cpu);
    else
        ipc_stats_cpu[cpu->index].slow_other++;
    ipc_slowpath(f);
    thread_user_return();
}

/* A thread the fast path blocked, switched to by the scheduler: woken by the slow path (the
 * result is in its frame already), or by a kill. */
void ipc_resumed(void)
{
    thread_finish_switch();
    struct thread *self = thread_current();
    spin_lock(&cap_lock);
    ipc_frame_of(self)->s.nr = (uint64_t)ipc_wait_done(self, false, 0);
    spin_unlock(&cap_lock);
    thread_user_return();
}

long ipc_sys_ctl(struct process *self, uint64_t control, uint64_t op, uint64_t arg)
{
    int err = cap_check_control(self, control);
    if (err)
        return err;
    if (op == IPC_CTL_FASTPATH) {
        if (arg > 1)
            return ERR_INVAL;
        return __atomic_exchange_n(&ipc_fastpath_enabled, arg == 1, __ATOMIC_RELAXED);
    }
    if (op != IPC_CTL_STATS)
        return ERR_INVAL;
    struct ipc_stats sum = {.fastpath_enabled = ipc_fastpath_enabled};
    for (unsigned c = 0; c < MAX_CPUS; c++) {
        const struct ipc_cpu_stats *s = &ipc_stats_cpu[c];
        sum.fast_call += s->fast_call;
        sum.fast_reply_recv += s->fast_reply_recv;
        sum.slow_call += s->slow_call;
        sum.slow_reply_recv += s->slow_reply_recv;
        sum.slow_other += s->slow_other;
        for (unsigned r = 0; r < IPC_SLOW_REASONS; r++)
            sum.slow_reason[r] += s->slow_reason[r];
    }
    return copy_to_user(arg, &sum, sizeof(sum));
}

long ipc_sys_buffer(struct thread *self, uint64_t addr)
{
    if (addr && ((addr & 7) || (addr & (PAGE_SIZE - 1)) + sizeof(struct ipc_buffer) > PAGE_SIZE))
        return ERR_INVAL;
    if (addr && (!user_range_ok(addr, sizeof(struct ipc_buffer)) ||
                 !vmspace_is_mapped(self->vs, addr)))
        return ERR_FAULT;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    self->ipc.buffer = addr;
    spin_unlock_irqrestore(&cap_lock, flags);
    return 0;
}

void ipc_init(bool fastpath)
{
    endpoint_init();
    notification_init();
    ipc_fastpath_enabled = fastpath;
    kprintf("ipc: endpoints with a register fast path (%s; fastpath=), notifications, %u "
            "capabilities per process (quota_caps=)\n",
            fastpath ? "on" : "off", cap_quota);
}
