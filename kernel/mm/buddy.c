#include "mm/buddy.h"

#include <stdbool.h>

#include "lib/err.h"
#include "lib/kstring.h"

static inline uint64_t order_frames(unsigned order)
{
    return (uint64_t)1 << order;
}

static inline uint64_t zone_end(const struct buddy_zone *z)
{
    return z->base_pfn + z->nframes;
}

static inline bool in_zone(const struct buddy_zone *z, uint64_t pfn)
{
    return pfn >= z->base_pfn && pfn < zone_end(z);
}

static void list_push(struct buddy_zone *z, uint32_t idx, unsigned order)
{
    struct buddy_frame *f = &z->frames[idx];
    uint32_t head = z->free_head[order];

    f->state = BUDDY_FREE;
    f->order = (uint8_t)order;
    f->prev = BUDDY_NONE;
    f->next = head;
    if (head != BUDDY_NONE)
        z->frames[head].prev = idx;
    z->free_head[order] = idx;
    z->free_count[order]++;
}

/* O(1) thanks to the prev link: coalescing removes a buddy from the middle of its list. */
static void list_remove(struct buddy_zone *z, uint32_t idx)
{
    struct buddy_frame *f = &z->frames[idx];
    unsigned order = f->order;

    if (f->prev != BUDDY_NONE)
        z->frames[f->prev].next = f->next;
    else
        z->free_head[order] = f->next;
    if (f->next != BUDDY_NONE)
        z->frames[f->next].prev = f->prev;
    f->next = f->prev = BUDDY_NONE;
    z->free_count[order]--;
}

/* Puts the block at idx (its frames already TAIL behind the head) on a free list, first merging
 * it with its buddy for as long as that buddy is a whole free block of the same order. The buddy
 * may lie outside the zone (unaligned zone edges): such a block simply never merges. */
static void insert_free(struct buddy_zone *z, uint32_t idx, unsigned order)
{
    while (order < BUDDY_MAX_ORDER) {
        uint64_t pfn = z->base_pfn + idx;
        uint64_t buddy_pfn = pfn ^ order_frames(order);
        if (!in_zone(z, buddy_pfn))
            break;
        uint32_t bidx = (uint32_t)(buddy_pfn - z->base_pfn);
        struct buddy_frame *b = &z->frames[bidx];
        if (b->state != BUDDY_FREE || b->order != order)
            break;
        list_remove(z, bidx);
        /* The upper head becomes an ordinary frame of the merged block. */
        if (bidx < idx) {
            z->frames[idx].state = BUDDY_TAIL;
            idx = bidx;
        } else {
            b->state = BUDDY_TAIL;
        }
        order++;
    }
    list_push(z, idx, order);
}

size_t buddy_meta_bytes(uint64_t nframes)
{
    if (nframes > BUDDY_MAX_FRAMES || nframes > SIZE_MAX / sizeof(struct buddy_frame))
        return SIZE_MAX;
    return (size_t)nframes * sizeof(struct buddy_frame);
}

int buddy_init(struct buddy_zone *z, uint64_t base_pfn, uint64_t nframes, void *meta,
               size_t meta_bytes)
{
    if (!z || !meta || nframes == 0 || nframes > BUDDY_MAX_FRAMES)
        return ERR_INVAL;
    if (base_pfn > UINT64_MAX - nframes)
        return ERR_INVAL;
    if ((uintptr_t)meta % _Alignof(struct buddy_frame) != 0)
        return ERR_INVAL;
    if (meta_bytes < buddy_meta_bytes(nframes))
        return ERR_INVAL;

    /* BUDDY_RESERVED is 0, so one memset puts every frame in the safe initial state. */
    memset(meta, 0, buddy_meta_bytes(nframes));
    z->base_pfn = base_pfn;
    z->nframes = nframes;
    z->frames = meta;
    z->free_frames = 0;
    z->usable_frames = 0;
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
        z->free_head[k] = BUDDY_NONE;
        z->free_count[k] = 0;
    }
    return 0;
}

