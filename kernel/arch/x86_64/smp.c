/* SMP bring-up, architecture side: find the processors in the MADT, start them one at a time
 * with INIT-SIPI-SIPI (Intel SDM Vol. 3, "MP initialization"), and give each its per-CPU state
 * before it runs the caller's entry. Written to the SDM, not to what an emulator accepts:
 * the delays and the second STARTUP IPI are there for real hardware. */
#include "arch/x86_64/smp.h"

#include <stdint.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/ap_trampoline.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "core/bootinfo.h"
#include "core/console.h"
#include "core/panic.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/layout.h"
#include "mm/paging.h"
#include "trace/trace.h"

#define TRAMPOLINE_PAGES 5          /* code and parameters, then PML4, PDPT, PD, PT */
/* A STARTUP IPI names a page below 1 MiB, and conventional memory ends at 640 KiB. */
#define TRAMPOLINE_CEILING 0xa0000ul
/* The first 64 KiB hold the IVT and BDA, and some BIOSes scribble there (Linux avoids it too). */
#define TRAMPOLINE_FLOOR 0x10000ul
#define INIT_DELAY_US     10000     /* SDM: INIT, wait 10 ms, STARTUP */
#define SIPI_DELAY_US     200       /* SDM: STARTUP, wait 200 us, second STARTUP */
/* Far beyond what hardware needs: an emulated vCPU is a host thread that may wait for a core. */
#define START_TIMEOUT_US  500000
#define ONLINE_TIMEOUT_US 1000000
#define STACK_ORDER       2         /* 16 KiB, as thread stacks */
#define IST_ORDER         1
#define PHYS_LIMIT        (1ul << 46) /* firmware tables beyond this are corrupt pointers */

_Static_assert(TRAMPOLINE_CEILING <= LOW_MEMORY_END,
               "the trampoline must be where the frame allocator never hands out memory");
_Static_assert((PAGE_SIZE << IST_ORDER) == GDT_IST_STACK_SIZE, "IST stack size");

void smp_ap_main(unsigned index) __attribute__((noreturn));

/* What the AP being started needs from the boot CPU; one AP at a time uses it. */
static struct {
    void (*entry)(unsigned index);
    uint64_t cr0, cr4;
    uint64_t ist_top[GDT_IST_STACKS];
    unsigned online; /* the AP stores its index here when its setup is done */
} ap;

static unsigned listed = 1;
static struct acpi_madt madt;

void smp_ap_main(unsigned index)
{
    percpu_init(index);
    /* The boot CPU's control state, which the trampoline only partly set: the FPU/SSE bits
     * from threads_init, SMEP/SMAP from syscall_init, and anything added later. */
    write_cr0(ap.cr0);
    write_cr4(ap.cr4);
    gdt_init_cpu(index, ap.ist_top);
    trap_init_cpu();
    trace_cpu_online(index);
    apic_init_ap();
    __atomic_store_n(&ap.online, index, __ATOMIC_RELEASE);
    ap.entry(index);
    panic("smp: cpu %u: ap_entry returned", index);
}

/* RAM and ACPI regions are already in the physmap, cached: an uncached second mapping of them
 * would alias memory types. ioremap only what the physmap lacks (tables in reserved ranges). */
static const void *firmware_map(void *ctx, uint64_t phys, uint64_t len)
{
    (void)ctx;
    uint64_t size;
    if (phys >= PHYS_LIMIT || len > PHYS_LIMIT - phys)
        return NULL;
    for (uint64_t pa = phys & ~(PAGE_SIZE - 1); pa < phys + len; pa += PAGE_SIZE)
        if (!paging_lookup(PHYSMAP_BASE + pa, &size))
            return ioremap(phys, len);
    return phys_to_virt(phys);
}

static void firmware_report(void *ctx, const char *message)
{
    (void)ctx;
    kprintf("%s\n", message);
}

/* Firmware tables are read once, on the boot CPU, whoever asks first (irq_init or smp_boot). */
static bool read_madt(void)
{
    const struct acpi_env env = {firmware_map, firmware_report, NULL};
    uint64_t rsdp;
    if (acpi_find_rsdp(&env, &rsdp)) {
        kprintf("acpi: no RSDP in the EBDA or the BIOS area\n");
        return false;
    }
    if (acpi_read_madt(&env, rsdp, &madt))
        return false;
    kprintf("acpi: RSDP at %#lx, MADT at %#lx via the %s: %u enabled CPUs, %u online-capable "
            "(not started)%s, LAPIC at %#lx\n",
            rsdp, madt.phys, madt.root, madt.nenabled, madt.ncpus - madt.nenabled,
            madt.noverflow ? ", more entries than ACPI_MAX_CPUS (ignored)" : "",
            madt.lapic_phys);
    return true;
}

