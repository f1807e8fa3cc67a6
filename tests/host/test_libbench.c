/* Host tests for bench/libbench: the harness driven by a fake clock that advances a fixed step per
 * read plus whatever the "operation" adds, so every sample, statistic and iteration count is
 * known exactly. Output checks look for exact key/value lines and run a small JSON validator;
 * tests/host/test_benchjson.py parses the same kind of output with Python's json module. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "libbench/libbench.h"

/* ---- fixtures -------------------------------------------------------------------------- */

static uint64_t fake_now, fake_step;

static uint64_t fake_clock(void)
{
    fake_now += fake_step;
    return fake_now;
}

static char *out;
static size_t out_len, out_cap;

static void sink(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    if (out_len + n + 1 > out_cap) {
        out_cap = (out_len + n + 1) * 2;
        out = realloc(out, out_cap);
    }
    memcpy(out + out_len, s, n);
    out_len += n;
    out[out_len] = 0;
}

static char errs[16384];
static int nerrs;

static void on_error(void *ctx, const char *msg)
{
    (void)ctx;
    CHECK(strchr(msg, '\n') == NULL);
    strncat(errs, msg, sizeof(errs) - strlen(errs) - 2);
    strcat(errs, "\n");
    nerrs++;
}

static uint64_t samples[8192];
static struct lb_env env;

/* Call statistics of the last run, for the iteration-count checks. */
static uint64_t calls, granted;
static int runs[8];

static void setup(size_t capacity)
{
    lb_env_init(&env);
    env.clock = fake_clock;
    env.ticks_hz = 1000000000u;
    env.samples = samples;
    env.capacity = capacity;
    env.min_ticks = 10000;
    env.warmup_iterations = 0;
    env.out = sink;
    env.error = on_error;
    fake_now = 1000;
    fake_step = 7;
    out_len = 0;
    if (out)
        out[0] = 0;
    errs[0] = 0;
    nerrs = 0;
    calls = granted = 0;
    memset(runs, 0, sizeof(runs));
}

/* ---- a validating JSON parser for what libbench writes (no true/false, no exponents) -------- */

/* The end of the JSON value at p, or NULL when it is malformed. */
static const char *json_value(const char *p)
{
    p += strspn(p, " \n");
    if (*p == '"') {
        for (p++; *p != '"'; p++) {
            if ((unsigned char)*p < 0x20)
                return NULL;
            if (*p == '\\') {
                p++;
                if (*p == 'u' && strspn(p + 1, "0123456789abcdef") >= 4)
                    p += 4;
                else if (!*p || !strchr("\"\\/bfnrt", *p))
                    return NULL;
            }
        }
        return p + 1;
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p += 1 + strspn(p + 1, " \n");
        if (*p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                p += strspn(p, " \n");
                if (*p != '"' || !(p = json_value(p)) || *(p += strspn(p, " \n")) != ':')
                    return NULL;
                p++;
            }
            if (!(p = json_value(p)))
                return NULL;
            p += strspn(p, " \n");
            if (*p == close)
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    }
    if (strncmp(p, "null", 4) == 0)
        return p + 4;
    size_t digits = strspn(p, "0123456789");
    if (digits == 0 || (digits > 1 && *p == '0'))
        return NULL;
    p += digits;
    if (*p == '.') {
        digits = strspn(p + 1, "0123456789");
        p = digits ? p + 1 + digits : NULL;
    }
    return p;
}

static int json_valid(const char *s)
{
    const char *end = s ? json_value(s) : NULL;
    return end && *(end + strspn(end, " \n")) == 0;
}

