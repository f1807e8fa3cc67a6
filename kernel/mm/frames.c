/* Turns the loader's memory map into buddy free ranges: usable RAM minus the first MiB (kept for
 * real-mode trampolines and firmware), the kernel image, boot modules and the allocator's own
 * metadata. */
#include "mm/frames.h"

#include <stdbool.h>

#include "arch/x86_64/spinlock.h"
#include "core/bootinfo.h"
#include "core/console.h"
#include "core/panic.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/buddy.h"
#include "mm/layout.h"

#define MAX_RESERVED     (BOOT_MAX_MODULES + 4)
#define BOOT_POOL_FIXED  16 /* PML4, PDPTs and kernel page tables */

struct range {
    uint64_t start, end;
};

static struct buddy_zone zone;
static struct spinlock zone_lock = SPINLOCK_INIT;
static uint64_t usable_frames;
static uint64_t pool_next, pool_end;

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
    return v & ~(a - 1);
}

static const char *mem_type_name(uint32_t type)
{
    switch (type) {
    case MEM_USABLE: return "usable";
    case MEM_ACPI: return "ACPI reclaimable";
    case MEM_NVS: return "ACPI NVS";
    case MEM_BAD: return "bad";
    default: return "reserved";
    }
}

static void sort_ranges(struct range *r, unsigned n)
{
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && r[j].start < r[j - 1].start; j--) {
            struct range t = r[j];
            r[j] = r[j - 1];
            r[j - 1] = t;
        }
}

/* Calls fn on each piece of [start, end) not covered by the (sorted) reserved ranges. */
static void for_each_free_piece(uint64_t start, uint64_t end, const struct range *res, unsigned n,
                                bool (*fn)(uint64_t s, uint64_t e, void *ctx), void *ctx)
{
    uint64_t cur = start;
    for (unsigned i = 0; i < n && cur < end; i++) {
        if (res[i].end <= cur || res[i].start >= end)
            continue;
        if (res[i].start > cur && !fn(cur, res[i].start, ctx))
            return;
        if (res[i].end > cur)
            cur = res[i].end;
    }
    if (cur < end)
        fn(cur, end, ctx);
}

struct carve {
    uint64_t bytes, found;
};

static bool find_carve(uint64_t s, uint64_t e, void *ctx)
{
    struct carve *c = ctx;
    if (e > EARLY_PHYSMAP_LIMIT)
        e = EARLY_PHYSMAP_LIMIT;
    if (e <= s || e - s < c->bytes)
        return true;
    c->found = s;
    return false;
}

static bool add_free(uint64_t s, uint64_t e, void *ctx)
{
    (void)ctx;
    if (e > s) {
        int err = buddy_add_free_range(&zone, s >> PAGE_SHIFT, (e - s) >> PAGE_SHIFT);
        if (err)
            panic("frames: cannot free [%#lx, %#lx): %s", s, e, err_name(err));
        usable_frames += (e - s) >> PAGE_SHIFT;
    }
    return true;
}

void frames_init(const struct boot_info *bi)
{
    struct range res[MAX_RESERVED + 1];
    unsigned nres = 0;
    uint64_t top = 0;

    kprintf("memory map:\n");
    for (unsigned i = 0; i < bi->nregions; i++) {
        const struct mem_region *r = &bi->regions[i];
        kprintf("  [0x%012lx - 0x%012lx) %8lu KiB %s\n", r->base, r->base + r->len, r->len >> 10,
                mem_type_name(r->type));
        if (r->type == MEM_USABLE && align_down(r->base + r->len, PAGE_SIZE) > top)
            top = align_down(r->base + r->len, PAGE_SIZE);
    }
    if (!top)
        panic("frames: the memory map has no usable RAM");

    res[nres++] = (struct range){0, LOW_MEMORY_END};
    res[nres++] = (struct range){(uint64_t)_boot_phys_start, virt_to_phys(_kernel_end)};
    for (unsigned i = 0; i < bi->nmodules; i++)
        res[nres++] = (struct range){align_down(bi->modules[i].start, PAGE_SIZE),
                                     align_up(bi->modules[i].end, PAGE_SIZE)};
    sort_ranges(res, nres);

    uint64_t nframes = top >> PAGE_SHIFT;
    uint64_t meta_bytes = align_up(buddy_meta_bytes(nframes), PAGE_SIZE);
    uint64_t pool_pages = BOOT_POOL_FIXED + align_up(top, 1ul << 30) / (1ul << 30);
    struct carve carve = {meta_bytes + pool_pages * PAGE_SIZE, 0};
    for (unsigned i = 0; i < bi->nregions && !carve.found; i++) {
        const struct mem_region *r = &bi->regions[i];
        if (r->type == MEM_USABLE)
            for_each_free_piece(align_up(r->base, PAGE_SIZE),
                                align_down(r->base + r->len, PAGE_SIZE), res, nres, find_carve,
                                &carve);
    }
    if (!carve.found)
        panic("frames: no room below 1 GiB for %lu KiB of frame metadata", carve.bytes >> 10);

    int err = buddy_init(&zone, 0, nframes, phys_to_virt(carve.found), meta_bytes);
    if (err)
        panic("frames: buddy_init: %s", err_name(err));
    pool_next = carve.found + meta_bytes;
    pool_end = carve.found + carve.bytes;
    res[nres++] = (struct range){carve.found, carve.found + carve.bytes};
    sort_ranges(res, nres);

    for (unsigned i = 0; i < bi->nregions; i++) {
        const struct mem_region *r = &bi->regions[i];
        if (r->type == MEM_USABLE && r->base < top)
            for_each_free_piece(align_up(r->base, PAGE_SIZE),
                                align_down(r->base + r->len, PAGE_SIZE), res, nres, add_free,
                                NULL);
    }
    kprintf("frames: %lu usable, %lu free (%lu MiB), metadata %lu KiB at %#lx, %lu boot "
            "page-table pages\n",
            usable_frames, buddy_free_frames(&zone), buddy_free_frames(&zone) >> 8,
            meta_bytes >> 10, carve.found, pool_pages);
}

int frame_alloc(unsigned order, uint64_t *phys)
{
    uint64_t pfn;
    uint64_t flags = spin_lock_irqsave(&zone_lock);
    int err = buddy_alloc(&zone, order, &pfn);
    spin_unlock_irqrestore(&zone_lock, flags);
    if (!err)
        *phys = pfn << PAGE_SHIFT;
    return err;
}

int frame_free(uint64_t phys, unsigned order)
{
    if (phys & (PAGE_SIZE - 1))
        return ERR_INVAL;
    uint64_t flags = spin_lock_irqsave(&zone_lock);
    int err = buddy_free(&zone, phys >> PAGE_SHIFT, order);
    spin_unlock_irqrestore(&zone_lock, flags);
    return err;
}

uint64_t frames_free(void)
{
    return buddy_free_frames(&zone);
}

int frames_check(void)
{
    uint64_t flags = spin_lock_irqsave(&zone_lock);
    int err = buddy_check(&zone);
    spin_unlock_irqrestore(&zone_lock, flags);
    return err;
}

uint64_t frames_usable(void)
{
    return usable_frames;
}

void *boot_pool_page(void)
{
    if (pool_next >= pool_end)
        return NULL;
    void *page = phys_to_virt(pool_next);
    pool_next += PAGE_SIZE;
    memset(page, 0, PAGE_SIZE);
    return page;
}
