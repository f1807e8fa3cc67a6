/* Host tests for kernel/mm/buddy.c: edge cases, error paths that must change nothing, holes and
 * unaligned zones against a naive reference, and a randomized stress run with a shadow model. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/err.h"
#include "mm/buddy.h"

struct zone_fixture {
    struct buddy_zone z;
    void *meta;
    size_t meta_bytes;
};

static int fixture_init(struct zone_fixture *fx, uint64_t base, uint64_t n)
{
    fx->meta_bytes = buddy_meta_bytes(n);
    fx->meta = malloc(fx->meta_bytes);
    if (!fx->meta)
        return ERR_NOMEM;
    return buddy_init(&fx->z, base, n, fx->meta, fx->meta_bytes);
}

static void fixture_fini(struct zone_fixture *fx)
{
    free(fx->meta);
    fx->meta = NULL;
}

/* Everything a failed operation must leave untouched. */
struct snapshot {
    struct buddy_zone z;
    void *meta;
};

static void snap_take(struct snapshot *s, const struct zone_fixture *fx)
{
    s->z = fx->z;
    s->meta = malloc(fx->meta_bytes);
    memcpy(s->meta, fx->meta, fx->meta_bytes);
}

static bool snap_same(struct snapshot *s, const struct zone_fixture *fx)
{
    bool same = memcmp(&s->z, &fx->z, sizeof(s->z)) == 0 &&
                memcmp(s->meta, fx->meta, fx->meta_bytes) == 0;
    free(s->meta);
    s->meta = NULL;
    return same;
}

/* Reference for the fully coalesced state: top-down, count every aligned block that lies in the
 * zone, is entirely free and is not part of a larger such block. */
static void expected_blocks(uint64_t base, uint64_t n, const bool *free_frame,
                            uint64_t out[BUDDY_MAX_ORDER + 1])
{
    bool *covered = calloc(n, 1);
    for (int k = BUDDY_MAX_ORDER; k >= 0; k--) {
        uint64_t size = (uint64_t)1 << k;
        uint64_t p = (base + size - 1) & ~(size - 1);
        out[k] = 0;
        for (; p + size <= base + n; p += size) {
            uint64_t i = p - base;
            bool all = true;
            for (uint64_t j = 0; j < size && all; j++)
                all = free_frame[i + j] && !covered[i + j];
            if (!all)
                continue;
            out[k]++;
            for (uint64_t j = 0; j < size; j++)
                covered[i + j] = true;
        }
    }
    free(covered);
}

static bool blocks_match(const struct buddy_zone *z, const uint64_t exp[BUDDY_MAX_ORDER + 1])
{
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++)
        if (buddy_free_blocks(z, k) != exp[k])
            return false;
    return true;
}

TEST(buddy_init_errors)
{
    static struct buddy_frame meta[64];
    struct buddy_zone z;

    CHECK_EQ(buddy_meta_bytes(64), 64 * sizeof(struct buddy_frame));
    CHECK_EQ(buddy_meta_bytes(BUDDY_MAX_FRAMES + 1), (long long)SIZE_MAX);
    CHECK_EQ(buddy_init(&z, 0, 0, meta, sizeof(meta)), ERR_INVAL);
    CHECK_EQ(buddy_init(&z, 0, 65, meta, sizeof(meta)), ERR_INVAL);
    CHECK_EQ(buddy_init(&z, 0, 64, NULL, sizeof(meta)), ERR_INVAL);
    CHECK_EQ(buddy_init(&z, 0, 64, (char *)meta + 1, sizeof(meta) - 4), ERR_INVAL);
    CHECK_EQ(buddy_init(&z, 0, BUDDY_MAX_FRAMES + 1, meta, SIZE_MAX), ERR_INVAL);
    CHECK_EQ(buddy_init(&z, UINT64_MAX - 10, 64, meta, sizeof(meta)), ERR_INVAL);
    CHECK_EQ(buddy_init(&z, 100, 64, meta, sizeof(meta)), 0);
    CHECK_EQ(buddy_free_frames(&z), 0);
    CHECK_EQ(buddy_check(&z), 0);
    uint64_t pfn;
    CHECK_EQ(buddy_alloc(&z, 0, &pfn), ERR_NOMEM);  /* all frames start reserved */
    CHECK_EQ(buddy_free(&z, 100, 0), ERR_INVAL);    /* reserved frame */
}

