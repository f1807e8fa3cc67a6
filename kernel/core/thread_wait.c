/* Blocking and waking: sleeps, wait queues, kill and suspend requests, priority changes, and
 * the timer tick. The scheduler core they build on is thread.c (thread_internal.h). */
#include "core/thread.h"
#include "core/thread_internal.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "core/process.h"

void thread_sleep(uint64_t ticks)
{
    thread_sleep_until(timer_ticks() + ticks);
}

void thread_sleep_until(uint64_t tick)
{
    uint64_t flags = irq_save();
    struct percpu *cpu = this_cpu();
    struct thread *self = cpu->current;
    spin_lock(&cpu->rq_lock);
    /* Checked under the lock that thread_request takes: a kill cannot slip in unseen. */
    if (thread_killed(self)) {
        spin_unlock(&cpu->rq_lock);
        irq_restore(flags);
        return;
    }
    self->wake_tick = tick;
    self->sleep_next = cpu->sleepers;
    cpu->sleepers = self;
    self->sleeping = true;
    self->state = THREAD_BLOCKED;
    schedule_locked(cpu, false);
    irq_restore(flags);
}

void thread_block(struct spinlock *lock, uint64_t deadline_tick)
{
    struct percpu *cpu = this_cpu();
    struct thread *self = cpu->current;
    spin_lock(&cpu->rq_lock);
    if (thread_killed(self)) {
        spin_unlock(&cpu->rq_lock);
        return;
    }
    if (deadline_tick) {
        self->wake_tick = deadline_tick;
        self->sleep_next = cpu->sleepers;
        cpu->sleepers = self;
        self->sleeping = true;
    }
    self->state = THREAD_BLOCKED;
    spin_unlock(lock);
    schedule_locked(cpu, false);
    spin_lock(lock);
}

void thread_wake(struct thread *t)
{
    wake_placed(t);
}

/* Under the run queue lock, from the tick. Sleepers are few (tests, timeouts), so a list scan
 * per tick is cheaper than keeping it sorted. */
static void wake_sleepers(struct percpu *cpu)
{
    uint64_t now = timer_ticks();
    struct thread **link = &cpu->sleepers;
    while (*link) {
        struct thread *t = *link;
        if (t->wake_tick > now) {
            link = &t->sleep_next;
            continue;
        }
        *link = t->sleep_next;
        t->sleeping = false;
        wake_locked(cpu, t);
    }
}

void waitq_wait(struct waitq *wq, struct spinlock *lock)
{
    struct percpu *cpu = this_cpu();
    struct thread *self = cpu->current;
    self->wq = wq;
    self->wq_next = wq->head;
    wq->head = self;
    spin_lock(&cpu->rq_lock);
    if (!thread_killed(self)) {
        self->state = THREAD_BLOCKED;
        spin_unlock(lock);
        schedule_locked(cpu, false);
        spin_lock(lock);
    } else {
        spin_unlock(&cpu->rq_lock);
    }
    /* Still queued when a kill, not waitq_wake_all, made it runnable. */
    if (self->wq) {
        for (struct thread **link = &wq->head; *link; link = &(*link)->wq_next)
            if (*link == self) {
                *link = self->wq_next;
                break;
            }
        self->wq = NULL;
    }
}

void waitq_wake_all(struct waitq *wq)
{
    struct thread *t = wq->head;
    wq->head = NULL;
    while (t) {
        struct thread *next = t->wq_next;
        t->wq = NULL;
        wake_placed(t);
        t = next;
    }
}

void thread_set_prio(struct thread *t, unsigned prio)
{
    uint64_t flags = irq_save();
    struct percpu *cpu = lock_thread_cpu(t);
    if (t->se.on_rq) {
        policy->dequeue(&cpu->rq, &t->se);
        t->se.prio = prio;
        policy->enqueue(&cpu->rq, &t->se, false);
        check_preempt(cpu, t);
    } else {
        t->se.prio = prio;
    }
    /* A running thread that lowered itself may no longer be the policy's choice. */
    if (cpu->current == t) {
        cpu->rq.running = prio + 1;
        resched(cpu);
    }
    spin_unlock(&cpu->rq_lock);
    irq_restore(flags);
}

