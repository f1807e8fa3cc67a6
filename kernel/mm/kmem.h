/* Kernel object caches: slab caches backed by buddy frames, each with its own lock. */
#pragma once
#include <stddef.h>

#include "arch/x86_64/spinlock.h"
#include "mm/slab.h"

struct kmem_cache {
    struct slab_cache slab;
    struct spinlock lock;
    struct kmem_cache *next; /* every cache, for kmem_shrink_all */
};

int kmem_cache_init(struct kmem_cache *kc, const char *name, size_t size, size_t align);
void *kmem_alloc(struct kmem_cache *kc); /* NULL when memory is exhausted */
int kmem_free(struct kmem_cache *kc, void *obj);
size_t kmem_shrink(struct kmem_cache *kc);
/* Gives every cache's empty slabs back to the frame allocator (leak checks count frames). */
size_t kmem_shrink_all(void);
int kmem_cache_destroy(struct kmem_cache *kc);