TEST(buddy_add_range_errors)
{
    struct zone_fixture fx;
    CHECK_EQ(fixture_init(&fx, 1000, 256), 0);
    CHECK_EQ(buddy_add_free_range(&fx.z, 999, 2), ERR_INVAL);
    CHECK_EQ(buddy_add_free_range(&fx.z, 1200, 57), ERR_INVAL);
    CHECK_EQ(buddy_add_free_range(&fx.z, 1256, 1), ERR_INVAL);
    CHECK_EQ(buddy_add_free_range(&fx.z, 1001, UINT64_MAX), ERR_INVAL);
    CHECK_EQ(buddy_add_free_range(&fx.z, 5000, 0), 0);
    CHECK_EQ(buddy_add_free_range(&fx.z, 1010, 20), 0);
    CHECK_EQ(buddy_free_frames(&fx.z), 20);

    struct snapshot s;
    snap_take(&s, &fx);
    CHECK_EQ(buddy_add_free_range(&fx.z, 1000, 11), ERR_INVAL);  /* last frame overlaps */
    CHECK_EQ(buddy_add_free_range(&fx.z, 1029, 5), ERR_INVAL);   /* first frame overlaps */
    CHECK_EQ(buddy_add_free_range(&fx.z, 1015, 1), ERR_INVAL);
    CHECK(snap_same(&s, &fx));
    uint64_t pfn;
    CHECK_EQ(buddy_alloc(&fx.z, 0, &pfn), 0);
    CHECK_EQ(buddy_add_free_range(&fx.z, pfn, 1), ERR_INVAL);    /* allocated frame */
    CHECK_EQ(buddy_check(&fx.z), 0);
    CHECK_EQ(buddy_add_free_range(&fx.z, 1000, 10), 0);
    CHECK_EQ(buddy_add_free_range(&fx.z, 1030, 226), 0);
    CHECK_EQ(buddy_free(&fx.z, pfn, 0), 0);
    /* 1000..1255 fully free: 1000+8, 1008+16, 1024+128, 1152+64, 1216+32, 1248+8. */
    CHECK_EQ(buddy_free_frames(&fx.z), 256);
    CHECK_EQ(buddy_free_blocks(&fx.z, 3), 2);
    CHECK_EQ(buddy_free_blocks(&fx.z, 4), 1);
    CHECK_EQ(buddy_free_blocks(&fx.z, 5), 1);
    CHECK_EQ(buddy_free_blocks(&fx.z, 6), 1);
    CHECK_EQ(buddy_free_blocks(&fx.z, 7), 1);
    CHECK_EQ(buddy_check(&fx.z), 0);
    fixture_fini(&fx);
}

