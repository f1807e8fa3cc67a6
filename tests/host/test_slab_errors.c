/* Host tests for kernel/mm/slab.c: error paths. Bad cache parameters, running out of pages,
 * double frees, pointers that are not this cache's objects, and destroying a busy cache. Each
 * slab comes from its own aligned_alloc block, so ASan flags any access past a slab. */
#include "slab_backend.h"

TEST(slab_init_errors)
{
    struct slab_cache c;
    struct slab_backend b = tb_make(&tb, -1);
    struct slab_backend nob = {.alloc_pages = NULL, .free_pages = tb_free, .ctx = &tb};
    CHECK_EQ(slab_cache_init(&c, "x", 0, 8, &b), ERR_INVAL);
    CHECK_EQ(slab_cache_init(&c, "x", 16, 0, &b), ERR_INVAL);
    CHECK_EQ(slab_cache_init(&c, "x", 16, 3, &b), ERR_INVAL);
    CHECK_EQ(slab_cache_init(&c, "x", 16, 24, &b), ERR_INVAL);
    CHECK_EQ(slab_cache_init(&c, "x", 16, (size_t)1 << 17, &b), ERR_INVAL);
    CHECK_EQ(slab_cache_init(&c, "x", 65536, 8, &b), ERR_INVAL);
    CHECK_EQ(slab_cache_init(&c, "x", SIZE_MAX, 8, &b), ERR_INVAL);
    CHECK_EQ(slab_cache_init(&c, "x", 40000, 32768, &b), ERR_INVAL);  /* header pushes it out */
    CHECK_EQ(slab_cache_init(&c, "x", 16, 8, NULL), ERR_INVAL);
    CHECK_EQ(slab_cache_init(&c, "x", 16, 8, &nob), ERR_INVAL);
    CHECK_EQ(tb.alloc_calls, 0);  /* creating a cache allocates nothing */

    CHECK_EQ(slab_cache_init(&c, "a-very-long-cache-name-that-gets-truncated", 16, 8, &b), 0);
    CHECK_EQ(strlen(c.name), SLAB_NAME_LEN - 1);
    CHECK_EQ(memcmp(c.name, "a-very-long-cache-name-that", SLAB_NAME_LEN - 1), 0);
    CHECK_EQ(slab_cache_init(&c, NULL, 16, 8, &b), 0);
    CHECK_STR(c.name, "");
    CHECK_EQ(slab_cache_destroy(&c), 0);
}

TEST(slab_exhaustion)
{
    struct slab_cache c;
    struct slab_backend b = tb_make(&tb, 3);
    void *objs[64];
    unsigned n = 0;
    void *p;
    CHECK_EQ(slab_cache_init(&c, "oom", 256, 8, &b), 0);
    CHECK_EQ(c.order, 0);
    CHECK(3 * c.objs_per_slab <= 64);
    while ((p = slab_alloc(&c)) != NULL) {
        CHECK(n < 64);
        fill(p, 256, n);
        objs[n++] = p;
    }
    CHECK_EQ(n, 3 * c.objs_per_slab);
    CHECK_EQ(c.stats.alloc_fails, 1);
    CHECK(slab_alloc(&c) == NULL);
    CHECK_EQ(c.stats.alloc_fails, 2);
    CHECK_EQ(c.stats.objs_in_use, n);
    CHECK_EQ(slab_check(&c), 0);

    /* A free makes room again without the backend. */
    CHECK_EQ(slab_free(&c, objs[5]), 0);
    p = slab_alloc(&c);
    CHECK(p == objs[5]);
    CHECK(slab_alloc(&c) == NULL);

    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(slab_free(&c, objs[i]), 0);
    CHECK_EQ(slab_shrink(&c), 3);
    CHECK_EQ(tb.outstanding, 0);
    void *last = slab_alloc(&c);  /* recovers once the backend has pages again */
    CHECK(last != NULL);
    CHECK_EQ(slab_cache_destroy(&c), ERR_BUSY);
    CHECK_EQ(tb.outstanding, 1);

    /* A backend that fails from the start. */
    struct slab_cache d;
    struct slab_backend nob = tb_make(&tb2, 0);
    CHECK_EQ(slab_cache_init(&d, "none", 32, 8, &nob), 0);
    CHECK(slab_alloc(&d) == NULL);
    CHECK_EQ(d.stats.slabs_total, 0);
    CHECK_EQ(slab_check(&d), 0);
    CHECK_EQ(slab_cache_destroy(&d), 0);

    CHECK_EQ(slab_free(&c, last), 0);
    CHECK_EQ(slab_cache_destroy(&c), 0);
    CHECK_EQ(tb.outstanding, 0);
    CHECK_EQ(tb.bad_frees, 0);
}

