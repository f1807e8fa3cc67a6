/* The scheduler core: thread lifecycle and the switch itself. It calls the policy chosen at boot
 * through its ops table and never names one. The run queue lock is held across the switch and
 * released by whichever thread runs next (in finish_switch), so no other path can see a thread
 * that is half switched. */
#include "core/thread.h"
#include "core/thread_internal.h"

#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "core/console.h"
#include "core/panic.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "mm/layout.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/trap.h"
#include "mm/tlb.h"
#include "mm/vmspace.h"

#define KSTACK_ORDER THREAD_KSTACK_ORDER
#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)

void context_switch(uint64_t *prev_rsp, uint64_t next_rsp);
void thread_trampoline(void);
void thread_bootstrap(void);

const struct sched_ops *policy;
static struct kmem_cache thread_cache;
static uint8_t clean_fpu[512] __attribute__((aligned(16)));
static uint32_t next_tid = 1;
static struct thread boot_thread, idle_thread;
static struct thread ap_idle[MAX_CPUS];
static uint64_t quantum_ticks;
static struct sched_rq *all_rqs[MAX_CPUS];
/* CPUs whose run queue is ready, a prefix of the CPU indices: placement and stealing look at
 * these only, never at a CPU that smp_boot has counted but that has not joined yet. */
static unsigned sched_cpus = 1;

static void resched_ipi(struct trap_frame *f);

static struct thread *of(struct sched_entity *se)
{
    return (struct thread *)((char *)se - offsetof(struct thread, se));
}

struct thread *thread_current(void)
{
    return this_cpu()->current;
}

const char *sched_policy_name(void)
{
    return policy->name;
}

/* Runs on the incoming thread, lock still held from schedule(). A thread that died on the way
 * out can only now give back its stack: it was running on it until the switch. */
static void finish_switch(struct percpu *cpu, struct thread *prev)
{
    if (prev->state == THREAD_DEAD && prev->kstack) {
        frame_free(virt_to_phys(prev->kstack), KSTACK_ORDER);
        __atomic_store_n(&prev->kstack, NULL, __ATOMIC_RELEASE);
    }
    spin_unlock(&cpu->rq_lock);
}

/* Load balancing, pull side: this CPU's queue is empty, so take one entity from the busiest
 * other queue. Only try-locks: this CPU already holds its own queue's lock, and a CPU in the
 * middle of a switch holds its lock until the switch is complete, so whatever can be taken
 * here is entirely off that CPU. */
static struct sched_entity *steal_work(struct percpu *cpu)
{
    struct percpu *busiest = NULL;
    unsigned most = 0;
    unsigned online = __atomic_load_n(&sched_cpus, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < online; i++) {
        unsigned n = __atomic_load_n(&cpus[i].rq.nr_queued, __ATOMIC_RELAXED);
        if (i != cpu->index && n > most) {
            busiest = &cpus[i];
            most = n;
        }
    }
    if (!busiest || !spin_trylock(&busiest->rq_lock))
        return NULL;
    struct sched_entity *se = policy->steal(&busiest->rq);
    if (se)
        se->cpu = cpu->index;
    spin_unlock(&busiest->rq_lock);
    return se;
}

bool others_have_work(const struct percpu *cpu)
{
    unsigned online = __atomic_load_n(&sched_cpus, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < online; i++)
        if (i != cpu->index && __atomic_load_n(&cpus[i].rq.nr_queued, __ATOMIC_RELAXED))
            return true;
    return false;
}

/* Called with interrupts off. yield: the running thread gives up the rest of its slice. */
void schedule_locked(struct percpu *cpu, bool yield)
{
    struct thread *prev = cpu->current, *next;

    if (prev->state == THREAD_RUNNING && prev != cpu->idle) {
        prev->state = THREAD_READY;
        policy->put_prev(&cpu->rq, &prev->se, yield);
    }
    struct sched_entity *se = policy->pick_next(&cpu->rq);
    if (!se && __atomic_load_n(&sched_cpus, __ATOMIC_RELAXED) > 1)
        se = steal_work(cpu);
    next = se ? of(se) : cpu->idle;
    cpu->need_resched = false;
    cpu->rq.running = next == cpu->idle ? 0 : next->se.prio + 1;
    if (next == prev) {
        prev->state = THREAD_RUNNING;
        spin_unlock(&cpu->rq_lock);
        return;
    }
    next->state = THREAD_RUNNING;
    next->se.cpu = cpu->index;
    cpu->current = next;
    cpu->last_prev = prev;
    if (next->kstack) {
        /* Where ring 3 enters the kernel: interrupts through the TSS, syscalls through GS. */
        cpu->kernel_rsp = thread_stack_top(next);
        tss_set_rsp0(cpu->kernel_rsp);
    }
    /* Kernel threads run on whatever address space is loaded (the kernel half is shared), so
     * switching between a user thread and kernel threads costs no CR3 write. */
    if (next->vs && cpu->loaded_vs != next->vs)
        tlb_switch_to(next->vs);
    /* Eager FPU switching: the kernel never touches FPU/SSE (-mgeneral-regs-only), so the
     * registers always hold the outgoing thread's state here. */
    __asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])prev->fpu));
    __asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[512])next->fpu));
    context_switch(&prev->saved_rsp, next->saved_rsp);
    /* Back on prev, resumed by another thread's switch, possibly on another CPU. */
    cpu = this_cpu();
    finish_switch(cpu, cpu->last_prev);
}

