/* Ring 3 end to end: programs from boot modules loaded into their own address spaces, system
 * calls, and user faults that kill the offender and nothing else. Needs the user programs as
 * modules (tests/boot/cases.py passes every program in build/user). */
#include "abi/syscall.h"
#include "core/process.h"
#include "core/selftest.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "sched/sched.h"

/* Object caches keep their first slabs: run one program before counting free frames. */
static void warm_caches(void);

static int run(const char *name, int *status)
{
    struct process *p;
    int err = process_spawn(NULL, name, strlen(name), SCHED_PRIO_DEFAULT, &p);
    if (err)
        return err;
    *status = process_wait(p);
    return 0;
}

static void warm_caches(void)
{
    int status;
    run("hello", &status);
}

SELFTEST(user, hello_runs_and_everything_is_returned)
{
    warm_caches();
    uint64_t before = frames_free();
    int status = -1;
    KCHECK_EQ(run("hello", &status), 0);
    KCHECK_EQ(status, 0);
    KCHECK_EQ(run("init", &status), 0);
    KCHECK_EQ(status, 0);
    KCHECK_EQ(frames_free(), before);
}

SELFTEST(user, unknown_module_is_an_error)
{
    int status;
    KCHECK_EQ(run("no-such-program", &status), ERR_NOENT);
}

static const struct {
    const char *name;
    int status;
} killed[] = {
    {"bad_kernel_read", USER_KILLED_BASE + 14},  /* kernel text from ring 3 */
    {"bad_rodata_write", USER_KILLED_BASE + 14}, /* its own read-only page */
    {"bad_exec_stack", USER_KILLED_BASE + 14},   /* NX stack */
    {"bad_hlt", USER_KILLED_BASE + 13},          /* privileged instruction */
    {"bad_cli", USER_KILLED_BASE + 13},
};

SELFTEST(user, faulting_programs_are_killed_and_the_kernel_goes_on)
{
    warm_caches();
    uint64_t before = frames_free();
    for (unsigned i = 0; i < sizeof(killed) / sizeof(killed[0]); i++) {
        int status = -1;
        KCHECK_EQ(run(killed[i].name, &status), 0);
        if (status != killed[i].status) {
            selftest_fail(__FILE__, __LINE__, "%s ended with %d, expected %d", killed[i].name,
                          status, killed[i].status);
            return;
        }
    }
    int status = -1;
    KCHECK_EQ(run("hello", &status), 0); /* still fine afterwards */
    KCHECK_EQ(status, 0);
    KCHECK_EQ(frames_free(), before);
}
