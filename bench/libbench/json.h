/* libbench's internal JSON writer: streams straight into a fmt_sink, so nothing is buffered and
 * the output size is bounded only by what the caller writes. Layout follows Google Benchmark's
 * reporter (two-space indentation steps, one key per line) so the files diff alike. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "lib/fmt.h"

struct lb_json {
    fmt_sink sink;
    void *ctx;
    const char *indent; /* written before each key of the object being filled */
    bool first;         /* no key written yet in that object */
};

void lb_json_raw(struct lb_json *j, const char *s);

/* A quoted JSON string: ", \ and control characters escaped, valid UTF-8 passed through, every
 * byte that is not part of valid UTF-8 replaced by \ufffd (so the output always parses). NULL
 * writes null. */
void lb_json_string(struct lb_json *j, const char *s);

/* The same for the first n bytes of s (which need not be NUL-terminated). */
void lb_json_string_n(struct lb_json *j, const char *s, size_t n);

/* Only the escaped characters, without the quotes: for a string written in several pieces. */
void lb_json_chars(struct lb_json *j, const char *s, size_t n);

void lb_json_u64(struct lb_json *j, uint64_t v);

/* v thousandths as a decimal with exactly three fraction digits: 12345 -> 12.345. */
void lb_json_milli(struct lb_json *j, uint64_t v);

/* Starts an object member: the separator from the previous one, the indentation and "key": . */
void lb_json_key(struct lb_json *j, const char *key);

void lb_json_kv_string(struct lb_json *j, const char *key, const char *value);
void lb_json_kv_u64(struct lb_json *j, const char *key, uint64_t value);
void lb_json_kv_milli(struct lb_json *j, const char *key, uint64_t value);
