#include "arch/x86_64/tsc.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/pit.h"
#include "core/console.h"
#include "core/panic.h"

struct tsc_info tsc;

static uint64_t from_cpuid_15(void)
{
    uint32_t r[4];
    if (cpu.max_leaf < 0x15)
        return 0;
    cpuid(0x15, 0, r);
    /* EAX/EBX is the TSC/crystal ratio, ECX the crystal in Hz; either may be 0 (unknown). */
    if (!r[0] || !r[1] || !r[2])
        return 0;
    return (uint64_t)r[2] * r[1] / r[0];
}

static uint64_t from_hypervisor_leaf(void)
{
    uint32_t r[4];
    if (!cpu.hypervisor)
        return 0;
    cpuid(0x40000000, 0, r);
    if (r[0] < 0x40000010)
        return 0;
    cpuid(0x40000010, 0, r);
    return (uint64_t)r[0] * 1000; /* kHz */
}

void tsc_init(void)
{
    tsc.invariant = cpu.invariant_tsc;
    if ((tsc.hz = from_cpuid_15()))
        tsc.source = "cpuid-0x15";
    else if ((tsc.hz = from_hypervisor_leaf()))
        tsc.source = "hypervisor-0x40000010";
    else if ((tsc.hz = pit_calibrate_tsc()))
        tsc.source = "pit";
    else
        panic("tsc: no frequency source (no CPUID 0x15, no hypervisor leaf, PIT silent)");
    kprintf("tsc: %lu.%03lu MHz from %s, invariant %s\n", tsc.hz / 1000000,
            (tsc.hz / 1000) % 1000, tsc.source,
            tsc.invariant ? "yes" : "no (rates may change with P-states)");
}

uint64_t tsc_ticks_to_us(uint64_t ticks)
{
    /* Split so that the product cannot overflow for any realistic frequency. */
    return ticks / tsc.hz * 1000000 + ticks % tsc.hz * 1000000 / tsc.hz;
}

void tsc_delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + us * tsc.hz / 1000000;
    while (rdtsc() < end)
        cpu_relax();
}
