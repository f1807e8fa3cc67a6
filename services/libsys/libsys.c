/* libsys: console output, exit and threads for user programs. Formatting is the kernel's own
 * printf core (kernel/lib/fmt.c, linked into every program), so user and kernel output agree. */
#include "sys.h"

#include "lib/fmt.h"

_Static_assert(SYS_EXIT == 1 && SYS_THREAD_EXIT == 9, "crt0.S repeats these numbers");

uint64_t sys_start_arg;
uint64_t sys_start_rsp;

/* One SYS_WRITE per 256 bytes (and per printf call, at least): small enough for any user stack,
 * large enough that a line reaches the console in one piece, so lines from different processes
 * do not interleave mid-line. */
#define OUT_BUF 256

struct out {
    size_t used;
    long err; /* first SYS_WRITE failure; later output is dropped */
    char buf[OUT_BUF];
};

static void out_flush(struct out *o)
{
    if (o->used && !o->err) {
        long r = sys_write(o->buf, o->used);
        if (r < 0)
            o->err = r;
    }
    o->used = 0;
}

static void out_sink(void *ctx, const char *s, size_t n)
{
    struct out *o = ctx;
    while (n) {
        if (o->used == OUT_BUF)
            out_flush(o);
        size_t k = OUT_BUF - o->used < n ? OUT_BUF - o->used : n;
        memcpy(o->buf + o->used, s, k);
        o->used += k;
        s += k;
        n -= k;
    }
}

int vprintf(const char *fmt, va_list ap)
{
    struct out o;
    o.used = 0;
    o.err = 0;
    int n = fmt_vformat(out_sink, &o, fmt, ap);
    out_flush(&o);
    return o.err ? (int)o.err : n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s)
{
    return printf("%s\n", s);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void exit(int status)
{
    sys_exit(status);
}

void abort(void)
{
    static const char msg[] = "abort\n";
    sys_write(msg, sizeof(msg) - 1);
    sys_exit(ABORT_STATUS);
}

void sys_thread_trampoline(uint64_t block); /* crt0.S */

long thread_start(int (*fn)(void *), void *arg, void *stack, size_t size)
{
    uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
    if (!stack || size < 64 || top < (uintptr_t)stack + 32)
        return ERR_INVAL;
    /* The trampoline finds fn and arg above its initial rsp, so the kernel needs to pass only
     * one word, and the words stay out of the way of the thread's own frames. */
    uint64_t *block = (uint64_t *)(top - 16);
    block[0] = (uint64_t)(uintptr_t)fn;
    block[1] = (uint64_t)(uintptr_t)arg;
    return sys_thread_create(sys_thread_trampoline, block, (uint64_t)(uintptr_t)block);
}
