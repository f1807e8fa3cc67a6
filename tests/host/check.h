/* Minimal host unit-test framework. Each TEST registers itself; tests/host/check.c runs them all
 * and prints "PASS name" or, after the failed check's location and expression, "FAIL name", then
 * a summary line "<binary>: N passed, N failed" that scripts/run_tests.py adds up. */
#pragma once
#include <stdio.h>

typedef void (*check_fn)(void);

void check_register(const char *name, check_fn fn);
void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int check_failed(void);

#define TEST(name)                                                                 \
    static void name(void);                                                        \
    __attribute__((constructor)) static void check_register_##name(void)           \
    {                                                                              \
        check_register(#name, name);                                               \
    }                                                                              \
    static void name(void)

/* On failure the current test stops (return) so that later checks do not cascade. */
#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            check_fail(__FILE__, __LINE__, "%s", #cond);                           \
            return;                                                                \
        }                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                             \
    do {                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);            \
        if (check_a_ != check_b_) {                                                \
            check_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a, #b,      \
                       check_a_, check_b_);                                        \
            return;                                                                \
        }                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                            \
    do {                                                                           \
        const char *check_a_ = (a), *check_b_ = (b);                               \
        if (strcmp(check_a_, check_b_) != 0) {                                     \
            check_fail(__FILE__, __LINE__, "%s == %s (\"%s\" != \"%s\")", #a, #b,  \
                       check_a_, check_b_);                                        \
            return;                                                                \
        }                                                                          \
    } while (0)
