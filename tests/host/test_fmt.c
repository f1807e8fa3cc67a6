/* fmt_snprintf is checked against the host C library (glibc) wherever the two are meant to agree,
 * and against literal expectations for the deliberate differences (unknown conversions, %n). */
#include "check.h"
#include "lib/fmt.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The tests feed odd flag combinations, non-literal formats and deliberately truncating buffers
 * to both implementations; the compiler's format warnings are about exactly those. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
#ifndef __clang__ /* clang has no such groups, and warns about unknown ones */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#pragma GCC diagnostic ignored "-Wformat-overflow"
#endif
#pragma GCC diagnostic ignored "-Wformat-zero-length"

/* Formats the same literal format and arguments with both and fails the test on any difference
 * in output or return value, naming the format. */
#define SAME(...)                                                                          \
    do {                                                                                   \
        char host_[512], ours_[512];                                                       \
        int hr_ = snprintf(host_, sizeof(host_), __VA_ARGS__);                             \
        int kr_ = fmt_snprintf(ours_, sizeof(ours_), __VA_ARGS__);                         \
        if (hr_ != kr_ || strcmp(host_, ours_) != 0) {                                     \
            check_fail(__FILE__, __LINE__, "%s: got \"%s\" (%d), host \"%s\" (%d)",        \
                       #__VA_ARGS__, ours_, kr_, host_, hr_);                              \
            return;                                                                        \
        }                                                                                  \
    } while (0)

/* SAME for a format taken from a table, naming the format and value on failure. */
#define SAME_ROW(fmt, val)                                                                 \
    do {                                                                                   \
        char host_[512], ours_[512];                                                       \
        int hr_ = snprintf(host_, sizeof(host_), fmt, val);                                \
        int kr_ = fmt_snprintf(ours_, sizeof(ours_), fmt, val);                            \
        if (hr_ != kr_ || strcmp(host_, ours_) != 0) {                                     \
            check_fail(__FILE__, __LINE__, "\"%s\" with %#llx: got \"%s\" (%d), "         \
                       "host \"%s\" (%d)", fmt, (unsigned long long)(val), ours_, kr_,    \
                       host_, hr_);                                                        \
            return;                                                                        \
        }                                                                                  \
    } while (0)

/* Output must equal want, and the return value its length. */
#define GIVES(want, ...)                                                                   \
    do {                                                                                   \
        char ours_[512];                                                                   \
        int kr_ = fmt_snprintf(ours_, sizeof(ours_), __VA_ARGS__);                         \
        CHECK_STR(ours_, want);                                                            \
        CHECK_EQ(kr_, (int)strlen(want));                                                  \
    } while (0)

TEST(fmt_signed_table)
{
    static const long long vals[] = {0, 1, -1, 7, -7, 42, -42, 255, -256, 1000000,
                                     INT_MAX, INT_MIN, (long long)INT_MAX + 1, INT64_MAX,
                                     INT64_MIN, INT64_MIN + 1};
    static const char *const fmts[] = {
        "%lld", "%lli", "%+lld", "% lld", "%+ lld", "%5lld", "%-5lld", "%05lld", "%-05lld",
        "%+05lld", "% 05lld", "%.0lld", "%.1lld", "%.3lld", "%.25lld", "%8.3lld", "%-8.3lld",
        "%08.3lld", "%+8.3lld", "%30lld", "%030lld", "%-30lld|", "%#lld", "%1lld", "%.lld",
        "%+.0lld", "% .0lld", "%5.0lld", "%-+25.20lld|",
    };
    for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++)
        for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++)
            SAME_ROW(fmts[f], vals[v]);
}

