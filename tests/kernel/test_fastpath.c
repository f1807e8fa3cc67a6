/* Endpoint IPC smoke check: tests/user/fastpath_smoke.c, one client and one server process. */
#include "core/process.h"
#include "core/selftest.h"
#include "lib/kstring.h"
#include "sched/sched.h"

SELFTEST(fastpath, call_reply_between_processes)
{
    struct process *p;
    const char *name = "fastpath_smoke";
    int err = process_spawn(NULL, name, strlen(name), SCHED_PRIO_DEFAULT, &p);
    if (err) {
        selftest_fail(__FILE__, __LINE__, "spawn %s: %d", name, err);
        return;
    }
    int status = process_wait(p);
    if (status)
        selftest_fail(__FILE__, __LINE__, "%s ended with %d", name, status);
}
