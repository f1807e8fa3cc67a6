#include "libbench/libbench.h"

#include "lib/kstring.h"
#include "libbench/json.h"
#include "libbench/run.h"
#include "libbench/stats.h"

#define LB_DEFAULT_HZ 1000000000u /* icount mode: one tick per ns */

/* Weak so that a program registering no benchmark still links (the table is then empty). */
extern const struct lb_benchmark *const __start_lb_benchmarks[] __attribute__((weak));
extern const struct lb_benchmark *const __stop_lb_benchmarks[] __attribute__((weak));

/* Context keys the library writes itself; the environment may not reuse them. */
static const char *const reserved_keys[] = {
    "library", "json_schema_version", "ticks_hz", "timer_overhead_ticks", "repetitions",
    "min_ticks", "warmup_iterations", "sample_capacity", "samples_json_max", "filter",
};

void lb_env_init(struct lb_env *env)
{
    memset(env, 0, sizeof(*env));
    env->repetitions = LB_DEFAULT_REPETITIONS;
    env->warmup_iterations = LB_DEFAULT_WARMUP;
}

const struct lb_benchmark *const *lb_registry(size_t *n)
{
    if (!__start_lb_benchmarks || !__stop_lb_benchmarks) {
        *n = 0;
        return NULL;
    }
    *n = (size_t)(__stop_lb_benchmarks - __start_lb_benchmarks);
    return __start_lb_benchmarks;
}

void lb__batch_change(struct lb_state *s, uint64_t n)
{
    if (s->batch != 0 || n == 0)
        s->bad_batch = true;
    s->batch = n;
}

void lb_fail(struct lb_state *s, const char *msg)
{
    if (!s->failure)
        s->failure = msg ? msg : "lb_fail";
    s->remaining = 0;
}

void lb_skip(struct lb_state *s, const char *why)
{
    if (!s->skip)
        s->skip = why ? why : "lb_skip";
    s->remaining = 0;
}

void lb_counter(struct lb_state *s, const char *name, uint64_t value)
{
    if (!name) {
        lb_fail(s, "lb_counter without a name");
        return;
    }
    size_t i = 0;
    while (i < s->ncounters && strcmp(s->counters[i].name, name) != 0)
        i++;
    if (i == LB_MAX_COUNTERS) {
        lb_fail(s, "more than LB_MAX_COUNTERS counter names");
        return;
    }
    s->counters[i].name = name;
    s->counters[i].value = value;
    if (i == s->ncounters)
        s->ncounters++;
}

/* ---- measuring ------------------------------------------------------------------------- */

/* Measured with the same inline lb_start/lb_stop as the benchmarks, so that what is subtracted
 * is what every sample pays: the clock reads and the recording. The first pass warms caches and
 * branch predictors and is discarded. */
static uint64_t measure_overhead(const struct lb_env *env)
{
    struct lb_state s = {.samples = env->samples, .clock = env->clock, .batch = 1};
    s.capacity = env->capacity < LB_OVERHEAD_PAIRS ? env->capacity : LB_OVERHEAD_PAIRS;
    for (int pass = 0; pass < 2; pass++) {
        s.nsamples = 0;
        s.remaining = s.capacity;
        while (lb_next(&s)) {
            uint64_t t = lb_start(&s);
            lb_stop(&s, t);
        }
    }
    lb_sort_u64(s.samples, s.nsamples);
    return lb_percentile(s.samples, s.nsamples, 500);
}

/* iters never exceeds the buffer; bounding the capacity by it too makes a body that records
 * more samples than it was granted iterations show up as dropped samples. */
static void run_phase(struct lb_state *s, uint64_t iters)
{
    s->remaining = iters;
    s->nsamples = 0;
    s->capacity = (size_t)iters;
    s->ncounters = 0;
    if (!s->failure && !s->skip)
        s->bench->fn(s);
}

/* Subtracts the timer overhead in place (clamping at 0) and returns the saturated total. */
static uint64_t subtract_overhead(uint64_t *v, size_t n, uint64_t overhead)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = v[i] > overhead ? v[i] - overhead : 0;
        sum = sum + v[i] < sum ? UINT64_MAX : sum + v[i];
    }
    return sum;
}

/* Google Benchmark's PredictNumItersNeeded: x10 while a run is under a tenth of the goal (too
 * short to extrapolate from), otherwise aim 40% past the goal, and always grow by at least one. */
