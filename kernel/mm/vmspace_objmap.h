/* Object mapping records, shared by vmspace.c (unmap, protect, destroy) and vmspace_objmap.c
 * (map, grant); nothing outside mm/vmspace*.c uses them. */
#pragma once
#include <stdint.h>

#include "mm/vmspace.h"

/* One SYS_MEMOBJ_MAP (or SYS_MEM_GRANT with MEM_GRANT_SHARE) in one address space: the object's
 * page i at start + i pages, while mapped. Under the address space's lock. */
struct vm_objmap {
    struct vm_objmap *next, **prev; /* the address space's objmaps list */
    struct memobj *obj;             /* the record holds it (memobj.holds) */
    uintptr_t start;
    uint64_t mapped;  /* pages of it still mapped; the record goes with the last */
    unsigned maxprot; /* PROT_* the capability allowed: SYS_MEM_PROTECT's ceiling */
};

/* The leaf entry bits of a user page with PROT_* rights prot (vmspace.c). */
uint64_t vmspace_pte_bits(unsigned prot);

/* Under vs->lock: the record of the borrowed page at va, whose entry names frame phys; hint (or
 * NULL), usually the previous page's record, is tried first. */
struct vm_objmap *objmap_of(struct vmspace *vs, uintptr_t va, uint64_t phys,
                            struct vm_objmap *hint);
/* Under vs->lock: one page of rec was unmapped. With its last, rec leaves vs's list for *dead
 * (returns true), to be released once no TLB reaches its pages. */
bool objmap_page_gone(struct vmspace *vs, struct vm_objmap *rec, struct vm_objmap **dead);
/* No lock held, and no CPU can reach the records' pages any more: drops their holds (which may
 * free objects) and frees the records of the list. */
void objmap_release(struct vm_objmap *list);
