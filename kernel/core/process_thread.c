/* Threads inside a process: creation, join, suspend/resume and priorities, all naming threads
 * of the caller's own process by tid. */
#include "core/process.h"

#include "core/syscall.h"
#include "lib/err.h"
#include "sched/sched.h"

void enter_user(uint64_t rip, uint64_t rsp, uint64_t arg);

static void user_thread_main(void *arg)
{
    (void)arg;
    struct thread *self = thread_current();
    enter_user(self->user_rip, self->user_rsp, self->user_arg);
}

long process_add_thread(struct process *p, uint64_t rip, uint64_t rsp, uint64_t arg,
                        unsigned prio, struct thread **out)
{
    uint64_t flags = spin_lock_irqsave(&process_lock);
    int err = quota_charge(p, RES_THREADS, 1);
    if (!err && (err = quota_charge(p, RES_FRAMES, THREAD_KSTACK_PAGES)))
        quota_uncharge(p, RES_THREADS, 1);
    spin_unlock_irqrestore(&process_lock, flags);
    if (err)
        return err;
    struct thread *t = thread_alloc(&p->vs, user_thread_main, NULL, prio);
    if (!t) {
        flags = spin_lock_irqsave(&process_lock);
        quota_uncharge(p, RES_THREADS, 1);
        quota_uncharge(p, RES_FRAMES, THREAD_KSTACK_PAGES);
        spin_unlock_irqrestore(&process_lock, flags);
        return ERR_NOMEM;
    }
    /* A user thread that pinned itself passes that on to what it creates (the new thread
     * starts on the creator's CPU, process_spawn's included). */
    struct thread *creator = thread_current();
    t->se.pinned = creator->proc && creator->se.pinned;
    t->proc = p;
    t->user_rip = rip;
    t->user_rsp = rsp;
    t->user_arg = arg;
    flags = spin_lock_irqsave(&process_lock);
    /* Checked under the lock kill_locked holds while it kills every listed thread. */
    if (p->exiting) {
        spin_unlock_irqrestore(&process_lock, flags);
        process_free_thread(p, t);
        return ERR_INTR;
    }
    t->proc_next = p->threads;
    p->threads = t;
    p->live_threads++;
    spin_unlock_irqrestore(&process_lock, flags);
    *out = t;
    return 0;
}

void process_free_thread(struct process *p, struct thread *t)
{
    thread_wait_gone(t);
    uint64_t flags = spin_lock_irqsave(&process_lock);
    quota_uncharge(p, RES_THREADS, 1);
    quota_uncharge(p, RES_FRAMES, THREAD_KSTACK_PAGES);
    spin_unlock_irqrestore(&process_lock, flags);
    thread_free(t);
}

/* The thread with this tid in p (exited ones included), or NULL; under process_lock. */
static struct thread *process_find_thread(struct process *p, uint32_t tid)
{
    for (struct thread *t = p->threads; t; t = t->proc_next)
        if (t->tid == tid)
            return t;
    return NULL;
}

long process_sys_thread_create(struct process *self, uintptr_t entry, uintptr_t stack_top,
                               uint64_t arg)
{
    /* Both end up in iretq's frame: a non-canonical rip would fault in ring 0. */
    if (entry < USER_BASE || entry >= USER_TOP || stack_top < USER_BASE || stack_top > USER_TOP)
        return ERR_FAULT;
    struct thread *t;
    long err = process_add_thread(self, entry, stack_top, arg, thread_current()->se.prio, &t);
    if (err)
        return err;
    thread_start(t);
    return t->tid;
}

static void unlink_thread(struct process *p, struct thread *t)
{
    for (struct thread **link = &p->threads; *link; link = &(*link)->proc_next)
        if (*link == t) {
            *link = t->proc_next;
            return;
        }
}

long process_sys_thread_join(struct process *self, int64_t tid, uintptr_t status)
{
    struct thread *me = thread_current();
    uint64_t flags = spin_lock_irqsave(&process_lock);
    struct thread *t = tid > 0 ? process_find_thread(self, (uint32_t)tid) : NULL;
    long err = !t ? ERR_NOENT : t == me ? ERR_INVAL : t->joining ? ERR_BUSY : 0;
    if (err) {
        spin_unlock_irqrestore(&process_lock, flags);
        return err;
    }
    t->joining = true;
    while (!t->exited && !thread_killed(me))
        waitq_wait(&self->join_wq, &process_lock);
    if (!t->exited) {
        t->joining = false;
        spin_unlock_irqrestore(&process_lock, flags);
        return ERR_INTR;
    }
    spin_unlock_irqrestore(&process_lock, flags);
    if (status && copy_to_user(status, &t->exit_status, sizeof(int))) {
        /* Nothing is lost: the thread can still be joined. */
        flags = spin_lock_irqsave(&process_lock);
        t->joining = false;
        spin_unlock_irqrestore(&process_lock, flags);
        return ERR_FAULT;
    }
    flags = spin_lock_irqsave(&process_lock);
    unlink_thread(self, t);
    spin_unlock_irqrestore(&process_lock, flags);
    process_free_thread(self, t);
    return 0;
}

/* A live thread of the caller's process, under process_lock; tid 0 is the caller. */
static struct thread *live_thread(struct process *self, int64_t tid)
{
    if (tid == 0)
        return thread_current();
    struct thread *t = tid > 0 && tid <= UINT32_MAX ? process_find_thread(self, (uint32_t)tid)
                                                    : NULL;
    return t && !t->exited ? t : NULL;
}

long process_sys_suspend(struct process *self, int64_t tid)
{
    uint64_t flags = spin_lock_irqsave(&process_lock);
    struct thread *t = tid ? live_thread(self, tid) : NULL;
    if (!t) {
        spin_unlock_irqrestore(&process_lock, flags);
        return ERR_NOENT;
    }
    if (t == thread_current()) {
        /* Takes effect on the way back to ring 3. */
        __atomic_fetch_or(&t->pending, THREAD_PENDING_SUSPEND, __ATOMIC_ACQ_REL);
        spin_unlock_irqrestore(&process_lock, flags);
        return 0;
    }
    /* Running on another CPU: wait for it to get off, without holding the lock (it may need
     * it to get there) and looking it up again each time (it may exit and be joined). */
    while (thread_suspend(t)) {
        spin_unlock_irqrestore(&process_lock, flags);
        thread_sleep(1);
        flags = spin_lock_irqsave(&process_lock);
        if (!(t = live_thread(self, tid)) || thread_killed(thread_current()))
            break;
    }
    spin_unlock_irqrestore(&process_lock, flags);
    return 0;
}

long process_sys_resume(struct process *self, int64_t tid)
{
    uint64_t flags = spin_lock_irqsave(&process_lock);
    struct thread *t = tid ? live_thread(self, tid) : NULL;
    if (t)
        thread_resume(t);
    spin_unlock_irqrestore(&process_lock, flags);
    return t ? 0 : ERR_NOENT;
}

long process_sys_set_prio(struct process *self, int64_t tid, uint64_t prio)
{
    if (prio >= SCHED_PRIO_LEVELS)
        return ERR_INVAL;
    uint64_t flags = spin_lock_irqsave(&process_lock);
    struct thread *t = live_thread(self, tid);
    if (t)
        thread_set_prio(t, (unsigned)prio);
    spin_unlock_irqrestore(&process_lock, flags);
    return t ? 0 : ERR_NOENT;
}
