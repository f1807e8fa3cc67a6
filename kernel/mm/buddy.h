/* Buddy allocator for the physical frames (4 KiB) of one zone.
 *
 * The allocator only ever touches its metadata array, never the frames it manages: frames may not
 * be mapped yet when the kernel sets it up, and the host tests manage fictitious pfns. Links
 * between free blocks are 32-bit indices into that array (not pointers) so that an entry stays
 * small and the array can be carved out of RAM and moved between address spaces unchanged.
 *
 * Blocks of order k cover 2^k frames and start at a pfn that is a multiple of 2^k in absolute
 * terms, so a block's buddy is found by flipping one pfn bit whatever the zone's base. Alloc and
 * free are O(BUDDY_MAX_ORDER); init and add_free_range are O(frames). No locking: the caller
 * serializes. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define BUDDY_PAGE_SHIFT 12
#define BUDDY_MAX_ORDER  10                   /* 2^10 frames = 4 MiB */
#define BUDDY_NONE       UINT32_MAX           /* end of a free list */
#define BUDDY_MAX_FRAMES ((uint64_t)UINT32_MAX - 1) /* indices must stay below BUDDY_NONE */

/* Only block heads carry FREE or ALLOCATED, every other frame of a block is TAIL; keeping that
 * exact (one write per split or merge) is what lets free() reject tails and double frees in
 * O(MAX_ORDER) without a scan. */
enum buddy_state {
    BUDDY_RESERVED = 0,  /* never usable: hole, firmware, kernel image; the initial state */
    BUDDY_FREE,          /* head of a free block, linked on free_head[order] */
    BUDDY_ALLOCATED,     /* head of an allocated block */
    BUDDY_TAIL,          /* usable frame inside a block, not its head */
};

struct buddy_frame {
    uint32_t next, prev; /* free list links (index into the zone), valid while FREE */
    uint8_t order;       /* block order, valid for FREE and ALLOCATED heads */
    uint8_t state;       /* enum buddy_state */
};

struct buddy_zone {
    uint64_t base_pfn;
    uint64_t nframes;
    struct buddy_frame *frames;                   /* nframes entries, owned by the caller */
    uint64_t free_frames;                         /* frames in free blocks */
    uint64_t usable_frames;                       /* frames ever added by add_free_range */
    uint64_t free_count[BUDDY_MAX_ORDER + 1];     /* blocks on each free list */
    uint32_t free_head[BUDDY_MAX_ORDER + 1];
};

/* Bytes of metadata buddy_init needs for nframes frames; SIZE_MAX when nframes is too large. */
size_t buddy_meta_bytes(uint64_t nframes);

/* Every frame starts RESERVED. meta must be aligned for struct buddy_frame.
 * ERR_INVAL: meta NULL, misaligned or smaller than buddy_meta_bytes(nframes); nframes 0 or
 * > BUDDY_MAX_FRAMES; the pfn range wraps. */
int buddy_init(struct buddy_zone *z, uint64_t base_pfn, uint64_t nframes, void *meta,
               size_t meta_bytes);

/* Makes [pfn, pfn+count) usable and free, merging with free neighbours into maximal blocks.
 * count 0 is a no-op. ERR_INVAL (nothing changed) when the range leaves the zone or contains a
 * frame that is not RESERVED. */
int buddy_add_free_range(struct buddy_zone *z, uint64_t pfn, uint64_t count);

/* Allocates 2^order frames aligned to 2^order (absolute pfn), splitting a larger block if need
 * be. ERR_INVAL: order > BUDDY_MAX_ORDER or pfn_out NULL; ERR_NOMEM: no block large enough. */
int buddy_alloc(struct buddy_zone *z, unsigned order, uint64_t *pfn_out);

/* Frees a block returned by buddy_alloc with the same order, merging with free buddies.
 * ERR_INVAL: pfn outside the zone, misaligned for order, not the head of an allocated block
 * (tail, reserved) or allocated with another order. ERR_ALREADY: the block is already free.
 * A failed free changes nothing. */
int buddy_free(struct buddy_zone *z, uint64_t pfn, unsigned order);

uint64_t buddy_free_frames(const struct buddy_zone *z);
/* Free blocks of exactly this order (0 for order > BUDDY_MAX_ORDER). */
uint64_t buddy_free_blocks(const struct buddy_zone *z, unsigned order);

/* Full O(nframes) consistency walk (tests, debug builds): free lists well linked, entries FREE
 * heads of the right order, aligned and inside the zone; every FREE head listed; tails only
 * inside blocks; counters add up; no free block whose buddy is free with the same order.
 * Returns 0 or ERR_INVAL. */
int buddy_check(const struct buddy_zone *z);
