#include "check.h"
#include "core/cmdline.h"

#include <stdlib.h>
#include <string.h>

/* The shape of the kernel's own option table: every type, ranges that matter, short strings. */
struct cfg {
    char sched[16];
    char ipc[8];
    char bench[32];
    bool trace;
    uint64_t smp;
    uint64_t quantum_us;
    char test[32];
    bool fastpath;
    uint64_t any; /* full 64-bit range */
};

#define OPT(name_, type_, size_, min_, max_)                                               \
    {                                                                                      \
        .name = #name_, .type = type_, .offset = offsetof(struct cfg, name_),              \
        .size = size_, .min = min_, .max = max_, .help = "help for " #name_                \
    }

static const struct opt_desc table[] = {
    OPT(sched, OPT_STRING, 16, 0, 0),       OPT(ipc, OPT_STRING, 8, 0, 0),
    OPT(bench, OPT_STRING, 32, 0, 0),       OPT(trace, OPT_BOOL, 0, 0, 0),
    OPT(smp, OPT_UINT, 0, 1, 64),           OPT(quantum_us, OPT_UINT, 0, 100, 1000000),
    OPT(test, OPT_STRING, 32, 0, 0),        OPT(fastpath, OPT_BOOL, 0, 0, 0),
    OPT(any, OPT_UINT, 0, 0, UINT64_MAX),
};
#define NOPTS (sizeof(table) / sizeof(table[0]))
enum { SCHED, IPC, BENCH, TRACE, SMP, QUANTUM, TEST, FASTPATH, ANY };
#define BIT(i) ((uint64_t)1 << (i))

static const struct cfg defaults = {
    .sched = "rr", .ipc = "sync", .bench = "", .trace = false, .smp = 1,
    .quantum_us = 10000, .test = "", .fastpath = true, .any = 7,
};

struct errs {
    int count;
    char msg[32][CMDLINE_MSG_MAX];
};

static void collect(void *ctx, const char *message)
{
    struct errs *e = ctx;

    /* Every message is a bounded, single-line sentence. */
    if (strlen(message) == 0 || strlen(message) >= CMDLINE_MSG_MAX || strchr(message, '\n'))
        abort();
    if (e->count < 32)
        strcpy(e->msg[e->count], message);
    e->count++;
}

static struct cfg cfg;
static struct errs errs;
static uint64_t seen;

/* Parses line into a fresh copy of the defaults; returns the error count. */
static int parse(const char *line)
{
    cfg = defaults;
    memset(&errs, 0, sizeof(errs));
    seen = 0xdeadbeef;
    int r = cmdline_parse(line, table, NOPTS, &cfg, &seen, collect, &errs);
    if (r != errs.count)
        abort();
    return r;
}

/* One option failed: its error is the only one, and every field still has its default. */
#define REJECTS(line, message)                                                             \
    do {                                                                                   \
        CHECK_EQ(parse(line), 1);                                                          \
        CHECK_STR(errs.msg[0], message);                                                   \
        CHECK(memcmp(&cfg, &defaults, sizeof(cfg)) == 0);                                  \
        CHECK_EQ(seen, 0);                                                                 \
    } while (0)

TEST(cmdline_empty_line)
{
    CHECK_EQ(parse(""), 0);
    CHECK_EQ(seen, 0);
    CHECK(memcmp(&cfg, &defaults, sizeof(cfg)) == 0);
    CHECK_EQ(parse(NULL), 0);
    CHECK_EQ(parse(" \t \r\n "), 0);
    CHECK(memcmp(&cfg, &defaults, sizeof(cfg)) == 0);
    CHECK_EQ(seen, 0);
}

TEST(cmdline_every_type)
{
    CHECK_EQ(parse("sched=mlfq ipc=async bench=ipc,sched trace smp=4 quantum_us=0x2710 "
                   "test=all fastpath=off any=18446744073709551615"), 0);
    CHECK_STR(cfg.sched, "mlfq");
    CHECK_STR(cfg.ipc, "async");
    CHECK_STR(cfg.bench, "ipc,sched");
    CHECK(cfg.trace);
    CHECK_EQ(cfg.smp, 4);
    CHECK_EQ(cfg.quantum_us, 10000);
    CHECK_STR(cfg.test, "all");
    CHECK(!cfg.fastpath);
    CHECK(cfg.any == UINT64_MAX);
    CHECK_EQ(seen, BIT(NOPTS) - 1);

    /* Tabs and runs of blanks separate tokens as well as single spaces. */
    CHECK_EQ(parse("\tsmp=2\t\ttrace   test=ipc\n"), 0);
    CHECK_EQ(cfg.smp, 2);
    CHECK(cfg.trace);
    CHECK_STR(cfg.test, "ipc");
    CHECK_EQ(seen, BIT(SMP) | BIT(TRACE) | BIT(TEST));
}

