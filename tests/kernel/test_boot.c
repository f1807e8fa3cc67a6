/* Deliberately fatal boots, run only when named (test=fault, test=hang): they prove that the
 * host harness reports a crash or a hang as a failure rather than a pass. */
#include "arch/x86_64/cpu.h"
#include "core/selftest.h"

SELFTEST_EXPLICIT(fault, unmapped_write)
{
    *(volatile uint64_t *)0xdead000ul = 1;
}

SELFTEST_EXPLICIT(hang, interrupts_off)
{
    irq_disable();
    for (;;)
        cpu_relax();
}
