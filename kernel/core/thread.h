/* Threads: a kernel stack, saved registers and FPU/SSE state, and the scheduler entity that the
 * policy queues. A user thread also belongs to a process and enters ring 3 from its stack. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/spinlock.h"
#include "sched/sched.h"

/* SUSPENDED: stopped by SYS_SUSPEND, off every CPU and run queue until resumed (or killed). */
enum thread_state { THREAD_READY, THREAD_RUNNING, THREAD_BLOCKED, THREAD_SUSPENDED, THREAD_DEAD };

/* A thread's kernel stack, in pages (the buddy order is its log2). */
#define THREAD_KSTACK_ORDER 2
#define THREAD_KSTACK_PAGES (1u << THREAD_KSTACK_ORDER)

/* Requests checked on every return to ring 3 (one load when none is set). */
#define THREAD_PENDING_KILL    1u
#define THREAD_PENDING_SUSPEND 2u

struct percpu;
struct process;
struct vmspace;
struct endpoint;
struct notification;

/* Where a thread stands in endpoint IPC (ipc/kernel/). All of it is protected by cap_lock. */
enum ipc_wait {
    IPC_IDLE,        /* not in IPC, or its IPC has completed (the result is in its frame) */
    IPC_SENDING,     /* queued on ep to send (call or send) */
    IPC_RECEIVING,   /* queued on ep to receive */
    IPC_AWAIT_REPLY, /* its call was received; waiting for `replier` to reply */
    IPC_NOTIFY_WAIT, /* waiting on notification `ntfn` */
};

struct thread_ipc {
    enum ipc_wait wait;
    bool is_call;             /* IPC_SENDING: a call (the receiver will owe a reply) */
    uint8_t rights;           /* rights of the capability it sends through (GRANT for caps) */
    uint64_t badge;           /* badge of that capability, delivered to the receiver */
    struct endpoint *ep;      /* IPC_SENDING / IPC_RECEIVING: queued here */
    struct notification *ntfn; /* IPC_NOTIFY_WAIT */
    struct thread *next, *prev; /* queue links */
    struct thread *reply_to;  /* the caller this thread owes a reply */
    struct thread *replier;   /* IPC_AWAIT_REPLY: the thread that owes it one */
    uintptr_t buffer;         /* its struct ipc_buffer in user space, 0 if none */
};

/* Threads waiting for a condition that the caller's own lock protects. */
struct waitq {
    struct thread *head;
};

struct thread {
    uint8_t fpu[512] __attribute__((aligned(16))); /* FXSAVE image */
    uint64_t saved_rsp;
    struct sched_entity se;
    enum thread_state state;
    uint32_t tid;
    uint32_t pending;   /* THREAD_PENDING_*, set by other threads */
    bool sleeping;      /* BLOCKED on its CPU's sleeper list */
    void *kstack;       /* base of the kernel stack; NULL once released */
    void (*entry)(void *arg);
    void *arg;
    struct thread *sleep_next;
    struct waitq *wq;      /* the queue it is blocked on, if any */
    struct thread *wq_next;
    struct vmspace *vs;    /* user address space, NULL for kernel threads */
    struct process *proc;  /* NULL for kernel threads */
    struct thread *proc_next;
    uint64_t wake_tick;
    uint64_t user_rip, user_rsp, user_arg; /* where a user thread first enters ring 3 */
    int exit_status;
    bool exited;  /* it has ended (its stack may still be in use until the final switch) */
    bool joining; /* a SYS_THREAD_JOIN has claimed it */
    struct thread_ipc ipc;
};

/* Picks the policy by name (an unknown name is reported as a boot-option error, counted in the
 * return value, and `fallback` is used instead) and makes the boot flow a thread. */
int threads_init(const char *policy, const char *fallback, uint64_t quantum_us);

/* A CPU other than the boot CPU joins the scheduler (from SMP bring-up, interrupts off): its
 * run queue starts, and its boot flow becomes its idle thread. Never returns. */
__attribute__((noreturn)) void threads_start_cpu(unsigned index);

/* Creates a runnable kernel thread; NULL when memory is exhausted. */
struct thread *thread_create(void (*entry)(void *), void *arg, unsigned prio);
/* The same, but it only ever runs on the CPU that creates it (tests of one CPU's scheduling). */
struct thread *thread_create_pinned(void (*entry)(void *), void *arg, unsigned prio);
/* The same, running with the address space vs loaded (entry then enters ring 3). */
struct thread *thread_create_in(struct vmspace *vs, void (*entry)(void *), void *arg,
                                unsigned prio);
