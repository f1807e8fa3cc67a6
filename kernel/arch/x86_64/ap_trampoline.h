/* The parameter block at the end of the AP trampoline (ap_trampoline.S), filled by smp.c before
 * each start. Offsets for the assembly, checked against the C structure below. */
#pragma once

#define TP_STARTED     0  /* set to 1 by the AP, first thing in real mode */
#define TP_INDEX       4  /* the AP's CPU index, for smp_ap_main */
#define TP_CR0         8  /* loaded together with paging: PG, WP and the boot CPU's other bits */
#define TP_CR3         12 /* the trampoline's PML4: a 32-bit mov, so below 4 GiB */
#define TP_CR4         16 /* PAE, and PGE when the boot CPU uses it */
#define TP_EFER        20 /* OR-ed into EFER before paging: LME, and NXE when the boot CPU has it */
#define TP_STACK       24 /* top of the AP's kernel stack (virtual) */
#define TP_KERNEL_CR3  32 /* the kernel's own PML4, loaded once in the higher half */
#define TP_ENTRY       40 /* ap_long_entry (virtual) */
#define TP_SIZE        48

#ifndef __ASSEMBLY__
#include <stddef.h>
#include <stdint.h>

struct ap_params {
    uint32_t started, index, cr0, cr3, cr4, efer;
    uint64_t stack, kernel_cr3, entry;
};

_Static_assert(offsetof(struct ap_params, started) == TP_STARTED, "trampoline layout");
_Static_assert(offsetof(struct ap_params, index) == TP_INDEX, "trampoline layout");
_Static_assert(offsetof(struct ap_params, cr0) == TP_CR0, "trampoline layout");
_Static_assert(offsetof(struct ap_params, cr3) == TP_CR3, "trampoline layout");
_Static_assert(offsetof(struct ap_params, cr4) == TP_CR4, "trampoline layout");
_Static_assert(offsetof(struct ap_params, efer) == TP_EFER, "trampoline layout");
_Static_assert(offsetof(struct ap_params, stack) == TP_STACK, "trampoline layout");
_Static_assert(offsetof(struct ap_params, kernel_cr3) == TP_KERNEL_CR3, "trampoline layout");
_Static_assert(offsetof(struct ap_params, entry) == TP_ENTRY, "trampoline layout");
_Static_assert(sizeof(struct ap_params) == TP_SIZE, "trampoline layout");

/* The code to copy, ending with the parameter block; and where the AP lands in the kernel. */
extern const char ap_trampoline[], ap_trampoline_params[], ap_trampoline_end[];
void ap_long_entry(void);
#endif