void thread_finish_switch(void)
{
    struct percpu *cpu = this_cpu();
    finish_switch(cpu, cpu->last_prev);
}

bool thread_direct_switch(struct percpu *cpu, struct thread *from, struct thread *to)
{
    if (cpu->need_resched || !policy->donate(&cpu->rq, &from->se, &to->se))
        return false;
    from->state = THREAD_BLOCKED;
    to->state = THREAD_RUNNING;
    cpu->current = to;
    cpu->rq.running = to->se.prio + 1;
    cpu->kernel_rsp = thread_stack_top(to);
    tss_set_rsp0(cpu->kernel_rsp);
    if (cpu->loaded_vs != to->vs)
        tlb_switch_to(to->vs);
    __asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])from->fpu));
    __asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[512])to->fpu));
    return true;
}

void schedule(bool yield)
{
    uint64_t flags = irq_save();
    struct percpu *cpu = this_cpu();
    spin_lock(&cpu->rq_lock);
    schedule_locked(cpu, yield);
    irq_restore(flags);
}

void thread_bootstrap(void)
{
    struct percpu *cpu = this_cpu();
    struct thread *self = cpu->current;
    finish_switch(cpu, cpu->last_prev);
    irq_enable();
    self->entry(self->arg);
    thread_exit(0);
}

__attribute__((noreturn)) static void idle_loop(void *arg)
{
    (void)arg;
    for (;;) {
        irq_enable();
        halt();
    }
}

static void build_initial_stack(struct thread *t)
{
    uint64_t *sp = (uint64_t *)((char *)t->kstack + (PAGE_SIZE << KSTACK_ORDER));
    *--sp = 0; /* keeps the trampoline's call 16-byte aligned */
    *--sp = (uint64_t)thread_trampoline;
    for (int i = 0; i < 6; i++)
        *--sp = 0; /* rbp rbx r12-r15 */
    t->saved_rsp = (uint64_t)sp;
}

static int thread_init(struct thread *t, void (*entry)(void *), void *arg, unsigned prio)
{
    uint64_t phys;
    if (frame_alloc(KSTACK_ORDER, &phys))
        return ERR_NOMEM;
    memset(t, 0, sizeof(*t));
    memcpy(t->fpu, clean_fpu, sizeof(clean_fpu));
    t->kstack = phys_to_virt(phys);
    t->entry = entry;
    t->arg = arg;
    t->tid = __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED);
    t->se.prio = prio < SCHED_PRIO_LEVELS ? prio : SCHED_PRIO_LEVELS - 1;
    t->state = THREAD_READY;
    build_initial_stack(t);
    return 0;
}

static void fpu_init_cpu(void)
{
    write_cr0((read_cr0() & ~CR0_EM) | CR0_MP);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
}

static void rq_init_cpu(struct percpu *cpu)
{
    cpu->rq.cpu = cpu->index;
    cpu->rq.quantum_ticks = quantum_ticks;
    cpu->rq.running = 0;
    policy->rq_init(&cpu->rq);
    all_rqs[cpu->index] = &cpu->rq;
}