TEST(buddy_split_and_merge)
{
    struct zone_fixture fx;
    uint64_t pfn;
    CHECK_EQ(fixture_init(&fx, 0, 1024), 0);
    CHECK_EQ(buddy_add_free_range(&fx.z, 0, 1024), 0);
    CHECK_EQ(buddy_free_blocks(&fx.z, BUDDY_MAX_ORDER), 1);
    CHECK_EQ(buddy_alloc(&fx.z, BUDDY_MAX_ORDER + 1, &pfn), ERR_INVAL);
    CHECK_EQ(buddy_alloc(&fx.z, 0, NULL), ERR_INVAL);

    CHECK_EQ(buddy_alloc(&fx.z, 0, &pfn), 0);
    CHECK_EQ(pfn, 0);
    /* Splitting one 2^10 block down to order 0 leaves one free block of every lower order. */
    for (unsigned k = 0; k < BUDDY_MAX_ORDER; k++)
        CHECK_EQ(buddy_free_blocks(&fx.z, k), 1);
    CHECK_EQ(buddy_free_blocks(&fx.z, BUDDY_MAX_ORDER), 0);
    CHECK_EQ(buddy_free_blocks(&fx.z, BUDDY_MAX_ORDER + 1), 0);
    CHECK_EQ(buddy_free_frames(&fx.z), 1023);
    CHECK_EQ(buddy_check(&fx.z), 0);

    uint64_t p3;
    CHECK_EQ(buddy_alloc(&fx.z, 3, &p3), 0);
    CHECK_EQ(p3 % 8, 0);
    CHECK_EQ(p3, 8);  /* the free order-3 block left by the first split */
    CHECK_EQ(buddy_alloc(&fx.z, BUDDY_MAX_ORDER, &pfn), ERR_NOMEM);
    CHECK_EQ(buddy_free(&fx.z, 0, 0), 0);
    CHECK_EQ(buddy_free(&fx.z, p3, 3), 0);
    CHECK_EQ(buddy_free_blocks(&fx.z, BUDDY_MAX_ORDER), 1);
    CHECK_EQ(buddy_free_frames(&fx.z), 1024);
    CHECK_EQ(buddy_check(&fx.z), 0);
    CHECK_EQ(buddy_alloc(&fx.z, BUDDY_MAX_ORDER, &pfn), 0);
    CHECK_EQ(pfn, 0);
    CHECK_EQ(buddy_free_frames(&fx.z), 0);
    CHECK_EQ(buddy_alloc(&fx.z, 0, &pfn), ERR_NOMEM);
    fixture_fini(&fx);
}

TEST(buddy_exhaust_and_coalesce)
{
    enum { N = 4096 };
    struct zone_fixture fx;
    static uint64_t pfns[N];
    static bool seen[N];
    uint64_t pfn;

    CHECK_EQ(fixture_init(&fx, 0x40000, N), 0);
    CHECK_EQ(buddy_add_free_range(&fx.z, 0x40000, N), 0);
    CHECK_EQ(buddy_free_blocks(&fx.z, BUDDY_MAX_ORDER), N >> BUDDY_MAX_ORDER);
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < N; i++) {
        CHECK_EQ(buddy_alloc(&fx.z, 0, &pfns[i]), 0);
        CHECK(pfns[i] >= 0x40000 && pfns[i] < 0x40000 + N);
        CHECK(!seen[pfns[i] - 0x40000]);
        seen[pfns[i] - 0x40000] = true;
    }
    CHECK_EQ(buddy_free_frames(&fx.z), 0);
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++)
        CHECK_EQ(buddy_alloc(&fx.z, k, &pfn), ERR_NOMEM);
    CHECK_EQ(buddy_check(&fx.z), 0);

    /* Free in a scrambled order so merges happen in every direction. */
    for (int i = 0; i < N; i++) {
        int j = (int)(((uint64_t)i * 2654435761u) % N);  /* odd multiplier: a permutation */
        CHECK_EQ(buddy_free(&fx.z, pfns[j], 0), 0);
    }
    CHECK_EQ(buddy_free_frames(&fx.z), N);
    CHECK_EQ(buddy_free_blocks(&fx.z, BUDDY_MAX_ORDER), N >> BUDDY_MAX_ORDER);
    for (unsigned k = 0; k < BUDDY_MAX_ORDER; k++)
        CHECK_EQ(buddy_free_blocks(&fx.z, k), 0);
    CHECK_EQ(buddy_check(&fx.z), 0);
    fixture_fini(&fx);
}