int buddy_add_free_range(struct buddy_zone *z, uint64_t pfn, uint64_t count)
{
    if (count == 0)
        return 0;
    if (pfn < z->base_pfn || pfn >= zone_end(z) || count > zone_end(z) - pfn)
        return ERR_INVAL;

    uint32_t first = (uint32_t)(pfn - z->base_pfn);
    uint32_t end = (uint32_t)(first + count);
    /* Validate everything before changing anything, so a bad range leaves the zone intact. */
    for (uint32_t i = first; i < end; i++)
        if (z->frames[i].state != BUDDY_RESERVED)
            return ERR_INVAL;

    for (uint32_t i = first; i < end; i++)
        z->frames[i].state = BUDDY_TAIL;

    /* Greedy decomposition into the largest aligned blocks that fit; insert_free merges them
     * with free neighbours left by earlier ranges. */
    uint32_t i = first;
    while (i < end) {
        uint64_t p = z->base_pfn + i;
        unsigned order = 0;
        while (order < BUDDY_MAX_ORDER && (p & (order_frames(order + 1) - 1)) == 0 &&
               order_frames(order + 1) <= (uint64_t)(end - i))
            order++;
        insert_free(z, i, order);
        i += (uint32_t)order_frames(order);
    }
    z->free_frames += count;
    z->usable_frames += count;
    return 0;
}

int buddy_alloc(struct buddy_zone *z, unsigned order, uint64_t *pfn_out)
{
    if (order > BUDDY_MAX_ORDER || !pfn_out)
        return ERR_INVAL;

    unsigned k = order;
    while (k <= BUDDY_MAX_ORDER && z->free_head[k] == BUDDY_NONE)
        k++;
    if (k > BUDDY_MAX_ORDER)
        return ERR_NOMEM;

    uint32_t idx = z->free_head[k];
    list_remove(z, idx);
    /* Split: keep the lower half, free the upper half, so a block's pfn never moves. */
    while (k > order) {
        k--;
        list_push(z, idx + (uint32_t)order_frames(k), k);
    }
    z->frames[idx].state = BUDDY_ALLOCATED;
    z->frames[idx].order = (uint8_t)order;
    z->free_frames -= order_frames(order);
    *pfn_out = z->base_pfn + idx;
    return 0;
}

/* The head of the block that contains a TAIL frame: it is the only FREE/ALLOCATED head at one
 * of the pfn's alignment boundaries whose order reaches over the frame. */
static uint32_t containing_head(const struct buddy_zone *z, uint64_t pfn)
{
    for (unsigned k = 1; k <= BUDDY_MAX_ORDER; k++) {
        uint64_t h = pfn & ~(order_frames(k) - 1);
        if (h < z->base_pfn)
            break;
        const struct buddy_frame *f = &z->frames[h - z->base_pfn];
        if ((f->state == BUDDY_FREE || f->state == BUDDY_ALLOCATED) && f->order >= k)
            return (uint32_t)(h - z->base_pfn);
    }
    return BUDDY_NONE;
}

int buddy_free(struct buddy_zone *z, uint64_t pfn, unsigned order)
{
    if (order > BUDDY_MAX_ORDER || !in_zone(z, pfn))
        return ERR_INVAL;
    if ((pfn & (order_frames(order) - 1)) != 0)
        return ERR_INVAL;

    uint32_t idx = (uint32_t)(pfn - z->base_pfn);
    struct buddy_frame *f = &z->frames[idx];
    switch (f->state) {
    case BUDDY_ALLOCATED:
        if (f->order != order)
            return ERR_INVAL;
        break;
    case BUDDY_FREE:
        return ERR_ALREADY;
    case BUDDY_TAIL: {
        /* A block freed earlier may have merged into a bigger one, leaving its head a tail of
         * a free block: that is still a double free, not a bad pointer. */
        uint32_t h = containing_head(z, pfn);
        if (h != BUDDY_NONE && z->frames[h].state == BUDDY_FREE)
            return ERR_ALREADY;
        return ERR_INVAL;
    }
    default:
        return ERR_INVAL;
    }

    f->state = BUDDY_TAIL;  /* insert_free turns the surviving head back into FREE */
    insert_free(z, idx, order);
    z->free_frames += order_frames(order);
    return 0;
}

