#include "lib/fmt.h"

#include <stdbool.h>
#include <stdint.h>

#include "lib/kstring.h"

#define FMT_INT_MAX ((int64_t)0x7fffffff)
/* Widths and precisions above INT_MAX all make the output fail the same way, so parsing can stop
 * counting there instead of overflowing. */
#define FMT_TOO_BIG (FMT_INT_MAX + 1)

enum fmt_len { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

/* One parsed conversion specification. width/prec are -1 when absent; the *_star fields record
 * that the value must still be fetched, which happens only once the whole specification has been
 * recognised, so that an unknown conversion consumes no argument. */
struct fmt_spec {
    bool left, plus, space, alt, zero;
    bool width_star, prec_star;
    int64_t width, prec;
    enum fmt_len len;
    char conv;
};

struct fmt_out {
    fmt_sink sink;
    void *ctx;
    size_t count;
    bool overflow;
};

static void out_write(struct fmt_out *o, const char *s, size_t n)
{
    if (n == 0 || o->overflow)
        return;
    /* Stop at INT_MAX: the count could no longer be returned, and a huge width must not keep a
     * console busy for hours. */
    if (n > (size_t)FMT_INT_MAX - o->count) {
        o->overflow = true;
        return;
    }
    o->sink(o->ctx, s, n);
    o->count += n;
}

static void out_pad(struct fmt_out *o, char c, size_t n)
{
    static const char spaces[] = "                                                                ";
    static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000";
    const char *run = c == '0' ? zeros : spaces;

    if (n > (size_t)FMT_INT_MAX - o->count) {
        o->overflow = true; /* fail now rather than after a billion sink calls */
        return;
    }
    while (n > 0 && !o->overflow) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
        out_write(o, run, k);
        n -= k;
    }
}

