/* Local APIC: x2APIC (MSRs) when the CPU has it, xAPIC (MMIO) otherwise; the kernel tick uses
 * TSC-deadline mode when available and the LAPIC's own periodic mode, calibrated against the
 * TSC, otherwise. */
#include "arch/x86_64/apic.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/pit.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "core/console.h"
#include "core/thread.h"
#include "core/panic.h"
#include "mm/paging.h"

#define APIC_BASE_ENABLE   (1ul << 11)
#define APIC_BASE_X2       (1ul << 10)
#define REG_ID             0x020
#define REG_EOI            0x0b0
#define REG_SVR            0x0f0
#define REG_LVT_TIMER      0x320
#define REG_TIMER_INIT     0x380
#define REG_TIMER_CURRENT  0x390
#define REG_TIMER_DIVIDE   0x3e0
#define SVR_ENABLE         (1u << 8)
#define LVT_MASKED         (1u << 16)
#define LVT_PERIODIC       (1u << 17)
#define LVT_TSC_DEADLINE   (2u << 17)
#define DIVIDE_BY_16       0x3
#define CALIBRATE_US       1000

static volatile uint32_t *xapic;
static bool x2;
static volatile uint64_t ticks;
static uint64_t deadline, period_tsc;
static bool deadline_mode;

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

void apic_init(void)
{
    if (!cpu.apic)
        panic("apic: the CPU has no local APIC");
    pic_disable();
    uint64_t base = rdmsr(MSR_APIC_BASE);
    x2 = cpu.x2apic;
    if (x2) {
        /* The SDM allows x2APIC only from xAPIC mode: enable first, then extend. */
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_X2);
    } else {
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
        xapic = ioremap(base & 0xffffff000ul, 4096);
        if (!xapic)
            panic("apic: cannot map the xAPIC registers");
    }
    trap_set_handler(VEC_APIC_SPURIOUS, spurious);
    apic_write(REG_SVR, SVR_ENABLE | VEC_APIC_SPURIOUS);
    kprintf("apic: %s, id %u, base %#lx\n", x2 ? "x2APIC (MSR access)" : "xAPIC (MMIO)", apic_id(),
            base & 0xffffff000ul);
}

static void tick(struct trap_frame *f)
{
    (void)f;
    ticks++;
    if (deadline_mode) {
        uint64_t now = rdtsc();
        deadline += period_tsc;
        if (deadline <= now)
            deadline = now + period_tsc; /* missed ticks are dropped, not replayed */
        wrmsr(MSR_TSC_DEADLINE, deadline);
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

void timer_init(void)
{
    trap_set_handler(VEC_APIC_TIMER, tick);
    period_tsc = tsc.hz / 1000000 * TICK_US;
    deadline_mode = cpu.tsc_deadline;
    if (deadline_mode) {
        apic_write(REG_LVT_TIMER, LVT_TSC_DEADLINE | VEC_APIC_TIMER);
        /* The SDM asks for the LVT write to be ordered before the first deadline write. */
        __asm__ volatile("mfence" : : : "memory");
        deadline = rdtsc() + period_tsc;
        wrmsr(MSR_TSC_DEADLINE, deadline);
        kprintf("timer: TSC-deadline mode, tick %u us (%lu TSC ticks), vector %#x\n", TICK_US,
                period_tsc, VEC_APIC_TIMER);
        return;
    }
    uint32_t count = calibrate_periodic();
    if (!count)
        panic("timer: the LAPIC timer did not count during calibration");
    apic_write(REG_LVT_TIMER, LVT_PERIODIC | VEC_APIC_TIMER);
    apic_write(REG_TIMER_INIT, count);
    kprintf("timer: LAPIC periodic mode (no TSC-deadline), tick %u us = %u counts at /16 "
            "(bus %lu MHz), vector %#x\n",
            TICK_US, count, (uint64_t)count * 16 / TICK_US, VEC_APIC_TIMER);
}

uint64_t timer_ticks(void)
{
    return ticks;
}

const char *timer_mode(void)
{
    return deadline_mode ? "tsc-deadline" : "lapic-periodic";
}
