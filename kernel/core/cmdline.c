#include "core/cmdline.h"

#include <stdarg.h>

#include "lib/err.h"
#include "lib/fmt.h"
#include "lib/kstring.h"

/* Text taken from the command line is quoted in messages up to this many bytes, so that one
 * absurd token cannot crowd the rest of the sentence out of the fixed message buffer. */
#define SHOWN_MAX 40

/* Room for the option list in "unknown option" messages, leaving the rest of CMDLINE_MSG_MAX for
 * the sentence around it and the quoted name. */
#define KNOWN_MAX 160

struct report {
    cmdline_error_fn fn;
    void *ctx;
    int errors;
};

static void report(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct report *r, const char *fmt, ...)
{
    char msg[CMDLINE_MSG_MAX];
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* The parts are bounded so this should not happen, but a cut sentence must look cut. */
    if (len < 0 || (size_t)len >= sizeof(msg))
        memcpy(msg + sizeof(msg) - 4, "...", 4);
    r->errors++;
    if (r->fn != NULL)
        r->fn(r->ctx, msg);
}

/* A printable, bounded copy of len bytes of command-line text for quoting in a message. Control
 * characters and non-ASCII bytes become '?' so that garbage from a loader cannot drive the
 * console. */
struct shown {
    char s[SHOWN_MAX + 4];
};

