/* User address spaces: a PML4 whose upper half is the kernel's and whose lower half maps user
 * pages, each backed by its own frame. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct vmspace {
    uint64_t *root;    /* PML4, through the physmap */
    uint64_t frames;   /* user frames and page tables held, for quotas and leak checks */
};

int vmspace_create(struct vmspace *vs);
/* Maps a fresh zeroed frame at the page va with PROT_* rights; returns the frame through the
 * physmap in *kva. ERR_INVAL outside user space or W+X, ERR_EXIST if mapped, ERR_NOMEM. */
int vmspace_map_page(struct vmspace *vs, uintptr_t va, unsigned prot, void **kva);
/* Frees every user frame and page table, then the PML4. */
void vmspace_destroy(struct vmspace *vs);
bool vmspace_is_active(const struct vmspace *vs);
/* Loads the address space (CR3). */
void vmspace_activate(const struct vmspace *vs);