static uint64_t next_iters(uint64_t iters, uint64_t timed, uint64_t min_ticks, uint64_t cap)
{
    uint64_t next;
    uint64_t x10 = iters > UINT64_MAX / 10 ? UINT64_MAX : iters * 10;
    if (timed == 0 || timed <= min_ticks / 10)
        next = x10;
    else
        next = lb_mul_div(iters, lb_mul_div(min_ticks, 14, 10), timed);
    if (next <= iters)
        next = iters + 1;
    return next < cap ? next : cap;
}

/* ---- output ---------------------------------------------------------------------------- */

static void entry_begin(struct run *r)
{
    lb_json_raw(&r->j, r->first_entry ? "\n    {" : ",\n    {");
    r->first_entry = false;
    r->j.indent = "      ";
    r->j.first = true;
}

static void entry_end(struct run *r)
{
    lb_json_raw(&r->j, "\n    }");
}

/* milli-ticks to picoseconds, i.e. ns with three decimals. */
static uint64_t milli_ticks_to_ps(const struct run *r, uint64_t milli_ticks)
{
    return lb_mul_div(milli_ticks, 1000000000u, r->hz);
}

/* One per-operation tick value: exact integers when each sample is one operation. */
static void put_ticks(struct lb_json *j, uint64_t sample, uint64_t batch)
{
    if (batch == 1)
        lb_json_u64(j, sample);
    else
        lb_json_milli(j, lb_mul_div(sample, 1000, batch));
}

static void kv_ticks(struct lb_json *j, const char *key, uint64_t sample, uint64_t batch)
{
    lb_json_key(j, key);
    put_ticks(j, sample, batch);
}

static void put_common(struct run *r, const struct lb_benchmark *b, uint64_t family)
{
    lb_json_kv_u64(&r->j, "family_index", family);
    lb_json_kv_u64(&r->j, "per_family_instance_index", 0);
    lb_json_kv_string(&r->j, "run_name", b->name);
}

/* The samples in measured order, thinned to an evenly spaced subset past LB_SAMPLES_JSON_MAX. */
static void put_samples(struct lb_json *j, const uint64_t *v, size_t n, uint64_t batch)
{
    size_t m = n < LB_SAMPLES_JSON_MAX ? n : LB_SAMPLES_JSON_MAX;
    lb_json_key(j, "samples");
    lb_json_raw(j, "[");
    for (size_t i = 0; i < m; i++) {
        lb_json_raw(j, i == 0 ? "\n        " : i % 16 == 0 ? ",\n        " : ", ");
        put_ticks(j, v[m == n ? i : (size_t)lb_mul_div(i, n, m)], batch);
    }
    lb_json_raw(j, m ? "\n      ]" : "]");
}

/* Writes one repetition's entry and returns its mean in milli-ticks per operation. Sorts the
 * samples, so the measured order is written first. */
static uint64_t write_iteration(struct run *r, struct lb_state *s, uint64_t family, unsigned rep)
{
    const struct lb_benchmark *b = s->bench;
    struct lb_json *j = &r->j;
    uint64_t *v = s->samples;
    size_t n = s->nsamples;
    uint64_t batch = s->batch ? s->batch : 1;
    struct lb_stats st;
    lb_stats_moments(v, n, &st);
    uint64_t mean = st.mean_milli / batch;
    uint64_t ps = milli_ticks_to_ps(r, mean);
    uint64_t ops = lb_mul_div(n, batch, 1);

    entry_begin(r);
    lb_json_kv_string(j, "name", b->name);
    put_common(r, b, family);
    lb_json_kv_string(j, "run_type", "iteration");
    lb_json_kv_u64(j, "repetitions", r->reps);
    lb_json_kv_u64(j, "repetition_index", rep);
    lb_json_kv_u64(j, "threads", 1);
    lb_json_kv_u64(j, "iterations", ops);
    lb_json_kv_milli(j, "real_time", ps);
    lb_json_kv_milli(j, "cpu_time", ps);
    lb_json_kv_string(j, "time_unit", "ns");
    lb_json_kv_string(j, "target", b->target);
    lb_json_kv_string(j, "description", b->desc);
    lb_json_kv_u64(j, "ops_per_sample", batch);
    lb_json_kv_u64(j, "samples_total", n);
    put_samples(j, v, n, batch);

    lb_stats_compute(v, n, &st);
    lb_json_kv_milli(j, "ticks_mean", mean);
    lb_json_kv_milli(j, "ticks_stddev", st.stddev_milli / batch);
    kv_ticks(j, "ticks_min", st.min, batch);
    kv_ticks(j, "ticks_median", st.median, batch);
    kv_ticks(j, "ticks_p90", st.p90, batch);
    kv_ticks(j, "ticks_p99", st.p99, batch);
    kv_ticks(j, "ticks_p999", st.p999, batch);
    kv_ticks(j, "ticks_max", st.max, batch);
    for (size_t i = 0; i < s->ncounters; i++)
        lb_json_kv_u64(j, s->counters[i].name, s->counters[i].value);
    entry_end(r);
    return mean;
}

