/* Local APIC: x2APIC (MSRs) when the CPU has it, xAPIC (MMIO) otherwise; the kernel tick uses
 * TSC-deadline mode when available and the LAPIC's own periodic mode, calibrated against the
 * TSC, otherwise. Every CPU runs its own tick in the boot CPU's mode and calibration; the boot
 * CPU's tick count is the kernel's clock (timer_ticks). */
#include "arch/x86_64/apic.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/pit.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "core/console.h"
#include "core/thread.h"
#include "core/panic.h"
#include "mm/paging.h"

#define APIC_BASE_ENABLE   (1ul << 11)
#define APIC_BASE_X2       (1ul << 10)
#define APIC_BASE_ADDR     0xffffff000ul
#define REG_ID             0x020
#define REG_TPR            0x080
#define REG_EOI            0x0b0
#define REG_SVR            0x0f0
#define REG_IRR            0x200 /* 8 registers of 32 vectors, 0x10 apart */
#define REG_ICR_LOW        0x300
#define REG_ICR_HIGH       0x310
#define REG_LVT_TIMER      0x320
#define REG_TIMER_INIT     0x380
#define REG_TIMER_CURRENT  0x390
#define REG_TIMER_DIVIDE   0x3e0
#define MSR_X2APIC_ICR     0x830
#define SVR_ENABLE         (1u << 8)
#define LVT_MASKED         (1u << 16)
#define LVT_PERIODIC       (1u << 17)
#define LVT_TSC_DEADLINE   (2u << 17)
#define ICR_INIT           (5u << 8)
#define ICR_STARTUP        (6u << 8)
#define ICR_SEND_PENDING   (1u << 12) /* xAPIC only: the previous IPI is still being sent */
#define ICR_ASSERT         (1u << 14) /* must be 1 for every delivery mode but INIT de-assert */
#define DIVIDE_BY_16       0x3
#define CALIBRATE_US       1000
#define ICR_IDLE_TIMEOUT_US 100000

static volatile uint32_t *xapic;
static uint64_t apic_phys;
static bool x2;
static uint64_t period_tsc;
static uint32_t period_count; /* periodic mode: initial count for one tick at divide-by-16 */
static bool deadline_mode;
static irq_handler ipi_handlers[VEC_IPI_LAST - VEC_IPI_FIRST + 1];

static uint32_t apic_read(uint32_t reg)
{
    return x2 ? (uint32_t)rdmsr(0x800 + (reg >> 4)) : xapic[reg / 4];
}

static void apic_write(uint32_t reg, uint32_t v)
{
    if (x2)
        wrmsr(0x800 + (reg >> 4), v);
    else
        xapic[reg / 4] = v;
}

void apic_eoi(void)
{
    apic_write(REG_EOI, 0);
}

bool apic_vector_pending(uint8_t vector)
{
    return apic_read(REG_IRR + (vector / 32) * 0x10) & (1u << (vector % 32));
}

uint32_t apic_id(void)
{
    uint32_t id = apic_read(REG_ID);
    return x2 ? id : id >> 24;
}

bool apic_x2(void)
{
    return x2;
}

static void spurious(struct trap_frame *f)
{
    (void)f; /* no EOI for spurious interrupts, per the SDM */
}

static void ipi_entry(struct trap_frame *f)
{
    /* EOI first: a handler may switch threads and only return much later. */
    apic_eoi();
    irq_handler fn = __atomic_load_n(&ipi_handlers[f->vector - VEC_IPI_FIRST], __ATOMIC_ACQUIRE);
    if (fn)
        fn(f);
}

void apic_set_ipi_handler(uint8_t vector, irq_handler fn)
{
    if (vector < VEC_IPI_FIRST || vector > VEC_IPI_LAST)
        panic("apic: vector %#x is not an IPI vector", vector);
    __atomic_store_n(&ipi_handlers[vector - VEC_IPI_FIRST], fn, __ATOMIC_RELEASE);
}

/* The x2APIC mode bit is only set from an enabled xAPIC (SDM: x2APIC state transitions); when
 * firmware already left the CPU in x2APIC mode, base carries the bit and both writes keep it. */
static void enable(uint64_t base)
{
    wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    if (x2)
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_X2);
    /* Reset values, written anyway: firmware may have used the APIC before us. */
    apic_write(REG_TPR, 0);
    apic_write(REG_SVR, SVR_ENABLE | VEC_APIC_SPURIOUS);
    this_cpu()->apic_id = apic_id();
}

void apic_init(void)
{
    if (!cpu.apic)
        panic("apic: the CPU has no local APIC");
    pic_disable();
    uint64_t base = rdmsr(MSR_APIC_BASE);
    apic_phys = base & APIC_BASE_ADDR;
    x2 = cpu.x2apic;
    if (!x2) {
        xapic = ioremap(apic_phys, 4096);
        if (!xapic)
            panic("apic: cannot map the xAPIC registers");
    }
    trap_set_handler(VEC_APIC_SPURIOUS, spurious);
    for (unsigned v = VEC_IPI_FIRST; v <= VEC_IPI_LAST; v++)
        trap_set_handler(v, ipi_entry);
    enable(base);
    kprintf("apic: %s, id %u, base %#lx\n", x2 ? "x2APIC (MSR access)" : "xAPIC (MMIO)", apic_id(),
            apic_phys);
}

static void tick(struct trap_frame *f)
{
    struct percpu *c = this_cpu();
    (void)f;
    __atomic_store_n(&c->ticks, c->ticks + 1, __ATOMIC_RELAXED);
    if (deadline_mode) {
        uint64_t now = rdtsc();
        c->tick_deadline += period_tsc;
        if (c->tick_deadline <= now)
            c->tick_deadline = now + period_tsc; /* missed ticks are dropped, not replayed */
        wrmsr(MSR_TSC_DEADLINE, c->tick_deadline);
    }
    apic_eoi();
    sched_tick();
}

