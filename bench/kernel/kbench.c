/* The kernel's libbench environment: serialised TSC reads, a sample buffer from the frame
 * allocator, JSON to the console, and a context that says what machine and kernel produced the
 * numbers. The host adds what the kernel cannot know (timing mode, accelerator). */
#include "kbench.h"

#include <stdint.h>

#include "commit.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/tsc.h"
#include "core/console.h"
#include "core/panic.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "libbench/libbench.h"
#include "mm/frames.h"
#include "mm/layout.h"


#define SAMPLE_ORDER 3 /* 32 KiB: 4096 samples per repetition */

static void json_out(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    console_write(s, n);
}

static void report_error(void *ctx, const char *msg)
{
    int *errors = ctx;
    (*errors)++;
    if (!strncmp(msg, "bench: ", 7))
        msg += 7;
    kprintf("bench: error: %s\n", msg);
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
    };

    lb_env_init(&env);
    env.ticks_hz = tsc.hz;
    env.samples = phys_to_virt(phys);
    env.capacity = (PAGE_SIZE << SAMPLE_ORDER) / sizeof(uint64_t);
    env.out = json_out;
    env.error = report_error;
    env.error_ctx = &errors;
    env.context = context;
    env.ncontext = sizeof(context) / sizeof(context[0]);

    kprintf("BENCH-JSON-BEGIN\n");
    lb_run(&env, filter);
    kprintf("\nBENCH-JSON-END\n");
    frame_free(phys, SAMPLE_ORDER);
    kprintf("bench: done, %d error(s)\n", errors + option_errors);
    return errors + option_errors ? EXIT_TESTS_FAILED : EXIT_TESTS_PASSED;
}
