/* In-kernel self tests, run when the kernel boots with test=. Each reports one line over serial
 * ("TEST PASS suite.name" / "TEST FAIL suite.name: why") that scripts/bootlog.py parses. */
#pragma once
#include <stdbool.h>

struct selftest {
    const char *suite;
    const char *name;
    void (*fn)(void);
    bool explicit_only; /* destructive tests (fault, hang) run only when named */
};

#define SELFTEST_DEFINE(suite_, name_, explicit_)                                          \
    static void selftest_##suite_##_##name_(void);                                         \
    static const struct selftest selftest_desc_##suite_##_##name_                          \
        __attribute__((used, section(".selftests"), aligned(8))) = {                       \
            #suite_, #name_, selftest_##suite_##_##name_, explicit_};                      \
    static void selftest_##suite_##_##name_(void)

#define SELFTEST(suite, name) SELFTEST_DEFINE(suite, name, false)
#define SELFTEST_EXPLICIT(suite, name) SELFTEST_DEFINE(suite, name, true)

void selftest_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* On failure the test returns at once, so later checks do not cascade. */
#define KCHECK(cond)                                                                       \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            selftest_fail(__FILE__, __LINE__, "%s", #cond);                                \
            return;                                                                        \
        }                                                                                  \
    } while (0)

#define KCHECK_EQ(a, b)                                                                    \
    do {                                                                                   \
        long long kcheck_a_ = (long long)(a), kcheck_b_ = (long long)(b);                  \
        if (kcheck_a_ != kcheck_b_) {                                                      \
            selftest_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a, #b,           \
                          kcheck_a_, kcheck_b_);                                           \
            return;                                                                        \
        }                                                                                  \
    } while (0)

/* Runs the tests named by filter ("all", or a comma list of suites or suite.name) and returns
 * the machine exit code. Boot-option errors are reported as a failing test of their own. */
unsigned selftest_run(const char *filter, int option_errors);
