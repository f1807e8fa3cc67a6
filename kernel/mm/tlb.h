/* Which address space each CPU has loaded, PCIDs, and TLB shootdown (docs/tlb.md).
 *
 * With PCIDs (CPUID.01H:ECX[17]) an address-space switch keeps the TLB: each CPU hands out its
 * own PCID numbers to the address spaces it loads, with a generation so that a number is
 * flushed whenever it changes owner. Without them every CR3 write flushes non-global entries. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct vmspace;

/* Boot CPU: decides whether PCIDs are used (pcid_allowed: the `pcid=` boot option) and
 * registers the shootdown IPI; each further CPU: tlb_init_cpu. */
void tlb_init(bool pcid_allowed);
void tlb_init_cpu(void);

/* Loads vs (NULL: the kernel's own tables) on this CPU; interrupts off. */
void tlb_switch_to(struct vmspace *vs);

/* After PTEs of vs changed for [va, va + pages pages): no CPU keeps the old translations when
 * this returns. Interrupts must be on (other CPUs are asked and waited for). */
void tlb_flush_range(struct vmspace *vs, uintptr_t va, uint64_t pages);
/* Before vs is freed: no CPU has it loaded when this returns (lazily loaded ones switch to the
 * kernel's tables). Interrupts on. */
void tlb_drop(struct vmspace *vs);