const struct acpi_madt *firmware_madt(void)
{
    static int state; /* 0: not read yet; 1: read; -1: none usable */
    if (!state)
        state = read_madt() ? 1 : -1;
    return state > 0 ? &madt : NULL;
}

static bool overlaps(uint64_t s, uint64_t e, uint64_t base, uint64_t end)
{
    return s < end && base < e;
}

/* Usable RAM by the loader's map, overlapping no other region (maps can overlap) and no module. */
static bool low_range_free(uint64_t s, uint64_t e)
{
    bool in_ram = false;
    for (unsigned i = 0; i < boot_info.nregions; i++) {
        const struct mem_region *r = &boot_info.regions[i];
        if (r->type == MEM_USABLE && r->base <= s && e <= r->base + r->len)
            in_ram = true;
        else if (r->type != MEM_USABLE && overlaps(s, e, r->base, r->base + r->len))
            return false;
    }
    for (unsigned i = 0; i < boot_info.nmodules; i++)
        if (overlaps(s, e, boot_info.modules[i].start, boot_info.modules[i].end))
            return false;
    return in_ram;
}

static uint64_t find_trampoline_pages(void)
{
    const uint64_t bytes = TRAMPOLINE_PAGES * PAGE_SIZE;
    for (uint64_t at = TRAMPOLINE_CEILING - bytes; at >= TRAMPOLINE_FLOOR; at -= PAGE_SIZE)
        if (low_range_free(at, at + bytes))
            return at;
    return 0;
}

static unsigned table_index(uint64_t va, unsigned level)
{
    return (va >> (12 + 9 * level)) & 511;
}

/* Copies the code and builds the trampoline's page tables: its own page at its own address
 * (supervisor, read-only: the AP writes to it only before paging), and the kernel half as the
 * kernel's PML4 has it, sharing the lower-level tables. */
static struct ap_params *trampoline_setup(uint64_t base)
{
    uint8_t *page = phys_to_virt(base);
    uint64_t *pml4 = phys_to_virt(base + PAGE_SIZE), *pdpt = pml4 + 512, *pd = pdpt + 512,
             *pt = pd + 512;

    memcpy(page, ap_trampoline, ap_trampoline_end - ap_trampoline);
    memset(pml4, 0, 4 * PAGE_SIZE);
    memcpy(pml4 + 256, paging_kernel_root() + 256, 256 * sizeof(uint64_t));
    pml4[table_index(base, 3)] = (base + 2 * PAGE_SIZE) | PTE_P | PTE_W;
    pdpt[table_index(base, 2)] = (base + 3 * PAGE_SIZE) | PTE_P | PTE_W;
    pd[table_index(base, 1)] = (base + 4 * PAGE_SIZE) | PTE_P | PTE_W;
    pt[table_index(base, 0)] = base | PTE_P;

    struct ap_params *p = (struct ap_params *)(page + (ap_trampoline_params - ap_trampoline));
    p->cr0 = (uint32_t)read_cr0();
    p->cr3 = (uint32_t)(base + PAGE_SIZE);
    p->cr4 = (uint32_t)(CR4_PAE | (read_cr4() & CR4_PGE));
    p->efer = (uint32_t)(EFER_LME | (rdmsr(MSR_EFER) & EFER_NXE));
    p->kernel_cr3 = virt_to_phys(paging_kernel_root());
    p->entry = (uint64_t)ap_long_entry;
    ap.cr0 = read_cr0();
    ap.cr4 = read_cr4();
    return p;
}

/* Spins with PAUSE, which also makes a single-threaded TCG (icount) run the other vCPUs. */
static bool wait_for(const uint32_t *flag, uint32_t want, uint64_t us)
{
    uint64_t start = rdtsc(), limit = us * (tsc.hz / 1000000);
    while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) != want) {
        if (rdtsc() - start > limit)
            return false;
        cpu_relax();
    }
    return true;
}

static bool alloc_stacks(uint64_t *stack_top)
{
    uint64_t phys[1 + GDT_IST_STACKS];
    unsigned n = 0;
    for (; n < 1 + GDT_IST_STACKS; n++) {
        unsigned order = n ? IST_ORDER : STACK_ORDER;
        if (frame_alloc(order, &phys[n])) {
            while (n--)
                frame_free(phys[n], n ? IST_ORDER : STACK_ORDER);
            return false;
        }
        uint64_t top = (uint64_t)phys_to_virt(phys[n]) + (PAGE_SIZE << order);
        if (n)
            ap.ist_top[n - 1] = top;
        else
            *stack_top = top;
    }
    return true;
}