TEST(json_validator_rejects)
{
    const char *bad[] = {"{", "{\"a\" 1}", "[1,]", "{\"a\": 1,}", "\"\\x\"", "01", "1.",
                         "\"\n\"", "[1 2]", "{1: 2}", "\"\\u12\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!json_valid(bad[i]));
    CHECK(json_valid("{\"a\": [1, 2.500, null, \"\\u00ff\\n\"], \"b\": {}}\n"));
}

/* ---- output helpers -------------------------------------------------------------------- */

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* The nth entry (from 0) named name, as text; "" when there is none. */
static const char *entry(const char *name, int nth)
{
    static char buf[65536];
    char key[300];
    snprintf(key, sizeof(key), "\"name\": \"%s\",", name);
    const char *p = out;
    buf[0] = 0;
    for (; (p = strstr(p, key)) != NULL; p++) {
        if (nth-- == 0) {
            const char *end = strstr(p, "\n    }");
            size_t n = end ? (size_t)(end - p) : strlen(p);
            if (n >= sizeof(buf))
                n = sizeof(buf) - 1;
            memcpy(buf, p, n);
            buf[n] = 0;
            break;
        }
    }
    return buf;
}

/* Fails the test unless text contains every needle. */
#define HAS(text, ...)                                                                     \
    do {                                                                                   \
        const char *has_text_ = (text), *const has_[] = {__VA_ARGS__};                     \
        for (size_t has_i_ = 0; has_i_ < sizeof(has_) / sizeof(has_[0]); has_i_++) {       \
            if (!strstr(has_text_, has_[has_i_])) {                                        \
                check_fail(__FILE__, __LINE__, "missing %s in:\n%s", has_[has_i_],         \
                           has_text_);                                                     \
                return;                                                                    \
            }                                                                              \
        }                                                                                  \
    } while (0)

/* ---- benchmarks under test ------------------------------------------------------------- */

/* Each operation costs lb_arg ticks, followed by untimed teardown. */
static void bm_cost(struct lb_state *s)
{
    calls++;
    while (lb_next(s)) {
        granted++;
        uint64_t t = lb_start(s);
        fake_now += lb_arg(s);
        lb_stop(s, t);
        fake_now += 1000;
    }
}

/* The i-th operation of each call costs i + 1. */
static void bm_ramp(struct lb_state *s)
{
    for (uint64_t i = 0; lb_next(s); i++) {
        uint64_t t = lb_start(s);
        fake_now += i + lb_arg(s);
        lb_stop(s, t);
    }
}

static void bm_batch(struct lb_state *s)
{
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        fake_now += 41;
        lb_stop_batch(s, t, 4);
    }
}

static void bm_tag(struct lb_state *s)
{
    runs[lb_arg(s)]++;
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        fake_now += 10;
        lb_stop(s, t);
    }
}

static void bm_fail(struct lb_state *s)
{
    lb_fail(s, "out of frames");
    while (lb_next(s))
        runs[7]++;
}

static void bm_nothing(struct lb_state *s)
{
    while (lb_next(s))
        fake_now += 3;
}

static void bm_twice(struct lb_state *s)
{
    while (lb_next(s)) {
        lb_stop(s, lb_start(s));
        lb_stop(s, lb_start(s));
    }
}

static void bm_rebatch(struct lb_state *s)
{
    for (uint64_t i = 0; lb_next(s); i++)
        lb_stop_batch(s, lb_start(s), i % 2 + 1);
}

#define BENCH(name_, fn_, arg_)                                                             \
    {.name = name_, .fn = fn_, .target = "K-5", .desc = "d", .arg = arg_}