TEST(cmdline_uint_accepted)
{
    static const struct {
        const char *line;
        uint64_t want;
    } cases[] = {
        {"smp=1", 1},      {"smp=64", 64},     {"smp=007", 7},     {"smp=0x40", 64},
        {"smp=0X1f", 31},  {"smp=0x0001", 1},  {"smp=0xA", 10},    {"any=0", 0},
        {"any=0x0", 0},    {"any=0xffffffffffffffff", UINT64_MAX},
        {"any=18446744073709551615", UINT64_MAX},
        {"any=000000000000000000000000000000000042", 42},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ(parse(cases[i].line), 0);
        uint64_t got = strncmp(cases[i].line, "smp", 3) == 0 ? cfg.smp : cfg.any;
        CHECK(got == cases[i].want);
        CHECK_EQ(seen, strncmp(cases[i].line, "smp", 3) == 0 ? BIT(SMP) : BIT(ANY));
    }
}

TEST(cmdline_uint_rejected)
{
    REJECTS("smp=12x", "option 'smp': '12x' is not a number");
    REJECTS("smp=-1", "option 'smp': '-1' is not a number");
    REJECTS("smp=+1", "option 'smp': '+1' is not a number");
    REJECTS("smp=0x", "option 'smp': '0x' is not a number");
    REJECTS("smp=0xg", "option 'smp': '0xg' is not a number");
    REJECTS("smp=x10", "option 'smp': 'x10' is not a number");
    REJECTS("smp=4K", "option 'smp': '4K' is not a number");
    REJECTS("smp=1.5", "option 'smp': '1.5' is not a number");
    REJECTS("smp=ab", "option 'smp': 'ab' is not a number");
    REJECTS("smp=", "option 'smp' needs a value (smp=N)");
    REJECTS("smp", "option 'smp' needs a value (smp=N)");
}

TEST(cmdline_uint_range_and_overflow)
{
    REJECTS("smp=0", "option 'smp': 0 is out of range 1..64");
    REJECTS("smp=65", "option 'smp': 65 is out of range 1..64");
    REJECTS("smp=300", "option 'smp': 300 is out of range 1..64");
    REJECTS("smp=0x41", "option 'smp': 0x41 is out of range 0x1..0x40");
    REJECTS("quantum_us=99", "option 'quantum_us': 99 is out of range 100..1000000");
    REJECTS("any=18446744073709551616",
            "option 'any': 18446744073709551616 is out of range 0..18446744073709551615");
    REJECTS("any=99999999999999999999999",
            "option 'any': 99999999999999999999999 is out of range 0..18446744073709551615");
    REJECTS("any=0x10000000000000000",
            "option 'any': 0x10000000000000000 is out of range 0..0xffffffffffffffff");
    REJECTS("smp=18446744073709551616",
            "option 'smp': 18446744073709551616 is out of range 1..64");
    /* Too big and malformed at once is reported as malformed. */
    REJECTS("smp=99999999999999999999x", "option 'smp': '99999999999999999999x' is not a number");
}

