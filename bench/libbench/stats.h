/* Integer statistics over tick samples for libbench. Pure C, no floating point (the kernel is
 * built with -mgeneral-regs-only) and no libgcc: 128-bit intermediates are built from 64-bit
 * halves, and the only divisions are 64-bit ones.
 *
 * Definitions (all exact integer arithmetic unless stated):
 *  - percentiles use the nearest-rank method: the P-th percentile of n sorted values is the value
 *    at 1-based rank ceil(P * n / 100), and at least rank 1. It is always an observed sample. The
 *    median is the 50th percentile in this sense, i.e. the lower middle value when n is even.
 *  - mean is floor(sum / n); mean_milli is floor(1000 * sum / n), the mean in thousandths of a
 *    tick, saturating at UINT64_MAX (only beyond a mean of 1.8e16 ticks).
 *  - stddev_milli is floor(1000 * s) where s is the sample standard deviation (divisor n - 1, as
 *    Google Benchmark uses), 0 for n < 2. It is exact while 2*bits(n) + 2*bits(d) + 20 <= 128,
 *    d being the largest distance of a sample from the mean (e.g. any n <= 2^17 with samples
 *    within 2^37 ticks of their mean); beyond that the low-order bits of every deviation are
 *    dropped (keeping at least the top 54 - bits(n) bits of the largest one), so the result is
 *    approximate, and it saturates at UINT64_MAX.
 * With n == 0 every field is 0. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct lb_u128 {
    uint64_t hi, lo;
};

struct lb_stats {
    uint64_t n;
    uint64_t min, max;
    uint64_t mean;
    uint64_t mean_milli;
    uint64_t stddev_milli;
    uint64_t median, p90, p99, p999;
};

/* In-place ascending heapsort: O(n log n) worst case, O(1) stack, no recursion. */
void lb_sort_u64(uint64_t *v, size_t n);

/* Nearest-rank percentile of an ascending array; permille is the percentile in tenths of a
 * percent (500 = median, 999 = p99.9), at most 1000. Returns 0 when n == 0. */
uint64_t lb_percentile(const uint64_t *sorted, size_t n, unsigned permille);

/* Fills n, min, max, mean, mean_milli and stddev_milli without reordering v. The percentile
 * fields are set to 0. */
void lb_stats_moments(const uint64_t *v, size_t n, struct lb_stats *st);

/* lb_stats_moments plus the percentiles; sorts v in place. */
void lb_stats_compute(uint64_t *v, size_t n, struct lb_stats *st);

/* floor(a * b / c) with a 128-bit intermediate; UINT64_MAX when the quotient does not fit or
 * c == 0. Used for unit conversions (ticks to ns) that must not overflow. */
uint64_t lb_mul_div(uint64_t a, uint64_t b, uint64_t c);

/* 128-bit helpers, exposed for the tests. */
struct lb_u128 lb_mul64(uint64_t a, uint64_t b);
/* floor(x / d) (d != 0); *rem receives x mod d when rem is not NULL. */
struct lb_u128 lb_div128(struct lb_u128 x, uint64_t d, uint64_t *rem);
/* floor(sqrt(x)). */
uint64_t lb_isqrt128(struct lb_u128 x);
