/* forkbomb: spawns itself until spawn fails, in every instance, so the tree grows until some
 * limit stops it. The kernel's per-process quotas (or, failing those, its memory) must contain
 * it: spawn has to fail cleanly with ERR_NOMEM, never panic, hang or kill unrelated processes,
 * and the machine has to recover once the tree has unwound (docs/abi.md, "Quotas"). Each
 * instance then waits for all its children, so the top-level instance's status covers the
 * whole tree.
 * Expected exit status: 0 (this instance saw ERR_NOMEM and every child exited 0).
 *   1  spawn failed with an error other than ERR_NOMEM
 *   2  a child exited with a non-zero status (the first bad status is printed once per level)
 *   3  MAX_SPAWNS spawns succeeded without any failure: nothing contained the bomb
 *   4  SYS_WAIT failed */
#include "sys.h"

/* A backstop so that a kernel without limits fails this test instead of running for hours. */
#define MAX_SPAWNS 4096

int main(void)
{
    long children = 0, err = 0;
    while (children < MAX_SPAWNS) {
        long pid = sys_spawn("forkbomb", PRIO_DEFAULT);
        if (pid < 0) {
            err = pid;
            break;
        }
        children++;
    }

    int result = 0;
    if (err == 0)
        result = 3;
    else if (err != ERR_NOMEM)
        result = 1;
    for (long i = 0; i < children; i++) {
        int status = -1;
        if (sys_wait(-1, &status) < 0)
            return 4;
        if (status != 0 && result == 0) {
            printf("forkbomb: pid %ld: a child exited with %d\n", sys_getpid(), status);
            result = 2;
        }
    }
    if (result == 1)
        printf("forkbomb: pid %ld: spawn failed with %s, not ERR_NOMEM\n", sys_getpid(),
               err_name((int)err));
    else if (result == 3)
        printf("forkbomb: pid %ld: %d spawns and no limit hit\n", sys_getpid(), MAX_SPAWNS);
    return result;
}