TEST(slab_double_free)
{
    struct slab_cache c;
    struct slab_backend b = tb_make(&tb, -1);
    struct slab_stats st;
    CHECK_EQ(slab_cache_init(&c, "df", 64, 8, &b), 0);
    void *a = slab_alloc(&c), *x = slab_alloc(&c), *y = slab_alloc(&c);
    CHECK(a && x && y);
    CHECK_EQ(slab_free(&c, x), 0);
    st = c.stats;
    CHECK_EQ(slab_free(&c, x), ERR_ALREADY);
    CHECK(memcmp(&st, &c.stats, sizeof(st)) == 0);
    CHECK_EQ(slab_check(&c), 0);
    /* The object past the last one handed out was never allocated: also already free. */
    CHECK_EQ(slab_free(&c, (char *)y + c.stride), ERR_ALREADY);
    CHECK(slab_alloc(&c) == x);  /* the free list was not corrupted by the double free */
    CHECK(slab_alloc(&c) == (char *)y + c.stride);

    /* Double free once the slab has gone empty (it stays cached). */
    CHECK_EQ(slab_free(&c, a), 0);
    CHECK_EQ(slab_free(&c, x), 0);
    CHECK_EQ(slab_free(&c, y), 0);
    CHECK_EQ(slab_free(&c, (char *)y + c.stride), 0);
    CHECK_EQ(c.stats.slabs_empty, 1);
    st = c.stats;
    CHECK_EQ(slab_free(&c, a), ERR_ALREADY);
    CHECK_EQ(slab_free(&c, y), ERR_ALREADY);
    CHECK(memcmp(&st, &c.stats, sizeof(st)) == 0);
    CHECK_EQ(slab_check(&c), 0);
    CHECK_EQ(slab_cache_destroy(&c), 0);
    CHECK_EQ(tb.outstanding, 0);
}

TEST(slab_invalid_pointers)
{
    struct slab_cache c, other;
    struct slab_backend b = tb_make(&tb, -1);
    struct slab_stats st;
    CHECK_EQ(slab_cache_init(&c, "inv", 48, 16, &b), 0);
    CHECK_EQ(slab_cache_init(&other, "other", 48, 16, &b), 0);
    CHECK_EQ(c.order, other.order);
    void *p = slab_alloc(&c), *q = slab_alloc(&c), *o = slab_alloc(&other);
    CHECK(p && q && o);
    uintptr_t base = (uintptr_t)p & ~(uintptr_t)4095;
    st = c.stats;

    CHECK_EQ(slab_free(&c, NULL), ERR_INVAL);
    CHECK_EQ(slab_free(&c, (char *)p + 1), ERR_INVAL);
    CHECK_EQ(slab_free(&c, (char *)p + c.stride / 2), ERR_INVAL);
    CHECK_EQ(slab_free(&c, (char *)p + 47), ERR_INVAL);
    CHECK_EQ(slab_free(&c, (void *)base), ERR_INVAL);        /* the header itself */
    CHECK_EQ(slab_free(&c, (void *)(base + 8)), ERR_INVAL);
    CHECK_EQ(slab_free(&c, (void *)(base + c.first_off + c.objs_per_slab * c.stride)),
             ERR_INVAL);                                     /* tail slack past the last object */
    CHECK_EQ(slab_free(&c, o), ERR_INVAL);                   /* another cache's object */
    CHECK_EQ(slab_free(&other, p), ERR_INVAL);

    /* Memory that is not a slab: zeroes, garbage, and a byte-for-byte copy of a real slab (the
     * magic depends on the address, so a copy elsewhere is not a slab). */
    unsigned char *foreign = aligned_alloc(4096, 4096);
    CHECK(foreign != NULL);
    memset(foreign, 0, 4096);
    CHECK_EQ(slab_free(&c, foreign + c.first_off), ERR_INVAL);
    memset(foreign, 0xff, 4096);
    CHECK_EQ(slab_free(&c, foreign + c.first_off), ERR_INVAL);
    memcpy(foreign, (void *)base, 4096);
    CHECK_EQ(slab_free(&c, foreign + ((uintptr_t)p - base)), ERR_INVAL);
    free(foreign);

    CHECK(memcmp(&st, &c.stats, sizeof(st)) == 0);
    CHECK_EQ(slab_check(&c), 0);
    CHECK_EQ(slab_check(&other), 0);
    CHECK_EQ(slab_free(&c, p), 0);
    CHECK_EQ(slab_free(&c, q), 0);
    CHECK_EQ(slab_free(&other, o), 0);
    CHECK_EQ(slab_cache_destroy(&c), 0);
    CHECK_EQ(slab_cache_destroy(&other), 0);
    CHECK_EQ(tb.outstanding, 0);
}

