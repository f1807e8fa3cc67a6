/* TSC and the LAPIC tick. The tick check catches a calibration that is wrong (units, divider):
 * ticks must not come faster than a quarter of the period. There is no upper bound: under a
 * loaded TCG host, interrupt delivery lags by whole periods, and lateness is not a defect of the
 * calibration; speed is the benchmarks' business. */
#include <stddef.h>

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "core/selftest.h"

SELFTEST(time, tsc_frequency_plausible)
{
    KCHECK(tsc.source != NULL);
    KCHECK(tsc.hz >= 100000000ul);
    KCHECK(tsc.hz <= 20000000000ul);
}

SELFTEST(time, tsc_monotonic)
{
    uint64_t prev = tsc_read_fenced();
    for (int i = 0; i < 10000; i++) {
        uint64_t now = tsc_read_fenced();
        KCHECK(now >= prev);
        prev = now;
    }
}

SELFTEST(time, timer_ticks_at_calibrated_rate)
{
    const uint64_t n = 10;
    KCHECK(read_rflags() & RFLAGS_IF);
    uint64_t start_tick = timer_ticks();
    while (timer_ticks() == start_tick)
        halt();
    uint64_t t0 = rdtsc(), first = timer_ticks();
    while (timer_ticks() < first + n)
        halt();
    uint64_t elapsed = rdtsc() - t0, expected = tsc.hz / 1000000 * TICK_US * n;
    KCHECK(elapsed > expected / 4);
}
