/* The kernel's page tables: W^X kernel image, NX physmap, uncached device windows. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define PTE_P    (1ul << 0)
#define PTE_W    (1ul << 1)
#define PTE_U    (1ul << 2)
#define PTE_PWT  (1ul << 3)
#define PTE_PCD  (1ul << 4)
#define PTE_PS   (1ul << 7)
#define PTE_G    (1ul << 8)
#define PTE_NX   (1ul << 63)
#define PTE_ADDR 0x000ffffffffff000ul
/* Software bit (bits 11:9 of a 4 KiB entry are ignored by the processor): the page is borrowed
 * from a memory object, so unmapping it must not free the frame (docs/memory-objects.md). */
#define PTE_OBJ (1ul << 9)

struct boot_info;

void paging_init(const struct boot_info *bi);

/* Maps [phys, phys+size) uncached for device registers; returns the virtual address or NULL. */
void *ioremap(uint64_t phys, uint64_t size);

/* Maps one 4 KiB page of the kmap window (never executable; PTE_W, PTE_PCD, PTE_PWT honoured).
 * ERR_INVAL outside the window or unaligned, ERR_EXIST if mapped, ERR_NOMEM without a table page.
 * Single-CPU TLB maintenance for now: remote shootdown arrives with SMP. */
int paging_map(uintptr_t va, uint64_t pa, uint64_t flags);
int paging_unmap(uintptr_t va); /* ERR_NOENT if nothing is mapped there */

/* The leaf entry that maps va (a 4 KiB PTE or a 2 MiB PDE) and its size, or 0 if unmapped. */
uint64_t paging_lookup(uintptr_t va, uint64_t *page_size);

/* The 4 KiB leaf entry for a user address in the tables under root, or NULL. With `created`,
 * missing intermediate tables (user-accessible) are made and counted there. */
uint64_t *paging_user_pte(uint64_t *root, uintptr_t va, unsigned *created);
/* The kernel's PML4; user address spaces share its upper half. */
uint64_t *paging_kernel_root(void);

/* The NX bit where the CPU supports it, 0 otherwise (the bit is reserved without NX). */
uint64_t paging_nx(void);