TEST(buddy_double_free)
{
    struct zone_fixture fx;
    struct snapshot s;
    uint64_t a, b, c;

    CHECK_EQ(fixture_init(&fx, 0, 64), 0);
    CHECK_EQ(buddy_add_free_range(&fx.z, 0, 64), 0);
    CHECK_EQ(buddy_alloc(&fx.z, 2, &a), 0);
    CHECK_EQ(buddy_alloc(&fx.z, 2, &b), 0);
    CHECK_EQ(buddy_alloc(&fx.z, 0, &c), 0);

    /* b's buddy a is still allocated: b stays a free order-2 head. */
    CHECK_EQ(buddy_free(&fx.z, b, 2), 0);
    snap_take(&s, &fx);
    CHECK_EQ(buddy_free(&fx.z, b, 2), ERR_ALREADY);
    CHECK_EQ(buddy_free(&fx.z, b, 0), ERR_ALREADY);
    CHECK_EQ(buddy_free(&fx.z, b + 1, 0), ERR_ALREADY);  /* a frame of a free block */
    CHECK(snap_same(&s, &fx));
    CHECK_EQ(buddy_check(&fx.z), 0);

    /* After a frees too, a and b merge; freeing b again finds it inside a free block. */
    CHECK_EQ(buddy_free(&fx.z, a, 2), 0);
    uint64_t free_before = buddy_free_frames(&fx.z);
    snap_take(&s, &fx);
    CHECK_EQ(buddy_free(&fx.z, b, 2), ERR_ALREADY);
    CHECK_EQ(buddy_free(&fx.z, a, 2), ERR_ALREADY);
    CHECK(snap_same(&s, &fx));
    CHECK_EQ(buddy_free_frames(&fx.z), free_before);
    CHECK_EQ(buddy_check(&fx.z), 0);

    CHECK_EQ(buddy_free(&fx.z, c, 0), 0);
    CHECK_EQ(buddy_free(&fx.z, c, 0), ERR_ALREADY);
    CHECK_EQ(buddy_free_frames(&fx.z), 64);
    CHECK_EQ(buddy_free_blocks(&fx.z, 6), 1);
    CHECK_EQ(buddy_check(&fx.z), 0);
    fixture_fini(&fx);
}

TEST(buddy_invalid_free)
{
    struct zone_fixture fx;
    struct snapshot s;
    uint64_t a, b;

    CHECK_EQ(fixture_init(&fx, 0x100, 128), 0);
    CHECK_EQ(buddy_add_free_range(&fx.z, 0x100, 120), 0);  /* last 8 frames reserved */
    CHECK_EQ(buddy_alloc(&fx.z, 3, &a), 0);
    CHECK_EQ(buddy_alloc(&fx.z, 0, &b), 0);
    snap_take(&s, &fx);
    CHECK_EQ(buddy_free(&fx.z, a + 1, 0), ERR_INVAL);     /* tail of an allocated block */
    CHECK_EQ(buddy_free(&fx.z, a + 4, 2), ERR_INVAL);     /* aligned tail */
    CHECK_EQ(buddy_free(&fx.z, a, 2), ERR_INVAL);         /* smaller order */
    CHECK_EQ(buddy_free(&fx.z, a, 4), ERR_INVAL);         /* larger order */
    CHECK_EQ(buddy_free(&fx.z, a + 1, 3), ERR_INVAL);     /* misaligned */
    CHECK_EQ(buddy_free(&fx.z, b, BUDDY_MAX_ORDER + 1), ERR_INVAL);
    CHECK_EQ(buddy_free(&fx.z, 0xff, 0), ERR_INVAL);      /* below the zone */
    CHECK_EQ(buddy_free(&fx.z, 0x180, 0), ERR_INVAL);     /* just past the zone */
    CHECK_EQ(buddy_free(&fx.z, 0x178, 0), ERR_INVAL);     /* reserved */
    CHECK_EQ(buddy_free(&fx.z, UINT64_MAX, 0), ERR_INVAL);
    CHECK(snap_same(&s, &fx));
    CHECK_EQ(buddy_check(&fx.z), 0);
    CHECK_EQ(buddy_free(&fx.z, a, 3), 0);
    CHECK_EQ(buddy_free(&fx.z, b, 0), 0);
    CHECK_EQ(buddy_free_frames(&fx.z), 120);
    CHECK_EQ(buddy_check(&fx.z), 0);
    fixture_fini(&fx);
}

