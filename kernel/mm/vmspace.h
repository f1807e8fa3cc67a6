/* User address spaces: a PML4 whose upper half is the kernel's and whose lower half maps user
 * pages. A page is either anonymous, backed by a frame of its own that unmapping frees, or
 * borrowed from a memory object (PTE_OBJ), whose frames the object owns; each mapping of an
 * object has a record (vmspace_objmap.c, docs/memory-objects.md). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/percpu.h"
#include "arch/x86_64/spinlock.h"

struct vmspace;
struct vm_objmap;
struct memobj;

/* Accounts frames (user pages and page tables) to the owner: n > 0 asks for n more, and a
 * non-zero return refuses them; n < 0 gives frames back and cannot fail. */
typedef int (*vmspace_charge_fn)(struct vmspace *vs, int64_t n);

/* Object mappings one address space may hold at once (ERR_NOMEM past it): records are kernel
 * memory that the frame quota does not see. */
#define VMSPACE_OBJMAPS_MAX 512

struct vmspace {
    uint64_t *root;            /* PML4, through the physmap */
    uint64_t frames;           /* frames it owns: anonymous pages and page tables */
    vmspace_charge_fn charge;  /* NULL: not accounted (kernel tests) */
    struct spinlock lock;      /* the lower half's page tables and the object mappings */
    struct vm_objmap *objmaps; /* mappings of memory objects */
    unsigned nobjmaps;
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
/* Unmaps every mapped page in [start, end) (page aligned, inside user space): anonymous frames
 * are freed and borrowed pages given back to their objects, once no CPU can still reach them
 * through its TLB. Interrupts on. */
void vmspace_unmap_range(struct vmspace *vs, uintptr_t start, uintptr_t end);
/* Gives the `pages` pages from start the rights prot, all or none: every page is checked
 * first, and ERR_NOENT if one is not mapped, ERR_PERM if one is an object's and its mapping was
 * made without the right (the first such page decides), ERR_INVAL for W+X. Works in batches
 * with one TLB shootdown each. Interrupts on. */
int vmspace_protect_range(struct vmspace *vs, uintptr_t start, uint64_t pages, unsigned prot);
bool vmspace_is_mapped(struct vmspace *vs, uintptr_t va);
/* Copies n bytes between buf and the user range at va of vs, which need not be the loaded
 * address space (IPC writes a receiver's buffer from the sender's side). The pages must be
 * mapped user-accessible, and writable for to_user; ERR_FAULT otherwise (a prefix may have
 * been copied). The page tables are locked for the copy, so no page is freed under it. */
int vmspace_copy(struct vmspace *vs, uintptr_t va, void *buf, size_t n, bool to_user);
/* Frees every page it owns and every page table, then the PML4, once no CPU can use them, and
 * drops its holds on the objects it maps. Interrupts on (other CPUs may have to drop it). */
void vmspace_destroy(struct vmspace *vs);

/* ---- Mappings of memory objects (vmspace_objmap.c) ---- */

/* The record cache; at boot (memobj_init). */
void vmspace_objmap_init(void);
/* The most page tables mapping `pages` consecutive pages can create. */
uint64_t vmspace_tables_worst(uint64_t pages);
/* Maps every page of m at va (page aligned; the whole range inside user space) with prot,
 * which SYS_MEM_PROTECT may never raise past maxprot, as one record that takes over a hold on
 * m the caller has. All or nothing: ERR_NOMEM (the record, VMSPACE_OBJMAPS_MAX), ERR_EXIST if
 * a page of the range is mapped, ERR_NOMEM (a page table). The charge function is not called:
 * the caller charged vmspace_tables_worst() for page tables, and *tables says how many were
 * made. */
int vmspace_map_object(struct vmspace *vs, uintptr_t va, struct memobj *m, unsigned prot,
                       unsigned maxprot, unsigned *tables);
/* A record for vmspace_grant_take_locked, allocated before the locks are taken; NULL when out
 * of memory. vmspace_objmap_free takes back one that was not used (or NULL). */
struct vm_objmap *vmspace_objmap_alloc(void);
void vmspace_objmap_free(struct vm_objmap *rec);
/* Under vs->lock: whether the `pages` pages from va can be granted: ERR_NOMEM if share and vs
 * has VMSPACE_OBJMAPS_MAX records, ERR_NOENT if a page is not mapped, ERR_INVAL if one is
 * borrowed from an object (the first such page decides). Changes nothing. */
int vmspace_grant_check_locked(struct vmspace *vs, uintptr_t va, uint64_t pages, bool share);
/* Under vs->lock, after vmspace_grant_check_locked said yes: the pages become m's (m->frames,
 * m->pages) and vs stops owning them. rec NULL (move): they are unmapped, and the caller must
 * flush the TLB for the range before the frames can be freed. rec (share): they stay mapped
 * with the rights they had, as a mapping of m with every right as its ceiling; the record
 * takes a hold on m of its own. */
void vmspace_grant_take_locked(struct vmspace *vs, uintptr_t va, uint64_t pages,
                               struct memobj *m, struct vm_objmap *rec);
