#include "mm/tlb.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "core/console.h"
#include "core/panic.h"
#include "mm/layout.h"
#include "mm/paging.h"
#include "mm/vmspace.h"

#define CR4_PCIDE    (1ul << 17)
#define CR3_NOFLUSH  (1ul << 63)
#define PCID_COUNT   4096 /* 12 bits; 0 is the kernel's own tables */
/* Past this many pages one full flush is cheaper than page-by-page invlpg. */
#define INVLPG_MAX   32

static bool pcid;

/* Reloading CR3 without the no-flush bit drops the current PCID's non-global entries. */
static void flush_local_all(void)
{
    write_cr3(read_cr3() & ~CR3_NOFLUSH);
}

static void tlb_ipi(struct trap_frame *f)
{
    (void)f;
    struct percpu *cpu = this_cpu();
    uint64_t req = __atomic_load_n(&cpu->tlb_req, __ATOMIC_ACQUIRE);
    struct vmspace *vs = cpu->loaded_vs;
    if (vs && __atomic_load_n(&vs->dying, __ATOMIC_ACQUIRE))
        tlb_switch_to(NULL);
    else
        flush_local_all();
    __atomic_store_n(&cpu->tlb_done, req, __ATOMIC_RELEASE);
}

void tlb_init_cpu(void)
{
    if (pcid)
        write_cr4(read_cr4() | CR4_PCIDE);
    this_cpu()->pcid_next = 1;
    this_cpu()->pcid_gen = 1; /* 0 marks a withdrawn PCID in struct vmspace */
}

void tlb_init(bool pcid_allowed)
{
    /* CR4.PCIDE may be set only while CR3[11:0] is 0: it is, the kernel's tables are loaded. */
    pcid = pcid_allowed && cpu.pcid;
    tlb_init_cpu();
    apic_set_ipi_handler(VEC_IPI_TLB, tlb_ipi);
    kprintf("tlb: PCID %s, shootdown by IPI 0x%x\n",
            pcid ? "on (a switch keeps the TLB)"
                 : cpu.pcid ? "off (pcid=off)" : "off (CPU lacks it: a switch flushes the TLB)",
            VEC_IPI_TLB);
}

/* This CPU's PCID for vs: the one it already gave it in this generation (no flush needed,
 * *flush = false), or a fresh number whose old entries the load must flush. */
static uint64_t pcid_for(struct percpu *cpu, struct vmspace *vs, bool *flush)
{
    unsigned c = cpu->index;
    if (vs->pcid[c] && __atomic_load_n(&vs->pcid_gen[c], __ATOMIC_ACQUIRE) == cpu->pcid_gen) {
        *flush = false;
        return vs->pcid[c];
    }
    if (cpu->pcid_next == PCID_COUNT) {
        /* Every number was handed out: a new generation invalidates them all at once. */
        cpu->pcid_gen++;
        cpu->pcid_next = 1;
    }
    vs->pcid[c] = cpu->pcid_next++;
    __atomic_store_n(&vs->pcid_gen[c], cpu->pcid_gen, __ATOMIC_RELEASE);
    *flush = true;
    return vs->pcid[c];
}

void tlb_switch_to(struct vmspace *vs)
{
    struct percpu *cpu = this_cpu();
    struct vmspace *old = cpu->loaded_vs;
    uint32_t bit = 1u << cpu->index;
    if (old == vs)
        return;
    if (old)
        __atomic_fetch_and(&old->active_cpus, ~bit, __ATOMIC_RELEASE);
    cpu->loaded_vs = vs;
    if (!vs) {
        /* PCID 0 only ever holds the kernel half, which is the same in every address space. */
        write_cr3(virt_to_phys(paging_kernel_root()) | (pcid ? CR3_NOFLUSH : 0));
        return;
    }
    /* Announced before the PCID is read: a flush that changes vs either sees this CPU in
     * active_cpus (and interrupts it) or has already invalidated the PCID read below. */
    __atomic_fetch_or(&vs->active_cpus, bit, __ATOMIC_SEQ_CST);
    uint64_t cr3 = virt_to_phys(vs->root);
    if (pcid) {
        bool flush;
        cr3 |= pcid_for(cpu, vs, &flush);
        if (!flush)
            cr3 |= CR3_NOFLUSH;
    }
    write_cr3(cr3);
}

/* Asks every CPU in `mask` to run tlb_ipi and waits until each has. */
static void shoot(uint32_t mask)
{
    uint64_t want[MAX_CPUS];
    if (!mask)
        return;
    if (!(read_rflags() & RFLAGS_IF))
        panic("tlb: shootdown with interrupts off (two CPUs could wait for each other)");
    for (unsigned c = 0; c < MAX_CPUS; c++)
        if (mask & (1u << c)) {
            want[c] = __atomic_add_fetch(&cpus[c].tlb_req, 1, __ATOMIC_ACQ_REL);
            apic_send_ipi(c, VEC_IPI_TLB);
        }
    for (unsigned c = 0; c < MAX_CPUS; c++)
        if (mask & (1u << c))
            while (__atomic_load_n(&cpus[c].tlb_done, __ATOMIC_ACQUIRE) < want[c])
                cpu_relax();
}

/* Other CPUs that may hold translations of vs: those with it loaded, plus (with PCIDs) any
 * that loaded it before, whose PCID for it is withdrawn so their next load flushes. */
static uint32_t others_caching(struct vmspace *vs, unsigned self)
{
    if (pcid)
        for (unsigned c = 0; c < MAX_CPUS; c++)
            if (c != self)
                __atomic_store_n(&vs->pcid_gen[c], 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return __atomic_load_n(&vs->active_cpus, __ATOMIC_ACQUIRE) & ~(1u << self);
}

void tlb_flush_range(struct vmspace *vs, uintptr_t va, uint64_t pages)
{
    uint64_t flags = irq_save();
    struct percpu *cpu = this_cpu();
    unsigned self = cpu->index;
    if (cpu->loaded_vs == vs) {
        if (pages > INVLPG_MAX)
            flush_local_all();
        else
            for (uint64_t i = 0; i < pages; i++)
                invlpg(va + i * PAGE_SIZE);
    } else if (pcid) {
        __atomic_store_n(&vs->pcid_gen[self], 0, __ATOMIC_RELAXED);
    }
    uint32_t mask = others_caching(vs, self);
    irq_restore(flags);
    shoot(mask);
}

void tlb_drop(struct vmspace *vs)
{
    __atomic_store_n(&vs->dying, true, __ATOMIC_RELEASE);
    uint64_t flags = irq_save();
    struct percpu *cpu = this_cpu();
    if (cpu->loaded_vs == vs)
        tlb_switch_to(NULL);
    uint32_t mask = others_caching(vs, cpu->index);
    irq_restore(flags);
    shoot(mask);
}