static const struct lb_benchmark b_cost = BENCH("cost", bm_cost, 100);
static const struct lb_benchmark b_ramp = BENCH("ramp", bm_ramp, 1);
static const struct lb_benchmark b_index = BENCH("index", bm_ramp, 0);
/* Steps the clock back 5 ticks (the addition wraps): a sample below the overhead. */
static const struct lb_benchmark b_back = BENCH("backwards", bm_cost, (uint64_t)-5);
static const struct lb_benchmark b_batch = BENCH("batch", bm_batch, 0);
static const struct lb_benchmark b_fail = BENCH("fail", bm_fail, 0);
static const struct lb_benchmark b_nothing = BENCH("nothing", bm_nothing, 0);
static const struct lb_benchmark b_twice = BENCH("twice", bm_twice, 0);
static const struct lb_benchmark b_rebatch = BENCH("rebatch", bm_rebatch, 0);
static const struct lb_benchmark b_a1 = BENCH("alpha/1", bm_tag, 0);
static const struct lb_benchmark b_a2 = BENCH("alpha/2", bm_tag, 1);
static const struct lb_benchmark b_beta = BENCH("beta", bm_tag, 2);
static const struct lb_benchmark b_gamma = BENCH("gamma/x", bm_tag, 3);

static int run1(const struct lb_benchmark *b, const char *filter)
{
    const struct lb_benchmark *list[] = {b};
    return lb_run_list(&env, filter, list, 1);
}

/* ---- tests ----------------------------------------------------------------------------- */

TEST(overhead_subtracted_exactly)
{
    setup(8192);
    env.repetitions = 3;
    CHECK_EQ(run1(&b_cost, NULL), 0);
    CHECK(json_valid(out));
    HAS(out, "\"timer_overhead_ticks\": 7,");
    const char *e = entry("cost", 0);
    HAS(e, "\"ticks_min\": 100,", "\"ticks_max\": 100", "\"ticks_median\": 100,",
           "\"ticks_mean\": 100.000,", "\"ticks_stddev\": 0.000,", "\"real_time\": 100.000,",
           "\"cpu_time\": 100.000,", "\"time_unit\": \"ns\",", "\"target\": \"K-5\",",
           "\"threads\": 1,");
}

TEST(iteration_count_grows_to_min_ticks)
{
    setup(8192);
    env.repetitions = 3;
    env.warmup_iterations = 5;
    CHECK_EQ(run1(&b_cost, NULL), 0);
    /* probes of 1, 10 and 100 iterations: 100 * 100 ticks reaches min_ticks = 10000 */
    HAS(entry("cost", 0), "\"iterations\": 100,");
    CHECK_EQ(calls, 1 + 3 + 3);
    CHECK_EQ(granted, 5 + 111 + 3 * 100);

    setup(8192);
    env.min_ticks = 15000; /* 100 iterations time 10000: scaled to 1.4 * 15000 / 100 each */
    CHECK_EQ(run1(&b_cost, NULL), 0);
    HAS(entry("cost", 0), "\"iterations\": 210,");

    setup(50); /* the sample buffer caps it */
    CHECK_EQ(run1(&b_cost, NULL), 0);
    HAS(entry("cost", 4), "\"iterations\": 50,");
    HAS(out, "\"sample_capacity\": 50,");

    setup(8192);
    env.min_ticks = 1; /* one iteration already suffices */
    CHECK_EQ(run1(&b_cost, NULL), 0);
    HAS(entry("cost", 0), "\"iterations\": 1,");
}

TEST(warmup_longer_than_buffer)
{
    setup(16);
    env.warmup_iterations = 100;
    env.min_ticks = 1;
    env.repetitions = 1;
    CHECK_EQ(run1(&b_cost, NULL), 0);
    CHECK_EQ(granted, 100 + 1 + 1);
    CHECK_EQ(calls, 7 + 1 + 1); /* warm-up in chunks of the buffer size */
}

