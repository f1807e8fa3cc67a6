#include "mm/vmspace.h"

#include "abi/syscall.h"
#include "arch/x86_64/cpu.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/layout.h"
#include "mm/paging.h"

#define KERNEL_HALF 256

static void *zeroed_frame(uint64_t *phys)
{
    if (frame_alloc(0, phys))
        return NULL;
    void *p = phys_to_virt(*phys);
    memset(p, 0, PAGE_SIZE);
    return p;
}

int vmspace_create(struct vmspace *vs)
{
    uint64_t phys;
    uint64_t *root = zeroed_frame(&phys);
    if (!root)
        return ERR_NOMEM;
    /* Shared, not copied per mapping: the kernel's upper-half PML4 entries exist from boot, so
     * later kernel mappings appear in every address space. */
    memcpy(root + KERNEL_HALF, paging_kernel_root() + KERNEL_HALF, KERNEL_HALF * sizeof(*root));
    vs->root = root;
    vs->frames = 1;
    return 0;
}

int vmspace_map_page(struct vmspace *vs, uintptr_t va, unsigned prot, void **kva)
{
    if (va & (PAGE_SIZE - 1) || va < USER_BASE || va >= USER_TOP)
        return ERR_INVAL;
    if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
        return ERR_INVAL;
    uint64_t free_before = frames_free();
    uint64_t *pte = paging_user_pte(vs->root, va, true);
    vs->frames += free_before - frames_free(); /* page tables the walk created */
    if (!pte)
        return ERR_NOMEM;
    if (*pte & PTE_P)
        return ERR_EXIST;
    uint64_t phys;
    void *page = zeroed_frame(&phys);
    if (!page)
        return ERR_NOMEM;
    *pte = phys | PTE_P | PTE_U | (prot & PROT_WRITE ? PTE_W : 0) |
           (prot & PROT_EXEC ? 0 : paging_nx());
    vs->frames++;
    if (kva)
        *kva = page;
    return 0;
}

static void free_table(uint64_t *table, unsigned level)
{
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = table[i];
        if (!(e & PTE_P))
            continue;
        if (level > 0)
            free_table(phys_to_virt(e & PTE_ADDR), level - 1);
        else
            frame_free(e & PTE_ADDR, 0);
    }
    frame_free(virt_to_phys(table), 0);
}

bool vmspace_is_active(const struct vmspace *vs)
{
    return read_cr3() == virt_to_phys(vs->root);
}

void vmspace_destroy(struct vmspace *vs)
{
    /* A kernel thread may still be running on it (lazy CR3): never free a loaded PML4. */
    if (vmspace_is_active(vs))
        write_cr3(virt_to_phys(paging_kernel_root()));
    for (unsigned i = 0; i < KERNEL_HALF; i++)
        if (vs->root[i] & PTE_P)
            free_table(phys_to_virt(vs->root[i] & PTE_ADDR), 2);
    frame_free(virt_to_phys(vs->root), 0);
    vs->root = NULL;
    vs->frames = 0;
}

void vmspace_activate(const struct vmspace *vs)
{
    write_cr3(virt_to_phys(vs ? vs->root : paging_kernel_root()));
}
