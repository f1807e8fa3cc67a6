/* User address spaces: a PML4 whose upper half is the kernel's and whose lower half maps user
 * pages, each backed by its own frame. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/percpu.h"
#include "arch/x86_64/spinlock.h"

struct vmspace;

/* Accounts frames (user pages and page tables) to the owner: n > 0 asks for n more, and a
 * non-zero return refuses them; n < 0 gives frames back and cannot fail. */
typedef int (*vmspace_charge_fn)(struct vmspace *vs, int64_t n);

struct vmspace {
    uint64_t *root;            /* PML4, through the physmap */
    uint64_t frames;           /* user frames and page tables held, for quotas and leak checks */
    vmspace_charge_fn charge;  /* NULL: not accounted (kernel tests) */
    struct spinlock lock;      /* the lower half's page tables */
    uint32_t active_cpus;      /* CPUs that have it loaded (mm/tlb.c) */
    bool dying;                /* being destroyed: CPUs that still have it loaded drop it */
    uint16_t pcid[MAX_CPUS];   /* each CPU's PCID for it, valid while pcid_gen matches */
    uint32_t pcid_gen[MAX_CPUS];
};

/* charge may be NULL. The PML4 itself is charged too. */
int vmspace_create(struct vmspace *vs, vmspace_charge_fn charge);
/* Maps a fresh zeroed frame at the page va with PROT_* rights; returns the frame through the
 * physmap in *kva. ERR_INVAL outside user space or W+X, ERR_EXIST if mapped, ERR_NOMEM (out of
 * memory or refused by the charge function). */
int vmspace_map_page(struct vmspace *vs, uintptr_t va, unsigned prot, void **kva);
/* Unmaps the page at va and frees its frame once no CPU can still reach it through its TLB.
 * ERR_NOENT if nothing is mapped there. */
int vmspace_unmap_page(struct vmspace *vs, uintptr_t va);
/* Unmaps every mapped page in [start, end) (page aligned, inside user space). */
void vmspace_unmap_range(struct vmspace *vs, uintptr_t start, uintptr_t end);
/* Changes the rights of a mapped page (ERR_NOENT if unmapped, ERR_INVAL for W+X). */
int vmspace_protect_page(struct vmspace *vs, uintptr_t va, unsigned prot);
bool vmspace_is_mapped(struct vmspace *vs, uintptr_t va);
/* Copies n bytes between buf and the user range at va of vs, which need not be the loaded
 * address space (IPC writes a receiver's buffer from the sender's side). The pages must be
 * mapped user-accessible, and writable for to_user; ERR_FAULT otherwise (a prefix may have
 * been copied). The page tables are locked for the copy, so no page is freed under it. */
int vmspace_copy(struct vmspace *vs, uintptr_t va, void *buf, size_t n, bool to_user);
/* Frees every user frame and page table, then the PML4, once no CPU can use them. Interrupts
 * on (other CPUs may have to drop it). */
void vmspace_destroy(struct vmspace *vs);
