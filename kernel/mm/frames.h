/* Physical frames for the kernel: the buddy allocator over the multiboot memory map. */
#pragma once
#include <stdint.h>

struct boot_info;

/* Frames below this are never handed out: the SMP trampoline (arch/x86_64/smp.c) and firmware
 * data live there. */
#define LOW_MEMORY_END 0x100000ul

void frames_init(const struct boot_info *bi);

/* Returns 0 and the physical address of a 4 KiB << order block, or ERR_NOMEM / ERR_INVAL. */
int frame_alloc(unsigned order, uint64_t *phys);
int frame_free(uint64_t phys, unsigned order);
uint64_t frames_free(void);
uint64_t frames_usable(void);
int frames_check(void); /* full consistency walk of the allocator, for self tests */

/* Zeroed pages reserved before the buddy existed, reachable through the early physmap; only
 * paging_init uses them, to build the final page tables. NULL when the pool is exhausted. */
void *boot_pool_page(void);