TEST(repetitions_and_aggregates)
{
    setup(8192);
    env.repetitions = 3;
    CHECK_EQ(run1(&b_cost, NULL), 0);
    CHECK_EQ(count(out, "\"run_type\": \"iteration\""), 3);
    CHECK_EQ(count(out, "\"run_type\": \"aggregate\""), 3);
    HAS(entry("cost", 2), "\"repetition_index\": 2,", "\"repetitions\": 3,");
    const char *m = entry("cost_mean", 0);
    HAS(m, "\"run_name\": \"cost\",", "\"aggregate_name\": \"mean\",",
           "\"aggregate_unit\": \"time\",", "\"iterations\": 3,", "\"real_time\": 100.000,",
           "\"ticks\": 100.000");
    HAS(entry("cost_median", 0), "\"real_time\": 100.000,");
    HAS(entry("cost_stddev", 0), "\"real_time\": 0.000,");
    CHECK(strstr(m, "repetition_index") == NULL);

    setup(8192);
    env.repetitions = 1; /* like Google Benchmark: no aggregates of a single run */
    CHECK_EQ(run1(&b_cost, NULL), 0);
    CHECK_EQ(count(out, "\"run_type\": \"iteration\""), 1);
    CHECK_EQ(count(out, "aggregate"), 0);

    setup(8192);
    env.repetitions = 0; /* the default */
    CHECK_EQ(run1(&b_cost, NULL), 0);
    CHECK_EQ(count(out, "\"run_type\": \"iteration\""), LB_DEFAULT_REPETITIONS);
}

TEST(statistics_in_output)
{
    setup(10);
    env.min_ticks = UINT64_MAX; /* grows to the buffer: 10 samples costing 1..10 */
    CHECK_EQ(run1(&b_ramp, NULL), 0);
    CHECK(json_valid(out));
    const char *e = entry("ramp", 0);
    HAS(e, "\"iterations\": 10,", "\"samples_total\": 10,",
           "\"samples\": [\n        1, 2, 3, 4, 5, 6, 7, 8, 9, 10\n      ],",
           "\"ticks_mean\": 5.500,", "\"ticks_stddev\": 3.027,", "\"ticks_min\": 1,",
           "\"ticks_median\": 5,", "\"ticks_p90\": 9,", "\"ticks_p99\": 10,", "\"ticks_p999\": 10,",
           "\"ticks_max\": 10", "\"real_time\": 5.500,");
}

TEST(ticks_to_ns)
{
    setup(8192);
    env.ticks_hz = 3000000000u;
    CHECK_EQ(run1(&b_cost, NULL), 0);
    HAS(entry("cost", 0), "\"real_time\": 33.333,");
    HAS(out, "\"ticks_hz\": 3000000000,");

    setup(8192);
    env.ticks_hz = 0; /* taken as 1 GHz */
    CHECK_EQ(run1(&b_cost, NULL), 0);
    HAS(entry("cost", 0), "\"real_time\": 100.000,");
    HAS(out, "\"ticks_hz\": 1000000000,", "\"min_ticks\": 10000,");

    static const struct lb_benchmark slow = BENCH("slow", bm_cost, 1000);
    setup(8192);
    env.ticks_hz = 2994300000u;
    CHECK_EQ(run1(&slow, NULL), 0);
    HAS(entry("slow", 0), "\"real_time\": 333.967,"); /* 1000 / 2.9943 = 333.9678 */

    setup(8192);
    env.min_ticks = 0; /* ticks_hz / 100 */
    env.ticks_hz = 1000000;
    CHECK_EQ(run1(&b_cost, NULL), 0);
    HAS(out, "\"min_ticks\": 10000,");
}

TEST(samples_below_overhead_clamp_to_zero)
{
    setup(8192);
    CHECK_EQ(run1(&b_back, NULL), 0);
    HAS(entry("backwards", 0), "\"ticks_max\": 0", "\"real_time\": 0.000,");
}

TEST(batch_mode)
{
    setup(8192);
    CHECK_EQ(run1(&b_batch, NULL), 0);
    const char *e = entry("batch", 0);
    /* 41 ticks per batch of 4: probes 1, 10, 100 (4100 ticks), then 100 * 14000 / 4100 = 341 */
    HAS(e, "\"iterations\": 1364,", "\"ops_per_sample\": 4,", "\"samples_total\": 341,",
           "\"ticks_mean\": 10.250,", "\"ticks_median\": 10.250,", "\"ticks_max\": 10.250",
           "\"real_time\": 10.250,", "\"samples\": [\n        10.250, 10.250,");
}