static uint32_t calibrate_periodic(void)
{
    apic_write(REG_TIMER_DIVIDE, DIVIDE_BY_16);
    apic_write(REG_LVT_TIMER, LVT_MASKED | VEC_APIC_TIMER);
    apic_write(REG_TIMER_INIT, 0xffffffffu);
    tsc_delay_us(CALIBRATE_US);
    uint32_t elapsed = 0xffffffffu - apic_read(REG_TIMER_CURRENT);
    apic_write(REG_TIMER_INIT, 0);
    return (uint32_t)((uint64_t)elapsed * TICK_US / CALIBRATE_US);
}

/* Starts this CPU's tick in the mode and at the rate timer_init chose. */
static void timer_start(void)
{
    struct percpu *c = this_cpu();
    if (deadline_mode) {
        apic_write(REG_LVT_TIMER, LVT_TSC_DEADLINE | VEC_APIC_TIMER);
        /* The SDM asks for the LVT write to be ordered before the first deadline write. */
        __asm__ volatile("mfence" : : : "memory");
        c->tick_deadline = rdtsc() + period_tsc;
        wrmsr(MSR_TSC_DEADLINE, c->tick_deadline);
    } else {
        apic_write(REG_TIMER_DIVIDE, DIVIDE_BY_16);
        apic_write(REG_LVT_TIMER, LVT_PERIODIC | VEC_APIC_TIMER);
        apic_write(REG_TIMER_INIT, period_count);
    }
}

void timer_init(void)
{
    trap_set_handler(VEC_APIC_TIMER, tick);
    period_tsc = tsc.hz / 1000000 * TICK_US;
    deadline_mode = cpu.tsc_deadline;
    if (deadline_mode) {
        timer_start();
        kprintf("timer: TSC-deadline mode, tick %u us (%lu TSC ticks), vector %#x\n", TICK_US,
                period_tsc, VEC_APIC_TIMER);
        return;
    }
    period_count = calibrate_periodic();
    if (!period_count)
        panic("timer: the LAPIC timer did not count during calibration");
    timer_start();
    kprintf("timer: LAPIC periodic mode (no TSC-deadline), tick %u us = %u counts at /16 "
            "(bus %lu MHz), vector %#x\n",
            TICK_US, period_count, (uint64_t)period_count * 16 / TICK_US, VEC_APIC_TIMER);
}

void apic_init_ap(void)
{
    enable((rdmsr(MSR_APIC_BASE) & ~APIC_BASE_ADDR) | apic_phys);
    timer_start();
}

uint64_t timer_ticks(void)
{
    return __atomic_load_n(&cpus[0].ticks, __ATOMIC_RELAXED);
}

const char *timer_mode(void)
{
    return deadline_mode ? "tsc-deadline" : "lapic-periodic";
}

static bool icr_idle(void)
{
    if (x2)
        return true; /* x2APIC has no send-pending state: the write is the send */
    uint64_t start = rdtsc(), limit = tsc.hz / 1000000 * ICR_IDLE_TIMEOUT_US;
    while (xapic[REG_ICR_LOW / 4] & ICR_SEND_PENDING) {
        if (rdtsc() - start > limit)
            return false;
        cpu_relax();
    }
    return true;
}

/* Interrupts stay off across the send: an interrupt handler sending its own IPI between the
 * xAPIC's two ICR writes would change the destination of ours. */
static bool icr_send(uint32_t dest, uint32_t low)
{
    uint64_t flags = irq_save();
    bool ok = icr_idle();
    if (ok && x2) {
        /* WRMSR to the x2APIC ICR is not serialising: without the fence, stores the receiver
         * must see could still be in this CPU's store buffer when the interrupt arrives. */
        __asm__ volatile("mfence" : : : "memory");
        wrmsr(MSR_X2APIC_ICR, (uint64_t)dest << 32 | low);
    } else if (ok) {
        xapic[REG_ICR_HIGH / 4] = dest << 24;
        xapic[REG_ICR_LOW / 4] = low; /* this write sends */
    }
    irq_restore(flags);
    return ok;
}

void apic_send_ipi(unsigned cpu_index, uint8_t vector)
{
    if (cpu_index >= __atomic_load_n(&ncpus, __ATOMIC_ACQUIRE))
        panic("apic: IPI to cpu %u, but only %u are online", cpu_index, ncpus);
    if (!icr_send(cpus[cpu_index].apic_id, ICR_ASSERT | vector))
        panic("apic: the xAPIC never finished sending an IPI");
}

/* One IPI per online CPU rather than the all-but-self shorthand, which would also reach CPUs the
 * kernel never started (beyond smp=, disabled in the MADT, parked after a failed start) and
 * still in firmware's hands. Interrupts off so that the caller cannot migrate mid-loop. */
void apic_broadcast_ipi(uint8_t vector)
{
    uint64_t flags = irq_save();
    unsigned self = this_cpu()->index, n = __atomic_load_n(&ncpus, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++)
        if (i != self)
            apic_send_ipi(i, vector);
    irq_restore(flags);
}

bool apic_send_init(uint32_t apic_id)
{
    return icr_send(apic_id, ICR_INIT | ICR_ASSERT) && icr_idle();
}

bool apic_send_startup(uint32_t apic_id, uint8_t page)
{
    return icr_send(apic_id, ICR_STARTUP | ICR_ASSERT | page) && icr_idle();
}