TEST(slab_cross_order_pointer)
{
    /* A 4 KiB-slab object given to a 64 KiB-slab cache: aligning down lands on the small slab's
     * header, whose owner differs. The whole64k backend keeps that read inside an allocation. */
    struct slab_cache small, big;
    struct slab_backend b = tb_make(&tb, -1);
    tb.whole64k = true;
    CHECK_EQ(slab_cache_init(&small, "small", 32, 8, &b), 0);
    CHECK_EQ(slab_cache_init(&big, "big", 8000, 8, &b), 0);
    CHECK_EQ(small.order, 0);
    CHECK_EQ(big.order, 4);
    void *s = slab_alloc(&small), *g = slab_alloc(&big);
    CHECK(s && g);
    CHECK_EQ(slab_free(&big, s), ERR_INVAL);
    CHECK_EQ(slab_free(&small, g), ERR_INVAL);
    CHECK_EQ(slab_free(&small, s), 0);
    CHECK_EQ(slab_free(&big, g), 0);
    CHECK_EQ(slab_cache_destroy(&small), 0);
    CHECK_EQ(slab_cache_destroy(&big), 0);
    CHECK_EQ(tb.outstanding, 0);
    CHECK_EQ(tb.bad_frees, 0);
}

TEST(slab_destroy_busy)
{
    struct slab_cache c;
    struct slab_backend b = tb_make(&tb, -1);
    CHECK_EQ(slab_cache_init(&c, "busy", 100, 8, &b), 0);
    void *p = slab_alloc(&c), *q = slab_alloc(&c);
    CHECK(p && q);
    CHECK_EQ(slab_cache_destroy(&c), ERR_BUSY);
    CHECK_EQ(tb.outstanding, 1);
    CHECK_EQ(slab_check(&c), 0);
    CHECK_EQ(slab_free(&c, p), 0);
    CHECK_EQ(slab_cache_destroy(&c), ERR_BUSY);
    void *r = slab_alloc(&c);  /* still fully usable after a refused destroy */
    CHECK(r == p);
    CHECK_EQ(slab_free(&c, q), 0);
    CHECK_EQ(slab_free(&c, r), 0);
    CHECK_EQ(slab_cache_destroy(&c), 0);
    CHECK_EQ(tb.outstanding, 0);
    CHECK_EQ(tb.free_calls, 1);
    /* A destroyed cache refuses work without touching the returned pages. */
    CHECK(slab_alloc(&c) == NULL);
    CHECK_EQ(slab_free(&c, p), ERR_INVAL);
    CHECK_EQ(slab_cache_destroy(&c), 0);
    CHECK_EQ(tb.bad_frees, 0);
}
