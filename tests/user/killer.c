/* killer: SYS_KILL ends a descendant wherever it is — spinning in ring 3 (hog), asleep in the
 * kernel (sleeper), or blocked in SYS_WAIT on children of its own (spawner, whose 120 children
 * become orphans for the kernel to reap) — and refuses everything else.
 * Expected exit status: 0.
 *   1  spawn failed
 *   2  kill of a child failed
 *   3  a killed child's status was not the kill status (USER_KILLED_BASE + 256)
 *   4  kill of itself was not ERR_PERM
 *   5  kill of a pid that does not exist was not ERR_NOENT
 *   6  a second wait for a reaped child was not ERR_NOENT */
#include "sys.h"

#define KILL_STATUS (USER_KILLED_BASE + 256)

static int kill_after(const char *name, int ticks)
{
    long pid = sys_spawn(name, PRIO_DEFAULT);
    if (pid < 0) {
        printf("killer: spawn %s: %s\n", name, err_name((int)pid));
        return 1;
    }
    sys_sleep(ticks);
    long r = sys_kill((int)pid);
    if (r != 0) {
        printf("killer: kill %s: %s\n", name, err_name((int)r));
        return 2;
    }
    int status = -1;
    if (sys_wait((int)pid, &status) != pid || status != KILL_STATUS) {
        printf("killer: %s ended with %d, want %d\n", name, status, KILL_STATUS);
        return 3;
    }
    if (sys_wait((int)pid, &status) != ERR_NOENT)
        return 6;
    return 0;
}

int main(void)
{
    int r;
    if ((r = kill_after("hog", 5)) || (r = kill_after("sleeper", 5)) ||
        (r = kill_after("spawner", 20)))
        return r;
    if (sys_kill((int)sys_getpid()) != ERR_PERM)
        return 4;
    if (sys_kill(0x7fffffff) != ERR_NOENT)
        return 5;
    printf("killer: hog, sleeper and spawner killed with status %d\n", KILL_STATUS);
    return 0;
}
