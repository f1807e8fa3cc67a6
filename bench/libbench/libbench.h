/* libbench: a freestanding, Google-Benchmark-like harness (DESIGN.md, Measurement). It runs in the
 * kernel and, unchanged, in user space; it needs no heap, no floating point and no libc beyond
 * kernel/lib's kstring and fmt.
 *
 * Writing a benchmark: time only the part of interest; anything between lb_stop and the next
 * lb_start (setup, teardown) is untimed.
 *
 *     static void bm_frame_alloc(struct lb_state *s)
 *     {
 *         uint64_t p;
 *         while (lb_next(s)) {
 *             uint64_t t = lb_start(s);
 *             frame_alloc(0, &p);
 *             lb_stop(s, t);
 *             frame_free(p, 0);
 *         }
 *     }
 *     LB_BENCHMARK("frame_alloc/order:0", bm_frame_alloc, "K-5", "allocate one 4 KiB frame");
 *
 * Each lb_stop records one sample: the raw ticks between the two clock reads. An operation too
 * short to time alone is timed n at a time with lb_stop_batch(s, t, n); the batch size must stay
 * the same throughout a benchmark, and statistics are then those of the per-batch samples divided
 * by n (percentiles of batch means, not of single operations: those were never observed).
 *
 * What the harness does (lb_run), per selected benchmark, in name order (strcmp; the section's
 * order is the compiler's and linker's choice, GCC emitting a file's registrations in reverse):
 *  1. once, before any benchmark: measures the timer overhead, the median of LB_OVERHEAD_PAIRS
 *     empty lb_start/lb_stop pairs (after as many discarded ones), and subtracts it from every
 *     sample afterwards, clamping at 0;
 *  2. warm-up: runs warmup_iterations iterations and discards them;
 *  3. iteration count: runs 1, 10, 100... iterations (Google Benchmark's rule: x10 while a run
 *     times under a tenth of min_ticks, else scaled to 1.4 * min_ticks) until one run's timed
 *     ticks reach min_ticks or the iteration count reaches the sample capacity; those runs are
 *     discarded too;
 *  4. repetitions: runs that many iterations `repetitions` times, each a fresh buffer of samples
 *     with its own statistics (stats.h: nearest-rank percentiles, sample stddev).
 *
 * Output is Google Benchmark's JSON, written through env->out, so that benchmark's compare.py
 * compares two files unchanged:
 *     {"context": {"library": "tachyon-libbench", "json_schema_version": 1, <env->context pairs
 *                  as strings>, "ticks_hz", "timer_overhead_ticks", "repetitions", "min_ticks",
 *                  "warmup_iterations", "sample_capacity", "samples_json_max", "filter"},
 *      "benchmarks": [
 *        per repetition: {"name", "family_index", "per_family_instance_index": 0, "run_name",
 *          "run_type": "iteration", "repetitions", "repetition_index", "threads": 1,
 *          "iterations" (operations = samples * batch), "real_time" and "cpu_time" (both the mean
 *          ns per operation, 3 decimals), "time_unit": "ns",
 *          "target" (TARGETS.md ID or null), "description", "ops_per_sample" (the batch size),
 *          "samples_total", "samples" (per-operation ticks after overhead subtraction, in the
 *          order measured; at most LB_SAMPLES_JSON_MAX of them, an evenly spaced subset when the
 *          repetition has more), "ticks_mean", "ticks_stddev" (3 decimals), "ticks_min",
 *          "ticks_median", "ticks_p90", "ticks_p99", "ticks_p999", "ticks_max" (integers, or
 *          3 decimals when ops_per_sample > 1), then the benchmark's lb_counter values of that
 *          repetition as integers (Google Benchmark's user counters)},
 *        then, with 2 or more repetitions, "<name>_mean", "<name>_median", "<name>_stddev":
 *          {..., "run_type": "aggregate", "aggregate_name", "aggregate_unit": "time",
 *          "iterations" (the repetition count), "real_time", "cpu_time", "time_unit": "ns",
 *          "ticks" (the same aggregate in ticks per operation, 3 decimals)}]}
 * A benchmark that calls lb_skip (it cannot measure anything meaningful on this machine or in
 * this timing mode) gets one entry instead, as Google Benchmark writes a SkipWithMessage run:
 *          {"name", "family_index", "per_family_instance_index", "run_name",
 *           "run_type": "iteration", "repetitions", "repetition_index": 0, "threads": 1,
 *           "iterations": 0, "real_time": 0, "cpu_time": 0, "time_unit": "ns", "target",
 *           "description", "skipped": true, "skip_message"}
 * with no samples and no tick statistics; a skip is not an error.
 * Aggregates are over the repetitions' mean per operation; the median is the nearest-rank one
 * like everywhere here, i.e. with an even repetition count the lower middle value (Google
 * Benchmark averages the two). Each benchmark is its own family: family_index counts the
 * benchmarks run, in run order. ns = ticks * 10^9 / ticks_hz; every fraction is computed in
 * integers and floored to 0.001. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/fmt.h"

#define LB_DEFAULT_REPETITIONS 5
#define LB_DEFAULT_WARMUP      100
#define LB_MAX_REPETITIONS     64   /* per-repetition results live on the stack */
#define LB_OVERHEAD_PAIRS      1000 /* or the sample capacity, if smaller */
#define LB_SAMPLES_JSON_MAX    2000 /* keeps one repetition's entry under ~20 KB */
#define LB_ERROR_MAX           1024 /* longer error messages are cut, ending in "..." */
#define LB_MAX_COUNTERS        8    /* lb_counter names per benchmark call */

