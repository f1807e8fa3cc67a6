#include "core/selftest.h"

#include <stdarg.h>

#include "core/console.h"
#include "core/panic.h"
#include "lib/fmt.h"
#include "lib/kstring.h"

extern const struct selftest __selftests_start[], __selftests_end[];

static bool current_failed;
static char failure[256];

void selftest_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    int n = fmt_snprintf(failure, sizeof(failure), "%s:%d: ", file, line);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof(failure))
        fmt_vsnprintf(failure + n, sizeof(failure) - n, fmt, ap);
    va_end(ap);
    current_failed = true;
}

/* Does the comma-separated filter name this test, by suite or by suite.name? */
static bool selected(const char *filter, const struct selftest *t)
{
    size_t suite_len = strlen(t->suite), name_len = strlen(t->name);
    const char *p = filter;
    while (*p) {
        const char *end = p;
        while (*end && *end != ',')
            end++;
        size_t len = end - p;
        if (len == 3 && !strncmp(p, "all", 3) && !t->explicit_only)
            return true;
        if (len == suite_len && !strncmp(p, t->suite, len))
            return true;
        if (len == suite_len + 1 + name_len && !strncmp(p, t->suite, suite_len) &&
            p[suite_len] == '.' && !strncmp(p + suite_len + 1, t->name, name_len))
            return true;
        p = *end ? end + 1 : end;
    }
    return false;
}

/* Every element of the filter must match something: a typo must not silently run nothing. */
static int unknown_filter_elements(const char *filter)
{
    int unknown = 0;
    const char *p = filter;
    while (*p) {
        const char *end = p;
        while (*end && *end != ',')
            end++;
        char word[64];
        size_t len = end - p;
        bool matched = len == 3 && !strncmp(p, "all", 3);
        if (len < sizeof(word)) {
            memcpy(word, p, len);
            word[len] = '\0';
            for (const struct selftest *t = __selftests_start; !matched && t < __selftests_end;
                 t++) {
                struct selftest probe = *t;
                probe.explicit_only = false;
                matched = len && selected(word, &probe);
            }
        }
        if (!matched) {
            kprintf("TEST FAIL boot.test_filter: test=%.*s names no suite or test\n", (int)len,
                    p);
            unknown++;
        }
        p = *end ? end + 1 : end;
    }
    return unknown;
}

unsigned selftest_run(const char *filter, int option_errors)
{
    int passed = 0, failed = unknown_filter_elements(filter);

    if (option_errors) {
        kprintf("TEST FAIL boot.cmdline: %d boot option error(s), see above\n", option_errors);
        failed++;
    }
    for (const struct selftest *t = __selftests_start; t < __selftests_end; t++) {
        if (!selected(filter, t))
            continue;
        current_failed = false;
        t->fn();
        if (current_failed) {
            kprintf("TEST FAIL %s.%s: %s\n", t->suite, t->name, failure);
            failed++;
        } else {
            kprintf("TEST PASS %s.%s\n", t->suite, t->name);
            passed++;
        }
    }
    kprintf("TEST DONE passed=%d failed=%d\n", passed, failed);
    return failed ? EXIT_TESTS_FAILED : EXIT_TESTS_PASSED;
}