TEST(samples_capped_and_evenly_spaced)
{
    setup(5000);
    env.min_ticks = UINT64_MAX;
    env.repetitions = 1;
    CHECK_EQ(run1(&b_index, NULL), 0);
    CHECK(json_valid(out));
    const char *e = entry("index", 0);
    HAS(e, "\"samples_total\": 5000,", "\"samples\": [\n        0, 2, 5, 7, 10, 12,");
    const char *s = strstr(e, "\"samples\": [");
    const char *end = strchr(s, ']');
    int commas = 0;
    for (const char *p = s; p < end; p++)
        commas += *p == ',';
    CHECK_EQ(commas + 1, LB_SAMPLES_JSON_MAX);
    HAS(e, "4997\n      ]"); /* index 1999 * 5000 / 2000 */
    HAS(e, "\"ticks_max\": 4999");
    HAS(e, "\"ticks_p999\": 4994,"); /* rank ceil(4995) = 4995: value 4994 */
}

static const struct lb_benchmark *const greek[] = {&b_a1, &b_a2, &b_beta, &b_gamma};

static int run_greek(const char *filter)
{
    return lb_run_list(&env, filter, greek, 4);
}

TEST(filter_selects_all)
{
    const char *alls[] = {NULL, "", "all", "*", "all,beta", ",,all,"};
    for (size_t i = 0; i < sizeof(alls) / sizeof(alls[0]); i++) {
        setup(64);
        env.repetitions = 1;
        CHECK_EQ(run_greek(alls[i]), 0);
        for (int k = 0; k < 4; k++)
            CHECK(runs[k] > 0);
        CHECK(json_valid(out));
    }
    HAS(out, "\"filter\": \",,all,\"");
    /* each benchmark is its own family, numbered in run order */
    HAS(entry("gamma/x", 0), "\"family_index\": 3,", "\"per_family_instance_index\": 0,");
}

TEST(filter_globs)
{
    setup(64);
    CHECK_EQ(run_greek("alpha/*"), 0);
    CHECK(runs[0] && runs[1] && !runs[2] && !runs[3]);
    HAS(entry("alpha/2", 0), "\"family_index\": 1,");

    setup(64);
    CHECK_EQ(run_greek("?eta,*/x"), 0);
    CHECK(!runs[0] && !runs[1] && runs[2] && runs[3]);
    HAS(entry("beta", 0), "\"family_index\": 0,");

    setup(64);
    CHECK_EQ(run_greek("a*a/?"), 0);
    CHECK(runs[0] && runs[1] && !runs[2] && !runs[3]);

    setup(64);
    env.repetitions = 2;
    CHECK_EQ(run_greek("alpha/1,alpha/*,alpha/1"), 0); /* overlapping elements: runs once */
    CHECK_EQ(count(out, "\"name\": \"alpha/1\","), 2);
    CHECK_EQ(count(out, "\"name\": \"alpha/1_mean\","), 1);
}

TEST(filter_unknown_reported_rest_run)
{
    setup(64);
    CHECK_EQ(run_greek("beta,nope,g?mma/*,zzz*,beta?"), 3);
    CHECK(!runs[0] && !runs[1] && runs[2] && runs[3]);
    CHECK_EQ(nerrs, 3);
    CHECK_STR(errs, "bench: unknown benchmark 'nope' (known: alpha/1, alpha/2, beta, gamma/x)\n"
                    "bench: no benchmark matches 'zzz*' (known: alpha/1, alpha/2, beta, gamma/x)\n"
                    "bench: no benchmark matches 'beta?' (known: alpha/1, alpha/2, beta, "
                    "gamma/x)\n");
    CHECK(json_valid(out));
    CHECK_EQ(count(out, "\"run_type\": \"iteration\""), 2 * LB_DEFAULT_REPETITIONS);

    setup(64);
    CHECK_EQ(lb_run_list(&env, "x", NULL, 0), 1);
    CHECK_STR(errs, "bench: unknown benchmark 'x' (known: none)\n");
    CHECK(json_valid(out));
}

