#include "check.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_MAX_TESTS 512

static struct {
    const char *name;
    check_fn fn;
} tests[CHECK_MAX_TESTS];
static int ntests;
static int current_failed;

void check_register(const char *name, check_fn fn)
{
    if (ntests == CHECK_MAX_TESTS) {
        fprintf(stderr, "check: too many tests (raise CHECK_MAX_TESTS)\n");
        exit(2);
    }
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    ntests++;
}

void check_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    current_failed = 1;
    printf("  %s:%d: check failed: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

int check_failed(void)
{
    return current_failed;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    const char *only = argc > 1 ? argv[1] : NULL;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < ntests; i++) {
        if (only && strcmp(only, tests[i].name) != 0)
            continue;
        current_failed = 0;
        printf("RUN  %s\n", tests[i].name);
        tests[i].fn();
        if (current_failed) {
            printf("FAIL %s\n", tests[i].name);
            failed++;
        } else {
            printf("PASS %s\n", tests[i].name);
            passed++;
        }
    }
    printf("%s: %d passed, %d failed\n", argv[0], passed, failed);
    return failed ? 1 : 0;
}
