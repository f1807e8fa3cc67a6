/* Slab allocator for fixed-size kernel objects, after Bonwick (USENIX 1994).
 *
 * A slab is one naturally aligned block of 4096 << order bytes from the cache's page backend.
 * Its header sits at the start, so slab_free finds it by aligning the object pointer down to the
 * slab size, with no lookup structure. Each slab keeps a free list threaded through its free
 * objects plus an allocation bitmap: the bitmap, not the free list, decides whether a pointer is
 * live, so a double free is caught before it can corrupt the list. Objects never handed out are
 * taken from a bump index, so a new slab costs O(1) however many objects it holds.
 *
 * slab_free reads the would-be header of any pointer it is given: the pointer must lie in memory
 * that is readable at its slab-size-aligned base (true for anything in the kernel's direct map).
 * No locking: the caller serializes. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define SLAB_PAGE_SIZE  4096u
#define SLAB_MAX_ORDER  4         /* 64 KiB slabs at most */
#define SLAB_MIN_OBJS   8         /* a slab grows (up to the max order) until this many fit */
#define SLAB_NAME_LEN   24

struct slab_backend {
    /* Returns 4096 << order bytes aligned to their size, or NULL when out of memory. */
    void *(*alloc_pages)(void *ctx, unsigned order);
    void (*free_pages)(void *ctx, void *addr, unsigned order);
    void *ctx;
};

struct slab;  /* header at the start of every slab; private to slab.c */

struct slab_stats {
    uint64_t objs_in_use;    /* allocated and not yet freed */
    uint64_t slabs_total;    /* slabs held from the backend */
    uint64_t slabs_empty;    /* of which hold no live object (what slab_shrink would free) */
    uint64_t allocs;         /* successful slab_alloc calls */
    uint64_t frees;          /* successful slab_free calls */
    uint64_t alloc_fails;    /* slab_alloc calls that returned NULL */
    uint64_t pages_alloced;  /* 4 KiB pages obtained from the backend, cumulative */
    uint64_t pages_freed;    /* 4 KiB pages returned to the backend, cumulative */
};

struct slab_cache {
    char name[SLAB_NAME_LEN];
    size_t obj_size;             /* as requested */
    size_t align;                /* effective alignment (>= requested, >= a pointer) */
    size_t stride;               /* distance between objects */
    size_t first_off;            /* offset of object 0 from the slab base */
    uint32_t objs_per_slab;      /* 0 once destroyed */
    unsigned order;              /* slab size is SLAB_PAGE_SIZE << order */
    struct slab_backend backend;
    /* alloc prefers partial slabs so that empty ones can be given back by slab_shrink. */
    struct slab *partial, *full, *empty;
    struct slab_stats stats;
};

/* obj_size > 0; align a power of two (objects may end up more aligned). The slab order is the
 * smallest that holds SLAB_MIN_OBJS objects, else SLAB_MAX_ORDER if at least one fits.
 * ERR_INVAL: bad size or align, NULL backend callbacks, or an object that cannot fit in a
 * 64 KiB slab. The name is copied (truncated to SLAB_NAME_LEN - 1 characters). */
int slab_cache_init(struct slab_cache *c, const char *name, size_t obj_size, size_t align,
                    const struct slab_backend *b);

/* Returns an object aligned to the cache's alignment, or NULL when the backend is out of
 * memory. Object contents are undefined. O(1). */
void *slab_alloc(struct slab_cache *c);

/* ERR_INVAL: obj is NULL, not in a slab of this cache, or not on an object boundary;
 * ERR_ALREADY: obj is already free. A failed free changes nothing. O(1). */
int slab_free(struct slab_cache *c, void *obj);

/* Returns every empty slab to the backend; returns the number of 4 KiB pages freed. */
size_t slab_shrink(struct slab_cache *c);

/* ERR_BUSY (nothing freed) while objects are allocated; otherwise returns all slabs to the
 * backend and leaves the cache unusable until slab_cache_init. */
int slab_cache_destroy(struct slab_cache *c);

/* Full consistency walk for tests: list membership, bitmaps against in-use counts, free lists
 * inside their slab and of the right length, stats against the lists. Returns 0 or ERR_INVAL. */
int slab_check(const struct slab_cache *c);
