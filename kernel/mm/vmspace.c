#include "mm/vmspace.h"

#include "abi/syscall.h"
#include "arch/x86_64/cpu.h"
#include "core/syscall.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/layout.h"
#include "mm/paging.h"
#include "mm/tlb.h"
#include "mm/vmspace_objmap.h"

#define KERNEL_HALF 256
/* The most frames one mapping can take: the page and a table at each of three levels. */
#define MAP_WORST_CASE 4

static void *zeroed_frame(uint64_t *phys)
{
    if (frame_alloc(0, phys))
        return NULL;
    void *p = phys_to_virt(*phys);
    memset(p, 0, PAGE_SIZE);
    return p;
}

static int charge(struct vmspace *vs, int64_t n)
{
    return vs->charge && n ? vs->charge(vs, n) : 0;
}

int vmspace_create(struct vmspace *vs, vmspace_charge_fn charge_fn)
{
    uint64_t phys;
    memset(vs, 0, sizeof(*vs));
    vs->charge = charge_fn;
    vs->lock = (struct spinlock)SPINLOCK_INIT;
    if (charge(vs, 1))
        return ERR_NOMEM;
    uint64_t *root = zeroed_frame(&phys);
    if (!root) {
        charge(vs, -1);
        return ERR_NOMEM;
    }
    /* Shared, not copied per mapping: the kernel's upper-half PML4 entries exist from boot, so
     * later kernel mappings appear in every address space. */
    memcpy(root + KERNEL_HALF, paging_kernel_root() + KERNEL_HALF, KERNEL_HALF * sizeof(*root));
    vs->root = root;
    vs->frames = 1;
    return 0;
}

uint64_t vmspace_pte_bits(unsigned prot)
{
    return PTE_P | PTE_U | (prot & PROT_WRITE ? PTE_W : 0) | (prot & PROT_EXEC ? 0 : paging_nx());
}

int vmspace_map_page(struct vmspace *vs, uintptr_t va, unsigned prot, void **kva)
{
    if (va & (PAGE_SIZE - 1) || va < USER_BASE || va >= USER_TOP)
        return ERR_INVAL;
    if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
        return ERR_INVAL;
    /* Charged for the worst case up front, so that the walk never creates unaccounted tables;
     * what was not needed is given back below. */
    if (charge(vs, MAP_WORST_CASE))
        return ERR_NOMEM;
    uint64_t flags = spin_lock_irqsave(&vs->lock);
    unsigned used = 0;
    uint64_t *pte = paging_user_pte(vs->root, va, &used);
    int err = !pte ? ERR_NOMEM : (*pte & PTE_P) ? ERR_EXIST : 0;
    uint64_t phys;
    void *page = NULL;
    if (!err && !(page = zeroed_frame(&phys)))
        err = ERR_NOMEM;
    if (!err) {
        *pte = phys | vmspace_pte_bits(prot);
        used++;
    }
    vs->frames += used;
    spin_unlock_irqrestore(&vs->lock, flags);
    charge(vs, (int64_t)used - MAP_WORST_CASE);
    if (!err && kva)
        *kva = page;
    return err;
}

/* Under vs->lock: the first address at or after va that some page table of vs could map:
 * absent upper-level entries are skipped whole, so a sparse range costs its mapped part, not
 * its size. */
static uintptr_t next_candidate(struct vmspace *vs, uintptr_t va)
{
    uint64_t *table = vs->root;
    for (unsigned level = 3; level > 0; level--) {
        unsigned shift = 12 + 9 * level;
        uint64_t e = table[(va >> shift) & 511];
        if (!(e & PTE_P))
            return ((va >> shift) + 1) << shift;
        table = phys_to_virt(e & PTE_ADDR);
    }
    return va;
}

/* What one pass of vmspace_unmap_range may do under the lock: a bounded time with interrupts
 * off, then one TLB shootdown for all of it. */
#define UNMAP_BATCH_FRAMES 64
#define UNMAP_BATCH_PAGES  1024

void vmspace_unmap_range(struct vmspace *vs, uintptr_t start, uintptr_t end)
{
    uintptr_t va = start;
    while (va < end) {
        uint64_t freed[UNMAP_BATCH_FRAMES];
        unsigned nfreed = 0, visited = 0;
        struct vm_objmap *dead = NULL, *rec = NULL;
        uintptr_t first = 0, last = 0;
        uint64_t flags = spin_lock_irqsave(&vs->lock);
        while (va < end && nfreed < UNMAP_BATCH_FRAMES && visited < UNMAP_BATCH_PAGES) {
            uintptr_t next = next_candidate(vs, va);
            if (next != va) {
                va = next;
                continue;
            }
            uint64_t *pte = paging_user_pte(vs->root, va, NULL);
            visited++;
            if (*pte & PTE_P) {
                uint64_t e = *pte;
                *pte = 0;
                first = first ? first : va;
                last = va;
                if (!(e & PTE_OBJ)) {
                    freed[nfreed++] = e & PTE_ADDR;
                } else {
                    rec = objmap_of(vs, va, e & PTE_ADDR, rec);
                    if (objmap_page_gone(vs, rec, &dead))
                        rec = NULL;
                }
            }
            va += PAGE_SIZE;
        }
        vs->frames -= nfreed;
        spin_unlock_irqrestore(&vs->lock, flags);
        /* Outside the lock: the flush waits for other CPUs, which may be spinning on it. Only
         * after it may a frame be reused. */
        if (first)
            tlb_flush_range(vs, first, (last - first) / PAGE_SIZE + 1);
        for (unsigned i = 0; i < nfreed; i++)
            frame_free(freed[i], 0);
        charge(vs, -(int64_t)nfreed);
        objmap_release(dead);
    }
}

