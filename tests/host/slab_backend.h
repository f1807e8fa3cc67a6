/* Shared fixtures for the slab host tests (test_slab.c, test_slab_errors.c): a page backend
 * with a budget that records every block, fill patterns and an overlap check. Everything is
 * static, one copy per test binary; a test need not use all of it. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/err.h"
#include "mm/slab.h"

#define MAX_BLOCKS 4096

/* Page backend with a budget (in 4 KiB pages, < 0: unlimited) that records every block so that
 * frees with a wrong pointer or order are caught. `whole64k` hands out 64 KiB blocks whatever
 * the order, so that aligning any slab pointer down to 64 KiB stays inside an allocation. */
struct test_backend {
    long budget;
    long outstanding;
    long alloc_calls, free_calls, bad_frees;
    bool whole64k;
    struct {
        void *p;
        unsigned order;
    } blocks[MAX_BLOCKS];
    int nblocks;
};

static __attribute__((unused)) void *tb_alloc(void *ctx, unsigned order)
{
    struct test_backend *tb = ctx;
    size_t bytes = tb->whole64k ? 65536 : (size_t)4096 << order;
    tb->alloc_calls++;
    if ((tb->budget >= 0 && tb->outstanding + (1L << order) > tb->budget) ||
        tb->nblocks == MAX_BLOCKS)
        return NULL;
    void *p = aligned_alloc(bytes, bytes);
    if (!p)
        return NULL;
    memset(p, 0xA5, bytes);  /* the allocator must not rely on zeroed pages */
    tb->blocks[tb->nblocks].p = p;
    tb->blocks[tb->nblocks++].order = order;
    tb->outstanding += 1L << order;
    return p;
}

static __attribute__((unused)) void tb_free(void *ctx, void *addr, unsigned order)
{
    struct test_backend *tb = ctx;
    tb->free_calls++;
    int i = 0;
    while (i < tb->nblocks && tb->blocks[i].p != addr)
        i++;
    if (i == tb->nblocks || tb->blocks[i].order != order) {
        tb->bad_frees++;
        return;
    }
    tb->blocks[i] = tb->blocks[--tb->nblocks];
    tb->outstanding -= 1L << order;
    free(addr);
}

static __attribute__((unused)) struct slab_backend tb_make(struct test_backend *tb, long budget)
{
    memset(tb, 0, sizeof(*tb));
    tb->budget = budget;
    return (struct slab_backend){.alloc_pages = tb_alloc, .free_pages = tb_free, .ctx = tb};
}

static __attribute__((unused)) void fill(void *p, size_t n, unsigned tag)
{
    memset(p, (int)(tag * 37 + 11) & 0xff, n);
}

static __attribute__((unused)) bool filled(const void *p, size_t n, unsigned tag)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != ((tag * 37 + 11) & 0xff))
            return false;
    return true;
}

static __attribute__((unused)) int ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorted, the objects must not overlap. */
static __attribute__((unused)) bool disjoint(void **objs, size_t n, size_t size)
{
    void **sorted = malloc(n * sizeof(*sorted));
    memcpy(sorted, objs, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), ptr_cmp);
    bool ok = true;
    for (size_t i = 1; i < n && ok; i++)
        ok = (uintptr_t)sorted[i - 1] + size <= (uintptr_t)sorted[i];
    free(sorted);
    return ok;
}

static __attribute__((unused)) struct test_backend tb, tb2;  /* large: keep them off the stack */
