#include "libbench/stats.h"

#include <stdbool.h>

static struct lb_u128 u128_add(struct lb_u128 a, struct lb_u128 b)
{
    struct lb_u128 r = {a.hi + b.hi, a.lo + b.lo};
    r.hi += r.lo < a.lo;
    return r;
}

static struct lb_u128 u128_sub(struct lb_u128 a, struct lb_u128 b)
{
    struct lb_u128 r = {a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo};
    return r;
}

static int u128_cmp(struct lb_u128 a, struct lb_u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

/* Split into 32-bit halves so that no partial product overflows; GCC would otherwise be free to
 * call into libgcc for a 128-bit type, and the kernel links without it. */
struct lb_u128 lb_mul64(uint64_t a, uint64_t b)
{
    const uint64_t m32 = 0xffffffffu;
    uint64_t a0 = a & m32, a1 = a >> 32, b0 = b & m32, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & m32) + (p10 & m32);
    struct lb_u128 r = {
        p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32),
        (p00 & m32) | (mid << 32),
    };
    return r;
}

/* a * b into *out; false when the product does not fit in 128 bits. */
static bool u128_mul64(struct lb_u128 a, uint64_t b, struct lb_u128 *out)
{
    struct lb_u128 lo = lb_mul64(a.lo, b), hi = lb_mul64(a.hi, b);
    if (hi.hi != 0)
        return false;
    out->lo = lo.lo;
    out->hi = lo.hi + hi.lo;
    return out->hi >= lo.hi;
}

/* The high word divides natively; the remaining 64 quotient bits come from restoring division,
 * which is slow (64 steps) but only runs a handful of times per repetition, never while timing. */
struct lb_u128 lb_div128(struct lb_u128 x, uint64_t d, uint64_t *rem)
{
    struct lb_u128 q = {x.hi / d, 0};
    uint64_t r = x.hi % d;
    if (r == 0) {
        q.lo = x.lo / d;
        r = x.lo % d;
    } else {
        for (int i = 63; i >= 0; i--) {
            /* r < d, so 2r + 1 < 2d: one conditional subtraction suffices, and the bit shifted
             * out of r is the 2^64 term that the wrapping subtraction accounts for. */
            uint64_t top = r >> 63;
            r = (r << 1) | ((x.lo >> i) & 1);
            q.lo <<= 1;
            if (top || r >= d) {
                r -= d;
                q.lo |= 1;
            }
        }
    }
    if (rem)
        *rem = r;
    return q;
}

uint64_t lb_isqrt128(struct lb_u128 x)
{
    uint64_t r = 0;
    for (int bit = 63; bit >= 0; bit--) {
        uint64_t c = r | ((uint64_t)1 << bit);
        if (u128_cmp(lb_mul64(c, c), x) <= 0)
            r = c;
    }
    return r;
}

uint64_t lb_mul_div(uint64_t a, uint64_t b, uint64_t c)
{
    if (c == 0)
        return UINT64_MAX;
    struct lb_u128 p = lb_mul64(a, b);
    if (p.hi >= c)
        return UINT64_MAX;
    return lb_div128(p, c, NULL).lo;
}

static void sift_down(uint64_t *v, size_t root, size_t n)
{
    uint64_t x = v[root];
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            break;
        if (child + 1 < n && v[child + 1] > v[child])
            child++;
        if (v[child] <= x)
            break;
        v[root] = v[child];
        root = child;
    }
    v[root] = x;
}

/* Heapsort rather than quicksort: benchmark samples are often already sorted or all equal, the
 * classic quicksort worst cases, and a kernel stack has no room for deep recursion. */
void lb_sort_u64(uint64_t *v, size_t n)
{
    if (n < 2)
        return;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(v, i, n);
    for (size_t end = n - 1; end > 0; end--) {
        uint64_t t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift_down(v, 0, end);
    }
}

uint64_t lb_percentile(const uint64_t *sorted, size_t n, unsigned permille)
{
    if (n == 0)
        return 0;
    if (permille > 1000)
        permille = 1000;
    /* ceil(n * permille / 1000) through 128 bits, so no n can overflow it. */
    struct lb_u128 x = u128_add(lb_mul64(n, permille), (struct lb_u128){0, 999});
    uint64_t rank = lb_div128(x, 1000, NULL).lo;
    if (rank == 0)
        rank = 1;
    return sorted[rank - 1];
}

static unsigned bits(uint64_t x)
{
    return x ? 64 - (unsigned)__builtin_clzll(x) : 0;
}

/* floor(1000 * sample stddev). m = floor(mean) and r = sum - n*m; deviations are taken from m so
 * that they stay integers, and the exact identity n * sum((x - mean)^2) = n * S - r^2, with
 * S = sum((x - m)^2), removes the error of using m instead of the true mean. */
static uint64_t stddev_milli(const uint64_t *v, size_t n, uint64_t m, uint64_t r, uint64_t min,
                             uint64_t max)
{
    if (n < 2)
        return 0;
    uint64_t d = max - m > m - min ? max - m : m - min;
    /* n * S * 10^6 < 2^need; past 128 bits, drop k low bits of every deviation instead. */
    unsigned need = 2 * bits(n) + 2 * bits(d) + 20;
    unsigned k = need > 128 ? (need - 128 + 1) / 2 : 0;
    if (k > 63)
        k = 63;
    struct lb_u128 s = {0, 0}, num;
    for (size_t i = 0; i < n; i++) {
        uint64_t dev = (v[i] >= m ? v[i] - m : m - v[i]) >> k;
        s = u128_add(s, lb_mul64(dev, dev));
    }
    if (k == 0) {
        u128_mul64(s, n, &num);
        num = u128_sub(num, lb_mul64(r, r));
        u128_mul64(num, 1000000, &num);
        num = lb_div128(num, n, NULL);
    } else {
        u128_mul64(s, 1000000, &num);
    }
    /* Dividing by n and then by n - 1 floors exactly like one division by n(n - 1), which could
     * itself overflow 64 bits. */
    num = lb_div128(num, n - 1, NULL);
    uint64_t root = lb_isqrt128(num);
    if (k != 0 && root > (UINT64_MAX >> k))
        return UINT64_MAX;
    return root << k;
}

void lb_stats_moments(const uint64_t *v, size_t n, struct lb_stats *st)
{
    *st = (struct lb_stats){0};
    if (n == 0)
        return;
    struct lb_u128 sum = {0, 0};
    uint64_t min = v[0], max = v[0];
    for (size_t i = 0; i < n; i++) {
        sum = u128_add(sum, (struct lb_u128){0, v[i]});
        if (v[i] < min)
            min = v[i];
        if (v[i] > max)
            max = v[i];
    }
    uint64_t r;
    st->n = n;
    st->min = min;
    st->max = max;
    st->mean = lb_div128(sum, n, &r).lo; /* <= max, so it fits */
    struct lb_u128 s1000, q;
    st->mean_milli = UINT64_MAX;
    if (u128_mul64(sum, 1000, &s1000)) {
        q = lb_div128(s1000, n, NULL);
        if (q.hi == 0)
            st->mean_milli = q.lo;
    }
    st->stddev_milli = stddev_milli(v, n, st->mean, r, min, max);
}

void lb_stats_compute(uint64_t *v, size_t n, struct lb_stats *st)
{
    lb_stats_moments(v, n, st);
    lb_sort_u64(v, n);
    st->median = lb_percentile(v, n, 500);
    st->p90 = lb_percentile(v, n, 900);
    st->p99 = lb_percentile(v, n, 990);
    st->p999 = lb_percentile(v, n, 999);
}