TEST(buddy_fragmentation)
{
    enum { N = 2048 };
    struct zone_fixture fx;
    static uint64_t pfns[N];
    uint64_t pfn;

    CHECK_EQ(fixture_init(&fx, 0, N), 0);
    CHECK_EQ(buddy_add_free_range(&fx.z, 0, N), 0);
    for (int i = 0; i < N; i++)
        CHECK_EQ(buddy_alloc(&fx.z, 0, &pfns[i]), 0);
    for (uint64_t i = 0; i < N; i++) {
        /* Free the frames with an even pfn: no two free frames are buddies. */
        if (pfns[i] % 2 == 0)
            CHECK_EQ(buddy_free(&fx.z, pfns[i], 0), 0);
    }
    CHECK_EQ(buddy_free_frames(&fx.z), N / 2);
    CHECK_EQ(buddy_free_blocks(&fx.z, 0), N / 2);
    for (unsigned k = 1; k <= BUDDY_MAX_ORDER; k++)
        CHECK_EQ(buddy_alloc(&fx.z, k, &pfn), ERR_NOMEM);
    CHECK_EQ(buddy_check(&fx.z), 0);
    for (uint64_t i = 0; i < N; i++)
        if (pfns[i] % 2 == 1)
            CHECK_EQ(buddy_free(&fx.z, pfns[i], 0), 0);
    CHECK_EQ(buddy_free_frames(&fx.z), N);
    CHECK_EQ(buddy_free_blocks(&fx.z, BUDDY_MAX_ORDER), N >> BUDDY_MAX_ORDER);
    CHECK_EQ(buddy_free_blocks(&fx.z, 0), 0);
    CHECK_EQ(buddy_check(&fx.z), 0);
    fixture_fini(&fx);
}

/* Adds ranges, checks the coalesced layout against the reference, then allocates every frame
 * in order-0 steps (all must be usable ones) and frees them back. */
static void check_layout(uint64_t base, uint64_t n, const uint64_t (*ranges)[2], int nranges)
{
    struct zone_fixture fx;
    bool *usable = calloc(n, 1);
    bool *taken = calloc(n, 1);
    uint64_t *pfns = calloc(n, sizeof(*pfns));
    uint64_t exp[BUDDY_MAX_ORDER + 1], total = 0, got = 0, pfn;

    CHECK_EQ(fixture_init(&fx, base, n), 0);
    for (int r = 0; r < nranges; r++) {
        CHECK_EQ(buddy_add_free_range(&fx.z, ranges[r][0], ranges[r][1]), 0);
        CHECK_EQ(buddy_check(&fx.z), 0);
        for (uint64_t i = 0; i < ranges[r][1]; i++)
            usable[ranges[r][0] - base + i] = true;
        total += ranges[r][1];
    }
    CHECK_EQ(buddy_free_frames(&fx.z), total);
    expected_blocks(base, n, usable, exp);
    CHECK(blocks_match(&fx.z, exp));

    while (buddy_alloc(&fx.z, 0, &pfn) == 0) {
        CHECK(pfn >= base && pfn < base + n);
        CHECK(usable[pfn - base] && !taken[pfn - base]);
        taken[pfn - base] = true;
        pfns[got++] = pfn;
    }
    CHECK_EQ(got, total);
    for (uint64_t i = 0; i < got; i++)
        CHECK_EQ(buddy_free(&fx.z, pfns[i], 0), 0);
    CHECK(blocks_match(&fx.z, exp));
    CHECK_EQ(buddy_check(&fx.z), 0);

    /* Every larger block handed out must be aligned and entirely usable. */
    for (int k = BUDDY_MAX_ORDER; k >= 0; k--) {
        while (buddy_alloc(&fx.z, (unsigned)k, &pfn) == 0) {
            CHECK_EQ(pfn & (((uint64_t)1 << k) - 1), 0);
            for (uint64_t j = 0; j < ((uint64_t)1 << k); j++)
                CHECK(usable[pfn - base + j]);
        }
    }
    CHECK_EQ(buddy_free_frames(&fx.z), 0);
    CHECK_EQ(buddy_check(&fx.z), 0);
    fixture_fini(&fx);
    free(usable);
    free(taken);
    free(pfns);
}

TEST(buddy_holes)
{
    static const uint64_t ranges[][2] = {
        {0, 100}, {160, 1000}, {1160, 1}, {1162, 3000}, {4200, 296},
    };
    check_layout(0, 4496, ranges, 5);
    if (check_failed())
        return;
    /* Ranges that touch merge across the boundary between add calls. */
    static const uint64_t touching[][2] = {{512, 512}, {0, 300}, {300, 212}, {1024, 1024}};
    check_layout(0, 2048, touching, 4);
    if (check_failed())
        return;
    struct zone_fixture fx;
    CHECK_EQ(fixture_init(&fx, 0, 2048), 0);
    for (int r = 0; r < 4; r++)
        CHECK_EQ(buddy_add_free_range(&fx.z, touching[r][0], touching[r][1]), 0);
    CHECK_EQ(buddy_free_blocks(&fx.z, BUDDY_MAX_ORDER), 2);
    CHECK_EQ(buddy_free_frames(&fx.z), 2048);
    fixture_fini(&fx);
}

