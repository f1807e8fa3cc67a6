/* Frame and slab allocators on the real memory map, through the kernel's locked wrappers. */
#include "arch/x86_64/cpu.h"
#include "core/selftest.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/buddy.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "mm/layout.h"

/* Allocates order-0 frames until the allocator says no, chaining them through their own first
 * word; a frame handed out twice would break the chain and show up in the count. */
static uint64_t exhaust_frames(uint64_t *head)
{
    uint64_t n = 0, phys;
    *head = 0;
    while (frame_alloc(0, &phys) == 0) {
        *(uint64_t *)phys_to_virt(phys) = *head;
        *head = phys;
        n++;
    }
    return n;
}

static uint64_t release_frames(uint64_t head)
{
    uint64_t n = 0;
    while (head) {
        uint64_t next = *(uint64_t *)phys_to_virt(head);
        if (frame_free(head, 0))
            return n;
        head = next;
        n++;
    }
    return n;
}

SELFTEST(mm, frame_every_order)
{
    uint64_t before = frames_free();
    for (unsigned order = 0; order <= BUDDY_MAX_ORDER; order++) {
        uint64_t phys, bytes = PAGE_SIZE << order;
        KCHECK_EQ(frame_alloc(order, &phys), 0);
        KCHECK_EQ(phys & (bytes - 1), 0);
        KCHECK(phys >= 0x100000);
        uint8_t *p = phys_to_virt(phys);
        p[0] = 0xa5;
        p[bytes - 1] = 0x5a;
        KCHECK(p[0] == 0xa5 && p[bytes - 1] == 0x5a);
        KCHECK_EQ(frames_free(), before - (1ul << order));
        KCHECK_EQ(frame_free(phys, order), 0);
    }
    KCHECK_EQ(frame_alloc(BUDDY_MAX_ORDER + 1, &(uint64_t){0}), ERR_INVAL);
    KCHECK_EQ(frames_free(), before);
    KCHECK_EQ(frames_check(), 0);
}

SELFTEST(mm, frame_exhaustion_and_recovery)
{
    uint64_t before = frames_free(), head, phys;
    uint64_t got = exhaust_frames(&head);
    KCHECK_EQ(got, before);
    KCHECK_EQ(frames_free(), 0);
    KCHECK_EQ(frame_alloc(0, &phys), ERR_NOMEM);
    KCHECK_EQ(release_frames(head), got);
    KCHECK_EQ(frames_free(), before);
    KCHECK_EQ(frames_check(), 0);
    /* Everything coalesced again: a maximal block is available. */
    KCHECK_EQ(frame_alloc(BUDDY_MAX_ORDER, &phys), 0);
    KCHECK_EQ(frame_free(phys, BUDDY_MAX_ORDER), 0);
}

SELFTEST(mm, frame_bad_frees_change_nothing)
{
    uint64_t before = frames_free(), phys;
    KCHECK_EQ(frame_alloc(2, &phys), 0);
    KCHECK_EQ(frame_free(phys + PAGE_SIZE, 0), ERR_INVAL); /* tail of a block */
    KCHECK_EQ(frame_free(phys, 1), ERR_INVAL);             /* wrong order */
    KCHECK_EQ(frame_free(phys + 8, 2), ERR_INVAL);         /* not page aligned */
    KCHECK_EQ(frame_free(0x1000, 0), ERR_INVAL);           /* never allocatable */
    KCHECK_EQ(frame_free(1ul << 50, 0), ERR_INVAL);        /* beyond RAM */
    KCHECK_EQ(frame_free(phys, 2), 0);
    KCHECK_EQ(frame_free(phys, 2), ERR_ALREADY);
    KCHECK_EQ(frames_free(), before);
    KCHECK_EQ(frames_check(), 0);
}

#define OBJS 1000
#define OBJ_SIZE 200

SELFTEST(mm, slab_objects_distinct_and_returned)
{
    static struct kmem_cache cache;
    static uint8_t *objs[OBJS];
    uint64_t before = frames_free();

    KCHECK_EQ(kmem_cache_init(&cache, "selftest-200", OBJ_SIZE, 16), 0);
    for (int i = 0; i < OBJS; i++) {
        objs[i] = kmem_alloc(&cache);
        KCHECK(objs[i] != NULL);
        KCHECK_EQ((uintptr_t)objs[i] & 15, 0);
        memset(objs[i], i & 0xff, OBJ_SIZE);
    }
    for (int i = 0; i < OBJS; i++)
        for (int b = 0; b < OBJ_SIZE; b++)
            KCHECK_EQ(objs[i][b], i & 0xff);
    KCHECK(frames_free() < before);
    for (int i = 0; i < OBJS; i++)
        KCHECK_EQ(kmem_free(&cache, objs[i]), 0);
    KCHECK(kmem_shrink(&cache) > 0);
    KCHECK_EQ(kmem_cache_destroy(&cache), 0);
    KCHECK_EQ(frames_free(), before);
}

SELFTEST(mm, slab_bad_frees_rejected)
{
    static struct kmem_cache a, b;
    uint64_t before = frames_free();
    KCHECK_EQ(kmem_cache_init(&a, "selftest-a", 64, 8), 0);
    KCHECK_EQ(kmem_cache_init(&b, "selftest-b", 64, 8), 0);
    uint8_t *x = kmem_alloc(&a), *y = kmem_alloc(&b);
    KCHECK(x && y);
    KCHECK_EQ(kmem_free(&a, y), ERR_INVAL);     /* another cache's object */
    KCHECK_EQ(kmem_free(&a, x + 1), ERR_INVAL); /* interior pointer */
    KCHECK_EQ(kmem_free(&a, NULL), ERR_INVAL);
    KCHECK_EQ(kmem_cache_destroy(&a), ERR_BUSY);
    KCHECK_EQ(kmem_free(&a, x), 0);
    KCHECK_EQ(kmem_free(&a, x), ERR_ALREADY);
    KCHECK_EQ(kmem_free(&b, y), 0);
    KCHECK_EQ(kmem_cache_destroy(&a), 0);
    KCHECK_EQ(kmem_cache_destroy(&b), 0);
    KCHECK_EQ(frames_free(), before);
}

SELFTEST(mm, out_of_memory_is_an_error)
{
    static struct kmem_cache cache;
    uint64_t before = frames_free(), head, phys;
    KCHECK_EQ(kmem_cache_init(&cache, "selftest-oom", 512, 8), 0);
    uint64_t got = exhaust_frames(&head);
    KCHECK(kmem_alloc(&cache) == NULL);
    KCHECK_EQ(frame_alloc(0, &phys), ERR_NOMEM);
    KCHECK_EQ(release_frames(head), got);
    void *obj = kmem_alloc(&cache);
    KCHECK(obj != NULL);
    KCHECK_EQ(kmem_free(&cache, obj), 0);
    KCHECK_EQ(kmem_cache_destroy(&cache), 0);
    KCHECK_EQ(frames_free(), before);
}
