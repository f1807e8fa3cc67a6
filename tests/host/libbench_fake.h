/* Shared fixtures for the libbench host tests (test_libbench.c, test_libbench_select.c): a
 * fake clock that advances a fixed step per read plus whatever the "operation" adds, an output
 * sink and error collector, a small validating JSON parser, output helpers and the benchmarks
 * under test. Everything is static, one copy per test binary; a test need not use all of it. */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "libbench/libbench.h"

/* Every definition here is static and may go unused in a given test file. */
#define LB_FAKE static __attribute__((unused))

/* ---- fixtures -------------------------------------------------------------------------- */

LB_FAKE uint64_t fake_now, fake_step;

LB_FAKE uint64_t fake_clock(void)
{
    fake_now += fake_step;
    return fake_now;
}

LB_FAKE char *out;
LB_FAKE size_t out_len, out_cap;

LB_FAKE void sink(void *ctx, const char *s, size_t n)
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

LB_FAKE char errs[16384];
LB_FAKE int nerrs;

LB_FAKE void on_error(void *ctx, const char *msg)
{
    (void)ctx;
    CHECK(strchr(msg, '\n') == NULL);
    strncat(errs, msg, sizeof(errs) - strlen(errs) - 2);
    strcat(errs, "\n");
    nerrs++;
}

LB_FAKE uint64_t samples[8192];
LB_FAKE struct lb_env env;

/* Call statistics of the last run, for the iteration-count checks. */
LB_FAKE uint64_t calls, granted;
LB_FAKE int runs[8];

LB_FAKE void setup(size_t capacity)
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
LB_FAKE const char *json_value(const char *p)
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
    if (strncmp(p, "null", 4) == 0 || strncmp(p, "true", 4) == 0)
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

LB_FAKE int json_valid(const char *s)
{
    const char *end = s ? json_value(s) : NULL;
    return end && *(end + strspn(end, " \n")) == 0;
}


/* ---- output helpers -------------------------------------------------------------------- */

LB_FAKE int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* The nth entry (from 0) named name, as text; "" when there is none. */
LB_FAKE const char *entry(const char *name, int nth)
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
LB_FAKE void bm_cost(struct lb_state *s)
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
LB_FAKE void bm_ramp(struct lb_state *s)
{
    for (uint64_t i = 0; lb_next(s); i++) {
        uint64_t t = lb_start(s);
        fake_now += i + lb_arg(s);
        lb_stop(s, t);
    }
}

LB_FAKE void bm_batch(struct lb_state *s)
{
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        fake_now += 41;
        lb_stop_batch(s, t, 4);
    }
}

LB_FAKE void bm_tag(struct lb_state *s)
{
    runs[lb_arg(s)]++;
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        fake_now += 10;
        lb_stop(s, t);
    }
}

LB_FAKE void bm_fail(struct lb_state *s)
{
    lb_fail(s, "out of frames");
    while (lb_next(s))
        runs[7]++;
}

LB_FAKE void bm_nothing(struct lb_state *s)
{
    while (lb_next(s))
        fake_now += 3;
}

LB_FAKE void bm_twice(struct lb_state *s)
{
    while (lb_next(s)) {
        lb_stop(s, lb_start(s));
        lb_stop(s, lb_start(s));
    }
}

LB_FAKE void bm_rebatch(struct lb_state *s)
{
    for (uint64_t i = 0; lb_next(s); i++)
        lb_stop_batch(s, lb_start(s), i % 2 + 1);
}

#define BENCH(name_, fn_, arg_)                                                             \
    {.name = name_, .fn = fn_, .target = "K-5", .desc = "d", .arg = arg_}

LB_FAKE const struct lb_benchmark b_cost = BENCH("cost", bm_cost, 100);
LB_FAKE const struct lb_benchmark b_ramp = BENCH("ramp", bm_ramp, 1);
LB_FAKE const struct lb_benchmark b_index = BENCH("index", bm_ramp, 0);
/* Steps the clock back 5 ticks (the addition wraps): a sample below the overhead. */
LB_FAKE const struct lb_benchmark b_back = BENCH("backwards", bm_cost, (uint64_t)-5);
LB_FAKE const struct lb_benchmark b_batch = BENCH("batch", bm_batch, 0);
LB_FAKE const struct lb_benchmark b_fail = BENCH("fail", bm_fail, 0);
LB_FAKE const struct lb_benchmark b_nothing = BENCH("nothing", bm_nothing, 0);
LB_FAKE const struct lb_benchmark b_twice = BENCH("twice", bm_twice, 0);
LB_FAKE const struct lb_benchmark b_rebatch = BENCH("rebatch", bm_rebatch, 0);
LB_FAKE const struct lb_benchmark b_a1 = BENCH("alpha/1", bm_tag, 0);
LB_FAKE const struct lb_benchmark b_a2 = BENCH("alpha/2", bm_tag, 1);
LB_FAKE const struct lb_benchmark b_beta = BENCH("beta", bm_tag, 2);
LB_FAKE const struct lb_benchmark b_gamma = BENCH("gamma/x", bm_tag, 3);

LB_FAKE int run1(const struct lb_benchmark *b, const char *filter)
{
    const struct lb_benchmark *list[] = {b};
    return lb_run_list(&env, filter, list, 1);
}
