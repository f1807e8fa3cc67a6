/* Memory-management primitives (TARGETS.md K-5, K-6, K-7). Each times one call with the state
 * that call would meet in steady use: allocation right after a free of the same size (the
 * allocator's hot path), mapping into a window whose page tables already exist.
 *
 * The frame benchmarks first set up the allocator's hot path whatever ran before: a free block of
 * the measured order whose buddy is allocated (held for the whole run), on top of its free list.
 * Each iteration then pops and pushes that list without splitting or merging. Without it the
 * result would depend on the boot's earlier allocations: an order-0 allocation that splits a
 * 4 MiB block and the free that merges it back cost about 1.8x and 2.1x the hot path here. */
#include <stdint.h>

#include "lib/err.h"
#include "libbench/libbench.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "mm/layout.h"
#include "mm/paging.h"

#define PAIR_SEARCH 64

/* Allocates blocks of `order` until two of them are buddies, keeps one (*held) and frees the
 * other last, so that it heads its free list with a busy buddy. Returns 0 or ERR_NOMEM. */
static int setup_hot_path(unsigned order, uint64_t *held)
{
    uint64_t blocks[PAIR_SEARCH], size = PAGE_SIZE << order;
    unsigned n = 0, keep = PAIR_SEARCH, last = PAIR_SEARCH;
    while (n < PAIR_SEARCH && keep == PAIR_SEARCH && frame_alloc(order, &blocks[n]) == 0) {
        for (unsigned i = 0; i < n; i++)
            if ((blocks[i] ^ size) == blocks[n]) {
                keep = n;
                last = i;
            }
        n++;
    }
    for (unsigned i = 0; i < n; i++)
        if (i != keep && i != last)
            frame_free(blocks[i], order);
    if (keep == PAIR_SEARCH)
        return ERR_NOMEM;
    frame_free(blocks[last], order);
    *held = blocks[keep];
    return 0;
}

static void bm_frame_alloc(struct lb_state *s)
{
    unsigned order = lb_arg(s);
    uint64_t phys, held;
    if (setup_hot_path(order, &held)) {
        lb_fail(s, "no buddy pair found");
        return;
    }
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        int err = frame_alloc(order, &phys);
        lb_stop(s, t);
        if (err) {
            lb_fail(s, "frame_alloc failed");
            break;
        }
        frame_free(phys, order);
    }
    frame_free(held, order);
}
LB_BENCHMARK_ARG("frame_alloc/order:0", bm_frame_alloc, 0, "K-5", "buddy: allocate a 4 KiB frame");
LB_BENCHMARK_ARG("frame_alloc/order:9", bm_frame_alloc, 9, "K-5", "buddy: allocate a 2 MiB block");

static void bm_frame_free(struct lb_state *s)
{
    unsigned order = lb_arg(s);
    uint64_t phys, held;
    if (setup_hot_path(order, &held)) {
        lb_fail(s, "no buddy pair found");
        return;
    }
    while (lb_next(s)) {
        if (frame_alloc(order, &phys)) {
            lb_fail(s, "frame_alloc failed");
            break;
        }
        uint64_t t = lb_start(s);
        frame_free(phys, order);
        lb_stop(s, t);
    }
    frame_free(held, order);
}
LB_BENCHMARK_ARG("frame_free/order:0", bm_frame_free, 0, "K-5", "buddy: free a 4 KiB frame");

static struct kmem_cache bench_cache;

static void bm_kmem_alloc(struct lb_state *s)
{
    if (kmem_cache_init(&bench_cache, "bench", lb_arg(s), 8)) {
        lb_fail(s, "kmem_cache_init failed");
        return;
    }
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        void *obj = kmem_alloc(&bench_cache);
        lb_stop(s, t);
        if (!obj) {
            lb_fail(s, "kmem_alloc failed");
            break;
        }
        kmem_free(&bench_cache, obj);
    }
    kmem_cache_destroy(&bench_cache);
}
LB_BENCHMARK_ARG("kmem_alloc/size:64", bm_kmem_alloc, 64, "K-6", "slab: allocate a 64 B object");
LB_BENCHMARK_ARG("kmem_alloc/size:1024", bm_kmem_alloc, 1024, "K-6",
                 "slab: allocate a 1 KiB object");

static void bm_kmem_free(struct lb_state *s)
{
    if (kmem_cache_init(&bench_cache, "bench", lb_arg(s), 8)) {
        lb_fail(s, "kmem_cache_init failed");
        return;
    }
    while (lb_next(s)) {
        void *obj = kmem_alloc(&bench_cache);
        if (!obj) {
            lb_fail(s, "kmem_alloc failed");
            break;
        }
        uint64_t t = lb_start(s);
        kmem_free(&bench_cache, obj);
        lb_stop(s, t);
    }
    kmem_cache_destroy(&bench_cache);
}
LB_BENCHMARK_ARG("kmem_free/size:64", bm_kmem_free, 64, "K-6", "slab: free a 64 B object");

#define BENCH_VA (KMAP_BASE + 64 * PAGE_SIZE)

static void bm_page_map(struct lb_state *s)
{
    uint64_t phys;
    if (frame_alloc(0, &phys)) {
        lb_fail(s, "frame_alloc failed");
        return;
    }
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        int err = paging_map(BENCH_VA, phys, PTE_W);
        lb_stop(s, t);
        if (err) {
            lb_fail(s, "paging_map failed");
            break;
        }
        paging_unmap(BENCH_VA);
    }
    frame_free(phys, 0);
}
LB_BENCHMARK("page_map", bm_page_map, "K-7", "map one 4 KiB kernel page (tables present)");

static void bm_page_unmap(struct lb_state *s)
{
    uint64_t phys;
    if (frame_alloc(0, &phys)) {
        lb_fail(s, "frame_alloc failed");
        return;
    }
    while (lb_next(s)) {
        if (paging_map(BENCH_VA, phys, PTE_W)) {
            lb_fail(s, "paging_map failed");
            break;
        }
        /* Touch it so that the unmap really has a TLB entry to invalidate. */
        LB_KEEP(*(volatile uint64_t *)BENCH_VA);
        uint64_t t = lb_start(s);
        paging_unmap(BENCH_VA);
        lb_stop(s, t);
    }
    frame_free(phys, 0);
}
LB_BENCHMARK("page_unmap", bm_page_unmap, "K-7", "unmap one 4 KiB kernel page with INVLPG");