TEST(fmt_unsigned_table)
{
    static const unsigned long long vals[] = {
        0, 1, 7, 8, 9, 15, 16, 0x7f, 0x80, 0xff, 0x100, 0xdeadbeef, UINT_MAX,
        (unsigned long long)UINT_MAX + 1, INT64_MAX, (unsigned long long)INT64_MAX + 1, UINT64_MAX,
    };
    static const char *const fmts[] = {
        "%llu", "%llx", "%llX", "%llo", "%#llx", "%#llX", "%#llo", "%.0llu", "%.0llx", "%.0llo",
        "%#.0llx", "%#.0llo", "%#.0llX", "%#5.0llo", "%#.3llo", "%#.5llo", "%#.30llo",
        "%#020llx", "%#-20llx|", "%#20.10llx", "%020llu", "%-020llu|", "%+llu", "% llu",
        "%+llx", "% llo", "%24llo", "%#024llo", "%.24llx", "%#.24llX", "%1llx", "%#1llx",
        "%#08.4llx", "%08.0llx", "%#.1llo", "%#2llo",
    };
    for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++)
        for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++)
            SAME_ROW(fmts[f], vals[v]);
}

TEST(fmt_length_modifiers)
{
    SAME("%hhd %hhd %hhd %hhd", 127, 128, 255, -129);
    SAME("%hhu %hhx %hho %hhX", 256 + 5, -1, 511, 0xabc);
    SAME("%hd %hd %hd", 32767, 32768, -32769);
    SAME("%hu %hx %ho", 65536 + 3, -1, 0x1ffff);
    SAME("%d %i %u %x", INT_MIN, INT_MAX, UINT_MAX, UINT_MAX);
    SAME("%ld %lu %lx %lo", LONG_MIN, ULONG_MAX, ULONG_MAX, ULONG_MAX);
    SAME("%lld %llu %llx", LLONG_MIN, ULLONG_MAX, ULLONG_MAX);
    SAME("%zu %zx %zd %zd", SIZE_MAX, SIZE_MAX, (size_t)-5, (size_t)5);
    SAME("%td %tu %tx", (ptrdiff_t)PTRDIFF_MIN, (ptrdiff_t)-1, (ptrdiff_t)PTRDIFF_MAX);
    SAME("%jd %ju %jx %jo", INTMAX_MIN, UINTMAX_MAX, UINTMAX_MAX, (uintmax_t)0777);
    /* A narrower argument must not pick up garbage from the upper half of the register. */
    SAME("%hhd|%hd|%d|%ld", (signed char)-1, (short)-2, -3, -4L);
}

TEST(fmt_star_width_precision)
{
    SAME("[%*d]", 6, 42);
    SAME("[%*d]", -6, 42); /* a negative * width means '-' */
    SAME("[%-*d]", -6, 42);
    SAME("[%0*d]", -6, 42);
    SAME("[%*d]", 0, 42);
    SAME("[%.*d]", 5, 42);
    SAME("[%.*d]", -5, 42); /* a negative * precision is ignored */
    SAME("[%.*d]", 0, 0);
    SAME("[%0.*d]", -1, 42);
    SAME("[%0*.*d]", 10, -1, -42);
    SAME("[%*.*d]", 10, 4, -42);
    SAME("[%*.*d]", -10, 4, -42);
    SAME("[%*.*s]", 8, 3, "abcdef");
    SAME("[%*.*s]", -8, -3, "abcdef");
    SAME("[%*c]", -4, 'x');
    SAME("[%*s|%*s]", 3, "a", -3, "b");
    SAME("[%-*x]", 3, 0x123456);
}

TEST(fmt_strings_and_chars)
{
    SAME("%s", "");
    SAME("%s|%s", "hello", "world");
    SAME("[%10s][%-10s]", "abc", "abc");
    SAME("[%010s]", "abc"); /* '0' does not apply to strings in glibc */
    SAME("[%.2s][%.0s][%.10s]", "abcdef", "abcdef", "abc");
    SAME("[%5.2s][%-5.2s]", "abcdef", "abcdef");
    SAME("[%c%c%c]", 'a', 'b', 'c');
    SAME("[%5c][%-5c][%05c]", 'x', 'y', 'z');
    SAME("[%c]", 256 + 'A');
    SAME("[%+ #s]", "flags");

    /* Precision bounds the read: this array has no NUL terminator. */
    static const char unterminated[4] = {'w', 'x', 'y', 'z'};
    GIVES("wxy", "%.3s", unterminated);
    GIVES("wxyz", "%.4s", unterminated);
}