static void write_skipped(struct run *r, const struct lb_benchmark *b, uint64_t family,
                          const char *why)
{
    struct lb_json *j = &r->j;
    entry_begin(r);
    lb_json_kv_string(j, "name", b->name);
    put_common(r, b, family);
    lb_json_kv_string(j, "run_type", "iteration");
    lb_json_kv_u64(j, "repetitions", r->reps);
    lb_json_kv_u64(j, "repetition_index", 0);
    lb_json_kv_u64(j, "threads", 1);
    lb_json_kv_u64(j, "iterations", 0);
    lb_json_kv_u64(j, "real_time", 0);
    lb_json_kv_u64(j, "cpu_time", 0);
    lb_json_kv_string(j, "time_unit", "ns");
    lb_json_kv_string(j, "target", b->target);
    lb_json_kv_string(j, "description", b->desc);
    lb_json_key(j, "skipped");
    lb_json_raw(j, "true");
    lb_json_kv_string(j, "skip_message", why);
    entry_end(r);
}

static void write_aggregate(struct run *r, const struct lb_benchmark *b, uint64_t family,
                            const char *agg, uint64_t milli_ticks, unsigned nrep)
{
    struct lb_json *j = &r->j;
    uint64_t ps = milli_ticks_to_ps(r, milli_ticks);
    entry_begin(r);
    lb_json_key(j, "name");
    lb_json_raw(j, "\"");
    lb_json_chars(j, b->name, strlen(b->name));
    lb_json_raw(j, "_");
    lb_json_chars(j, agg, strlen(agg));
    lb_json_raw(j, "\"");
    put_common(r, b, family);
    lb_json_kv_string(j, "run_type", "aggregate");
    lb_json_kv_u64(j, "repetitions", r->reps);
    lb_json_kv_u64(j, "threads", 1);
    lb_json_kv_string(j, "aggregate_name", agg);
    lb_json_kv_string(j, "aggregate_unit", "time");
    lb_json_kv_u64(j, "iterations", nrep);
    lb_json_kv_milli(j, "real_time", ps);
    lb_json_kv_milli(j, "cpu_time", ps);
    lb_json_kv_string(j, "time_unit", "ns");
    lb_json_kv_milli(j, "ticks", milli_ticks);
    entry_end(r);
}

static void write_context(struct run *r)
{
    const struct lb_env *env = r->env;
    struct lb_json *j = &r->j;
    lb_json_raw(j, "{\n  \"context\": {");
    j->indent = "    ";
    j->first = true;
    lb_json_kv_string(j, "library", "tachyon-libbench");
    lb_json_kv_u64(j, "json_schema_version", 1);
    for (size_t i = 0; i < env->ncontext; i++) {
        const char *key = env->context[i].key;
        bool clash = !key;
        for (size_t k = 0; k < sizeof(reserved_keys) / sizeof(reserved_keys[0]) && !clash; k++)
            clash = strcmp(key, reserved_keys[k]) == 0;
        for (size_t k = 0; k < i && !clash; k++)
            clash = env->context[k].key && strcmp(key, env->context[k].key) == 0;
        if (clash) {
            lb__report(r, "bench: context key '%s' is missing, repeated or the library's own",
                   key ? key : "(null)");
            continue;
        }
        lb_json_kv_string(j, key, env->context[i].value);
    }
    lb_json_kv_u64(j, "ticks_hz", r->hz);
    lb_json_kv_u64(j, "timer_overhead_ticks", r->overhead);
    lb_json_kv_u64(j, "repetitions", r->reps);
    lb_json_kv_u64(j, "min_ticks", r->min_ticks);
    lb_json_kv_u64(j, "warmup_iterations", env->warmup_iterations);
    lb_json_kv_u64(j, "sample_capacity", env->capacity);
    lb_json_kv_u64(j, "samples_json_max", LB_SAMPLES_JSON_MAX);
    lb_json_kv_string(j, "filter", r->filter ? r->filter : "all");
    lb_json_raw(j, "\n  },\n  \"benchmarks\": [");
}

