/* SMP bring-up: every CPU the firmware lists runs (within smp=), and each has its own per-CPU
 * data, TSS, LAPIC tick and the boot CPU's control state. What a CPU reports about itself is
 * collected in an IPI handler running on it, so each check reads what that CPU has loaded, not
 * what the boot CPU believes it loaded; an IPI landing on the wrong CPU shows up as a timeout. */
#include <stdbool.h>

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "core/bootopts.h"
#include "core/selftest.h"

#define WAIT_US 1000000 /* generous: a TCG vCPU is a host thread that may wait for a core */

struct seen {
    uint64_t hits;
    struct percpu *self; /* this_cpu() as the CPU sees it */
    uint32_t apic_id;    /* from its LAPIC */
    uint64_t tss;        /* base of the TSS its TR names */
    uint64_t cr0, cr4, efer;
};

static struct seen seen[MAX_CPUS];

static uint64_t loaded_tss_base(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr;
    uint16_t tr;
    __asm__ volatile("sgdt %0; str %1" : "=m"(gdtr), "=r"(tr));
    const uint64_t *d = (const uint64_t *)(gdtr.base + (tr & ~7u));
    return ((d[0] >> 16) & 0xffffff) | ((d[0] >> 56) << 24) | (d[1] << 32);
}

static void record(struct trap_frame *f)
{
    (void)f;
    struct percpu *c = this_cpu();
    struct seen *s = &seen[c->index];
    s->self = c;
    s->apic_id = apic_id();
    s->tss = loaded_tss_base();
    s->cr0 = read_cr0();
    s->cr4 = read_cr4();
    s->efer = rdmsr(MSR_EFER);
    __atomic_fetch_add(&s->hits, 1, __ATOMIC_RELEASE);
}

static bool wait_at_least(const uint64_t *counter, uint64_t want)
{
    uint64_t start = rdtsc(), limit = tsc.hz / 1000000 * WAIT_US;
    while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < want) {
        if (rdtsc() - start > limit)
            return false;
        cpu_relax();
    }
    return true;
}

/* One IPI to each CPU in turn, the boot CPU included; returns the first CPU that did not
 * record it, or ncpus when all did. */
static unsigned ping_each(void)
{
    apic_set_ipi_handler(VEC_IPI_TEST, record);
    for (unsigned i = 0; i < ncpus; i++) {
        uint64_t before = __atomic_load_n(&seen[i].hits, __ATOMIC_ACQUIRE);
        apic_send_ipi(i, VEC_IPI_TEST);
        if (!wait_at_least(&seen[i].hits, before + 1))
            return i;
    }
    return ncpus;
}

SELFTEST(smp, every_listed_cpu_online)
{
    unsigned limit = bootopt.smp ? (unsigned)bootopt.smp : MAX_CPUS;
    unsigned listed = smp_cpus_listed();
    KCHECK(listed >= 1);
    KCHECK_EQ(ncpus, listed < limit ? listed : limit);
}

SELFTEST(smp, ipi_reaches_the_cpu_it_names)
{
    KCHECK(read_rflags() & RFLAGS_IF);
    KCHECK_EQ(ping_each(), ncpus);
    for (unsigned i = 0; i < ncpus; i++) {
        KCHECK(seen[i].self == &cpus[i]);
        KCHECK_EQ(seen[i].self->index, i);
        KCHECK_EQ(seen[i].apic_id, cpus[i].apic_id);
    }
}

SELFTEST(smp, broadcast_reaches_all_but_self)
{
    uint64_t before[MAX_CPUS];
    KCHECK_EQ(ping_each(), ncpus);
    for (unsigned i = 0; i < ncpus; i++)
        before[i] = __atomic_load_n(&seen[i].hits, __ATOMIC_ACQUIRE);
    apic_broadcast_ipi(VEC_IPI_TEST);
    for (unsigned i = 1; i < ncpus; i++)
        KCHECK(wait_at_least(&seen[i].hits, before[i] + 1));
    /* A self-delivery would have arrived by now: interrupts are on and the sender was here. */
    KCHECK_EQ(__atomic_load_n(&seen[0].hits, __ATOMIC_ACQUIRE), before[0]);
}

SELFTEST(smp, each_cpu_has_its_own_tss)
{
    KCHECK_EQ(ping_each(), ncpus);
    for (unsigned i = 0; i < ncpus; i++) {
        KCHECK_EQ(seen[i].tss, (uint64_t)cpus[i].tss);
        for (unsigned j = 0; j < i; j++)
            KCHECK(seen[i].tss != seen[j].tss);
    }
}

SELFTEST(smp, control_state_matches_the_boot_cpu)
{
    KCHECK_EQ(ping_each(), ncpus);
    for (unsigned i = 1; i < ncpus; i++) {
        KCHECK_EQ(seen[i].cr0, seen[0].cr0);
        KCHECK_EQ(seen[i].cr4, seen[0].cr4);
        KCHECK_EQ(seen[i].efer & EFER_NXE, seen[0].efer & EFER_NXE);
    }
}

SELFTEST(smp, every_cpu_takes_timer_ticks)
{
    for (unsigned i = 0; i < ncpus; i++) {
        uint64_t now = __atomic_load_n(&cpus[i].ticks, __ATOMIC_RELAXED);
        KCHECK(wait_at_least(&cpus[i].ticks, now + 2));
    }
}
