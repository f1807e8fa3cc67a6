#include "program_check.h"

#include "core/process.h"
#include "core/selftest.h"
#include "core/thread.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "sched/sched.h"

/* Orphans are freed by the reaper thread, a little after their parent is collected. */
#define SETTLE_TICKS 3000

uint64_t settled_free_frames(uint64_t want)
{
    for (unsigned i = 0; i < SETTLE_TICKS; i++) {
        kmem_shrink_all();
        if (frames_free() == want)
            break;
        thread_sleep(1);
    }
    return frames_free();
}

void expect_program_arg(const char *name, const char *arg, int want)
{
    kmem_shrink_all();
    uint64_t before = frames_free();
    struct process *p;
    int err =
        arg ? process_spawn_arg(NULL, name, strlen(name), SCHED_PRIO_DEFAULT, arg, strlen(arg), &p)
            : process_spawn(NULL, name, strlen(name), SCHED_PRIO_DEFAULT, &p);
    if (err) {
        selftest_fail(__FILE__, __LINE__, "spawn %s: %d", name, err);
        return;
    }
    int status = process_wait(p);
    if (status != want) {
        selftest_fail(__FILE__, __LINE__, "%s%s%s ended with %d, expected %d", name, arg ? " " : "",
                      arg ? arg : "", status, want);
        return;
    }
    uint64_t after = settled_free_frames(before);
    if (after != before)
        selftest_fail(__FILE__, __LINE__, "%s: %ld frames not returned", name,
                      (long)(before - after));
}