/* Two steps, for callers that must link the thread somewhere before it can run: a thread that
 * is not runnable yet (NULL without memory), then thread_start. thread_free undoes an alloc. */
struct thread *thread_alloc(struct vmspace *vs, void (*entry)(void *), void *arg, unsigned prio);
void thread_start(struct thread *t);
void thread_free(struct thread *t);
/* Spins until t's kernel stack has been released (t is dead and off its CPU). */
void thread_wait_gone(struct thread *t);

__attribute__((noreturn)) void thread_exit(int status);
/* Waits for t to exit, frees it and returns its status. */
int thread_join(struct thread *t);
void thread_yield(void);
/* Blocks for at least `ticks` timer ticks (1 ms each); returns early if the thread is killed. */
void thread_sleep(uint64_t ticks);
void thread_sleep_until(uint64_t tick); /* woken by the first tick at or after `tick` */
struct thread *thread_current(void);
const char *sched_policy_name(void);

/* Blocks on wq. The caller holds `lock` (taken with interrupts off), which protects both the
 * condition it waits for and wq; it is released while blocked and held again on return. The
 * caller re-checks its condition (and thread_killed()) in a loop. */
void waitq_wait(struct waitq *wq, struct spinlock *lock);
/* Wakes every thread on wq; the caller holds the lock that protects it. */
void waitq_wake_all(struct waitq *wq);

/* Blocks the caller until thread_wake, a kill, or (deadline_tick nonzero) the first tick at or
 * after deadline_tick. `lock` is held, interrupts off; it is released once the thread is
 * marked blocked and held again on return. Returns at once if the caller is being killed.
 * The caller re-checks its condition, as with waitq_wait. */
void thread_block(struct spinlock *lock, uint64_t deadline_tick);
/* Makes a thread blocked by thread_block runnable, where the policy places it; interrupts off.
 * A thread that is not blocked is left alone. */
void thread_wake(struct thread *t);
/* IPC direct switch, with this CPU's queue lock held and interrupts off: `from` (running) blocks
 * and `to` (blocked, last ran here) runs in its place, without a pick and without touching the
 * run queue, if the policy agrees (its donate hook) and no reschedule is pending. Switches the
 * address space, the FPU state and the kernel entry stack, but not the stack the caller runs on:
 * the caller leaves for ring 3 as `to` itself. False, and nothing changed, when refused. */
bool thread_direct_switch(struct percpu *cpu, struct thread *from, struct thread *to);
/* First thing a thread does when it resumes somewhere other than after its own
 * context_switch call (the IPC continuation): the lock handover of a switch. */
void thread_finish_switch(void);
/* Top of t's kernel stack: where its syscall or IPC frame sits. */
static inline uint64_t thread_stack_top(const struct thread *t)
{
    return (uint64_t)t->kstack + (4096ul << THREAD_KSTACK_ORDER);
}

/* Keeps the running t on its CPU (on) or lets it move again; returns the CPU's index. */
unsigned thread_pin(struct thread *t, bool on);
/* Changes t's priority, requeueing it if it is queued; may preempt. */
void thread_set_prio(struct thread *t, unsigned prio);
/* Marks t with a THREAD_PENDING_* request and gets it to act on it soon: a blocked, sleeping
 * or suspended thread is made runnable for a kill; a running one notices on its way to ring 3. */
void thread_request(struct thread *t, uint32_t what);
/* Suspends t (not the caller): a queued t is taken off its run queue at once; a running one
 * (on another CPU) parks on its way back to ring 3, never running user code first. Returns
 * whether t is still on its CPU. */
bool thread_suspend(struct thread *t);
/* Clears a suspension; a suspended thread becomes runnable. */
void thread_resume(struct thread *t);
static inline bool thread_killed(const struct thread *t)
{
    return __atomic_load_n(&t->pending, __ATOMIC_ACQUIRE) & THREAD_PENDING_KILL;
}
/* On every return to ring 3: a killed thread leaves its process (process_thread_exit), a
 * suspended one parks, and a wanted reschedule happens. */
void thread_user_return(void);

/* Timer tick hook: asks the policy whether the running thread's time is up. */
void sched_tick(void);
