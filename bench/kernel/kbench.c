/* The kernel's libbench environment: serialised TSC reads, a sample buffer from the frame
 * allocator, JSON to the console, and a context that says what machine and kernel produced the
 * numbers. The host adds what the kernel cannot know (timing mode, accelerator).
 *
 * After its own benchmarks the kernel starts the boot module `ubench`, when there is one, for
 * the user-space benchmarks under the same filter (bench/user/ubench_abi.h): its JSON is a
 * second block on the console, its exit status its error count. Unknown filter elements are
 * then ubench's to report, against the kernel's names and its own. */
#include "kbench.h"

#include <stdint.h>

#include "commit.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/tsc.h"
#include "core/console.h"
#include "core/panic.h"
#include "core/process.h"
#include "lib/err.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "libbench/libbench.h"
#include "mm/frames.h"
#include "mm/layout.h"
#include "sched/sched.h"
#include "user/ubench_abi.h"

#define SAMPLE_ORDER 3 /* 32 KiB: 4096 samples per repetition */

static bool json_mid_line; /* the JSON written so far does not end with a newline */

static void json_out(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    console_write(s, n);
    if (n)
        json_mid_line = s[n - 1] != '\n';
}

/* libbench reports errors between JSON tokens, so a newline before the message is only
 * whitespace to the JSON, and the message gets a line of its own that the host can find. */
static void report_error(void *ctx, const char *msg)
{
    int *errors = ctx;
    (*errors)++;
    if (!strncmp(msg, "bench: ", 7))
        msg += 7;
    kprintf("%sbench: error: %s\n", json_mid_line ? "\n" : "", msg);
    json_mid_line = false;
}

/* ubench's argument string (ubench_abi.h) into buf; its length, or 0 when it does not fit. */
static size_t ubench_arg(char *buf, size_t size, const char *filter)
{
    size_t n, used = 0;
    const struct lb_benchmark *const *list = lb_registry(&n);
    int len = fmt_snprintf(buf, size, "filter=%s;hz=%lu;names=", filter && *filter ? filter : "all",
                           tsc.hz);
    for (size_t i = 0;; i++) {
        if (len < 0 || (size_t)len >= size - used)
            return 0;
        used += (size_t)len;
        if (i == n)
            return used;
        len = list[i] && list[i]->name ? fmt_snprintf(buf + used, size - used, "%s,", list[i]->name)
                                       : 0;
    }
}

/* Runs ubench to its end; returns the errors it counts for. */
static int run_ubench(const char *filter)
{
    static char arg[PROCESS_ARG_MAX];
    struct process *p;
    size_t len = ubench_arg(arg, sizeof(arg), filter);
    if (!len) {
        kprintf("bench: error: ubench's argument string is over %d bytes\n", PROCESS_ARG_MAX - 1);
        return 1;
    }
    int err = process_spawn_arg(NULL, UB_MODULE, strlen(UB_MODULE), SCHED_PRIO_DEFAULT, arg, len,
                                &p);
    if (err) {
        kprintf("bench: error: cannot start ubench: %s\n", err_name(err));
        return 1;
    }
    int status = process_wait(p);
    if (status == 0)
        return 0;
    if (status > 0 && status <= UB_MAX_ERRORS) {
        kprintf("bench: ubench reported %d error(s) above\n", status);
        return status;
    }
    if (status == PROCESS_KILLED_STATUS)
        kprintf("bench: error: ubench was killed\n");
    else if (status > USER_KILLED_BASE)
        kprintf("bench: error: ubench was killed by exception %d\n", status - USER_KILLED_BASE);
    else
        kprintf("bench: error: ubench ended with status %d\n", status);
    return 1;
}

unsigned kbench_run(const char *filter, const char *cmdline, int option_errors)
{
    char hz[24];
    uint64_t phys;
    int errors = 0;
    struct lb_env env;

    if (option_errors)
        kprintf("bench: error: %d boot option error(s), see above\n", option_errors);
    if (frame_alloc(SAMPLE_ORDER, &phys)) {
        kprintf("bench: error: no memory for the sample buffer\n");
        return EXIT_TESTS_FAILED;
    }
    fmt_snprintf(hz, sizeof(hz), "%lu", tsc.hz);
    const char *brand = cpu.brand;
    while (*brand == ' ')
        brand++;
    const struct lb_kv context[] = {
        {"kernel_commit", TACHYON_COMMIT},
        {"cmdline", cmdline},
        {"cpu", brand},
        {"cpu_vendor", cpu.vendor},
        {"tsc_source", tsc.source},
        {"tsc_hz", hz},
        {"tsc_invariant", tsc.invariant ? "yes" : "no"},
        {"timer", timer_mode()},
        {"apic", apic_x2() ? "x2apic" : "xapic"},
        {"harness", "kernel"},
    };
    bool user = process_module_exists(UB_MODULE);

    lb_env_init(&env);
    env.ticks_hz = tsc.hz;
    env.samples = phys_to_virt(phys);
    env.capacity = (PAGE_SIZE << SAMPLE_ORDER) / sizeof(uint64_t);
    env.out = json_out;
    env.error = report_error;
    env.error_ctx = &errors;
    env.context = context;
    env.ncontext = sizeof(context) / sizeof(context[0]);
    env.defer_unknown = user;

    kprintf("BENCH-JSON-BEGIN\n");
    lb_run(&env, filter);
    kprintf("\nBENCH-JSON-END\n");
    frame_free(phys, SAMPLE_ORDER);
    if (user)
        errors += run_ubench(filter);
    else
        kprintf("bench: no %s module: user-space benchmarks not run\n", UB_MODULE);
    kprintf("bench: done, %d error(s)\n", errors + option_errors);
    return errors + option_errors ? EXIT_TESTS_FAILED : EXIT_TESTS_PASSED;
}
