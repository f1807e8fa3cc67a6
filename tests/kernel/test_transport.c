/* The user-level transports end to end (docs/transport.md): the echo workload over the
 * transport `ipc=` picked, the way the kernel hands that choice to the workloads it starts (in
 * their argument string), and the failure cases each transport must turn into errors. Needs
 * the user programs as modules (tests/boot/cases.py passes every program in build/user). */
#include "arch/x86_64/percpu.h"
#include "core/bootopts.h"
#include "core/process.h"
#include "core/selftest.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "sched/sched.h"

/* Orphans are freed by the reaper thread, a little after their parent is collected. */
#define SETTLE_TICKS 3000

static void expect_workload(const char *name, const char *transport, unsigned requests,
                            const char *api, int want)
{
    char arg[96];
    fmt_snprintf(arg, sizeof arg, "ipc=%s;ncpus=%u;requests=%u;api=%s", transport, ncpus, requests,
                 api);
    struct process *p;
    int err = process_spawn_arg(NULL, name, strlen(name), SCHED_PRIO_DEFAULT, arg, strlen(arg), &p);
    if (err) {
        selftest_fail(__FILE__, __LINE__, "spawn %s: %d", name, err);
        return;
    }
    int status = process_wait(p);
    if (status != want)
        selftest_fail(__FILE__, __LINE__, "%s (%s) ended with %d, expected %d", name, arg, status,
                      want);
}

/* Runs a test program and checks its exit status and that every frame came back: a granted
 * page, a mapping or a capability the transport left behind would keep one. */
static void expect_program_frames(const char *name, int want)
{
    kmem_shrink_all();
    uint64_t before = frames_free();
    expect_workload(name, "zcopy", 0, "inplace", want);
    for (unsigned i = 0; i < SETTLE_TICKS && frames_free() != before; i++) {
        kmem_shrink_all();
        thread_sleep(1);
    }
    if (frames_free() != before)
        selftest_fail(__FILE__, __LINE__, "%s: %ld frames not returned", name,
                      (long)(before - frames_free()));
}

/* Short runs, so that test=all exercises the transport ipc= names, through both APIs. */
SELFTEST(transport, echo_every_byte_verified)
{
    expect_workload("echo_client", bootopt.ipc, 5000, "inplace", 0);
    expect_workload("echo_client", bootopt.ipc, 5000, "copy", 0);
}

/* An api= value the client does not know is refused before it connects. */
SELFTEST(transport, echo_unknown_api_refused)
{
    expect_workload("echo_client", bootopt.ipc, 1, "nosuch", 1);
}

/* 1,000,000 requests through the in-place API; explicit (test=transport runs it, test=all does
 * not): its boots in tests/boot/cases.py have their own timeouts. */
SELFTEST_EXPLICIT(transport, echo_million_requests)
{
    expect_workload("echo_client", bootopt.ipc, 1000000, "inplace", 0);
}

/* A ring server killed while its client keeps calling: the client's calls end with ERR_PIPE.
 * Explicit: without the kernel's ERR_PIPE for a notification nobody can signal, it hangs. */
SELFTEST_EXPLICIT(transport, ring_peer_killed_gives_pipe_error)
{
    expect_workload("ring_peer_dead", "ring", 0, "copy", 0);
}

/* zcopy descriptors outside the request area, or whose sum wraps, are refused; the server
 * keeps serving. Explicit, with the ring test, in the transport boots of tests/boot/cases.py. */
SELFTEST_EXPLICIT(transport, zcopy_hostile_descriptors_refused)
{
    expect_workload("zcopy_hostile", "zcopy", 0, "copy", 0);
}

/* Payloads over the zcopy pool's area, up to 4 MiB, go as granted pages both ways, every byte
 * checked; grant messages that lie are refused; every frame comes back. */
SELFTEST(transport, zcopy_large_payloads_granted)
{
    expect_program_frames("zcopy_large", 0);
}
