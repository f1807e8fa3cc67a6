/* Mappings of memory objects in an address space (docs/memory-objects.md): the records, the
 * page-table work of SYS_MEMOBJ_MAP and SYS_MEM_GRANT, and the record lookups vmspace.c makes
 * when it unmaps or protects a borrowed page. */
#include "mm/vmspace_objmap.h"

#include "abi/syscall.h"
#include "core/panic.h"
#include "lib/err.h"
#include "mm/kmem.h"
#include "mm/layout.h"
#include "mm/memobj.h"
#include "mm/paging.h"

#define PROT_ALL (PROT_READ | PROT_WRITE | PROT_EXEC)

static struct kmem_cache objmap_cache;

void vmspace_objmap_init(void)
{
    if (kmem_cache_init(&objmap_cache, "objmap", sizeof(struct vm_objmap), 8))
        panic("vmspace: cannot create the object mapping cache");
}

struct vm_objmap *vmspace_objmap_alloc(void)
{
    return kmem_alloc(&objmap_cache);
}

void vmspace_objmap_free(struct vm_objmap *rec)
{
    if (rec)
        kmem_free(&objmap_cache, rec);
}

uint64_t vmspace_tables_worst(uint64_t pages)
{
    /* n consecutive pages, however aligned, span at most n / 512^k + 2 tables at level k. */
    return pages / 512 + pages / (512 * 512) + pages / (512ul * 512 * 512) + 6;
}

/* Whether the borrowed page at va, naming frame phys, belongs to rec. Ranges of two records may
 * overlap (a partly unmapped mapping and a new one in its gap); frames of two never do. */
static bool covers(const struct vm_objmap *rec, uintptr_t va, uint64_t phys)
{
    if (va < rec->start)
        return false;
    uint64_t i = (va - rec->start) / PAGE_SIZE;
    return i < rec->obj->pages && rec->obj->frames[i] == phys;
}

struct vm_objmap *objmap_of(struct vmspace *vs, uintptr_t va, uint64_t phys, struct vm_objmap *hint)
{
    if (hint && covers(hint, va, phys))
        return hint;
    for (struct vm_objmap *rec = vs->objmaps; rec; rec = rec->next)
        if (covers(rec, va, phys))
            return rec;
    panic("vmspace: borrowed page %#lx (frame %#lx) has no mapping record", va, phys);
}

static void link(struct vmspace *vs, struct vm_objmap *rec, struct memobj *m, uintptr_t start,
                 unsigned maxprot)
{
    rec->obj = m;
    rec->start = start;
    rec->mapped = m->pages;
    rec->maxprot = maxprot;
    rec->next = vs->objmaps;
    rec->prev = &vs->objmaps;
    if (vs->objmaps)
        vs->objmaps->prev = &rec->next;
    vs->objmaps = rec;
    vs->nobjmaps++;
}

bool objmap_page_gone(struct vmspace *vs, struct vm_objmap *rec, struct vm_objmap **dead)
{
    if (--rec->mapped)
        return false;
    *rec->prev = rec->next;
    if (rec->next)
        rec->next->prev = rec->prev;
    vs->nobjmaps--;
    rec->next = *dead;
    *dead = rec;
    return true;
}

void objmap_release(struct vm_objmap *list)
{
    while (list) {
        struct vm_objmap *rec = list;
        list = rec->next;
        memobj_put(rec->obj);
        kmem_free(&objmap_cache, rec);
    }
}

int vmspace_map_object(struct vmspace *vs, uintptr_t va, struct memobj *m, unsigned prot,
                       unsigned maxprot, unsigned *tables)
{
    *tables = 0;
    struct vm_objmap *rec = kmem_alloc(&objmap_cache);
    if (!rec)
        return ERR_NOMEM;
    uint64_t flags = spin_lock_irqsave(&vs->lock);
    int err = vs->nobjmaps >= VMSPACE_OBJMAPS_MAX ? ERR_NOMEM : 0;
    for (uint64_t i = 0; i < m->pages && !err; i++) {
        uint64_t *pte = paging_user_pte(vs->root, va + i * PAGE_SIZE, NULL);
        if (pte && (*pte & PTE_P))
            err = ERR_EXIST;
    }
    /* Every table first, then every entry: running out of memory for a table leaves nothing
     * mapped (the empty tables stay, as after vmspace_map_page, counted in vs->frames). */
    for (uint64_t i = 0; i < m->pages && !err; i++)
        if (!paging_user_pte(vs->root, va + i * PAGE_SIZE, tables))
            err = ERR_NOMEM;
    uint64_t bits = vmspace_pte_bits(prot) | PTE_OBJ;
    for (uint64_t i = 0; i < m->pages && !err; i++)
        *paging_user_pte(vs->root, va + i * PAGE_SIZE, NULL) = m->frames[i] | bits;
    if (!err)
        link(vs, rec, m, va, maxprot);
    vs->frames += *tables;
    spin_unlock_irqrestore(&vs->lock, flags);
    if (err)
        kmem_free(&objmap_cache, rec);
    return err;
}

int vmspace_grant_check_locked(struct vmspace *vs, uintptr_t va, uint64_t pages, bool share)
{
    if (share && vs->nobjmaps >= VMSPACE_OBJMAPS_MAX)
        return ERR_NOMEM;
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t *pte = paging_user_pte(vs->root, va + i * PAGE_SIZE, NULL);
        if (!pte || !(*pte & PTE_P))
            return ERR_NOENT;
        if (*pte & PTE_OBJ)
            return ERR_INVAL;
    }
    return 0;
}

void vmspace_grant_take_locked(struct vmspace *vs, uintptr_t va, uint64_t pages, struct memobj *m,
                               struct vm_objmap *rec)
{
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t *pte = paging_user_pte(vs->root, va + i * PAGE_SIZE, NULL);
        m->frames[i] = *pte & PTE_ADDR;
        /* Shared, the entry keeps its address and rights: nothing any TLB holds changes. */
        *pte = rec ? *pte | PTE_OBJ : 0;
    }
    m->pages = pages;
    vs->frames -= pages;
    if (rec) {
        memobj_get(m);
        link(vs, rec, m, va, PROT_ALL);
    }
}