int threads_init(const char *name, const char *fallback, uint64_t quantum_us)
{
    struct percpu *cpu = this_cpu();
    char names[128];
    int errors = 0;

    policy = sched_policy_find(name);
    if (!policy) {
        kprintf("cmdline: error: option 'sched': no policy '%s' (known: %s); using %s\n", name,
                sched_policy_names(names, sizeof(names)), fallback);
        errors++;
        policy = sched_policy_find(fallback);
        if (!policy)
            panic("sched: the default policy '%s' is not built in", fallback);
    }
    fpu_init_cpu();
    __asm__ volatile("fninit; fxsave64 %0" : "=m"(clean_fpu));
    if (kmem_cache_init(&thread_cache, "thread", sizeof(struct thread), 64))
        panic("sched: cannot create the thread cache");

    quantum_ticks = quantum_us / TICK_US ? quantum_us / TICK_US : 1;
    rq_init_cpu(cpu);

    /* The boot flow becomes a thread, so that it can block and be preempted like any other. */
    boot_thread.tid = 0;
    boot_thread.state = THREAD_RUNNING;
    boot_thread.se.prio = SCHED_PRIO_DEFAULT;
    /* The boot flow (self tests, benchmarks) stays on the boot CPU: what it measures and checks
     * about "this CPU" then means the same CPU throughout. */
    boot_thread.se.pinned = true;
    memcpy(boot_thread.fpu, clean_fpu, sizeof(clean_fpu));
    cpu->current = &boot_thread;
    cpu->rq.running = boot_thread.se.prio + 1;
    apic_set_ipi_handler(VEC_IPI_RESCHED, resched_ipi);
    if (thread_init(&idle_thread, idle_loop, NULL, 0))
        panic("sched: no memory for the idle thread");
    idle_thread.se.pinned = true;
    cpu->idle = &idle_thread;
    kprintf("sched: policy %s (%s), quantum %lu ticks of %u us, FPU state by FXSAVE\n",
            policy->name, policy->description, cpu->rq.quantum_ticks, TICK_US);
    return errors;
}

void threads_start_cpu(unsigned index)
{
    struct percpu *cpu = this_cpu();
    struct thread *idle = &ap_idle[index];
    /* smp_boot starts CPUs one at a time, so they join in index order; this only makes sure. */
    while (__atomic_load_n(&sched_cpus, __ATOMIC_ACQUIRE) != index)
        cpu_relax();
    fpu_init_cpu();
    rq_init_cpu(cpu);
    /* This CPU's boot flow becomes its idle thread: it runs on the stack SMP bring-up gave it,
     * which is never freed (kstack stays NULL). */
    memcpy(idle->fpu, clean_fpu, sizeof(clean_fpu));
    idle->tid = __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED);
    idle->state = THREAD_RUNNING;
    idle->se.pinned = true;
    idle->se.cpu = index;
    cpu->idle = cpu->current = idle;
    __atomic_store_n(&sched_cpus, index + 1, __ATOMIC_RELEASE);
    idle_loop(NULL);
}

/* Asks cpu to reschedule at its next chance. */
void resched(struct percpu *cpu)
{
    cpu->need_resched = true;
    if (cpu != this_cpu())
        apic_send_ipi(cpu->index, VEC_IPI_RESCHED);
}

/* Another CPU queued work here that should run now. */
static void resched_ipi(struct trap_frame *f)
{
    (void)f;
    if (this_cpu()->need_resched)
        schedule(false);
}

/* A runnable t was just queued on cpu (lock held): preempt what runs there? */
void check_preempt(struct percpu *cpu, struct thread *t)
{
    if (cpu->current == cpu->idle ||
        policy->preempt_on_wakeup(&cpu->rq, &cpu->current->se, &t->se))
        resched(cpu);
}

/* The run queue lock of the CPU t is queued on or last ran on. That CPU can change until the
 * lock is held (a wake-up elsewhere may move t), hence the re-check. */
struct percpu *lock_thread_cpu(struct thread *t)
{
    for (;;) {
        struct percpu *cpu = &cpus[__atomic_load_n(&t->se.cpu, __ATOMIC_ACQUIRE)];
        spin_lock(&cpu->rq_lock);
        if (t->se.cpu == cpu->index)
            return cpu;
        spin_unlock(&cpu->rq_lock);
    }
}

static void unlink_sleeper(struct percpu *cpu, struct thread *t)
{
    for (struct thread **link = &cpu->sleepers; *link; link = &(*link)->sleep_next)
        if (*link == t) {
            *link = t->sleep_next;
            break;
        }
    t->sleeping = false;
}

/* A blocked or suspended t becomes runnable where it last ran; that CPU's lock is held. */
void wake_locked(struct percpu *cpu, struct thread *t)
{
    if (t->sleeping)
        unlink_sleeper(cpu, t);
    t->state = THREAD_READY;
    policy->enqueue(&cpu->rq, &t->se, true);
    check_preempt(cpu, t);
}

/* Where the policy wants t (new, or waking) to run. */
static struct percpu *placement(struct thread *t)
{
    unsigned n = __atomic_load_n(&sched_cpus, __ATOMIC_ACQUIRE);
    unsigned c = n > 1 ? policy->select_cpu(all_rqs, n, &t->se, this_cpu()->index) : 0;
    return &cpus[c < n ? c : 0];
}