static const char *show(struct shown *out, const char *s, size_t len)
{
    size_t n = len < SHOWN_MAX ? len : SHOWN_MAX;

    for (size_t i = 0; i < n; i++)
        out->s[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (n < len) {
        memcpy(out->s + n, "...", 3);
        n += 3;
    }
    out->s[n] = '\0';
    return out->s;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_name_char(char c)
{
    return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

/* '*' and '?' let a value carry glob patterns (bench=frame_*). */
static bool is_string_char(char c)
{
    return is_alnum(c) || c == '_' || c == '.' || c == ',' || c == ':' || c == '/' || c == '+' ||
           c == '-' || c == '*' || c == '?';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether s[0..len) equals the NUL-terminated word, ignoring case. */
static bool word_is(const char *s, size_t len, const char *word)
{
    size_t i = 0;

    for (; i < len && word[i] != '\0'; i++)
        if (lower(s[i]) != word[i])
            return false;
    return i == len && word[i] == '\0';
}

static bool name_is(const char *s, size_t len, const char *name)
{
    return strlen(name) == len && strncmp(s, name, len) == 0;
}

/* Decimal, or hex after 0x. Returns 0, ERR_INVAL for anything that is not a number (empty, a
 * sign, a stray character) or ERR_RANGE when it does not fit in 64 bits. */
static int parse_uint(const char *s, size_t len, uint64_t *out)
{
    unsigned base = 10;
    uint64_t v = 0;
    bool overflow = false;

    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return ERR_INVAL;
    for (size_t i = 0; i < len; i++) {
        char c = lower(s[i]);
        unsigned d;

        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return ERR_INVAL; /* even after an overflow: "99...9x" is not a number at all */
        if (v > (UINT64_MAX - d) / base)
            overflow = true;
        v = v * base + d;
    }
    if (overflow)
        return ERR_RANGE;
    *out = v;
    return 0;
}

static const char *value_hint(enum opt_type type)
{
    switch (type) {
    case OPT_UINT: return "N";
    case OPT_BOOL: return "on|off";
    default: return "VALUE";
    }
}

static void store_uint(const struct opt_desc *o, void *dst, const char *val, size_t len,
                       struct report *r, uint64_t *stored, uint64_t bit)
{
    struct shown sv;
    uint64_t v = 0;
    int err = parse_uint(val, len, &v);

    if (err == ERR_INVAL) {
        report(r, "option '%s': '%s' is not a number", o->name, show(&sv, val, len));
        return;
    }
    if (err == ERR_RANGE || v < o->min || v > o->max) {
        /* Echo the range in the base the user wrote the value in. */
        bool hex = len > 2 && val[0] == '0' && (val[1] == 'x' || val[1] == 'X');
        report(r, hex ? "option '%s': %s is out of range %#llx..%#llx"
                      : "option '%s': %s is out of range %llu..%llu",
               o->name, show(&sv, val, len), (unsigned long long)o->min,
               (unsigned long long)o->max);
        return;
    }
    memcpy((char *)dst + o->offset, &v, sizeof(v));
    *stored |= bit;
}

static void store_bool(const struct opt_desc *o, void *dst, const char *val, size_t len,
                       struct report *r, uint64_t *stored, uint64_t bit)
{
    static const char *const yes[] = {"on", "yes", "true", "1"};
    static const char *const no[] = {"off", "no", "false", "0"};
    struct shown sv;
    bool v;

    if (val == NULL) {
        v = true; /* a bare boolean option */
    } else {
        size_t i = 0;
        while (i < 4 && !word_is(val, len, yes[i]) && !word_is(val, len, no[i]))
            i++;
        if (i == 4) {
            report(r, "option '%s': '%s' is not on/off", o->name, show(&sv, val, len));
            return;
        }
        v = word_is(val, len, yes[i]);
    }
    memcpy((char *)dst + o->offset, &v, sizeof(v));
    *stored |= bit;
}

static void store_string(const struct opt_desc *o, void *dst, const char *val, size_t len,
                         struct report *r, uint64_t *stored, uint64_t bit)
{
    struct shown sv;
    char *field = (char *)dst + o->offset;

    for (size_t i = 0; i < len; i++) {
        if (!is_string_char(val[i])) {
            unsigned char c = (unsigned char)val[i];
            char what[16];
            if (c >= 0x20 && c < 0x7f)
                fmt_snprintf(what, sizeof(what), "'%c'", c);
            else
                fmt_snprintf(what, sizeof(what), "byte 0x%02x", c);
            report(r, "option '%s': '%s' contains %s (allowed: letters, digits and _.,:/+-*?)",
                   o->name, show(&sv, val, len), what);
            return;
        }
    }
    if (len > o->size - 1) {
        report(r, "option '%s': '%s' is too long (%zu characters, at most %zu)", o->name,
               show(&sv, val, len), len, o->size - 1);
        return;
    }
    memcpy(field, val, len);
    field[len] = '\0';
    *stored |= bit;
}

static void report_unknown(struct report *r, const char *name, size_t len,
                           const struct opt_desc *table, size_t n)
{
    char known[KNOWN_MAX];
    size_t used = 0;
    struct shown sn;

    if (n == 0) {
        report(r, "unknown option '%s' (no options are defined)", show(&sn, name, len));
        return;
    }
    known[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : ", ";
        /* Keep room for the ", ..." that says the list goes on, unless this is its end. */
        size_t need = strlen(sep) + strlen(table[i].name) + (i + 1 < n ? strlen(", ...") : 0);
        if (used + need >= sizeof(known)) {
            fmt_snprintf(known + used, sizeof(known) - used, "%s...", sep);
            break;
        }
        used += (size_t)fmt_snprintf(known + used, sizeof(known) - used, "%s%s", sep,
                                     table[i].name);
    }
    report(r, "unknown option '%s' (known: %s)", show(&sn, name, len), known);
}

/* Reports every defect in the table itself; the parse only runs on a table without any. */
static void check_table(const struct opt_desc *table, size_t n, struct report *r)
{
    if (n > CMDLINE_MAX_OPTS) {
        report(r, "option table has %zu entries, more than the %d supported", n,
               CMDLINE_MAX_OPTS);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct opt_desc *o = &table[i];
        bool good_name = o->name != NULL && o->name[0] != '\0';

        for (const char *c = o->name; good_name && *c != '\0'; c++)
            good_name = is_name_char(*c);
        if (!good_name) {
            report(r, "option table entry %zu has an invalid name", i);
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (table[j].name != NULL && strcmp(table[j].name, o->name) == 0) {
                report(r, "option table lists '%s' twice", o->name);
                break;
            }
        }
        if (o->type != OPT_UINT && o->type != OPT_BOOL && o->type != OPT_STRING)
            report(r, "option '%s' has unknown type %d", o->name, (int)o->type);
        else if (o->type == OPT_STRING && o->size < 2)
            report(r, "option '%s' is a string of %zu bytes, which cannot hold a value",
                   o->name, o->size);
        else if (o->type == OPT_UINT && o->min > o->max)
            report(r, "option '%s' has an empty range %llu..%llu", o->name,
                   (unsigned long long)o->min, (unsigned long long)o->max);
    }
}

static void parse_token(const char *tok, size_t len, const struct opt_desc *table, size_t n,
                        void *dst, uint64_t *given, uint64_t *stored, struct report *r)
{
    size_t name_len = 0;
    const char *val = NULL;
    size_t val_len = 0;
    size_t i;
    struct shown st;

    while (name_len < len && tok[name_len] != '=')
        name_len++;
    if (name_len < len) {
        val = tok + name_len + 1;
        val_len = len - name_len - 1;
    }
    if (name_len == 0) {
        report(r, "'%s' has no option name before '='", show(&st, tok, len));
        return;
    }
    for (i = 0; i < n; i++)
        if (name_is(tok, name_len, table[i].name))
            break;
    if (i == n) {
        report_unknown(r, tok, name_len, table, n);
        return;
    }

    const struct opt_desc *o = &table[i];
    uint64_t bit = (uint64_t)1 << i;

    /* The first occurrence wins, whether or not it was valid, so a repeated option can never
     * silently override an earlier one. */
    if (*given & bit) {
        report(r, "option '%s' given twice", o->name);
        return;
    }
    *given |= bit;
    if ((val == NULL && o->type != OPT_BOOL) || (val != NULL && val_len == 0)) {
        report(r, "option '%s' needs a value (%s=%s)", o->name, o->name, value_hint(o->type));
        return;
    }
    switch (o->type) {
    case OPT_UINT: store_uint(o, dst, val, val_len, r, stored, bit); break;
    case OPT_BOOL: store_bool(o, dst, val, val_len, r, stored, bit); break;
    default: store_string(o, dst, val, val_len, r, stored, bit); break;
    }
}

int cmdline_parse(const char *line, const struct opt_desc *table, size_t n, void *dst,
                  uint64_t *seen, cmdline_error_fn on_error, void *ctx)
{
    struct report r = {.fn = on_error, .ctx = ctx, .errors = 0};
    uint64_t given = 0, stored = 0;

    if (seen != NULL)
        *seen = 0;
    check_table(table, n, &r);
    if (r.errors != 0)
        return r.errors;

    /* Tokens are handled in place as (pointer, length) so that no line or token is too long. */
    for (const char *p = line != NULL ? line : ""; *p != '\0';) {
        const char *tok;

        while (is_space(*p))
            p++;
        if (*p == '\0')
            break;
        tok = p;
        while (*p != '\0' && !is_space(*p))
            p++;
        parse_token(tok, (size_t)(p - tok), table, n, dst, &given, &stored, &r);
    }
    if (seen != NULL)
        *seen = stored;
    return r.errors;
}

const char *cmdline_skip_image_name(const char *line)
{
    const char *p, *tok;
    bool has_eq = false;

    if (line == NULL)
        return "";
    p = line;
    while (is_space(*p))
        p++;
    tok = p;
    while (*p != '\0' && !is_space(*p))
        has_eq |= *p++ == '=';
    if (has_eq)
        return tok;
    while (is_space(*p))
        p++;
    return p;
}