TEST(fmt_null_string)
{
    const char *null = NULL;

    GIVES("(null)", "%s", null);
    GIVES("[    (null)]", "[%10s]", null);
    GIVES("[(null)    ]", "[%-10s]", null);
    /* glibc prints nothing, not a fragment, when the precision cannot fit "(null)". */
    GIVES("[]", "[%.3s]", null);
    GIVES("[(null)]", "[%.6s]", null);
    SAME("[%s][%10s][%.3s][%.6s][%-8.2s]", null, null, null, null, null);
}

TEST(fmt_pointers)
{
    void *ptrs[] = {(void *)1, (void *)0x1234, (void *)0xdeadbeef, (void *)0xffff800000000000,
                    (void *)UINTPTR_MAX, &ptrs};
    for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++) {
        SAME("%p", ptrs[i]);
        SAME("[%20p][%-20p]", ptrs[i], ptrs[i]);
        SAME("[%020p][%.8p][%+p][% p]", ptrs[i], ptrs[i], ptrs[i], ptrs[i]);
    }
    GIVES("(nil)", "%p", (void *)NULL);
    GIVES("0x1234", "%p", (void *)0x1234);
    GIVES("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
    SAME("[%p][%10p][%-10p][%010p][%.2p]", NULL, NULL, NULL, NULL, NULL);
}

TEST(fmt_percent_and_literals)
{
    SAME("%%");
    SAME("100%%");
    SAME("%%d%%%d%%", 5);
    GIVES("[%]", "[%5%]"); /* glibc agrees, but ASan's printf interceptor warns on it */
    SAME("plain text with no conversions");
    SAME("");
    SAME("%d%s%c%x", 1, "two", '3', 4);
}

TEST(fmt_unknown_conversions)
{
    GIVES("%y", "%y");
    /* No argument is consumed, so the %d after it still gets the first one. */
    GIVES("a%yb5", "a%yb%d", 5);
    GIVES("%-5y", "%-5y");
    GIVES("%*y7", "%*y%d", 7);
    GIVES("%.*y7", "%.*y%d", 7);
    GIVES("%ls|%lc|%hs|%l%", "%ls|%lc|%hs|%l%");
    GIVES("%n", "%n");
    GIVES("%f %e %g", "%f %e %g");
    GIVES("%q%w", "%q%w");
    /* A specification cut short by the end of the format is copied as it is. */
    GIVES("abc%", "abc%");
    GIVES("abc%-08.", "abc%-08.");
    GIVES("%ll", "%ll");
    GIVES("1%", "%d%", 1);
}