struct lb_state;

/* A registered benchmark. */
struct lb_benchmark {
    const char *name;   /* "family/param:value"; matched by lb_run's filter */
    void (*fn)(struct lb_state *s);
    const char *target; /* TARGETS.md ID it measures ("K-5"), or NULL */
    const char *desc;   /* one line */
    uint64_t arg;       /* lb_arg(s) inside fn: one function, several registrations */
};

#define LB__CAT2(a, b) a##b
#define LB__CAT(a, b)  LB__CAT2(a, b)
/* The section holds pointers, not descriptors: a pointer array has no padding between entries
 * whatever alignment the compiler picks for a struct. The kernel linker script must KEEP
 * lb_benchmarks and bracket it with __start_lb_benchmarks/__stop_lb_benchmarks; in a user
 * program GNU ld provides those symbols itself, the name being a C identifier. */
#define LB__REGISTER(var, name_, fn_, arg_, target_, desc_)                                    \
    static const struct lb_benchmark var = {(name_), (fn_), (target_), (desc_), (arg_)};      \
    static const struct lb_benchmark *const LB__CAT(var, _ptr)                                 \
        __attribute__((used, section("lb_benchmarks"), aligned(sizeof(void *)))) = &var

#define LB_BENCHMARK_ARG(name, fn, arg, target, desc)                                          \
    LB__REGISTER(LB__CAT(lb__bench_, __COUNTER__), name, fn, arg, target, desc)
#define LB_BENCHMARK(name, fn, target, desc) LB_BENCHMARK_ARG(name, fn, 0, target, desc)

struct lb_kv {
    const char *key, *value;
};

/* Everything the harness needs from its environment. Start from lb_env_init's defaults. */
struct lb_env {
    /* Serialised tick counter. NULL selects the built-in x86 `lfence; rdtsc; lfence`, inlined
     * into the timed code (no call inside the measured region). */
    uint64_t (*clock)(void);
    uint64_t ticks_hz;          /* clock frequency; 0 is taken as 1 GHz (icount mode) */
    uint64_t *samples;          /* one repetition's samples; its size caps the iterations */
    size_t capacity;            /* entries in samples, at least 1 */
    unsigned repetitions;       /* 1..LB_MAX_REPETITIONS; 0 means LB_DEFAULT_REPETITIONS */
    uint64_t min_ticks;         /* timed ticks a repetition should reach; 0 means ticks_hz/100 */
    uint64_t warmup_iterations; /* discarded iterations before the iteration-count search */
    fmt_sink out;               /* JSON output */
    void *out_ctx;
    /* One call per error, with a complete one-line message without a newline. May be NULL. */
    void (*error)(void *ctx, const char *msg);
    void *error_ctx;
    const struct lb_kv *context; /* copied into the JSON context as strings */
    size_t ncontext;
    /* When one filter drives several harnesses (the kernel's benchmarks, then ubench's in user
     * space), each knows only its own names. names_elsewhere is a comma list of the names the
     * others registered: a filter element matching one of them is not unknown here, the
     * "known:" list of an unknown-name error is the sorted union, and a local name that is also
     * in it is a duplicate. defer_unknown leaves unknown-name errors to the harness that runs
     * last (the one that is given every other name). */
    const char *names_elsewhere;
    bool defer_unknown;
};

/* Zeroes env and sets repetitions and warmup_iterations to their defaults. */
void lb_env_init(struct lb_env *env);

