/* ubench: libbench in user space. The kernel starts it after its own benchmarks (ubench_abi.h
 * has the argument string and the exit status); every other file of bench/user/ registers its
 * benchmarks in this program's lb_benchmarks section.
 *
 * The environment mirrors the kernel's (bench/kernel/kbench.c) from ring 3: the built-in
 * `lfence; rdtsc; lfence` clock (CR4.TSD is clear), a sample buffer from SYS_MEM_MAP, and the
 * JSON through SYS_WRITE between its own BENCH-JSON-BEGIN / BENCH-JSON-END lines, with a context
 * that says it is user space; scripts/bench.py merges it with the kernel's block. */
#include <stdarg.h>

#include "libbench/libbench.h"
#include "sys.h"
#include "ubench.h"

#define OUT_BUF 4096

static uintptr_t map_next = USER_MAP_BASE;

void *ub_reserve(size_t len)
{
    len = (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    if (!len || len >= USER_MAP_END - map_next)
        return NULL;
    void *at = (void *)map_next;
    map_next += len + PAGE_SIZE;
    return at;
}

void *ub_map(size_t len)
{
    len = (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    void *at = ub_reserve(len);
    if (at && sys_mem_map(at, len, PROT_READ | PROT_WRITE) < 0)
        return NULL;
    return at;
}

const char *ub_msg(const char *fmt, ...)
{
    static char buf[160];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return buf;
}

/* ---- output ---------------------------------------------------------------------------- */

/* The JSON goes out in OUT_BUF pieces rather than one SYS_WRITE per token. */
struct out {
    char buf[OUT_BUF];
    size_t used;
    bool at_line_start; /* of what reached the console */
};

static struct out out = {.at_line_start = true};

static void out_flush(void)
{
    if (out.used) {
        sys_write(out.buf, out.used);
        out.at_line_start = out.buf[out.used - 1] == '\n';
        out.used = 0;
    }
}

static void json_out(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    while (n) {
        if (out.used == OUT_BUF)
            out_flush();
        size_t k = OUT_BUF - out.used < n ? OUT_BUF - out.used : n;
        memcpy(out.buf + out.used, s, k);
        out.used += k;
        s += k;
        n -= k;
    }
}

/* libbench reports errors between JSON tokens, so a newline before the message is only
 * whitespace to the JSON, and the message gets a line of its own that the host can find. */
static void report_error(void *ctx, const char *msg)
{
    int *errors = ctx;
    (*errors)++;
    out_flush();
    if (!strncmp(msg, "bench: ", 7))
        msg += 7;
    printf("%sbench: error: %s\n", out.at_line_start ? "" : "\n", msg);
    out.at_line_start = true;
}

/* ---- the argument string --------------------------------------------------------------- */

struct args {
    const char *filter, *names, *hz;
};

static bool parse_u64(const char *s, uint64_t *v)
{
    *v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || *v > (UINT64_MAX - 9) / 10)
            return false;
        *v = *v * 10 + (uint64_t)(*s - '0');
    }
    return true;
}

/* Ends s at its first c and returns what follows, or NULL when s has no c. */
static char *cut(char *s, char c)
{
    for (; *s; s++) {
        if (*s == c) {
            *s = '\0';
            return s + 1;
        }
    }
    return NULL;
}

/* Splits the string in place at ';' and '='; every bad field is reported as an error. */
static void parse_args(char *s, struct args *a, uint64_t *hz, int *errors)
{
    while (s && *s) {
        char *field = s;
        s = cut(field, ';');
        if (!*field)
            continue;
        char *v = cut(field, '=');
        if (v && !strcmp(field, "filter"))
            a->filter = v;
        else if (v && !strcmp(field, "names"))
            a->names = v;
        else if (v && !strcmp(field, "hz") && parse_u64(v, hz))
            a->hz = v;
        else
            report_error(errors, ub_msg("ubench: bad argument field '%s%s%s'", field, v ? "=" : "",
                                        v ? v : ""));
    }
}

/* ---- main ------------------------------------------------------------------------------ */

int main(void)
{
    int errors = 0;
    struct args a = {.filter = "all", .names = NULL, .hz = NULL};
    uint64_t hz = 0;
    char pid[24];
    struct lb_env env;

    parse_args((char *)(uintptr_t)sys_start_arg, &a, &hz, &errors);
    /* One CPU for everything measured here, partners included (they inherit it): a yield or a
     * call then measures a switch on this CPU, never two CPUs running side by side. */
    char cpu_index[24];
    snprintf(cpu_index, sizeof(cpu_index), "%ld", sys_pin(1));
    snprintf(pid, sizeof(pid), "%ld", sys_getpid());
    const struct lb_kv context[] = {
        {"harness", UB_MODULE},
        {"space", "user (ring 3)"},
        {"clock", "lfence; rdtsc; lfence in ring 3"},
        {"pid", pid},
        {"cpu", cpu_index},
        {"tsc_hz", a.hz ? a.hz : "not given (libbench's default)"},
    };

    lb_env_init(&env);
    env.ticks_hz = hz;
    env.samples = ub_map(UB_SAMPLES * sizeof(uint64_t));
    env.capacity = UB_SAMPLES;
    env.out = json_out;
    env.error = report_error;
    env.error_ctx = &errors;
    env.context = context;
    env.ncontext = sizeof(context) / sizeof(context[0]);
    env.names_elsewhere = a.names;

    json_out(NULL, "BENCH-JSON-BEGIN\n", 17);
    lb_run(&env, a.filter); /* counts its errors through report_error */
    json_out(NULL, "\nBENCH-JSON-END\n", 16);
    out_flush();
    return errors < UB_MAX_ERRORS ? errors : UB_MAX_ERRORS;
}
