#include "libbench/json.h"

#include <stddef.h>

#include "lib/kstring.h"

static void put(struct lb_json *j, const char *s, size_t n)
{
    if (n)
        j->sink(j->ctx, s, n);
}

void lb_json_raw(struct lb_json *j, const char *s)
{
    put(j, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at p[0..avail), or 0 when it is not one. Overlong forms,
 * surrogates and code points past U+10FFFF are invalid too: strict decoders (Python's among them)
 * reject them. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > avail)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void lb_json_chars(struct lb_json *j, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* start of the pending stretch that needs no escaping */
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t len = utf8_len(p + i, n - i);
        if (len != 0 && c >= 0x20 && c != '"' && c != '\\') {
            i += len;
            continue;
        }
        put(j, s + run, i - run);
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        size_t esc_len = 2;
        switch (len ? c : 0x100) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case 0x100: /* not UTF-8: the replacement character */
            memcpy(esc + 2, "fffd", 4);
            esc_len = 6;
            break;
        default:
            esc_len = 6;
            break;
        }
        put(j, esc, esc_len);
        i++;
        run = i;
    }
    put(j, s + run, n - run);
}

void lb_json_string_n(struct lb_json *j, const char *s, size_t n)
{
    put(j, "\"", 1);
    lb_json_chars(j, s, n);
    put(j, "\"", 1);
}

void lb_json_string(struct lb_json *j, const char *s)
{
    if (!s)
        put(j, "null", 4);
    else
        lb_json_string_n(j, s, strlen(s));
}

void lb_json_u64(struct lb_json *j, uint64_t v)
{
    char buf[20];
    size_t i = sizeof(buf);
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(j, buf + i, sizeof(buf) - i);
}

void lb_json_milli(struct lb_json *j, uint64_t v)
{
    char frac[4] = {'.', (char)('0' + v / 100 % 10), (char)('0' + v / 10 % 10),
                    (char)('0' + v % 10)};
    lb_json_u64(j, v / 1000);
    put(j, frac, sizeof(frac));
}

void lb_json_key(struct lb_json *j, const char *key)
{
    lb_json_raw(j, j->first ? "\n" : ",\n");
    j->first = false;
    lb_json_raw(j, j->indent);
    lb_json_string(j, key);
    put(j, ": ", 2);
}

void lb_json_kv_string(struct lb_json *j, const char *key, const char *value)
{
    lb_json_key(j, key);
    lb_json_string(j, value);
}

void lb_json_kv_u64(struct lb_json *j, const char *key, uint64_t value)
{
    lb_json_key(j, key);
    lb_json_u64(j, value);
}

void lb_json_kv_milli(struct lb_json *j, const char *key, uint64_t value)
{
    lb_json_key(j, key);
    lb_json_milli(j, value);
}