TEST(error_message_cut_at_limit)
{
    static char names[40][24];
    static struct lb_benchmark many[40];
    const struct lb_benchmark *list[40];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "benchmark_%02u", (unsigned)i % 100);
        many[i] = (struct lb_benchmark){.name = names[i], .fn = bm_tag};
        list[i] = &many[i];
    }
    setup(64);
    CHECK_EQ(lb_run_list(&env, "benchmark_00,bogus", list, 40), 1);
    CHECK_EQ(strlen(errs), LB_ERROR_MAX); /* LB_ERROR_MAX - 1 characters and the newline */
    CHECK(strncmp(errs, "bench: unknown benchmark 'bogus' (known: benchmark_00, ", 55) == 0);
    CHECK(strcmp(errs + LB_ERROR_MAX - 4, "...\n") == 0);
}

TEST(runs_in_name_order)
{
    const struct lb_benchmark *list[] = {&b_gamma, &b_beta, &b_a2, &b_a1};
    setup(64);
    env.repetitions = 1;
    CHECK_EQ(lb_run_list(&env, "*,x", list, 4), 1);
    CHECK_STR(errs, "bench: unknown benchmark 'x' (known: alpha/1, alpha/2, beta, gamma/x)\n");
    HAS(entry("alpha/1", 0), "\"family_index\": 0,");
    HAS(entry("alpha/2", 0), "\"family_index\": 1,");
    HAS(entry("beta", 0), "\"family_index\": 2,");
    HAS(entry("gamma/x", 0), "\"family_index\": 3,");
    CHECK(strstr(out, "\"alpha/1\"") < strstr(out, "\"gamma/x\""));
}

TEST(duplicate_names)
{
    static const struct lb_benchmark beta2 = BENCH("beta", bm_tag, 4);
    const struct lb_benchmark *list[] = {&b_beta, &b_a1, &beta2};
    setup(64);
    CHECK_EQ(lb_run_list(&env, "beta", list, 3), 1);
    CHECK_STR(errs, "bench: duplicate benchmark name 'beta'\n");
    CHECK(runs[2] && runs[4] && !runs[0]);
}

TEST(benchmark_failures)
{
    setup(64);
    const struct lb_benchmark *list[] = {&b_fail, &b_nothing, &b_twice, &b_rebatch, &b_a1};
    CHECK_EQ(lb_run_list(&env, NULL, list, 5), 4);
    CHECK_STR(errs, "bench: 'fail' failed: out of frames\n"
                    "bench: 'nothing' recorded no samples (lb_stop never called)\n"
                    "bench: 'rebatch' changed its batch size (now 2)\n"
                    "bench: 'twice' recorded more samples than iterations (395 dropped)\n");
    CHECK_EQ(runs[7], 0);
    CHECK_EQ(count(out, "\"name\": \"fail"), 0);
    CHECK_EQ(count(out, "\"name\": \"nothing"), 0);
    CHECK(runs[0] > 0); /* the rest still ran */
    HAS(entry("alpha/1", 0), "\"family_index\": 0,"); /* name order, not table order */
    HAS(entry("rebatch", 0), "\"family_index\": 3,");
    CHECK(json_valid(out));
}

TEST(invalid_env)
{
    setup(64);
    env.out = NULL;
    CHECK_EQ(run1(&b_cost, NULL), 1);
    CHECK_STR(errs, "bench: no output sink\n");
    CHECK_EQ(calls, 0);

    setup(64);
    env.capacity = 0;
    env.repetitions = LB_MAX_REPETITIONS + 1;
    CHECK_EQ(run1(&b_cost, NULL), 2);
    CHECK_EQ(out_len, 0);
    CHECK_EQ(calls, 0);

    setup(64);
    env.error = NULL; /* errors are still counted */
    CHECK_EQ(run1(&b_cost, "nope"), 1);
    CHECK_EQ(lb_run_list(NULL, NULL, NULL, 0), 1);
}