TEST(buddy_unaligned_zone)
{
    /* Zone starting 3 frames past a 4 MiB boundary and ending mid-block; buddies of the edge
     * blocks lie outside the zone and must never be touched. */
    static const uint64_t whole[][2] = {{0x100003, 5000}};
    check_layout(0x100003, 5000, whole, 1);
    if (check_failed())
        return;
    static const uint64_t holes[][2] = {{0x7ff, 2}, {0x802, 1500}, {0x1000, 77}};
    check_layout(0x7ff, 0x1000 + 77 - 0x7ff, holes, 3);
    if (check_failed())
        return;

    struct zone_fixture fx;
    uint64_t pfn;
    CHECK_EQ(fixture_init(&fx, 0x100003, 5000), 0);
    CHECK_EQ(buddy_add_free_range(&fx.z, 0x100003, 5000), 0);
    /* The zone ends at 0x10138b: single frames at both edges, 0x100004 heads an order 2. */
    CHECK_EQ(buddy_free_blocks(&fx.z, 0), 2);
    CHECK_EQ(buddy_free_blocks(&fx.z, 2), 1);
    uint64_t other;
    CHECK_EQ(buddy_alloc(&fx.z, 0, &pfn), 0);
    CHECK_EQ(buddy_alloc(&fx.z, 0, &other), 0);
    CHECK_EQ(pfn + other, 0x100003 + 0x10138a);
    CHECK_EQ(buddy_free(&fx.z, pfn, 0), 0);
    CHECK_EQ(buddy_free(&fx.z, other, 0), 0);
    CHECK_EQ(buddy_free_blocks(&fx.z, 0), 2);
    CHECK_EQ(buddy_check(&fx.z), 0);
    fixture_fini(&fx);
}

/* xorshift64*: deterministic and independent of the libc's rand(). */
static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

struct live_block {
    uint64_t pfn;
    unsigned order;
};

