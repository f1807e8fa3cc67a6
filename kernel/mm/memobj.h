/* Memory objects (docs/memory-objects.md): a fixed set of frames that address spaces map
 * through capabilities of type CAP_TYPE_MEMORY. SYS_MEMOBJ_CREATE makes one from fresh zeroed
 * frames, SYS_MEM_GRANT from pages a process already has. An object is freed when no
 * capability names it and no address space maps it. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "cap/captable.h"

struct process;

/* Objects up to this many pages keep their page list inside themselves (a grant of a few pages
 * then costs no frame for the list). */
#define MEMOBJ_INLINE_PAGES 8

struct memobj {
    struct cap_object obj; /* first: what the capability core sees */
    /* Atomic: one for all capabilities together, one per mapping record, one per grant in
     * flight. The last one out frees the object. */
    uint32_t holds;
    int list_order;   /* buddy order of `frames` when it is not inline_frames */
    uint64_t pages;   /* frames owned: frames[0 .. pages) */
    uint64_t *frames; /* physical address of each page */
    /* Under process_lock: the process charged for `charge` frames (the pages and the page
     * list), NULL for nobody, and that process's list of objects (process.memobjs). */
    struct process *charged;
    uint64_t charge;
    struct memobj *charge_next, **charge_prev;
    struct memobj *free_next; /* under cap_lock: waiting to be freed (memobj_flush) */
    uint64_t inline_frames[MEMOBJ_INLINE_PAGES];
};

/* The object cache and the capability type; at boot, before the first process. */
void memobj_init(void);
/* One more hold: by a caller that has one, or under cap_lock with a capability to the object
 * in hand. */
void memobj_get(struct memobj *m);
/* Drops a hold; the last frees the object. No spinlock held (freeing takes process_lock). */
void memobj_put(struct memobj *m);
/* Under process_lock, as p ends: its objects' charge passes to p's charge parent, which (with
 * every ancestor) is charged for them already. */
void memobj_recharge(struct process *p);

/* The system calls (docs/abi.md); `self` is the caller's process. */
long memobj_sys_create(struct process *self, uint64_t pages);
long memobj_sys_map(struct process *self, uint64_t cap, uintptr_t addr, uint64_t prot, int64_t pid);
long memobj_sys_grant(struct process *self, uintptr_t addr, size_t len, uint64_t mode);
