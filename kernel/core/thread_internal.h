/* The scheduler core's internals, shared by thread.c (lifecycle and switching) and
 * thread_wait.c (blocking, waking, the tick). Not for use outside kernel/core/thread*.c. */
#pragma once
#include <stdbool.h>

#include "arch/x86_64/percpu.h"
#include "core/thread.h"
#include "sched/sched.h"

extern const struct sched_ops *policy;

/* Called with interrupts off and cpu's queue lock held; switches to the policy's pick and
 * returns (on whatever CPU the caller is resumed) with the lock released. */
void schedule_locked(struct percpu *cpu, bool yield);
void schedule(bool yield);
/* Asks cpu to reschedule at its next chance (an IPI when it is another CPU). */
void resched(struct percpu *cpu);
/* A runnable t was just queued on cpu (lock held): preempt what runs there? */
void check_preempt(struct percpu *cpu, struct thread *t);
/* The queue lock of the CPU t is queued on or last ran on (re-checked after locking). */
struct percpu *lock_thread_cpu(struct thread *t);
/* A blocked or suspended t becomes runnable on cpu, whose lock is held. */
void wake_locked(struct percpu *cpu, struct thread *t);
/* Wakes a blocked t where the policy places it; interrupts off. */
void wake_placed(struct thread *t);
bool others_have_work(const struct percpu *cpu);
