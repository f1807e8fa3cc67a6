/* spawner: over 100 live processes at once. Spawns NCHILD copies of `sleeper` (which sleeps 100
 * ticks) before waiting for any, then reaps them all. The children run one priority below the
 * default, so under sched=prio none even starts until the spawner blocks in SYS_WAIT; under
 * other policies the sleep keeps the early ones alive. The kernel must allow a process at least
 * NCHILD children (docs/abi.md, "Quotas").
 * Expected exit status: 0.
 *   1  a spawn failed (index and error printed)
 *   2  SYS_WAIT failed or returned a pid that was not a child
 *   3  a child exited with a non-zero status
 *   4  two live children got the same pid */
#include "sys.h"

#define NCHILD 120

static long pids[NCHILD];
static int reaped[NCHILD];

int main(void)
{
    for (int i = 0; i < NCHILD; i++) {
        pids[i] = sys_spawn("sleeper", PRIO_DEFAULT - 1);
        if (pids[i] < 0) {
            printf("spawner: spawn #%d failed: %s\n", i, err_name((int)pids[i]));
            /* Reap what exists so the failure does not leave orphans behind. */
            for (int j = 0; j < i; j++)
                sys_wait((int)pids[j], NULL);
            return 1;
        }
        for (int j = 0; j < i; j++)
            if (pids[j] == pids[i]) {
                printf("spawner: children #%d and #%d both have pid %ld\n", j, i, pids[i]);
                return 4;
            }
    }
    printf("spawner: %d children spawned, waiting\n", NCHILD);

    int bad = 0;
    for (int n = 0; n < NCHILD; n++) {
        int status = -1;
        long pid = sys_wait(-1, &status);
        int i = 0;
        while (i < NCHILD && (pids[i] != pid || reaped[i]))
            i++;
        if (pid < 0 || i == NCHILD) {
            printf("spawner: wait returned %ld (%s)\n", pid, pid < 0 ? err_name((int)pid) : "");
            return 2;
        }
        reaped[i] = 1;
        if (status != 0) {
            printf("spawner: child #%d (pid %ld) exited with %d\n", i, pid, status);
            bad = 1;
        }
    }
    if (bad)
        return 3;
    printf("spawner: all %d children exited 0\n", NCHILD);
    return 0;
}