TEST(fmt_truncation)
{
    char buf[16];

    memset(buf, 'Z', sizeof(buf));
    CHECK_EQ(fmt_snprintf(buf, 0, "hello %d", 42), 8);
    CHECK_EQ(buf[0], 'Z'); /* size 0 writes nothing, not even the NUL */
    CHECK_EQ(fmt_snprintf(NULL, 0, "hello %d", 42), 8);

    CHECK_EQ(fmt_snprintf(buf, 1, "hello %d", 42), 8);
    CHECK_STR(buf, "");
    CHECK_EQ(buf[1], 'Z');

    CHECK_EQ(fmt_snprintf(buf, 8, "hello %d", 42), 8); /* one short: the 2 is lost */
    CHECK_STR(buf, "hello 4");
    CHECK_EQ(fmt_snprintf(buf, 9, "hello %d", 42), 8); /* exact fit */
    CHECK_STR(buf, "hello 42");
    CHECK_EQ(fmt_snprintf(buf, 10, "hello %d", 42), 8);
    CHECK_STR(buf, "hello 42");
    CHECK_EQ(buf[9], 'Z');

    CHECK_EQ(fmt_snprintf(buf, 5, "%20s|", "x"), 21);
    CHECK_STR(buf, "    ");
    CHECK_EQ(fmt_snprintf(buf, 6, "%-20s|", "abcdefgh"), 21);
    CHECK_STR(buf, "abcde");
    CHECK_EQ(fmt_snprintf(buf, sizeof(buf), ""), 0);
    CHECK_STR(buf, "");

    /* Every size from 0 to past the end must agree with the host byte for byte. */
    for (size_t size = 0; size <= 40; size++) {
        char host[48], ours[48];
        memset(host, 'Z', sizeof(host));
        memset(ours, 'Z', sizeof(ours));
        int hr = snprintf(host, size, "%s=%#x %-5d|%5.3s%%", "key", 0xbeef, -3, "truncate");
        int kr = fmt_snprintf(ours, size, "%s=%#x %-5d|%5.3s%%", "key", 0xbeef, -3, "truncate");
        CHECK_EQ(kr, hr);
        CHECK(memcmp(host, ours, sizeof(host)) == 0);
    }
}

TEST(fmt_huge_widths)
{
    /* The count must not wrap: past INT_MAX characters the result is -1, as in glibc (which is
     * not asked here for the cases it takes seconds to pad out). */
    CHECK_EQ(fmt_snprintf(NULL, 0, "%2147483648d", 1), snprintf(NULL, 0, "%2147483648d", 1));
    CHECK_EQ(fmt_snprintf(NULL, 0, "%99999999999999999999d", 1), -1);
    CHECK_EQ(fmt_snprintf(NULL, 0, "%*d", INT_MIN, 1), -1);
    CHECK_EQ(fmt_snprintf(NULL, 0, "%.2147483648d", 1), -1);
    CHECK_EQ(fmt_snprintf(NULL, 0, "%*dx", INT_MAX, 1), -1);

    char buf[8];
    CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%*d", INT_MAX, 1), INT_MAX);
    CHECK_STR(buf, "       ");
}

struct sink_log {
    char text[512];
    size_t len;
    int calls;
    int empty_calls;
};

static void log_sink(void *ctx, const char *s, size_t n)
{
    struct sink_log *log = ctx;

    log->calls++;
    if (n == 0)
        log->empty_calls++;
    if (log->len + n < sizeof(log->text)) {
        memcpy(log->text + log->len, s, n);
        log->len += n;
        log->text[log->len] = '\0';
    }
}

static int format_to_log(struct sink_log *log, const char *fmt, ...)
{
    va_list ap;
    int r;

    memset(log, 0, sizeof(*log));
    va_start(ap, fmt);
    r = fmt_vformat(log_sink, log, fmt, ap);
    va_end(ap);
    return r;
}

TEST(fmt_sink_chunks)
{
    struct sink_log log;

    /* One call per literal run and per field, not per character. */
    CHECK_EQ(format_to_log(&log, "hello world %d and %s end", 12345, "string"), 32);
    CHECK_STR(log.text, "hello world 12345 and string end");
    CHECK_EQ((int)log.len, 32);
    CHECK_EQ(log.calls, 5);
    CHECK_EQ(log.empty_calls, 0);

    CHECK_EQ(format_to_log(&log, "%200d", 7), 200);
    CHECK(log.calls <= 5);
    CHECK_EQ(log.empty_calls, 0);

    CHECK_EQ(format_to_log(&log, "%s%s%.0d", "", "", 0), 0);
    CHECK_EQ(log.calls, 0);
}