TEST(context_and_escaping)
{
    static const struct lb_kv kv[] = {
        {"commit", "abc\"def\\"},
        {"cpu", "line\nbreak\ttab\x01"},
        {"utf8", "\xc2\xb5s \xe2\x9c\x93"},
        {"bad", "a\xff" "b\xc0\xaf" "c\xed\xa0\x80"},
        {"ticks_hz", "7"},
        {"commit", "again"},
        {NULL, "x"},
        {"empty", NULL},
    };
    static const struct lb_benchmark odd = {
        .name = "we\"ird\\name", .fn = bm_cost, .target = NULL, .desc = "two\nlines", .arg = 1};
    setup(64);
    env.context = kv;
    env.ncontext = sizeof(kv) / sizeof(kv[0]);
    env.repetitions = 2;
    CHECK_EQ(run1(&odd, NULL), 3);
    CHECK(json_valid(out));
    const char *head = "{\n  \"context\": {\n    \"library\": \"tachyon-libbench\",";
    CHECK(strncmp(out, head, strlen(head)) == 0);
    HAS(out, "\"commit\": \"abc\\\"def\\\\\",", "\"cpu\": \"line\\nbreak\\ttab\\u0001\",",
             "\"utf8\": \"\xc2\xb5s \xe2\x9c\x93\",",
             "\"bad\": \"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffd\",", "\"empty\": null,");
    CHECK_EQ(count(out, "\"ticks_hz\""), 1);
    CHECK_EQ(count(out, "\"commit\""), 1);
    CHECK_EQ(nerrs, 3);
    HAS(errs, "bench: context key 'ticks_hz' is missing, repeated or the library's own\n");
    HAS(out, "\"name\": \"we\\\"ird\\\\name\",", "\"name\": \"we\\\"ird\\\\name_stddev\",",
             "\"target\": null,", "\"description\": \"two\\nlines\",");
    CHECK(out_len > 0 && strcmp(out + out_len - 7, "\n  ]\n}\n") == 0);
}

TEST(empty_run_is_valid_json)
{
    setup(64);
    CHECK_EQ(lb_run_list(&env, NULL, NULL, 0), 0);
    CHECK(json_valid(out));
    HAS(out, "\"benchmarks\": []\n}\n");
}

/* ---- registration through the lb_benchmarks section ------------------------------------ */

static void bm_registered(struct lb_state *s)
{
    runs[5 + lb_arg(s)]++;
    while (lb_next(s))
        lb_stop(s, lb_start(s));
}

LB_BENCHMARK("reg/one", bm_registered, "K-1", "registered through the section");
LB_BENCHMARK_ARG("reg/two", bm_registered, 1, NULL, "the same function with another arg");

TEST(registration_section)
{
    size_t n;
    const struct lb_benchmark *const *reg = lb_registry(&n);
    CHECK_EQ(n, 2);
    size_t one = strcmp(reg[0]->name, "reg/one") == 0 ? 0 : 1; /* section order: toolchain's */
    CHECK_STR(reg[one]->name, "reg/one");
    CHECK_STR(reg[one]->target, "K-1");
    CHECK_STR(reg[1 - one]->name, "reg/two");
    CHECK_EQ(reg[1 - one]->arg, 1);
    setup(64);
    env.repetitions = 1;
    CHECK_EQ(lb_run(&env, "reg/*"), 0);
    CHECK(runs[5] > 0 && runs[6] > 0);
    HAS(entry("reg/one", 0), "\"target\": \"K-1\",");
    setup(64);
    CHECK_EQ(lb_run(&env, "nope"), 1);
    CHECK_STR(errs, "bench: unknown benchmark 'nope' (known: reg/one, reg/two)\n");
}