/* INIT, 10 ms, STARTUP, 200 us, and a second STARTUP only if the AP has not checked in. A CPU
 * that fails gets another INIT, which parks it in wait-for-SIPI: a late start would otherwise
 * run the trampoline with the next AP's parameters. Its stacks are not reused for the same
 * reason. Returns false with the reason reported. */
static bool start_ap(struct ap_params *p, uint64_t base, unsigned index, uint32_t apic_id,
                     uint64_t *t0)
{
    uint8_t vector = (uint8_t)(base >> 12);
    const char *why = NULL;

    __atomic_store_n(&p->started, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&ap.online, 0, __ATOMIC_RELAXED);
    p->index = index;
    *t0 = rdtsc();
    if (!apic_send_init(apic_id)) {
        why = "the INIT IPI was not sent";
    } else {
        tsc_delay_us(INIT_DELAY_US);
        if (!apic_send_startup(apic_id, vector))
            why = "the STARTUP IPI was not sent";
        else if (!wait_for(&p->started, 1, SIPI_DELAY_US) &&
                 (!apic_send_startup(apic_id, vector) ||
                  !wait_for(&p->started, 1, START_TIMEOUT_US)))
            why = "no check-in from the trampoline after two STARTUP IPIs";
        else if (!wait_for(&ap.online, index, ONLINE_TIMEOUT_US))
            why = "it entered the trampoline but did not finish its setup";
    }
    if (!why)
        return true;
    kprintf("smp: cpu %u apic %u: %s; skipped\n", index, apic_id, why);
    apic_send_init(apic_id);
    return false;
}

static void start_all(unsigned limit)
{
    uint64_t base = find_trampoline_pages();
    if (!base) {
        kprintf("smp: no %lu KiB of free RAM below 640 KiB for the AP trampoline\n",
                TRAMPOLINE_PAGES * PAGE_SIZE >> 10);
        return;
    }
    struct ap_params *p = trampoline_setup(base);
    kprintf("smp: AP trampoline at %#lx\n", base);
    for (unsigned i = 0; i < madt.ncpus && ncpus < limit; i++) {
        uint32_t id = madt.cpus[i].apic_id;
        unsigned index = ncpus;
        uint64_t t0;
        if (!madt.cpus[i].enabled || id == cpus[0].apic_id)
            continue;
        if (!apic_x2() && id > 0xfe) {
            kprintf("smp: apic %u needs x2APIC, which this CPU lacks; skipped\n", id);
            continue;
        }
        if (!alloc_stacks(&p->stack)) {
            kprintf("smp: no memory for cpu %u's stacks; no more CPUs started\n", index);
            return;
        }
        if (!start_ap(p, base, index, id, &t0))
            continue;
        __atomic_store_n(&ncpus, index + 1, __ATOMIC_RELEASE);
        kprintf("smp: cpu %u apic %u online in %lu us\n", index, cpus[index].apic_id,
                tsc_ticks_to_us(rdtsc() - t0));
    }
}

unsigned smp_boot(unsigned max_cpus, void (*ap_entry)(unsigned index))
{
    unsigned limit = max_cpus && max_cpus < MAX_CPUS ? max_cpus : MAX_CPUS;
    const char *mode = apic_x2() ? "x2apic" : "xapic";

    if (!firmware_madt()) {
        kprintf("smp: 1 of 1 CPUs online (no usable MADT: the boot CPU only), %s\n", mode);
        return ncpus;
    }
    listed = madt.nenabled;
    bool bsp_listed = false;
    for (unsigned i = 0; i < madt.ncpus; i++)
        bsp_listed |= madt.cpus[i].enabled && madt.cpus[i].apic_id == cpus[0].apic_id;
    if (!bsp_listed) {
        kprintf("smp: the boot CPU (apic %u) is not in the MADT\n", cpus[0].apic_id);
        listed++;
    }
    ap.entry = ap_entry;
    if (limit > 1 && listed > 1)
        start_all(limit);
    if (limit < listed)
        kprintf("smp: %u of %u CPUs online (MADT, limit %u), %s\n", ncpus, listed, limit, mode);
    else
        kprintf("smp: %u of %u CPUs online (MADT), %s\n", ncpus, listed, mode);
    return ncpus;
}

unsigned smp_cpus_listed(void)
{
    return listed;
}