TEST(buddy_stress)
{
    enum { N = 3000, OPS = 40000, BATCH = 250 };
    const uint64_t base = 0x12345;
    static const uint64_t ranges[][2] = {
        {0x12345, 700}, {0x12345 + 720, 900}, {0x12345 + 1700, 1},
        {0x12345 + 1702, 1200}, {0x12345 + 2950, 50},
    };
    struct zone_fixture fx;
    static bool usable[N];
    static int owner[N];  /* index into live[] + 1, 0 when not allocated */
    static struct live_block live[N];
    int nlive = 0;
    uint64_t usable_frames = 0, allocated = 0, exp[BUDDY_MAX_ORDER + 1];

    rng_state = 0x9e3779b97f4a7c15ull;
    memset(usable, 0, sizeof(usable));
    memset(owner, 0, sizeof(owner));
    CHECK_EQ(fixture_init(&fx, base, N), 0);
    for (int r = 0; r < 5; r++) {
        CHECK_EQ(buddy_add_free_range(&fx.z, ranges[r][0], ranges[r][1]), 0);
        for (uint64_t i = 0; i < ranges[r][1]; i++)
            usable[ranges[r][0] - base + i] = true;
        usable_frames += ranges[r][1];
    }
    expected_blocks(base, N, usable, exp);

    for (int op = 0; op < OPS; op++) {
        uint64_t r = rng();
        unsigned action = (unsigned)(r % 100);
        if (action < 50 || nlive == 0) {
            /* Small orders dominate, as in a kernel. */
            unsigned order = (unsigned)((r >> 8) % 16);
            order = order < 8 ? 0 : order < 11 ? 1 : order < 13 ? 2 : order - 10;
            uint64_t pfn;
            int rc = buddy_alloc(&fx.z, order, &pfn);
            if (rc == ERR_NOMEM)
                continue;
            CHECK_EQ(rc, 0);
            CHECK_EQ(pfn & (((uint64_t)1 << order) - 1), 0);
            CHECK(pfn >= base && pfn + ((uint64_t)1 << order) <= base + N);
            for (uint64_t j = 0; j < ((uint64_t)1 << order); j++) {
                CHECK(usable[pfn - base + j]);
                CHECK_EQ(owner[pfn - base + j], 0);  /* no two live blocks overlap */
                owner[pfn - base + j] = nlive + 1;
            }
            live[nlive].pfn = pfn;
            live[nlive].order = order;
            nlive++;
            allocated += (uint64_t)1 << order;
        } else if (action < 90) {
            int i = (int)((r >> 8) % (uint64_t)nlive);
            struct live_block blk = live[i];
            CHECK_EQ(buddy_free(&fx.z, blk.pfn, blk.order), 0);
            for (uint64_t j = 0; j < ((uint64_t)1 << blk.order); j++)
                owner[blk.pfn - base + j] = 0;
            live[i] = live[--nlive];
            if (i < nlive)
                for (uint64_t j = 0; j < ((uint64_t)1 << live[i].order); j++)
                    owner[live[i].pfn - base + j] = i + 1;
            allocated -= (uint64_t)1 << blk.order;
        } else {
            /* A bogus free whose outcome the shadow model predicts exactly. */
            uint64_t idx = (r >> 8) % N;
            int expect;
            unsigned order = 0;
            if (!usable[idx])
                expect = ERR_INVAL;
            else if (owner[idx] == 0)
                expect = ERR_ALREADY;
            else if (live[owner[idx] - 1].pfn != base + idx)
                expect = ERR_INVAL;  /* tail of a live block */
            else if (live[owner[idx] - 1].order == 0)
                continue;            /* a valid free: not what this branch is for */
            else
                expect = ERR_INVAL;  /* head with the wrong order (0) */
            uint64_t before = buddy_free_frames(&fx.z);
            CHECK_EQ(buddy_free(&fx.z, base + idx, order), expect);
            CHECK_EQ(buddy_free_frames(&fx.z), before);
        }
        CHECK_EQ(buddy_free_frames(&fx.z), usable_frames - allocated);
        if (op % BATCH == BATCH - 1)
            CHECK_EQ(buddy_check(&fx.z), 0);
    }
    CHECK(nlive > 0);
    while (nlive > 0) {
        nlive--;
        CHECK_EQ(buddy_free(&fx.z, live[nlive].pfn, live[nlive].order), 0);
    }
    CHECK_EQ(buddy_free_frames(&fx.z), usable_frames);
    CHECK(blocks_match(&fx.z, exp));
    CHECK_EQ(buddy_check(&fx.z), 0);
    fixture_fini(&fx);
}

TEST(buddy_check_detects_corruption)
{
    struct zone_fixture fx;
    struct buddy_frame *f;
    uint64_t a;

    CHECK_EQ(fixture_init(&fx, 0, 64), 0);
    CHECK_EQ(buddy_add_free_range(&fx.z, 0, 64), 0);
    CHECK_EQ(buddy_alloc(&fx.z, 0, &a), 0);
    CHECK_EQ(buddy_check(&fx.z), 0);
    f = fx.meta;

    f[1].order = 1;                       /* listed order disagrees with its list */
    CHECK_EQ(buddy_check(&fx.z), ERR_INVAL);
    f[1].order = 0;
    f[3].state = BUDDY_RESERVED;          /* hole inside a free block */
    CHECK_EQ(buddy_check(&fx.z), ERR_INVAL);
    f[3].state = BUDDY_TAIL;
    fx.z.free_frames++;
    CHECK_EQ(buddy_check(&fx.z), ERR_INVAL);
    fx.z.free_frames--;
    f[a].state = BUDDY_FREE;              /* free head missing from the lists */
    CHECK_EQ(buddy_check(&fx.z), ERR_INVAL);
    f[a].state = BUDDY_ALLOCATED;
    CHECK_EQ(buddy_check(&fx.z), 0);
    fixture_fini(&fx);
}
