/* Host tests for kernel/mm/slab.c: geometry, round trips, reuse, shrinking and a randomized
 * stress run. Each slab comes from its own aligned_alloc block, so ASan flags any access past a
 * slab; objects are written over their whole size to catch overlap. Fixtures: slab_backend.h. */
#include "slab_backend.h"

TEST(slab_order_selection)
{
    static const struct {
        size_t size, align;
        unsigned order;
        unsigned min_objs, max_objs;
    } cases[] = {
        {1, 1, 0, 400, 512},      {64, 8, 0, 60, 64},       {1000, 8, 1, 8, 8},
        {500, 8, 0, 8, 8},        {5000, 16, 4, 13, 13},    {20000, 8, 4, 3, 3},
        {60000, 8, 4, 1, 1},      {65472, 8, 4, 1, 1},      {100, 4096, 4, 15, 15},
        {4000, 4096, 4, 15, 15},  {2048, 2048, 3, 15, 15},  {256, 256, 0, 15, 15},
    };
    struct slab_backend b = tb_make(&tb, -1);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct slab_cache c;
        CHECK_EQ(slab_cache_init(&c, "order", cases[i].size, cases[i].align, &b), 0);
        CHECK_EQ(c.order, cases[i].order);
        CHECK(c.objs_per_slab >= cases[i].min_objs && c.objs_per_slab <= cases[i].max_objs);
        CHECK(c.first_off + c.objs_per_slab * c.stride <= (size_t)4096 << c.order);
        CHECK_EQ(c.first_off % cases[i].align, 0);
        CHECK_EQ(c.stride % cases[i].align, 0);
        CHECK(c.stride >= cases[i].size);
        /* Allocating the whole slab stays within one backend block. */
        void *objs[512];
        for (unsigned j = 0; j < c.objs_per_slab; j++) {
            objs[j] = slab_alloc(&c);
            CHECK(objs[j] != NULL);
            fill(objs[j], cases[i].size, j);
        }
        CHECK_EQ(c.stats.slabs_total, 1);
        for (unsigned j = 0; j < c.objs_per_slab; j++) {
            CHECK(filled(objs[j], cases[i].size, j));
            CHECK_EQ(slab_free(&c, objs[j]), 0);
        }
        CHECK_EQ(slab_cache_destroy(&c), 0);
        CHECK_EQ(tb.outstanding, 0);
    }
    CHECK_EQ(tb.bad_frees, 0);
}

TEST(slab_round_trip)
{
    struct slab_cache c;
    struct slab_backend b = tb_make(&tb, -1);
    void *objs[100];
    CHECK_EQ(slab_cache_init(&c, "rt", 40, 8, &b), 0);
    CHECK_EQ(tb.alloc_calls, 0);
    for (unsigned i = 0; i < 100; i++) {
        objs[i] = slab_alloc(&c);
        CHECK(objs[i] != NULL);
        CHECK_EQ((uintptr_t)objs[i] % 8, 0);
        fill(objs[i], 40, i);
    }
    CHECK(disjoint(objs, 100, 40));
    CHECK_EQ(c.stats.objs_in_use, 100);
    CHECK_EQ(c.stats.allocs, 100);
    CHECK_EQ(slab_check(&c), 0);
    for (unsigned i = 0; i < 100; i++)
        CHECK(filled(objs[i], 40, i));
    for (unsigned i = 0; i < 100; i += 2)
        CHECK_EQ(slab_free(&c, objs[i]), 0);
    CHECK_EQ(slab_check(&c), 0);
    for (unsigned i = 1; i < 100; i += 2)
        CHECK(filled(objs[i], 40, i));  /* frees do not disturb live neighbours */
    /* Freed objects are reused before any new slab is taken. */
    long calls = tb.alloc_calls;
    for (unsigned i = 0; i < 100; i += 2) {
        objs[i] = slab_alloc(&c);
        CHECK(objs[i] != NULL);
        fill(objs[i], 40, i);
    }
    CHECK_EQ(tb.alloc_calls, calls);
    CHECK(disjoint(objs, 100, 40));
    for (unsigned i = 0; i < 100; i++) {
        CHECK(filled(objs[i], 40, i));
        CHECK_EQ(slab_free(&c, objs[i]), 0);
    }
    CHECK_EQ(c.stats.objs_in_use, 0);
    CHECK_EQ(c.stats.frees, 150);
    CHECK_EQ(slab_check(&c), 0);
    CHECK_EQ(slab_cache_destroy(&c), 0);
    CHECK_EQ(tb.outstanding, 0);
    CHECK_EQ(tb.bad_frees, 0);
}

