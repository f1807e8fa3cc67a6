/* The kernel's virtual address map.
 *   0xffff800000000000  physmap: every RAM frame, 2 MiB pages, NX (page tables, frame contents)
 *   0xffffffff80000000  kernel image (text RX, rodata R, data/bss RW+NX), loaded at 1 MiB physical
 *   0xffffffffc0000000  ioremap window: device registers, 4 KiB pages, uncached, NX
 *   0xffffffffd0000000  kmap window: temporary kernel mappings of single frames, NX
 * The lower half is left to user address spaces. */
#pragma once
#include <stdint.h>

#define KERNEL_VMA     0xffffffff80000000ul
#define PHYSMAP_BASE   0xffff800000000000ul
#define IOREMAP_BASE   0xffffffffc0000000ul
#define IOREMAP_SIZE   0x0000000010000000ul
#define KMAP_BASE      0xffffffffd0000000ul
#define KMAP_SIZE      0x0000000010000000ul
#define PAGE_SIZE      4096ul
#define PAGE_SHIFT     12
#define LARGE_PAGE     (2ul << 20)

/* The early boot tables map the physmap alias for the first GiB only; frames above that become
 * reachable once paging_init has built the final tables. */
#define EARLY_PHYSMAP_LIMIT (1ul << 30)

static inline void *phys_to_virt(uint64_t phys)
{
    return (void *)(PHYSMAP_BASE + phys);
}

static inline uint64_t virt_to_phys(const void *virt)
{
    uintptr_t v = (uintptr_t)virt;
    return v >= KERNEL_VMA ? v - KERNEL_VMA : v - PHYSMAP_BASE;
}

/* Linker-script symbols bounding the kernel image sections (virtual addresses). */
extern char _text_start[], _text_end[], _rodata_start[], _rodata_end[];
extern char _data_start[], _data_end[], _bss_start[], _bss_end[], _kernel_end[];
extern char _boot_phys_start[];
