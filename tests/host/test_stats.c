/* Host tests for bench/libbench/stats.c: exact statistics on hand-computed data, the nearest-rank
 * percentile edges, sorting against qsort, and the 128-bit helpers against the compiler's
 * unsigned __int128 (fine here on the host; the library itself must not need libgcc). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "libbench/stats.h"

typedef unsigned __int128 u128;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: fixed seed, so every run checks the same data. */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static u128 to128(struct lb_u128 x)
{
    return ((u128)x.hi << 64) | x.lo;
}

static struct lb_u128 from128(u128 x)
{
    return (struct lb_u128){(uint64_t)(x >> 64), (uint64_t)x};
}

static void stats_of(const uint64_t *src, size_t n, struct lb_stats *st)
{
    uint64_t *v = malloc((n ? n : 1) * sizeof(*v));
    memcpy(v, src, n * sizeof(*v));
    lb_stats_compute(v, n, st);
    free(v);
}

TEST(stats_empty)
{
    struct lb_stats st;
    uint64_t dummy = 5;
    memset(&st, 0xff, sizeof(st));
    lb_stats_compute(&dummy, 0, &st);
    CHECK_EQ(st.n, 0);
    CHECK_EQ(st.min, 0);
    CHECK_EQ(st.max, 0);
    CHECK_EQ(st.mean_milli, 0);
    CHECK_EQ(st.stddev_milli, 0);
    CHECK_EQ(st.median, 0);
    CHECK_EQ(st.p999, 0);
    CHECK_EQ(dummy, 5);
}

TEST(stats_single)
{
    uint64_t v[] = {42};
    struct lb_stats st;
    stats_of(v, 1, &st);
    CHECK_EQ(st.n, 1);
    CHECK_EQ(st.min, 42);
    CHECK_EQ(st.max, 42);
    CHECK_EQ(st.mean, 42);
    CHECK_EQ(st.mean_milli, 42000);
    CHECK_EQ(st.stddev_milli, 0);
    CHECK_EQ(st.median, 42);
    CHECK_EQ(st.p90, 42);
    CHECK_EQ(st.p99, 42);
    CHECK_EQ(st.p999, 42);
}

TEST(stats_two)
{
    uint64_t v[] = {7, 3};
    struct lb_stats st;
    stats_of(v, 2, &st);
    CHECK_EQ(st.min, 3);
    CHECK_EQ(st.max, 7);
    CHECK_EQ(st.mean, 5);
    CHECK_EQ(st.mean_milli, 5000);
    CHECK_EQ(st.median, 3); /* rank ceil(0.5 * 2) = 1: the lower middle */
    CHECK_EQ(st.p90, 7);    /* rank ceil(1.8) = 2 */
    CHECK_EQ(st.p99, 7);
    CHECK_EQ(st.p999, 7);
    CHECK_EQ(st.stddev_milli, 2828); /* sqrt(8) */
}

TEST(stats_all_equal)
{
    static uint64_t v[1000];
    struct lb_stats st;
    for (size_t i = 0; i < 1000; i++)
        v[i] = 17;
    lb_stats_compute(v, 1000, &st);
    CHECK_EQ(st.min, 17);
    CHECK_EQ(st.max, 17);
    CHECK_EQ(st.mean_milli, 17000);
    CHECK_EQ(st.median, 17);
    CHECK_EQ(st.p999, 17);
    CHECK_EQ(st.stddev_milli, 0);
}

TEST(stats_one_to_ten)
{
    uint64_t v[] = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5};
    struct lb_stats st;
    stats_of(v, 10, &st);
    CHECK_EQ(st.mean, 5);
    CHECK_EQ(st.mean_milli, 5500);
    CHECK_EQ(st.median, 5); /* rank 5 */
    CHECK_EQ(st.p90, 9);    /* rank 9 */
    CHECK_EQ(st.p99, 10);   /* rank ceil(9.9) = 10 */
    CHECK_EQ(st.p999, 10);
    CHECK_EQ(st.stddev_milli, 3027); /* sqrt(110 / 12) = 3.02765 */
}

TEST(stats_one_to_thousand_shuffled)
{
    static uint64_t v[1000];
    struct lb_stats st;
    for (size_t i = 0; i < 1000; i++)
        v[i] = i + 1;
    for (size_t i = 999; i > 0; i--) {
        size_t k = rng() % (i + 1);
        uint64_t t = v[i];
        v[i] = v[k];
        v[k] = t;
    }
    lb_stats_compute(v, 1000, &st);
    CHECK_EQ(st.min, 1);
    CHECK_EQ(st.max, 1000);
    CHECK_EQ(st.mean, 500);
    CHECK_EQ(st.mean_milli, 500500);
    CHECK_EQ(st.median, 500);
    CHECK_EQ(st.p90, 900);
    CHECK_EQ(st.p99, 990);
    CHECK_EQ(st.p999, 999);
    CHECK_EQ(st.stddev_milli, 288819); /* sqrt(1000 * 1001 / 12) */
    for (size_t i = 0; i < 1000; i++)
        CHECK_EQ(v[i], i + 1); /* sorted in place */
}

