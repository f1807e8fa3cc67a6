/* printf-style formatting, shared by the console, panic messages and test reports. Pure C with no
 * kernel dependencies so that the host unit tests can compare it against the C library.
 *
 * Supported: flags - + space # 0; width and precision (digits or *); length modifiers hh h l ll
 * z t j; conversions d i u x X o c s p %. Output matches glibc for these, including "(nil)" for
 * a NULL %p and "(null)" for a NULL %s. There is no floating point (the kernel is built with
 * -mgeneral-regs-only) and no %n (writing through a format argument is never worth the risk).
 *
 * A conversion that is not understood (e.g. "%y", "%ls", or a format ending in "%") is printed
 * literally and consumes no argument, so a typo shows up in the output instead of desynchronising
 * the remaining arguments. */
#pragma once
#include <stdarg.h>
#include <stddef.h>

/* Receives the output in chunks: a whole run of literal text, a whole number, or up to a few
 * dozen padding characters at a time. n is never 0; s is not NUL-terminated. */
typedef void (*fmt_sink)(void *ctx, const char *s, size_t n);

/* Formats into sink and returns the number of characters produced, or -1 if that number would
 * exceed INT_MAX (output stops at that point). */
int fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap);

/* C99 vsnprintf: writes at most size bytes, always NUL-terminated when size > 0, and returns the
 * length the complete output would have had (so a return >= size means truncation). buf may be
 * NULL when size is 0. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
