/* Process creation from user space (TARGETS.md K-9): SYS_SPAWN of the minimal program `nop`
 * (bench/user/partners/nop.c), alone and as a whole spawn, run, exit and wait round trip. The
 * child runs at ubench's priority, so it does not preempt the spawning thread. */
#include "libbench/libbench.h"
#include "sys.h"
#include "ubench.h"

static const char child[] = "nop";

/* The child is waited for after lb_stop: its run, exit and reaping are untimed. */
static void bm_spawn(struct lb_state *s)
{
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        long pid = sys_spawn_n(child, sizeof(child) - 1, PRIO_DEFAULT);
        lb_stop(s, t);
        int status = -1;
        if (pid < 0)
            lb_fail(s, ub_msg("SYS_SPAWN of %s failed: %ld", child, pid));
        else if (sys_wait((int)pid, &status) != pid || status != 0)
            lb_fail(s, ub_msg("%s ended with status %d", child, status));
    }
}
LB_BENCHMARK("process/spawn", bm_spawn, "K-9",
             "SYS_SPAWN of a minimal program (ELF checks, address space, segments copied, "
             "stack, first thread queued); the child runs and is reaped untimed");

static void bm_spawn_wait(struct lb_state *s)
{
    while (lb_next(s)) {
        int status = -1;
        uint64_t t = lb_start(s);
        long pid = sys_spawn_n(child, sizeof(child) - 1, PRIO_DEFAULT);
        long r = pid < 0 ? pid : sys_wait((int)pid, &status);
        lb_stop(s, t);
        if (pid < 0 || r != pid || status != 0)
            lb_fail(s, ub_msg("spawn %ld, wait %ld, status %d", pid, r, status));
    }
}
LB_BENCHMARK("process/spawn_wait", bm_spawn_wait, "K-9",
             "SYS_SPAWN of a minimal program, its run to SYS_EXIT (address space torn down) and "
             "SYS_WAIT returning its status (process freed): a whole process lifetime");