/* Means that are not whole ticks: the correction for deviating from floor(mean) matters. */
TEST(stats_fractional_mean)
{
    uint64_t a[] = {1, 2}, b[] = {1, 2, 2}, c[] = {5, 5, 5, 6};
    struct lb_stats st;
    stats_of(a, 2, &st);
    CHECK_EQ(st.mean_milli, 1500);
    CHECK_EQ(st.stddev_milli, 707);
    stats_of(b, 3, &st);
    CHECK_EQ(st.mean, 1);
    CHECK_EQ(st.mean_milli, 1666);
    CHECK_EQ(st.stddev_milli, 577); /* sqrt(1/3) */
    stats_of(c, 4, &st);
    CHECK_EQ(st.mean_milli, 5250);
    CHECK_EQ(st.stddev_milli, 500);
}

TEST(stats_moments_keep_order)
{
    uint64_t v[] = {9, 1, 5};
    struct lb_stats st;
    lb_stats_moments(v, 3, &st);
    CHECK_EQ(st.min, 1);
    CHECK_EQ(st.max, 9);
    CHECK_EQ(st.mean_milli, 5000);
    CHECK_EQ(st.median, 0);
    CHECK_EQ(v[0], 9);
    CHECK_EQ(v[1], 1);
    CHECK_EQ(v[2], 5);
}

/* Sums overflow 64 bits here; the integer results must still be exact. */
TEST(stats_huge_values)
{
    const uint64_t h = UINT64_MAX / 2;
    uint64_t v[] = {h + 1, h - 1, h};
    struct lb_stats st;
    stats_of(v, 3, &st);
    CHECK(st.min == h - 1);
    CHECK(st.max == h + 1);
    CHECK(st.mean == h);
    CHECK(st.median == h);
    CHECK(st.p999 == h + 1);
    CHECK(st.mean_milli == UINT64_MAX); /* saturates, documented */
    CHECK_EQ(st.stddev_milli, 1000);

    static uint64_t many[4096];
    for (size_t i = 0; i < 4096; i++)
        many[i] = h + (i & 1);
    lb_stats_compute(many, 4096, &st);
    CHECK(st.mean == h);
    CHECK(st.median == h);
    CHECK(st.p90 == h + 1);
    /* n = 4096, half h, half h + 1: s = sqrt(4096 * 0.25 / 4095) = 0.500061 */
    CHECK_EQ(st.stddev_milli, 500);

    uint64_t w[] = {0, UINT64_MAX};
    stats_of(w, 2, &st);
    CHECK(st.mean == UINT64_MAX / 2);
    CHECK_EQ(st.median, 0);
    CHECK(st.p90 == UINT64_MAX);
    CHECK(st.stddev_milli == UINT64_MAX);
}

TEST(stats_wide_spread)
{
    uint64_t a[] = {0, (uint64_t)1 << 40}, b[] = {(uint64_t)1 << 52, 0};
    struct lb_stats st;
    stats_of(a, 2, &st); /* still in the exact range */
    CHECK(st.stddev_milli == 777472127993868u);
    stats_of(b, 2, &st); /* past it: deviations lose a low bit */
    uint64_t exact = 3184525836262886282u;
    CHECK(st.stddev_milli + 2 >= exact && st.stddev_milli <= exact + 2);
}

/* Against an exact reference on random data: floor(sqrt(1e6 * (n*sum(x^2) - sum(x)^2) /
 * (n * (n - 1)))), all in 128 bits. */
TEST(stats_stddev_random)
{
    static uint64_t v[3000];
    for (int round = 0; round < 40; round++) {
        size_t n = 2 + rng() % 3000;
        unsigned shift = 64 - (unsigned)(rng() % 22 + 1); /* values below 2^1 .. 2^22 */
        u128 s1 = 0, s2 = 0;
        for (size_t i = 0; i < n; i++) {
            v[i] = rng() >> shift;
            s1 += v[i];
            s2 += (u128)v[i] * v[i];
        }
        u128 var = (n * s2 - s1 * s1) * 1000000 / ((u128)n * (n - 1));
        uint64_t want = (uint64_t)lb_isqrt128(from128(var));
        struct lb_stats st;
        lb_stats_compute(v, n, &st);
        CHECK(st.stddev_milli == want);
        CHECK(st.mean_milli == (uint64_t)(s1 * 1000 / n));
    }
}