void thread_request(struct thread *t, uint32_t what)
{
    /* Set before taking the lock: a thread about to block re-checks under that lock. */
    __atomic_fetch_or(&t->pending, what, __ATOMIC_ACQ_REL);
    uint64_t flags = irq_save();
    struct percpu *cpu = lock_thread_cpu(t);
    if ((what & THREAD_PENDING_KILL) &&
        (t->state == THREAD_BLOCKED || t->state == THREAD_SUSPENDED))
        wake_locked(cpu, t);
    else if (t->state == THREAD_RUNNING && cpu != this_cpu())
        resched(cpu);
    spin_unlock(&cpu->rq_lock);
    irq_restore(flags);
}

bool thread_suspend(struct thread *t)
{
    __atomic_fetch_or(&t->pending, THREAD_PENDING_SUSPEND, __ATOMIC_ACQ_REL);
    uint64_t flags = irq_save();
    struct percpu *cpu = lock_thread_cpu(t);
    if (t->state == THREAD_READY) {
        policy->dequeue(&cpu->rq, &t->se);
        t->state = THREAD_SUSPENDED;
    } else if (t->state == THREAD_RUNNING) {
        resched(cpu);
    }
    bool running = t->state == THREAD_RUNNING;
    spin_unlock(&cpu->rq_lock);
    irq_restore(flags);
    return running;
}

void thread_resume(struct thread *t)
{
    __atomic_fetch_and(&t->pending, ~THREAD_PENDING_SUSPEND, __ATOMIC_ACQ_REL);
    uint64_t flags = irq_save();
    struct percpu *cpu = lock_thread_cpu(t);
    if (t->state == THREAD_SUSPENDED)
        wake_locked(cpu, t);
    spin_unlock(&cpu->rq_lock);
    irq_restore(flags);
}

/* Parks the caller while a suspension is pending (re-checked under the lock resume takes). */
static void park(void)
{
    uint64_t flags = irq_save();
    struct percpu *cpu = this_cpu();
    struct thread *self = cpu->current;
    spin_lock(&cpu->rq_lock);
    if (__atomic_load_n(&self->pending, __ATOMIC_ACQUIRE) == THREAD_PENDING_SUSPEND) {
        self->state = THREAD_SUSPENDED;
        schedule_locked(cpu, false);
    } else {
        spin_unlock(&cpu->rq_lock);
    }
    irq_restore(flags);
}

void thread_user_return(void)
{
    struct thread *self = thread_current();
    for (;;) {
        uint32_t pending = __atomic_load_n(&self->pending, __ATOMIC_ACQUIRE);
        if (pending & THREAD_PENDING_KILL) {
            /* Leaving may wait for other CPUs (address-space teardown): never with interrupts
             * off. Nothing is held here, on the way to ring 3. */
            irq_enable();
            process_thread_exit(PROCESS_KILLED_STATUS);
        }
        if (!pending)
            break;
        park();
    }
    if (this_cpu()->need_resched)
        schedule(false);
}

void sched_tick(void)
{
    struct percpu *cpu = this_cpu();
    if (!policy)
        return;
    spin_lock(&cpu->rq_lock);
    wake_sleepers(cpu);
    if (cpu->current == cpu->idle ? cpu->rq.nr_queued > 0 || others_have_work(cpu)
                                  : policy->tick(&cpu->rq, &cpu->current->se))
        cpu->need_resched = true;
    bool resched = cpu->need_resched;
    spin_unlock(&cpu->rq_lock);
    /* Interrupts are off and the EOI is done: switching here is switching out of the
     * interrupted thread, which resumes through its own trap frame later. */
    if (resched)
        schedule(false);
}

unsigned thread_pin(struct thread *t, bool on)
{
    uint64_t flags = irq_save();
    struct percpu *cpu = lock_thread_cpu(t);
    t->se.pinned = on;
    unsigned index = cpu->index;
    spin_unlock(&cpu->rq_lock);
    irq_restore(flags);
    return index;
}