/* Under vs->lock: whether the page at va may get the rights prot (0, ERR_NOENT, ERR_PERM), and
 * with `apply` it gets them. rec is the record of the previous object page, if any. */
static int protect_page(struct vmspace *vs, uintptr_t va, unsigned prot, struct vm_objmap **rec,
                        bool apply)
{
    uint64_t *pte = paging_user_pte(vs->root, va, NULL);
    if (!pte || !(*pte & PTE_P))
        return ERR_NOENT;
    if (*pte & PTE_OBJ) {
        *rec = objmap_of(vs, va, *pte & PTE_ADDR, *rec);
        if (prot & ~(*rec)->maxprot)
            return ERR_PERM;
    }
    if (apply)
        *pte = (*pte & (PTE_ADDR | PTE_OBJ)) | vmspace_pte_bits(prot);
    return 0;
}

/* Pages handled per hold of the lock: interrupts are never off for long, however large the
 * range. */
#define PROTECT_BATCH 1024

int vmspace_protect_range(struct vmspace *vs, uintptr_t start, uint64_t pages, unsigned prot)
{
    if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
        return ERR_INVAL;
    /* Every page is checked before any changes. Another thread of the process that unmaps or
     * maps pages of the range between the two passes races with itself: the second pass skips
     * what it cannot change, and never gives a page more than its mapping allows. */
    for (int apply = 0; apply < 2; apply++)
        for (uint64_t done = 0; done < pages;) {
            uint64_t n = pages - done < PROTECT_BATCH ? pages - done : PROTECT_BATCH;
            uintptr_t va = start + done * PAGE_SIZE;
            struct vm_objmap *rec = NULL;
            int err = 0;
            uint64_t flags = spin_lock_irqsave(&vs->lock);
            for (uint64_t i = 0; i < n && (apply || !err); i++)
                err = protect_page(vs, va + i * PAGE_SIZE, prot, &rec, apply);
            spin_unlock_irqrestore(&vs->lock, flags);
            if (!apply && err)
                return err;
            if (apply)
                tlb_flush_range(vs, va, n);
            done += n;
        }
    return 0;
}

bool vmspace_is_mapped(struct vmspace *vs, uintptr_t va)
{
    uint64_t flags = spin_lock_irqsave(&vs->lock);
    uint64_t *pte = paging_user_pte(vs->root, va & ~(PAGE_SIZE - 1), NULL);
    bool mapped = pte && (*pte & PTE_P);
    spin_unlock_irqrestore(&vs->lock, flags);
    return mapped;
}

int vmspace_copy(struct vmspace *vs, uintptr_t va, void *buf, size_t n, bool to_user)
{
    if (!user_range_ok(va, n))
        return ERR_FAULT;
    uint64_t need = PTE_P | PTE_U | (to_user ? PTE_W : 0);
    uint64_t flags = spin_lock_irqsave(&vs->lock);
    int err = 0;
    for (size_t done = 0; done < n && !err;) {
        uintptr_t at = va + done;
        size_t chunk = PAGE_SIZE - (at & (PAGE_SIZE - 1));
        chunk = chunk < n - done ? chunk : n - done;
        uint64_t *pte = paging_user_pte(vs->root, at & ~(PAGE_SIZE - 1), NULL);
        if (!pte || (*pte & need) != need) {
            err = ERR_FAULT;
            break;
        }
        char *kva = (char *)phys_to_virt(*pte & PTE_ADDR) + (at & (PAGE_SIZE - 1));
        if (to_user)
            memcpy(kva, (char *)buf + done, chunk);
        else
            memcpy((char *)buf + done, kva, chunk);
        done += chunk;
    }
    spin_unlock_irqrestore(&vs->lock, flags);
    return err;
}

static void free_table(uint64_t *table, unsigned level)
{
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = table[i];
        if (!(e & PTE_P))
            continue;
        if (level > 0)
            free_table(phys_to_virt(e & PTE_ADDR), level - 1);
        else if (!(e & PTE_OBJ))
            frame_free(e & PTE_ADDR, 0);
    }
    frame_free(virt_to_phys(table), 0);
}

void vmspace_destroy(struct vmspace *vs)
{
    /* Threads of other address spaces and kernel threads may still run on it (a switch to a
     * kernel thread keeps CR3): never free tables some CPU has loaded. */
    tlb_drop(vs);
    for (unsigned i = 0; i < KERNEL_HALF; i++)
        if (vs->root[i] & PTE_P)
            free_table(phys_to_virt(vs->root[i] & PTE_ADDR), 2);
    frame_free(virt_to_phys(vs->root), 0);
    charge(vs, -(int64_t)vs->frames);
    vs->root = NULL;
    vs->frames = 0;
    objmap_release(vs->objmaps);
    vs->objmaps = NULL;
    vs->nobjmaps = 0;
}