TEST(percentile_nearest_rank)
{
    uint64_t one[] = {8};
    CHECK_EQ(lb_percentile(one, 1, 0), 8);
    CHECK_EQ(lb_percentile(one, 1, 500), 8);
    CHECK_EQ(lb_percentile(one, 1, 1000), 8);
    CHECK_EQ(lb_percentile(one, 0, 500), 0);

    uint64_t four[] = {10, 20, 30, 40};
    CHECK_EQ(lb_percentile(four, 4, 0), 10);   /* rank 0 is taken as 1 */
    CHECK_EQ(lb_percentile(four, 4, 250), 10); /* rank 1 exactly */
    CHECK_EQ(lb_percentile(four, 4, 251), 20); /* just past: rank 2 */
    CHECK_EQ(lb_percentile(four, 4, 500), 20); /* lower middle */
    CHECK_EQ(lb_percentile(four, 4, 750), 30);
    CHECK_EQ(lb_percentile(four, 4, 751), 40);
    CHECK_EQ(lb_percentile(four, 4, 1000), 40);
    CHECK_EQ(lb_percentile(four, 4, 5000), 40); /* clamped */

    static uint64_t v[1001];
    for (size_t i = 0; i < 1001; i++)
        v[i] = i + 1;
    CHECK_EQ(lb_percentile(v, 1000, 999), 999);  /* rank 999 exactly */
    CHECK_EQ(lb_percentile(v, 1001, 999), 1000); /* rank ceil(999.999) */
    CHECK_EQ(lb_percentile(v, 1001, 500), 501);
    CHECK_EQ(lb_percentile(v, 3, 500), 2);
}

static void check_sorted_like_qsort(uint64_t *v, size_t n)
{
    uint64_t *ref = malloc((n ? n : 1) * sizeof(*ref));
    memcpy(ref, v, n * sizeof(*v));
    qsort(ref, n, sizeof(*ref), cmp_u64);
    lb_sort_u64(v, n);
    int same = memcmp(ref, v, n * sizeof(*v)) == 0;
    free(ref);
    CHECK(same);
}

TEST(sort_against_qsort)
{
    static uint64_t v[20000];
    for (size_t n = 0; n < 200; n++) {
        for (size_t i = 0; i < n; i++)
            v[i] = rng();
        check_sorted_like_qsort(v, n);
        if (check_failed())
            return;
    }
    for (size_t i = 0; i < 20000; i++)
        v[i] = rng() % 7; /* many duplicates */
    check_sorted_like_qsort(v, 20000);
    for (size_t i = 0; i < 20000; i++)
        v[i] = rng() | ((uint64_t)1 << 63); /* top bit set: unsigned compare */
    check_sorted_like_qsort(v, 20000);
    for (size_t i = 0; i < 20000; i++)
        v[i] = 20000 - i; /* reversed */
    check_sorted_like_qsort(v, 20000);
    check_sorted_like_qsort(v, 20000); /* already sorted */
    for (size_t i = 0; i < 20000; i++)
        v[i] = UINT64_MAX;
    check_sorted_like_qsort(v, 20000);
}

TEST(mul_div)
{
    CHECK_EQ(lb_mul_div(10, 3, 4), 7);
    CHECK_EQ(lb_mul_div(0, 5, 3), 0);
    CHECK(lb_mul_div(UINT64_MAX, UINT64_MAX, UINT64_MAX) == UINT64_MAX);
    CHECK(lb_mul_div(UINT64_MAX, 2, 2) == UINT64_MAX);
    CHECK(lb_mul_div((uint64_t)1 << 63, 4, 2) == UINT64_MAX); /* 2^64: does not fit */
    CHECK(lb_mul_div(5, 5, 0) == UINT64_MAX);
    CHECK(lb_mul_div(1000000000000000000u, 1000000000u, 3000000000u) == 333333333333333333u);
    for (int i = 0; i < 100000; i++) {
        uint64_t a = rng() >> (rng() % 64), b = rng() >> (rng() % 64);
        uint64_t c = (rng() >> (rng() % 64)) | 1;
        u128 q = (u128)a * b / c;
        uint64_t want = q >> 64 ? UINT64_MAX : (uint64_t)q;
        CHECK(lb_mul_div(a, b, c) == want);
    }
}

TEST(u128_helpers)
{
    for (int i = 0; i < 100000; i++) {
        uint64_t a = rng() >> (rng() % 64), b = rng() >> (rng() % 64);
        CHECK(to128(lb_mul64(a, b)) == (u128)a * b);
        u128 x = ((u128)rng() << 64 | rng()) >> (rng() % 128);
        uint64_t d = (rng() >> (rng() % 64)) | (i & 1), r;
        if (d == 0)
            d = 1;
        CHECK(to128(lb_div128(from128(x), d, &r)) == x / d);
        CHECK(r == x % d);
        uint64_t s = lb_isqrt128(from128(x));
        CHECK((u128)s * s <= x);
        CHECK(s == UINT64_MAX || (u128)(s + 1) * (s + 1) > x);
    }
    CHECK(lb_isqrt128((struct lb_u128){UINT64_MAX, UINT64_MAX}) == UINT64_MAX);
    CHECK(lb_isqrt128((struct lb_u128){0, 0}) == 0);
    CHECK(lb_div128((struct lb_u128){UINT64_MAX, UINT64_MAX}, UINT64_MAX, NULL).hi == 1);
}