uint64_t buddy_free_frames(const struct buddy_zone *z)
{
    return z->free_frames;
}

uint64_t buddy_free_blocks(const struct buddy_zone *z, unsigned order)
{
    return order <= BUDDY_MAX_ORDER ? z->free_count[order] : 0;
}

static int check_lists(const struct buddy_zone *z, uint64_t *listed_frames)
{
    uint64_t frames = 0;

    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
        uint64_t n = 0;
        uint32_t prev = BUDDY_NONE;
        for (uint32_t i = z->free_head[k]; i != BUDDY_NONE; i = z->frames[i].next) {
            /* Bounded walk: a corrupted list may be cyclic. */
            if (i >= z->nframes || ++n > z->free_count[k])
                return ERR_INVAL;
            const struct buddy_frame *f = &z->frames[i];
            uint64_t pfn = z->base_pfn + i;
            if (f->state != BUDDY_FREE || f->order != k || f->prev != prev)
                return ERR_INVAL;
            if ((pfn & (order_frames(k) - 1)) != 0 || order_frames(k) > z->nframes - i)
                return ERR_INVAL;
            if (k < BUDDY_MAX_ORDER) {
                uint64_t bpfn = pfn ^ order_frames(k);
                if (in_zone(z, bpfn)) {
                    const struct buddy_frame *b = &z->frames[bpfn - z->base_pfn];
                    if (b->state == BUDDY_FREE && b->order == k)
                        return ERR_INVAL;  /* should have merged */
                }
            }
            frames += order_frames(k);
            prev = i;
        }
        if (n != z->free_count[k])
            return ERR_INVAL;
    }
    *listed_frames = frames;
    return 0;
}

int buddy_check(const struct buddy_zone *z)
{
    uint64_t listed_frames, heads[BUDDY_MAX_ORDER + 1] = {0};
    uint64_t free_frames = 0, usable = 0;

    if (check_lists(z, &listed_frames) != 0)
        return ERR_INVAL;

    /* Walk the frames block by block: each FREE/ALLOCATED head is followed by exactly its tails;
     * a TAIL anywhere else is an orphan. */
    uint64_t i = 0;
    while (i < z->nframes) {
        const struct buddy_frame *f = &z->frames[i];
        if (f->state == BUDDY_RESERVED) {
            i++;
            continue;
        }
        if (f->state != BUDDY_FREE && f->state != BUDDY_ALLOCATED)
            return ERR_INVAL;
        unsigned k = f->order;
        if (k > BUDDY_MAX_ORDER || ((z->base_pfn + i) & (order_frames(k) - 1)) != 0 ||
            order_frames(k) > z->nframes - i)
            return ERR_INVAL;
        for (uint64_t j = 1; j < order_frames(k); j++)
            if (z->frames[i + j].state != BUDDY_TAIL)
                return ERR_INVAL;
        if (f->state == BUDDY_FREE) {
            heads[k]++;
            free_frames += order_frames(k);
        }
        usable += order_frames(k);
        i += order_frames(k);
    }

    /* Every listed entry is a distinct FREE head (the list walk is acyclic), so equal counts
     * per order mean every FREE head is listed. */
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++)
        if (heads[k] != z->free_count[k])
            return ERR_INVAL;
    if (free_frames != z->free_frames || listed_frames != z->free_frames)
        return ERR_INVAL;
    if (usable != z->usable_frames)
        return ERR_INVAL;
    return 0;
}
