#include "mm/kmem.h"

#include "lib/err.h"
#include "mm/frames.h"
#include "mm/layout.h"

static void *pages_alloc(void *ctx, unsigned order)
{
    (void)ctx;
    uint64_t phys;
    return frame_alloc(order, &phys) ? NULL : phys_to_virt(phys);
}

static void pages_free(void *ctx, void *addr, unsigned order)
{
    (void)ctx;
    frame_free(virt_to_phys(addr), order);
}

static const struct slab_backend frame_backend = {pages_alloc, pages_free, NULL};

static struct kmem_cache *all_caches;
static struct spinlock all_caches_lock = SPINLOCK_INIT;

int kmem_cache_init(struct kmem_cache *kc, const char *name, size_t size, size_t align)
{
    kc->lock = (struct spinlock)SPINLOCK_INIT;
    int err = slab_cache_init(&kc->slab, name, size, align, &frame_backend);
    if (!err) {
        uint64_t flags = spin_lock_irqsave(&all_caches_lock);
        kc->next = all_caches;
        all_caches = kc;
        spin_unlock_irqrestore(&all_caches_lock, flags);
    }
    return err;
}

size_t kmem_shrink_all(void)
{
    size_t pages = 0;
    uint64_t flags = spin_lock_irqsave(&all_caches_lock);
    for (struct kmem_cache *kc = all_caches; kc; kc = kc->next)
        pages += kmem_shrink(kc);
    spin_unlock_irqrestore(&all_caches_lock, flags);
    return pages;
}

void *kmem_alloc(struct kmem_cache *kc)
{
    uint64_t flags = spin_lock_irqsave(&kc->lock);
    void *obj = slab_alloc(&kc->slab);
    spin_unlock_irqrestore(&kc->lock, flags);
    return obj;
}

int kmem_free(struct kmem_cache *kc, void *obj)
{
    uint64_t flags = spin_lock_irqsave(&kc->lock);
    int err = slab_free(&kc->slab, obj);
    spin_unlock_irqrestore(&kc->lock, flags);
    return err;
}

size_t kmem_shrink(struct kmem_cache *kc)
{
    uint64_t flags = spin_lock_irqsave(&kc->lock);
    size_t pages = slab_shrink(&kc->slab);
    spin_unlock_irqrestore(&kc->lock, flags);
    return pages;
}

int kmem_cache_destroy(struct kmem_cache *kc)
{
    uint64_t flags = spin_lock_irqsave(&kc->lock);
    int err = slab_cache_destroy(&kc->slab);
    spin_unlock_irqrestore(&kc->lock, flags);
    if (!err) {
        flags = spin_lock_irqsave(&all_caches_lock);
        for (struct kmem_cache **link = &all_caches; *link; link = &(*link)->next)
            if (*link == kc) {
                *link = kc->next;
                break;
            }
        spin_unlock_irqrestore(&all_caches_lock, flags);
    }
    return err;
}