/* Runs the registered benchmarks that filter selects and writes one JSON document. filter is
 * "all" (also NULL or ""), or a comma list of names and glob patterns (`*`: any run of
 * characters, `/` included; `?`: one character). Every list element that matches no benchmark,
 * here or in env->names_elsewhere, is an error ("bench: unknown benchmark 'foo' (known: a, b)")
 * unless env->defer_unknown; the rest still run. Other errors: an
 * invalid env (nothing runs, no JSON), duplicate names, a context key that the library writes
 * itself (the pair is skipped), a benchmark that calls lb_fail, records no sample, changes its
 * batch size or records more samples than iterations. Returns the number of errors. */
int lb_run(const struct lb_env *env, const char *filter);

/* The same over an explicit table instead of the lb_benchmarks section. */
int lb_run_list(const struct lb_env *env, const char *filter,
                const struct lb_benchmark *const *list, size_t n);

/* The lb_benchmarks section as a table, in link order (not sorted); *n receives its length. */
const struct lb_benchmark *const *lb_registry(size_t *n);

struct lb_counter_value {
    const char *name;
    uint64_t value;
};

/* Per-run state handed to the benchmark function. Fields are the harness's; use the functions. */
struct lb_state {
    uint64_t remaining; /* iterations lb_next will still grant */
    uint64_t *samples;
    size_t nsamples;
    size_t capacity;
    uint64_t batch;     /* operations per sample; 0 until the first lb_stop */
    uint64_t (*clock)(void);
    const struct lb_benchmark *bench;
    uint64_t dropped;   /* samples that found the buffer full */
    bool bad_batch;
    const char *failure;
    const char *skip;   /* lb_skip's reason */
    size_t ncounters;   /* lb_counter values of the current call */
    struct lb_counter_value counters[LB_MAX_COUNTERS];
};

/* Out of line: the first lb_stop of a benchmark, or a change of batch size. */
void lb__batch_change(struct lb_state *s, uint64_t n);

static inline uint64_t lb__clock(const struct lb_state *s)
{
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_expect(s->clock == NULL, 1)) {
        uint32_t lo, hi;
        __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
        return ((uint64_t)hi << 32) | lo;
    }
#endif
    return s->clock();
}

/* True while another iteration is due. */
static inline bool lb_next(struct lb_state *s)
{
    if (s->remaining == 0)
        return false;
    s->remaining--;
    return true;
}

static inline uint64_t lb_start(struct lb_state *s)
{
    return lb__clock(s);
}

/* Records n operations timed together since t (lb_start's value) as one sample. */
static inline void lb_stop_batch(struct lb_state *s, uint64_t t, uint64_t n)
{
    uint64_t now = lb__clock(s);
    if (__builtin_expect(s->nsamples < s->capacity, 1))
        s->samples[s->nsamples++] = now - t;
    else
        s->dropped++;
    if (__builtin_expect(s->batch != n, 0))
        lb__batch_change(s, n);
}

static inline void lb_stop(struct lb_state *s, uint64_t t)
{
    lb_stop_batch(s, t, 1);
}

/* The registration's arg. */
static inline uint64_t lb_arg(const struct lb_state *s)
{
    return s->bench->arg;
}

/* Abandons the benchmark: lb_next returns false from now on, msg (kept by pointer) is reported
 * as an error, and no further entry of it is written (none at all when it fails during warm-up
 * or the iteration-count search, where setup failures show up). */
void lb_fail(struct lb_state *s, const char *msg);

/* Skips the benchmark: lb_next returns false from now on, nothing it measured is kept, and its
 * one entry says "skipped" with why (kept by pointer). For a figure this machine cannot give
 * (cross-CPU timing in icount mode, or with one CPU): reported, never a number and never an
 * error. Takes effect in whichever call it is made, warm-up included. */
void lb_skip(struct lb_state *s, const char *why);

/* Sets a named counter of the current call of the benchmark function (a repeated name replaces
 * the value): written into the entry of the repetition that call measured, after the tick
 * statistics, as Google Benchmark writes user counters, so the report can show what the run
 * observed besides time (e.g. how many IPCs took the fast path). name is kept by pointer and
 * must not be a key libbench writes itself; counters set during warm-up and the iteration-count
 * search are dropped with those runs. More than LB_MAX_COUNTERS names fail the benchmark. */
void lb_counter(struct lb_state *s, const char *name, uint64_t value);

/* Makes the compiler treat v as used and memory as clobbered, so that a measured computation is
 * neither discarded nor moved out of the timed region (Google Benchmark's DoNotOptimize). */
#define LB_KEEP(v) __asm__ volatile("" : : "g"(v) : "memory")
#define LB_CLOBBER() __asm__ volatile("" : : : "memory")