TEST(slab_sizes_and_alignments)
{
    static const size_t sizes[] = {1, 3, 8, 13, 24, 100, 257, 1000, 4000, 5000, 20000};
    static const size_t aligns[] = {1, 2, 8, 16, 64, 512, 4096};
    struct slab_backend b = tb_make(&tb, -1);
    static void *objs[4096];
    for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        for (size_t ai = 0; ai < sizeof(aligns) / sizeof(aligns[0]); ai++) {
            struct slab_cache c;
            size_t size = sizes[si], align = aligns[ai];
            CHECK_EQ(slab_cache_init(&c, "mix", size, align, &b), 0);
            size_t n = 3 * (size_t)c.objs_per_slab + 1;
            for (size_t i = 0; i < n; i++) {
                objs[i] = slab_alloc(&c);
                CHECK(objs[i] != NULL);
                CHECK_EQ((uintptr_t)objs[i] % align, 0);
                fill(objs[i], size, (unsigned)i);
            }
            CHECK_EQ(c.stats.slabs_total, 4);
            CHECK(disjoint(objs, n, size));
            CHECK_EQ(slab_check(&c), 0);
            for (size_t par = 1; par <= 2; par++) {  /* odd indices first, then even */
                for (size_t i = par % 2; i < n; i += 2) {
                    CHECK(filled(objs[i], size, (unsigned)i));
                    CHECK_EQ(slab_free(&c, objs[i]), 0);
                }
            }
            CHECK_EQ(c.stats.objs_in_use, 0);
            CHECK_EQ(slab_check(&c), 0);
            CHECK_EQ(slab_cache_destroy(&c), 0);
            CHECK_EQ(tb.outstanding, 0);
        }
    }
    CHECK_EQ(tb.bad_frees, 0);
}

TEST(slab_many_slabs)
{
    enum { N = 20000 };
    struct slab_cache c;
    struct slab_backend b = tb_make(&tb, -1);
    static void *objs[N];
    CHECK_EQ(slab_cache_init(&c, "many", 48, 16, &b), 0);
    for (unsigned i = 0; i < N; i++) {
        objs[i] = slab_alloc(&c);
        CHECK(objs[i] != NULL);
        CHECK_EQ((uintptr_t)objs[i] % 16, 0);
        fill(objs[i], 48, i);
    }
    CHECK(disjoint(objs, N, 48));
    uint64_t slabs = (N + c.objs_per_slab - 1) / c.objs_per_slab;
    CHECK_EQ(c.stats.slabs_total, slabs);
    CHECK_EQ(tb.outstanding, (long)(slabs << c.order));
    CHECK_EQ(slab_check(&c), 0);
    for (unsigned i = 0; i < N; i++) {
        CHECK(filled(objs[N - 1 - i], 48, N - 1 - i));
        CHECK_EQ(slab_free(&c, objs[N - 1 - i]), 0);
        if (i % 4999 == 0)
            CHECK_EQ(slab_check(&c), 0);
    }
    CHECK_EQ(c.stats.slabs_empty, slabs);
    CHECK_EQ(slab_cache_destroy(&c), 0);
    CHECK_EQ(tb.outstanding, 0);
    CHECK_EQ(tb.bad_frees, 0);
}

TEST(slab_prefers_partial)
{
    struct slab_cache c;
    struct slab_backend b = tb_make(&tb, -1);
    static void *objs[1024];
    CHECK_EQ(slab_cache_init(&c, "pref", 512, 8, &b), 0);
    unsigned n = c.objs_per_slab;
    for (unsigned i = 0; i <= n; i++)
        CHECK((objs[i] = slab_alloc(&c)) != NULL);
    CHECK_EQ(c.stats.slabs_total, 2);
    CHECK(c.full != NULL && c.partial != NULL && c.empty == NULL);
    CHECK_EQ(slab_free(&c, objs[n]), 0);  /* second slab goes empty */
    CHECK(c.empty != NULL && c.partial == NULL);
    CHECK_EQ(slab_free(&c, objs[3]), 0);  /* first slab goes partial */
    CHECK(c.partial != NULL && c.full == NULL);
    CHECK(slab_alloc(&c) == objs[3]);     /* the partial slab wins over the empty one */
    CHECK(c.full != NULL && c.empty != NULL);
    CHECK_EQ(slab_check(&c), 0);
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(slab_free(&c, objs[i]), 0);
    CHECK_EQ(slab_cache_destroy(&c), 0);
    CHECK_EQ(tb.outstanding, 0);
}