static int64_t parse_digits(const char **p)
{
    int64_t v = 0;
    while (**p >= '0' && **p <= '9') {
        v = v >= FMT_TOO_BIG ? FMT_TOO_BIG : v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

/* Parses the specification after '%', leaving *p on the conversion character (or on the NUL of a
 * truncated specification). Returns false for anything this formatter does not implement. */
static bool parse_spec(const char **p, struct fmt_spec *sp)
{
    const char *s = *p;

    memset(sp, 0, sizeof(*sp));
    sp->width = -1;
    sp->prec = -1;
    for (;; s++) {
        if (*s == '-')
            sp->left = true;
        else if (*s == '+')
            sp->plus = true;
        else if (*s == ' ')
            sp->space = true;
        else if (*s == '#')
            sp->alt = true;
        else if (*s == '0')
            sp->zero = true;
        else
            break;
    }
    if (*s == '*') {
        sp->width_star = true;
        s++;
    } else if (*s >= '1' && *s <= '9') {
        sp->width = parse_digits(&s);
    }
    if (*s == '.') {
        s++;
        if (*s == '*') {
            sp->prec_star = true;
            s++;
        } else {
            sp->prec = parse_digits(&s); /* "%.d" means precision 0 */
        }
    }
    switch (*s) {
    case 'h':
        sp->len = s[1] == 'h' ? LEN_HH : LEN_H;
        s += sp->len == LEN_HH ? 2 : 1;
        break;
    case 'l':
        sp->len = s[1] == 'l' ? LEN_LL : LEN_L;
        s += sp->len == LEN_LL ? 2 : 1;
        break;
    case 'z': sp->len = LEN_Z; s++; break;
    case 't': sp->len = LEN_T; s++; break;
    case 'j': sp->len = LEN_J; s++; break;
    default: break;
    }
    sp->conv = *s;
    *p = s;
    switch (sp->conv) {
    case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
        return true;
    case 'c': case 's': case 'p': case '%':
        /* With a length modifier these would be wide characters or strings, which the kernel
         * never has; printing them literally beats misreading the argument. */
        return sp->len == LEN_NONE;
    default:
        return false;
    }
}

static int64_t fetch_signed(va_list *ap, enum fmt_len len)
{
    switch (len) {
    case LEN_HH: return (signed char)va_arg(*ap, int);
    case LEN_H: return (short)va_arg(*ap, int);
    case LEN_L: return va_arg(*ap, long);
    case LEN_LL: return va_arg(*ap, long long);
    case LEN_Z: return (ptrdiff_t)va_arg(*ap, size_t); /* the signed type of size_t's width */
    case LEN_T: return va_arg(*ap, ptrdiff_t);
    case LEN_J: return va_arg(*ap, intmax_t);
    default: return va_arg(*ap, int);
    }
}

static uint64_t fetch_unsigned(va_list *ap, enum fmt_len len)
{
    switch (len) {
    case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_H: return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_L: return va_arg(*ap, unsigned long);
    case LEN_LL: return va_arg(*ap, unsigned long long);
    case LEN_Z: return va_arg(*ap, size_t);
    case LEN_T: return (uint64_t)va_arg(*ap, ptrdiff_t);
    case LEN_J: return va_arg(*ap, uintmax_t);
    default: return va_arg(*ap, unsigned int);
    }
}

/* Lays out [pad][sign][prefix][zeros][body][pad] for width; used by every conversion so that the
 * padding rules live in one place. */
static void emit_field(struct fmt_out *o, const struct fmt_spec *sp, const char *prefix,
                       size_t prefix_len, size_t zeros, const char *body, size_t body_len,
                       bool zero_pad)
{
    size_t used = prefix_len + zeros + body_len;
    size_t fill = sp->width > 0 && (size_t)sp->width > used ? (size_t)sp->width - used : 0;

    if (!sp->left && !zero_pad)
        out_pad(o, ' ', fill);
    out_write(o, prefix, prefix_len);
    if (!sp->left && zero_pad)
        out_pad(o, '0', fill);
    out_pad(o, '0', zeros);
    out_write(o, body, body_len);
    if (sp->left)
        out_pad(o, ' ', fill);
}

static void emit_number(struct fmt_out *o, const struct fmt_spec *sp, uint64_t v, bool negative)
{
    static const char lower[] = "0123456789abcdef";
    static const char upper[] = "0123456789ABCDEF";
    const char *digits = sp->conv == 'X' ? upper : lower;
    unsigned base = 10;
    char buf[24]; /* 22 octal digits for UINT64_MAX */
    char prefix[3];
    size_t n = 0, plen = 0, zeros = 0;
    int64_t prec = sp->prec < 0 ? 1 : sp->prec;

    if (sp->conv == 'o')
        base = 8;
    else if (sp->conv == 'x' || sp->conv == 'X' || sp->conv == 'p')
        base = 16;
    /* Digits are produced backwards at the end of buf. */
    for (uint64_t t = v; t != 0; t /= base)
        buf[sizeof(buf) - ++n] = digits[t % base];
    if (prec > 0 && (size_t)prec > n)
        zeros = (size_t)prec - n;
    if (sp->conv == 'o' && sp->alt && zeros == 0 && (n == 0 || buf[sizeof(buf) - n] != '0'))
        zeros = 1; /* '#' only guarantees a leading 0, it does not add one to an existing one */

    if (negative)
        prefix[plen++] = '-';
    else if (sp->plus && (sp->conv == 'd' || sp->conv == 'i' || sp->conv == 'p'))
        prefix[plen++] = '+';
    else if (sp->space && (sp->conv == 'd' || sp->conv == 'i' || sp->conv == 'p'))
        prefix[plen++] = ' ';
    if ((sp->alt && (sp->conv == 'x' || sp->conv == 'X') && v != 0) || sp->conv == 'p') {
        prefix[plen++] = '0';
        prefix[plen++] = sp->conv == 'X' ? 'X' : 'x';
    }
    /* C: '0' is ignored with '-' or with an explicit precision. */
    emit_field(o, sp, prefix, plen, zeros, buf + sizeof(buf) - n, n,
               sp->zero && sp->prec < 0);
}

static void emit_string(struct fmt_out *o, const struct fmt_spec *sp, const char *s)
{
    size_t n = 0;

    if (s == NULL) {
        /* glibc prints nothing rather than a cut-off "(nu" when the precision is too small. */
        s = sp->prec < 0 || sp->prec >= 6 ? "(null)" : "";
    }
    /* Never read past the precision: the argument need not be NUL-terminated. */
    while ((sp->prec < 0 || n < (size_t)sp->prec) && s[n] != '\0')
        n++;
    emit_field(o, sp, NULL, 0, 0, s, n, false);
}

int fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
    struct fmt_out o = {.sink = sink, .ctx = ctx, .count = 0, .overflow = false};
    va_list aq;
    const char *p = fmt;

    /* A copy lets the helpers take the list by pointer portably (va_list may be an array). */
    va_copy(aq, ap);
    while (*p != '\0' && !o.overflow) {
        const char *lit = p;
        struct fmt_spec sp;

        while (*p != '\0' && *p != '%')
            p++;
        out_write(&o, lit, (size_t)(p - lit));
        if (*p == '\0')
            break;

        lit = p++; /* lit now marks the '%' for a literal copy of an unknown specification */
        if (!parse_spec(&p, &sp)) {
            if (*p != '\0')
                p++;
            out_write(&o, lit, (size_t)(p - lit));
            continue;
        }
        p++;

        if (sp.width_star) {
            int64_t w = va_arg(aq, int);
            if (w < 0) {
                sp.left = true;
                w = -w; /* in 64 bits, so that INT_MIN works */
            }
            sp.width = w;
        }
        if (sp.prec_star) {
            int pr = va_arg(aq, int);
            sp.prec = pr < 0 ? -1 : pr; /* a negative precision is taken as if omitted */
        }
        if (sp.left)
            sp.zero = false;

        switch (sp.conv) {
        case 'd':
        case 'i': {
            int64_t v = fetch_signed(&aq, sp.len);
            /* Negate in unsigned arithmetic so INT64_MIN works. */
            emit_number(&o, &sp, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o':
            emit_number(&o, &sp, fetch_unsigned(&aq, sp.len), false);
            break;
        case 'p': {
            void *ptr = va_arg(aq, void *);
            if (ptr == NULL) {
                sp.prec = -1;
                emit_string(&o, &sp, "(nil)");
            } else {
                emit_number(&o, &sp, (uint64_t)(uintptr_t)ptr, false);
            }
            break;
        }
        case 'c': {
            char c = (char)va_arg(aq, int);
            emit_field(&o, &sp, NULL, 0, 0, &c, 1, false);
            break;
        }
        case 's':
            emit_string(&o, &sp, va_arg(aq, const char *));
            break;
        default: /* '%' */
            out_write(&o, "%", 1);
            break;
        }
    }
    va_end(aq);
    return o.overflow ? -1 : (int)o.count;
}

struct fmt_buf {
    char *buf;
    size_t size;
    size_t len; /* bytes stored so far, excluding the NUL; at most size - 1 */
};

static void buf_sink(void *ctx, const char *s, size_t n)
{
    struct fmt_buf *b = ctx;

    if (b->size == 0)
        return;
    size_t room = b->size - 1 - b->len;
    size_t k = n < room ? n : room;
    memcpy(b->buf + b->len, s, k);
    b->len += k;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct fmt_buf b = {.buf = buf, .size = size, .len = 0};
    int r = fmt_vformat(buf_sink, &b, fmt, ap);

    if (size > 0)
        buf[b.len] = '\0';
    return r;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return r;
}
