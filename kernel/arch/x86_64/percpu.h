/* Per-CPU data, reached through the GS base: %gs:0 holds the structure's own address, so
 * this_cpu() is one load and needs no CPU number. The syscall entry path reads the fixed-offset
 * fields below directly from assembly. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/spinlock.h"
#include "sched/sched.h"

#define MAX_CPUS 16

struct thread;
struct fault_ctx;
struct tss;
struct vmspace;

struct percpu {
    struct percpu *self;    /* %gs:0 */
    uint64_t kernel_rsp;    /* %gs:8: top of the running thread's kernel stack */
    uint64_t user_rsp;      /* %gs:16: scratch for the syscall entry */
    unsigned index;
    uint32_t apic_id;
    struct thread *current;
    struct thread *idle;
    struct fault_ctx *fault_armed;
    bool need_resched;
    struct thread *last_prev; /* the thread switched away from, for finish_switch */
    struct thread *sleepers;  /* blocked in thread_sleep, unordered */
    struct spinlock rq_lock;
    struct sched_rq rq;
    struct tss *tss;          /* this CPU's TSS, for tss_set_rsp0 on every switch */
    struct vmspace *loaded_vs; /* whose tables CR3 holds (NULL: the kernel's), mm/tlb.c */
    uint32_t pcid_next, pcid_gen;
    uint64_t tlb_req, tlb_done; /* shootdowns asked of this CPU / handled by it */
    uint64_t ticks;           /* timer interrupts taken on this CPU */
    uint64_t tick_deadline;   /* TSC-deadline mode: the TSC value of the next tick */
};

extern struct percpu cpus[MAX_CPUS];
/* CPUs running: indices 0..ncpus-1 are dense (a CPU that failed to start takes no index).
 * smp_boot raises it, with release ordering, as each CPU comes online. */
extern unsigned ncpus;

/* Points GS (and KERNEL_GS, so that swapgs keeps kernel code correct) at cpus[index]. */
void percpu_init(unsigned index);

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}