TEST(slab_shrink_returns_pages)
{
    struct slab_cache c;
    struct slab_backend b = tb_make(&tb, -1);
    static void *objs[512];
    CHECK_EQ(slab_cache_init(&c, "shrink", 1000, 8, &b), 0);
    CHECK_EQ(c.order, 1);
    unsigned n = 5 * c.objs_per_slab;
    CHECK(n <= 512);
    CHECK_EQ(slab_shrink(&c), 0);
    for (unsigned i = 0; i < n; i++)
        CHECK((objs[i] = slab_alloc(&c)) != NULL);
    CHECK_EQ(tb.outstanding, 10);
    CHECK_EQ(slab_shrink(&c), 0);  /* nothing empty */
    /* Empty two slabs entirely and one partly. */
    for (unsigned i = 0; i < 2 * c.objs_per_slab + 1; i++)
        CHECK_EQ(slab_free(&c, objs[i]), 0);
    CHECK_EQ(c.stats.slabs_empty, 2);
    CHECK_EQ(slab_shrink(&c), 4);
    CHECK_EQ(tb.outstanding, 6);
    CHECK_EQ(tb.free_calls, 2);
    CHECK_EQ(c.stats.slabs_total, 3);
    CHECK_EQ(c.stats.pages_freed, 4);
    CHECK_EQ(slab_check(&c), 0);
    for (unsigned i = 2 * c.objs_per_slab + 1; i < n; i++)
        CHECK_EQ(slab_free(&c, objs[i]), 0);
    CHECK_EQ(slab_shrink(&c), 6);
    CHECK_EQ(tb.outstanding, 0);
    CHECK_EQ(c.stats.slabs_total, 0);
    CHECK_EQ(slab_check(&c), 0);
    void *p = slab_alloc(&c);  /* the cache keeps working after a shrink */
    CHECK(p != NULL);
    CHECK_EQ(slab_free(&c, p), 0);
    CHECK_EQ(slab_cache_destroy(&c), 0);
    CHECK_EQ(tb.outstanding, 0);
    CHECK_EQ(tb.bad_frees, 0);
}

static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

TEST(slab_stress)
{
    enum { NCACHE = 3, MAXLIVE = 3000, OPS = 60000, BATCH = 500 };
    static const size_t sizes[NCACHE] = {24, 200, 3000};
    static const size_t aligns[NCACHE] = {8, 64, 16};
    static struct {
        void *p;
        int cache;
        unsigned tag;
    } live[MAXLIVE];
    struct slab_cache c[NCACHE];
    struct slab_backend b = tb_make(&tb, 200);  /* tight: out-of-memory happens */
    int nlive = 0;
    uint64_t nulls = 0;
    rng_state = 0x2545f4914f6cdd1dull;
    for (int i = 0; i < NCACHE; i++)
        CHECK_EQ(slab_cache_init(&c[i], "stress", sizes[i], aligns[i], &b), 0);
    for (unsigned op = 0; op < OPS; op++) {
        uint64_t r = rng();
        int ci = (int)((r >> 4) % NCACHE);
        if ((r % 100) < 55 && nlive < MAXLIVE) {
            void *p = slab_alloc(&c[ci]);
            if (!p) {
                nulls++;
                continue;
            }
            CHECK_EQ((uintptr_t)p % aligns[ci], 0);
            fill(p, sizes[ci], op);
            live[nlive].p = p;
            live[nlive].cache = ci;
            live[nlive].tag = op;
            nlive++;
        } else if (nlive > 0 && (r % 100) < 98) {
            int i = (int)((r >> 16) % (uint64_t)nlive);
            int lc = live[i].cache;
            /* An overlap with any other live object would have clobbered the pattern. */
            CHECK(filled(live[i].p, sizes[lc], live[i].tag));
            /* Another cache rejects it; only one with slabs no larger than this object's, as
             * aligning down further would read outside the backend block. */
            int oc = (lc + 1) % NCACHE;
            if (c[oc].order <= c[lc].order)
                CHECK_EQ(slab_free(&c[oc], live[i].p), ERR_INVAL);
            CHECK_EQ(slab_free(&c[lc], live[i].p), 0);
            CHECK_EQ(slab_free(&c[lc], live[i].p), ERR_ALREADY);
            live[i] = live[--nlive];
        } else {
            slab_shrink(&c[ci]);
        }
        if (op % BATCH == BATCH - 1) {
            uint64_t inuse = 0;
            for (int i = 0; i < NCACHE; i++) {
                CHECK_EQ(slab_check(&c[i]), 0);
                inuse += c[i].stats.objs_in_use;
            }
            CHECK_EQ(inuse, nlive);
            CHECK(tb.outstanding <= 200);
        }
    }
    CHECK(nulls > 0);  /* the budget was actually hit */
    while (nlive > 0) {
        nlive--;
        CHECK(filled(live[nlive].p, sizes[live[nlive].cache], live[nlive].tag));
        CHECK_EQ(slab_free(&c[live[nlive].cache], live[nlive].p), 0);
    }
    for (int i = 0; i < NCACHE; i++) {
        CHECK_EQ(slab_check(&c[i]), 0);
        CHECK_EQ(slab_cache_destroy(&c[i]), 0);
    }
    CHECK_EQ(tb.outstanding, 0);
    CHECK_EQ(tb.bad_frees, 0);
}
