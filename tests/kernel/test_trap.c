/* Exceptions reach the right vector with the right error information, and a recovery point
 * brings execution back intact. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "core/selftest.h"
#include "lib/fmt.h"
#include "lib/kstring.h"

SELFTEST(trap, invalid_opcode)
{
    struct fault_ctx ctx;
    int r = fault_try(&ctx);
    if (r == 0) {
        __asm__ volatile("ud2");
        fault_disarm();
    }
    KCHECK_EQ(r, 6 + 1);
}

SELFTEST(trap, divide_error)
{
    struct fault_ctx ctx;
    int r = fault_try(&ctx);
    if (r == 0) {
        uint64_t zero = 0;
        __asm__ volatile("xor %%edx, %%edx; mov $1, %%eax; divq %0" : : "r"(zero) : "rax", "rdx");
        fault_disarm();
    }
    KCHECK_EQ(r, 0 + 1);
}

SELFTEST(trap, non_canonical_is_gp)
{
    struct fault_ctx ctx;
    int r = fault_try(&ctx);
    if (r == 0) {
        (void)*(volatile uint64_t *)0x8000000000000000ul;
        fault_disarm();
    }
    KCHECK_EQ(r, 13 + 1);
}

SELFTEST(trap, breakpoint)
{
    struct fault_ctx ctx;
    int r = fault_try(&ctx);
    if (r == 0) {
        __asm__ volatile("int3");
        fault_disarm();
    }
    KCHECK_EQ(r, 3 + 1);
}

/* The faulting code trashes every callee-saved register; values the compiler keeps in them
 * across the fault_try call must come back intact through the recovery path. */
SELFTEST(trap, callee_saved_registers_survive_recovery)
{
    struct fault_ctx ctx;
    const uint64_t a = tsc_read_fenced() | 1, b = a * 3, c = a ^ 0x5a5a5a5a5a5a5a5aul;
    int r = fault_try(&ctx);
    if (r == 0) {
        __asm__ volatile("mov $-1, %%rbx; mov $-1, %%r12; mov $-1, %%r13; mov $-1, %%r14;"
                         "mov $-1, %%r15; ud2"
                         :
                         :
                         : "rbx", "r12", "r13", "r14", "r15");
        fault_disarm();
    }
    KCHECK_EQ(r, 7);
    KCHECK_EQ(b, a * 3);
    KCHECK_EQ(c, a ^ 0x5a5a5a5a5a5a5a5aul);
}

SELFTEST(trap, control_registers)
{
    KCHECK(read_cr0() & CR0_WP);
    KCHECK_EQ(!!(rdmsr(MSR_EFER) & EFER_NXE), cpu.nx);
    if (cpu.pge)
        KCHECK(read_cr4() & CR4_PGE);
}

SELFTEST(lib, kernel_formatting)
{
    char buf[64];
    fmt_snprintf(buf, sizeof(buf), "%lx|%5d|%-3s|%lu", 0xffffffff80000000ul, -42, "ab",
                 18446744073709551615ul);
    KCHECK(!strcmp(buf, "ffffffff80000000|  -42|ab |18446744073709551615"));
}
