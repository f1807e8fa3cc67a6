/* Host tests for bench/libbench: the harness driven by a fake clock that advances a fixed step per
 * read plus whatever the "operation" adds, so every sample, statistic and iteration count is
 * known exactly. Output checks look for exact key/value lines and run a small JSON validator;
 * tests/host/test_benchjson.py parses the same kind of output with Python's json module.
 * This file covers measurement and output; selection, errors and registration are in
 * test_libbench_select.c. Fixtures: libbench_fake.h. */
#include "libbench_fake.h"

TEST(json_validator_rejects)
{
    const char *bad[] = {"{", "{\"a\" 1}", "[1,]", "{\"a\": 1,}", "\"\\x\"", "01", "1.",
                         "\"\n\"", "[1 2]", "{1: 2}", "\"\\u12\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!json_valid(bad[i]));
    CHECK(json_valid("{\"a\": [1, 2.500, null, \"\\u00ff\\n\"], \"b\": {}}\n"));
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

/* Counts its calls in "calls_seen" and the iterations of this call in "iters"; arg 1 also sets
 * more names than fit. */
static void bm_counted(struct lb_state *s)
{
    static uint64_t ncalls;
    static const char *const many[] = {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"};
    uint64_t n = 0;
    lb_counter(s, "iters", 999); /* replaced below, in place: the last value counts */
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        fake_now += 10;
        lb_stop(s, t);
        n++;
    }
    lb_counter(s, "calls_seen", ++ncalls);
    lb_counter(s, "iters", n);
    for (size_t i = 0; lb_arg(s) == 1 && i < sizeof(many) / sizeof(many[0]); i++)
        lb_counter(s, many[i], i);
}

TEST(counters_per_repetition)
{
    static const struct lb_benchmark counted = BENCH("counted", bm_counted, 0);
    setup(8192);
    env.repetitions = 2;
    env.min_ticks = 1; /* one probe of 1 iteration, then two repetitions of 1 */
    CHECK_EQ(run1(&counted, NULL), 0);
    CHECK(json_valid(out));
    HAS(entry("counted", 0), "\"ticks_max\": 10,\n      \"iters\": 1,\n      \"calls_seen\": 2");
    HAS(entry("counted", 1), "\"calls_seen\": 3");
    CHECK_EQ(count(out, "\"iters\""), 2);
    CHECK(strstr(entry("counted_mean", 0), "calls_seen") == NULL);

    static const struct lb_benchmark many = BENCH("many", bm_counted, 1);
    setup(8192);
    CHECK_EQ(run1(&many, NULL), 1);
    HAS(errs, "bench: 'many' failed: more than LB_MAX_COUNTERS counter names\n");
    CHECK_EQ(count(out, "\"name\": \"many\""), 0);
}

/* Skips on the call whose index is lb_arg (0: warm-up), after timing one iteration. */
static void bm_skips(struct lb_state *s)
{
    static uint64_t ncalls;
    if (ncalls++ >= lb_arg(s))
        lb_skip(s, "needs cycles mode");
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        fake_now += 10;
        lb_stop(s, t);
    }
}

TEST(skip_is_one_entry_and_no_error)
{
    static const struct lb_benchmark skips = BENCH("skips", bm_skips, 0);
    setup(8192);
    env.repetitions = 3;
    CHECK_EQ(run1(&skips, NULL), 0);
    CHECK_EQ(nerrs, 0);
    CHECK(json_valid(out));
    CHECK_EQ(count(out, "\"name\": \"skips"), 1);
    HAS(entry("skips", 0), "\"run_type\": \"iteration\",", "\"iterations\": 0,",
        "\"real_time\": 0,", "\"skipped\": true,", "\"skip_message\": \"needs cycles mode\"");
    CHECK(strstr(entry("skips", 0), "samples") == NULL);
    CHECK(strstr(entry("skips", 0), "ticks_median") == NULL);
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