/* Random specifications from the full grammar, with random values and buffer sizes. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t random_value(void)
{
    static const uint64_t edges[] = {0, 1, 7, 8, 9, 10, 15, 16, 127, 128, 255, 256, 0x7fffffff,
                                     0x80000000, 0xffffffff, INT64_MAX, (uint64_t)INT64_MIN,
                                     UINT64_MAX, UINT64_MAX - 1};
    switch (rng() % 4) {
    case 0: return edges[rng() % (sizeof(edges) / sizeof(edges[0]))];
    case 1: return rng() % 1000;
    case 2: return -(rng() % 1000);
    default: return rng() >> (rng() % 64);
    }
}

#define BOTH(...)                                                                          \
    do {                                                                                   \
        hr = snprintf(host, size, fmt, __VA_ARGS__);                                       \
        kr = fmt_snprintf(ours, size, fmt, __VA_ARGS__);                                   \
    } while (0)

#define BOTH_SHAPES(arg)                                                                   \
    do {                                                                                   \
        if (star_w && star_p)                                                              \
            BOTH(w, p, arg);                                                               \
        else if (star_w)                                                                   \
            BOTH(w, arg);                                                                  \
        else if (star_p)                                                                   \
            BOTH(p, arg);                                                                  \
        else                                                                               \
            BOTH(arg);                                                                     \
    } while (0)

TEST(fmt_random_against_host)
{
    static const char *const strings[] = {"", "a", "hello", "with spaces", "0123456789abcdef"};
    static const char *const lens[] = {"", "hh", "h", "l", "ll", "z", "t", "j"};
    static const char convs[] = "diuxXocsp";

    for (int iter = 0; iter < 50000; iter++) {
        char fmt[64], host[128], ours[128];
        size_t n = 0;
        int w = (int)(rng() % 41) - 20, p = (int)(rng() % 31) - 5, hr, kr;
        bool star_w = false, star_p = false;
        char conv = convs[rng() % (sizeof(convs) - 1)];
        const char *len = strchr("csp", conv) ? "" : lens[rng() % 8];
        size_t size = rng() % 4 == 0 ? rng() % 20 : sizeof(host);

        fmt[n++] = '<';
        fmt[n++] = '%';
        for (const char *f = "-+ #0"; *f; f++)
            if (rng() % 4 == 0)
                fmt[n++] = *f;
        if (rng() % 3 == 0)
            star_w = true, fmt[n++] = '*';
        else if (rng() % 2 == 0)
            n += (size_t)snprintf(fmt + n, sizeof(fmt) - n, "%d", (int)(rng() % 30) + 1);
        if (rng() % 2 == 0) {
            fmt[n++] = '.';
            if (rng() % 3 == 0)
                star_p = true, fmt[n++] = '*';
            else if (rng() % 4 != 0)
                n += (size_t)snprintf(fmt + n, sizeof(fmt) - n, "%d", (int)(rng() % 25));
        }
        n += (size_t)snprintf(fmt + n, sizeof(fmt) - n, "%s%c>", len, conv);

        memset(host, 'Z', sizeof(host));
        memset(ours, 'Z', sizeof(ours));
        if (conv == 's') {
            const char *s = strings[rng() % 5];
            BOTH_SHAPES(s);
        } else if (conv == 'p') {
            void *ptr = rng() % 8 == 0 ? NULL : (void *)(uintptr_t)random_value();
            BOTH_SHAPES(ptr);
        } else if (conv == 'c') {
            int c = 'A' + (int)(rng() % 26);
            BOTH_SHAPES(c);
        } else if (len[0] == '\0' || len[0] == 'h') {
            unsigned int v = (unsigned int)random_value();
            BOTH_SHAPES(v);
        } else {
            uint64_t v = random_value(); /* 64 bits for l, ll, z, t, j on LP64 */
            BOTH_SHAPES(v);
        }
        if (hr != kr || memcmp(host, ours, sizeof(host)) != 0) {
            check_fail(__FILE__, __LINE__, "format \"%s\" w=%d p=%d size=%zu: got \"%.*s\" (%d), "
                       "host \"%.*s\" (%d)", fmt, w, p, size, (int)sizeof(ours), ours, kr,
                       (int)sizeof(host), host, hr);
            return;
        }
    }
}