/* A new thread's first enqueue: nobody else can see it yet, so only its new queue is locked. */
static void make_runnable(struct thread *t)
{
    uint64_t flags = irq_save();
    t->se.cpu = this_cpu()->index;
    struct percpu *cpu = placement(t);
    spin_lock(&cpu->rq_lock);
    t->state = THREAD_READY;
    policy->enqueue(&cpu->rq, &t->se, false);
    check_preempt(cpu, t);
    spin_unlock(&cpu->rq_lock);
    irq_restore(flags);
}

/* Locks two CPUs' queues in index order (one lock if they are the same CPU). */
static void lock_pair(struct percpu *a, struct percpu *b)
{
    if (a == b) {
        spin_lock(&a->rq_lock);
    } else if (a->index < b->index) {
        spin_lock(&a->rq_lock);
        spin_lock(&b->rq_lock);
    } else {
        spin_lock(&b->rq_lock);
        spin_lock(&a->rq_lock);
    }
}

static void unlock_pair(struct percpu *a, struct percpu *b)
{
    spin_unlock(&a->rq_lock);
    if (a != b)
        spin_unlock(&b->rq_lock);
}

/* Wakes a blocked t where the policy places it. Holding the queue lock of the CPU it blocked
 * on means its switch away is complete (that lock is held across the switch). */
void wake_placed(struct thread *t)
{
    for (;;) {
        struct percpu *from = &cpus[__atomic_load_n(&t->se.cpu, __ATOMIC_ACQUIRE)];
        struct percpu *to = t->sleeping ? from : placement(t);
        lock_pair(from, to);
        /* Both read unlocked: t may have moved, or gone to sleep, on its way to blocking (a
         * sleeper must be woken where its sleeper list is). */
        if (t->se.cpu != from->index || (t->sleeping && to != from)) {
            unlock_pair(from, to);
            continue;
        }
        if (t->state == THREAD_BLOCKED) {
            t->se.cpu = to->index;
            wake_locked(to, t); /* a sleeper stays where its sleeper list is: to == from */
        }
        unlock_pair(from, to);
        return;
    }
}

struct thread *thread_alloc(struct vmspace *vs, void (*entry)(void *), void *arg, unsigned prio)
{
    struct thread *t = kmem_alloc(&thread_cache);
    if (!t)
        return NULL;
    if (thread_init(t, entry, arg, prio)) {
        kmem_free(&thread_cache, t);
        return NULL;
    }
    t->vs = vs;
    return t;
}

void thread_start(struct thread *t)
{
    make_runnable(t);
    if (this_cpu()->need_resched)
        schedule(false);
}

void thread_free(struct thread *t)
{
    if (t->kstack)
        frame_free(virt_to_phys(t->kstack), KSTACK_ORDER);
    kmem_free(&thread_cache, t);
}

void thread_wait_gone(struct thread *t)
{
    while (__atomic_load_n(&t->kstack, __ATOMIC_ACQUIRE))
        cpu_relax();
}

struct thread *thread_create(void (*entry)(void *), void *arg, unsigned prio)
{
    return thread_create_in(NULL, entry, arg, prio);
}

struct thread *thread_create_pinned(void (*entry)(void *), void *arg, unsigned prio)
{
    struct thread *t = thread_alloc(NULL, entry, arg, prio);
    if (t) {
        t->se.pinned = true;
        thread_start(t);
    }
    return t;
}

struct thread *thread_create_in(struct vmspace *vs, void (*entry)(void *), void *arg,
                                unsigned prio)
{
    struct thread *t = thread_alloc(vs, entry, arg, prio);
    if (t)
        thread_start(t);
    return t;
}

void thread_yield(void)
{
    schedule(true);
}

/* Kernel threads' joins: one queue for all, since joins are rare and few (tests, the boot). */
static struct spinlock join_lock = SPINLOCK_INIT;
static struct waitq join_wq;

void thread_exit(int status)
{
    /* Off until the final switch: once `exited` is visible the joiner spins until this stack
     * is released, so nothing may preempt the way there. */
    irq_disable();
    struct thread *self = this_cpu()->current;
    spin_lock(&join_lock);
    self->exit_status = status;
    self->exited = true;
    waitq_wake_all(&join_wq);
    spin_unlock(&join_lock);
    struct percpu *cpu = this_cpu();
    spin_lock(&cpu->rq_lock);
    self->state = THREAD_DEAD;
    schedule_locked(cpu, false);
    panic("sched: a dead thread was scheduled");
}

int thread_join(struct thread *t)
{
    uint64_t flags = spin_lock_irqsave(&join_lock);
    while (!t->exited)
        waitq_wait(&join_wq, &join_lock);
    spin_unlock_irqrestore(&join_lock, flags);
    thread_wait_gone(t);
    int status = t->exit_status;
    kmem_free(&thread_cache, t);
    return status;
}