/* ---- running --------------------------------------------------------------------------- */

static void run_one(struct run *r, const struct lb_benchmark *b, uint64_t family)
{
    const struct lb_env *env = r->env;
    struct lb_state s = {
        .samples = env->samples, .capacity = env->capacity, .clock = env->clock, .bench = b,
    };
    uint64_t cap = env->capacity, iters = 1;
    uint64_t means[LB_MAX_REPETITIONS];
    unsigned done = 0;

    for (uint64_t left = env->warmup_iterations; left && !s.failure && !s.skip;) {
        uint64_t chunk = left < cap ? left : cap;
        run_phase(&s, chunk);
        left -= chunk;
    }
    for (;;) {
        run_phase(&s, iters);
        if (s.failure || s.skip || s.nsamples == 0)
            break;
        uint64_t timed = subtract_overhead(s.samples, s.nsamples, r->overhead);
        if (timed >= r->min_ticks || iters >= cap)
            break;
        iters = next_iters(iters, timed, r->min_ticks, cap);
    }
    while (done < r->reps && !s.failure && !s.skip && s.nsamples != 0) {
        run_phase(&s, iters);
        if (s.failure || s.skip || s.nsamples == 0)
            break;
        subtract_overhead(s.samples, s.nsamples, r->overhead);
        means[done] = write_iteration(r, &s, family, done);
        done++;
    }

    if (s.failure)
        lb__report(r, "bench: '%s' failed: %s", b->name, s.failure);
    else if (s.skip)
        write_skipped(r, b, family, s.skip);
    else if (s.nsamples == 0)
        lb__report(r, "bench: '%s' recorded no samples (lb_stop never called)", b->name);
    if (s.dropped)
        lb__report(r, "bench: '%s' recorded more samples than iterations (%llu dropped)", b->name,
               (unsigned long long)s.dropped);
    if (s.bad_batch)
        lb__report(r, "bench: '%s' changed its batch size (now %llu)", b->name,
               (unsigned long long)s.batch);
    if (done == r->reps && done >= 2 && !s.skip) {
        struct lb_stats st;
        lb_stats_compute(means, done, &st);
        write_aggregate(r, b, family, "mean", st.mean, done);
        write_aggregate(r, b, family, "median", st.median, done);
        write_aggregate(r, b, family, "stddev", st.stddev_milli / 1000, done);
    }
}

static bool env_valid(struct run *r)
{
    const struct lb_env *env = r->env;
    if (!env->out)
        lb__report(r, "bench: no output sink");
    if (!env->samples || env->capacity == 0)
        lb__report(r, "bench: no sample buffer");
    if (env->repetitions > LB_MAX_REPETITIONS)
        lb__report(r, "bench: %u repetitions, at most %u supported", env->repetitions,
               LB_MAX_REPETITIONS);
#if !defined(__x86_64__) && !defined(__i386__)
    if (!env->clock)
        lb__report(r, "bench: no clock (the built-in one is x86 only)");
#endif
    return r->errors == 0;
}

int lb_run_list(const struct lb_env *env, const char *filter,
                const struct lb_benchmark *const *list, size_t n)
{
    if (!env)
        return 1;
    struct run r = {
        .env = env, .list = list, .n = n, .first_entry = true,
        .filter = (!filter || !*filter || strcmp(filter, "all") == 0) ? NULL : filter,
        .j = {.sink = env->out, .ctx = env->out_ctx, .indent = "", .first = true},
    };
    if (!env_valid(&r))
        return r.errors;
    r.hz = env->ticks_hz ? env->ticks_hz : LB_DEFAULT_HZ;
    r.min_ticks = env->min_ticks ? env->min_ticks : r.hz / 100;
    r.reps = env->repetitions ? env->repetitions : LB_DEFAULT_REPETITIONS;

    lb__check_registry(&r);
    lb__check_filter(&r);
    r.overhead = measure_overhead(env);
    write_context(&r);
    uint64_t family = 0;
    for (size_t i = lb__next_in_order(&r, n); i < n; i = lb__next_in_order(&r, i)) {
        if (lb__selected(&r, list[i]))
            run_one(&r, list[i], family++);
    }
    lb_json_raw(&r.j, r.first_entry ? "]\n}\n" : "\n  ]\n}\n");
    return r.errors;
}

int lb_run(const struct lb_env *env, const char *filter)
{
    size_t n;
    const struct lb_benchmark *const *list = lb_registry(&n);
    return lb_run_list(env, filter, list, n);
}