TEST(cmdline_bool)
{
    static const struct {
        const char *value;
        bool want;
    } cases[] = {
        {"on", true},   {"off", false},  {"yes", true},   {"no", false},  {"true", true},
        {"false", false}, {"1", true},   {"0", false},    {"ON", true},   {"Off", false},
        {"YES", true},  {"False", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[64];
        snprintf(line, sizeof(line), "trace=%s fastpath=%s", cases[i].value, cases[i].value);
        CHECK_EQ(parse(line), 0);
        CHECK_EQ(cfg.trace, cases[i].want);
        CHECK_EQ(cfg.fastpath, cases[i].want);
        CHECK_EQ(seen, BIT(TRACE) | BIT(FASTPATH));
    }
    CHECK_EQ(parse("trace"), 0); /* bare means on */
    CHECK(cfg.trace);
    CHECK_EQ(seen, BIT(TRACE));

    REJECTS("fastpath=maybe", "option 'fastpath': 'maybe' is not on/off");
    REJECTS("fastpath=2", "option 'fastpath': '2' is not on/off");
    REJECTS("fastpath=onn", "option 'fastpath': 'onn' is not on/off");
    REJECTS("fastpath=o", "option 'fastpath': 'o' is not on/off");
    REJECTS("fastpath=01", "option 'fastpath': '01' is not on/off");
    REJECTS("fastpath=", "option 'fastpath' needs a value (fastpath=on|off)");
}

TEST(cmdline_string)
{
    CHECK_EQ(parse("sched=Az09_.,:/+-"), 0);
    CHECK_STR(cfg.sched, "Az09_.,:/+-");
    CHECK_EQ(parse("ipc=1234567"), 0); /* exactly size - 1 */
    CHECK_STR(cfg.ipc, "1234567");
    CHECK_EQ(seen, BIT(IPC));

    REJECTS("ipc=12345678", "option 'ipc': '12345678' is too long (8 characters, at most 7)");
    REJECTS("sched=rr!", "option 'sched': 'rr!' contains '!' "
                         "(allowed: letters, digits and _.,:/+-*?)");
    REJECTS("sched=a=b", "option 'sched': 'a=b' contains '=' "
                         "(allowed: letters, digits and _.,:/+-*?)");
    REJECTS("sched=a\x01z", "option 'sched': 'a?z' contains byte 0x01 "
                            "(allowed: letters, digits and _.,:/+-*?)");
    REJECTS("sched=\xc3\xa9", "option 'sched': '?" "?' contains byte 0xc3 "
                              "(allowed: letters, digits and _.,:/+-*?)");
    REJECTS("sched=", "option 'sched' needs a value (sched=VALUE)");
    REJECTS("sched", "option 'sched' needs a value (sched=VALUE)");
}

TEST(cmdline_unknown_options)
{
    REJECTS("foo=1", "unknown option 'foo' (known: sched, ipc, bench, trace, smp, quantum_us, "
                     "test, fastpath, any)");
    REJECTS("foo", "unknown option 'foo' (known: sched, ipc, bench, trace, smp, quantum_us, "
                   "test, fastpath, any)");
    /* Names are exact: no case folding and no prefixes. */
    CHECK_EQ(parse("SMP=2 sm=2 smpx=2 test_=1"), 4);
    CHECK(strncmp(errs.msg[0], "unknown option 'SMP' (known: ", 29) == 0);
    CHECK(strncmp(errs.msg[3], "unknown option 'test_' (known: ", 31) == 0);
    REJECTS("=5", "'=5' has no option name before '='");
    REJECTS("=", "'=' has no option name before '='");

    /* With no table every option is unknown. */
    memset(&errs, 0, sizeof(errs));
    CHECK_EQ(cmdline_parse("a=1", NULL, 0, NULL, &seen, collect, &errs), 1);
    CHECK_STR(errs.msg[0], "unknown option 'a' (no options are defined)");
}

TEST(cmdline_duplicates)
{
    CHECK_EQ(parse("smp=2 smp=4"), 1);
    CHECK_STR(errs.msg[0], "option 'smp' given twice");
    CHECK_EQ(cfg.smp, 2); /* the first one stands */
    CHECK_EQ(seen, BIT(SMP));

    /* A failed first occurrence still counts, and the later one is not applied. */
    CHECK_EQ(parse("smp=bad smp=4"), 2);
    CHECK_STR(errs.msg[0], "option 'smp': 'bad' is not a number");
    CHECK_STR(errs.msg[1], "option 'smp' given twice");
    CHECK_EQ(cfg.smp, 1);
    CHECK_EQ(seen, 0);

    CHECK_EQ(parse("trace trace=off test=a test=a test=b"), 3);
    CHECK_STR(errs.msg[0], "option 'trace' given twice");
    CHECK_STR(errs.msg[1], "option 'test' given twice");
    CHECK_STR(errs.msg[2], "option 'test' given twice");
    CHECK(cfg.trace);
    CHECK_STR(cfg.test, "a");
}

TEST(cmdline_many_errors_in_one_line)
{
    CHECK_EQ(parse("foo smp=0 sched=mlfq test=a!b fastpath=maybe quantum_us smp=3 bench=x "
                   "ipc=waytoolong trace=yes"), 7);
    CHECK(strncmp(errs.msg[0], "unknown option 'foo'", 20) == 0);
    CHECK_STR(errs.msg[1], "option 'smp': 0 is out of range 1..64");
    CHECK_STR(errs.msg[2], "option 'test': 'a!b' contains '!' "
                           "(allowed: letters, digits and _.,:/+-*?)");
    CHECK_STR(errs.msg[3], "option 'fastpath': 'maybe' is not on/off");
    CHECK_STR(errs.msg[4], "option 'quantum_us' needs a value (quantum_us=N)");
    CHECK_STR(errs.msg[5], "option 'smp' given twice");
    CHECK_STR(errs.msg[6], "option 'ipc': 'waytoolong' is too long (10 characters, at most 7)");

    /* The good options in between were applied; the failed ones kept their defaults. */
    CHECK_STR(cfg.sched, "mlfq");
    CHECK_STR(cfg.bench, "x");
    CHECK(cfg.trace);
    CHECK_EQ(cfg.smp, defaults.smp);
    CHECK_STR(cfg.test, defaults.test);
    CHECK_EQ(cfg.fastpath, defaults.fastpath);
    CHECK_EQ(cfg.quantum_us, defaults.quantum_us);
    CHECK_STR(cfg.ipc, defaults.ipc);
    CHECK_EQ(seen, BIT(SCHED) | BIT(BENCH) | BIT(TRACE));
}

TEST(cmdline_without_callback_or_seen)
{
    struct cfg c = defaults;

    CHECK_EQ(cmdline_parse("smp=3 foo smp=0", table, NOPTS, &c, NULL, NULL, NULL), 2);
    CHECK_EQ(c.smp, 3);
}

TEST(cmdline_long_input)
{
    /* A token far longer than any buffer: reported with a shortened quote, nothing overflows. */
    size_t len = 100000;
    char *line = malloc(len + 64);
    CHECK(line != NULL);
    memset(line, 'x', len);
    line[len] = '\0';
    CHECK_EQ(parse(line), 1);
    CHECK(strstr(errs.msg[0], "unknown option 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'") ==
          errs.msg[0]);

    memcpy(line, "test=", 5);
    CHECK_EQ(parse(line), 1);
    CHECK_STR(errs.msg[0], "option 'test': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is too "
                           "long (99995 characters, at most 31)");
    CHECK(memcmp(&cfg, &defaults, sizeof(cfg)) == 0);

    memcpy(line, "any=0", 5);
    memset(line + 5, '0', len - 5);
    strcpy(line + len, "42");
    CHECK_EQ(parse(line), 0);
    CHECK_EQ(cfg.any, 42);

    /* Many tokens: every repetition is counted even past what the collector keeps. */
    size_t n = 0;
    for (int i = 0; i < 5000 && n + 16 < len; i++)
        n += (size_t)snprintf(line + n, len + 64 - n, "trace=on ");
    CHECK_EQ(parse(line), 4999);
    CHECK_STR(errs.msg[31], "option 'trace' given twice");
    free(line);
}

TEST(cmdline_skip_image)
{
    CHECK_STR(cmdline_skip_image_name("/boot/tachyon.bin test=all"), "test=all");
    CHECK_STR(cmdline_skip_image_name("test=all"), "test=all");
    CHECK_STR(cmdline_skip_image_name(""), "");
    CHECK_STR(cmdline_skip_image_name(NULL), "");
    CHECK_STR(cmdline_skip_image_name("/boot/tachyon.bin"), "");
    CHECK_STR(cmdline_skip_image_name("/boot/tachyon.bin   "), "");
    CHECK_STR(cmdline_skip_image_name("  kernel.elf \t smp=2 trace"), "smp=2 trace");
    CHECK_STR(cmdline_skip_image_name("  smp=2 trace"), "smp=2 trace");
    CHECK_STR(cmdline_skip_image_name("tachyon smp=2"), "smp=2");
    CHECK_STR(cmdline_skip_image_name("   "), "");
    CHECK_STR(cmdline_skip_image_name("a=b c"), "a=b c");

    /* The two together, as the kernel uses them. */
    CHECK_EQ(parse(cmdline_skip_image_name("/boot/tachyon.bin test=all smp=2")), 0);
    CHECK_STR(cfg.test, "all");
    CHECK_EQ(seen, BIT(TEST) | BIT(SMP));
}

TEST(cmdline_seen_mask)
{
    CHECK_EQ(parse("test=all"), 0);
    CHECK_EQ(seen, BIT(TEST));
    CHECK(seen & BIT(TEST));
    /* Given with the default's own value still counts as given. */
    CHECK_EQ(parse("smp=1 fastpath=on"), 0);
    CHECK_EQ(seen, BIT(SMP) | BIT(FASTPATH));
    CHECK_EQ(parse("any=5 foo"), 1);
    CHECK_EQ(seen, BIT(ANY));
}

TEST(cmdline_bad_tables)
{
    static struct opt_desc big[CMDLINE_MAX_OPTS + 1];
    static char names[CMDLINE_MAX_OPTS + 1][8];
    uint64_t dst[CMDLINE_MAX_OPTS + 1] = {0};

    for (size_t i = 0; i < CMDLINE_MAX_OPTS + 1; i++) {
        snprintf(names[i], sizeof(names[i]), "o%zu", i);
        big[i] = (struct opt_desc){.name = names[i], .type = OPT_UINT,
                                   .offset = i * sizeof(uint64_t), .max = 100};
    }
    memset(&errs, 0, sizeof(errs));
    seen = 1;
    /* Exactly CMDLINE_MAX_OPTS entries is fine, and the last one has its bit. */
    CHECK_EQ(cmdline_parse("o63=9", big, CMDLINE_MAX_OPTS, dst, &seen, collect, &errs), 0);
    CHECK_EQ(dst[63], 9);
    CHECK(seen == BIT(63));
    CHECK_EQ(cmdline_parse("o0=9", big, CMDLINE_MAX_OPTS + 1, dst, &seen, collect, &errs), 1);
    CHECK_STR(errs.msg[0], "option table has 65 entries, more than the 64 supported");
    CHECK_EQ(dst[0], 0);
    CHECK_EQ(seen, 0);

    const struct opt_desc bad[] = {
        {.name = "ok", .type = OPT_UINT, .max = 1},
        {.name = NULL, .type = OPT_BOOL},
        {.name = "", .type = OPT_BOOL},
        {.name = "a b", .type = OPT_BOOL},
        {.name = "ok", .type = OPT_BOOL},
        {.name = "str", .type = OPT_STRING, .size = 1},
        {.name = "range", .type = OPT_UINT, .min = 5, .max = 4},
        {.name = "type", .type = (enum opt_type)9},
    };
    memset(&errs, 0, sizeof(errs));
    dst[0] = 77;
    CHECK_EQ(cmdline_parse("ok=1", bad, 8, dst, &seen, collect, &errs), 7);
    CHECK_STR(errs.msg[0], "option table entry 1 has an invalid name");
    CHECK_STR(errs.msg[1], "option table entry 2 has an invalid name");
    CHECK_STR(errs.msg[2], "option table entry 3 has an invalid name");
    CHECK_STR(errs.msg[3], "option table lists 'ok' twice");
    CHECK_STR(errs.msg[4], "option 'str' is a string of 1 bytes, which cannot hold a value");
    CHECK_STR(errs.msg[5], "option 'range' has an empty range 5..4");
    CHECK_STR(errs.msg[6], "option 'type' has unknown type 9");
    CHECK_EQ(dst[0], 77); /* nothing parsed */
}

TEST(cmdline_unknown_lists_long_tables)
{
    static struct opt_desc many[40];
    static char names[40][24];
    uint64_t dst[40];

    for (size_t i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "long_option_name_%zu", i);
        many[i] = (struct opt_desc){.name = names[i], .type = OPT_BOOL, .offset = i * 8};
    }
    memset(&errs, 0, sizeof(errs));
    CHECK_EQ(cmdline_parse("nope", many, 40, dst, NULL, collect, &errs), 1);
    size_t len = strlen(errs.msg[0]);
    CHECK(len < CMDLINE_MSG_MAX);
    CHECK(strncmp(errs.msg[0], "unknown option 'nope' (known: long_option_name_0, ", 50) == 0);
    CHECK_STR(errs.msg[0] + len - 8, "_6, ...)");
}
