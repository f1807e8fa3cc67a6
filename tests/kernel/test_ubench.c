/* ubench, the user-space benchmark harness (bench/user/), started the way the bench= path starts
 * it (bench/kernel/kbench.c): it runs what its filter selects and exits with the number of errors
 * it reported (bench/user/ubench_abi.h). The yield benchmarks fail unless the two sides
 * alternate, so running them in every boot case checks that under each scheduler and CPU count.
 * Its JSON goes to the console like in a benchmark boot; the boot-test parser ignores it. Needs
 * the ubench, yielder and nop modules (tests/boot/cases.py passes every program). */
#include "core/process.h"
#include "core/selftest.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "sched/sched.h"
#include "user/ubench_abi.h"

static int run(const char *arg, int *status)
{
    struct process *p;
    int err = process_spawn_arg(NULL, UB_MODULE, strlen(UB_MODULE), SCHED_PRIO_DEFAULT, arg,
                                strlen(arg), &p);
    if (err)
        return err;
    *status = process_wait(p);
    return 0;
}

SELFTEST(ubench, syscall_and_yield_benchmarks_run_without_errors)
{
    int status = -1;
    KCHECK_EQ(run("filter=syscall/null,yield/*;hz=1000000000;names=page_map", &status), 0);
    KCHECK_EQ(status, 0);
}

/* A name the kernel registered is known, not run; an unknown element and a glob that matches
 * nothing are one error each; a bad field of the argument string is an error too. */
SELFTEST(ubench, filter_errors_are_counted_in_the_exit_status)
{
    int status = -1;
    KCHECK_EQ(run("filter=page_map;names=page_map,frame_alloc/order:0", &status), 0);
    KCHECK_EQ(status, 0);
    kmem_shrink_all();
    uint64_t before = frames_free();
    KCHECK_EQ(run("names=page_map;filter=page_map,nosuch,zz*", &status), 0);
    KCHECK_EQ(status, 2);
    KCHECK_EQ(run("filter=page_map;hz=fast;names=page_map", &status), 0);
    KCHECK_EQ(status, 1);
    kmem_shrink_all();
    KCHECK_EQ(frames_free(), before);
}
