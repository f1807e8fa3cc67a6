/* libbench's benchmark selection (filters, name order, names known to another harness) and its
 * error messages. */
#include <stdarg.h>

#include "lib/fmt.h"
#include "lib/kstring.h"
#include "libbench/run.h"

/* ---- errors ---------------------------------------------------------------------------- */

struct msg {
    char buf[LB_ERROR_MAX];
    size_t len;
    bool cut;
};

static void msg_vadd(struct msg *m, const char *fmt, va_list ap)
{
    size_t room = sizeof(m->buf) - m->len;
    int n = fmt_vsnprintf(m->buf + m->len, room, fmt, ap);
    if (n < 0 || (size_t)n >= room) {
        m->cut = true;
        m->len = sizeof(m->buf) - 1;
    } else {
        m->len += (size_t)n;
    }
}

static void msg_add(struct msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg_add(struct msg *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    msg_vadd(m, fmt, ap);
    va_end(ap);
}

static void msg_send(struct run *r, struct msg *m)
{
    if (m->cut)
        memcpy(m->buf + sizeof(m->buf) - 4, "...", 4);
    r->errors++;
    if (r->env->error)
        r->env->error(r->env->error_ctx, m->buf);
}

void lb__report(struct run *r, const char *fmt, ...)
{
    struct msg m = {.len = 0};
    va_list ap;
    va_start(ap, fmt);
    msg_vadd(&m, fmt, ap);
    va_end(ap);
    msg_send(r, &m);
}

/* ---- selection ------------------------------------------------------------------------- */

/* A name that need not be NUL-terminated: an element of names_elsewhere, or a registered name. */
struct name {
    const char *p;
    size_t len;
};

static struct name name_of(const char *s)
{
    return (struct name){s, strlen(s)};
}

/* strcmp's order over counted strings. */
static int name_cmp(struct name a, struct name b)
{
    int c = memcmp(a.p, b.p, a.len < b.len ? a.len : b.len);
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* Iterative wildcard match with single-star backtracking: linear stack, worst case O(p * s). */
static bool glob_match(const char *p, size_t plen, struct name s)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < s.len) {
        if (pi < plen && p[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (pi < plen && (p[pi] == '?' || p[pi] == s.p[si])) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}

static bool elem_matches(const char *p, size_t plen, struct name name)
{
    return (plen == 3 && memcmp(p, "all", 3) == 0) || glob_match(p, plen, name);
}

/* Splits the next non-empty comma-separated element off *f; false at the end (or f NULL). */
static bool next_elem(const char **f, const char **p, size_t *len)
{
    if (!*f)
        return false;
    while (**f == ',')
        (*f)++;
    if (!**f)
        return false;
    *p = *f;
    while (**f && **f != ',')
        (*f)++;
    *len = (size_t)(*f - *p);
    return true;
}

static bool usable(const struct lb_benchmark *b)
{
    return b && b->name && b->fn;
}

/* Benchmarks run and are listed in name order (equal names in table order): section order is
 * whatever the compiler and linker made of it (GCC emits a file's registrations in reverse). */
static bool ordered_after(const struct run *r, size_t a, size_t b)
{
    int c = strcmp(r->list[a]->name, r->list[b]->name);
    return c > 0 || (c == 0 && a > b);
}

/* The usable benchmark following prev (r->n: start) in that order, or r->n past the last one.
 * Quadratic, but without memory to sort into and with at most a few hundred benchmarks. */
size_t lb__next_in_order(const struct run *r, size_t prev)
{
    size_t best = r->n;
    for (size_t i = 0; i < r->n; i++) {
        if (!usable(r->list[i]) || (prev != r->n && !ordered_after(r, i, prev)))
            continue;
        if (best == r->n || ordered_after(r, best, i))
            best = i;
    }
    return best;
}

bool lb__selected(const struct run *r, const struct lb_benchmark *b)
{
    const char *f = r->filter, *p;
    size_t len;
    if (!f)
        return true;
    while (next_elem(&f, &p, &len)) {
        if (elem_matches(p, len, name_of(b->name)))
            return true;
    }
    return false;
}

/* Whether names_elsewhere holds this exact name. */
static bool known_elsewhere(const struct run *r, struct name name)
{
    const char *f = r->env->names_elsewhere;
    struct name e;
    while (next_elem(&f, &e.p, &e.len)) {
        if (name_cmp(e, name) == 0)
            return true;
    }
    return false;
}

void lb__check_registry(struct run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        if (!usable(r->list[i])) {
            lb__report(r, "bench: registration #%zu has no name or no function", i);
            continue;
        }
        if (known_elsewhere(r, name_of(r->list[i]->name)))
            lb__report(r, "bench: duplicate benchmark name '%s' (also registered elsewhere)",
                   r->list[i]->name);
        for (size_t k = 0; k < i; k++) {
            if (usable(r->list[k]) && strcmp(r->list[k]->name, r->list[i]->name) == 0) {
                lb__report(r, "bench: duplicate benchmark name '%s'", r->list[i]->name);
                break;
            }
        }
    }
}

static void consider(struct name c, const struct name *prev, struct name *best)
{
    if ((!prev->p || name_cmp(c, *prev) > 0) && (!best->p || name_cmp(c, *best) < 0))
        *best = c;
}

/* The smallest name, local or elsewhere, after *prev (prev->p NULL: the first) into *prev;
 * false past the last. A name known on both sides comes once. */
static bool next_known(const struct run *r, struct name *prev)
{
    struct name best = {NULL, 0}, e;
    for (size_t i = 0; i < r->n; i++) {
        if (usable(r->list[i]))
            consider(name_of(r->list[i]->name), prev, &best);
    }
    const char *f = r->env->names_elsewhere;
    while (next_elem(&f, &e.p, &e.len))
        consider(e, prev, &best);
    *prev = best;
    return best.p != NULL;
}

static bool matches_somewhere(const struct run *r, const char *p, size_t len)
{
    for (size_t i = 0; i < r->n; i++) {
        if (usable(r->list[i]) && elem_matches(p, len, name_of(r->list[i]->name)))
            return true;
    }
    const char *f = r->env->names_elsewhere;
    struct name e;
    while (next_elem(&f, &e.p, &e.len)) {
        if (elem_matches(p, len, e))
            return true;
    }
    return false;
}

void lb__check_filter(struct run *r)
{
    const char *f = r->filter, *p;
    size_t len;
    if (!f || r->env->defer_unknown)
        return;
    while (next_elem(&f, &p, &len)) {
        bool glob = false;
        if (matches_somewhere(r, p, len))
            continue;
        for (size_t i = 0; i < len; i++)
            glob |= p[i] == '*' || p[i] == '?';
        struct msg m = {.len = 0};
        msg_add(&m, "bench: %s '%.*s' (known:", glob ? "no benchmark matches" : "unknown benchmark",
                (int)len, p);
        const char *sep = " ";
        for (struct name k = {NULL, 0}; next_known(r, &k);) {
            msg_add(&m, "%s%.*s", sep, (int)k.len, k.p);
            sep = ", ";
        }
        msg_add(&m, "%s)", sep[0] == ' ' ? " none" : "");
        msg_send(r, &m);
    }
}
