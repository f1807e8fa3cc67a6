/* The user-level transports end to end (docs/transport.md): the echo workload over the
 * transport `ipc=` picked, the way the kernel hands that choice to the workloads it starts (in
 * their argument string), and the failure cases each transport must turn into errors. Needs
 * the user programs as modules (tests/boot/cases.py passes every program in build/user). */
#include "program_check.h"

#include "arch/x86_64/percpu.h"
#include "core/bootopts.h"
#include "core/process.h"
#include "core/selftest.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "sched/sched.h"

/* Runs a workload or test program with the argument string the kernel gives the workloads it
 * starts; every frame must come back (a granted page, a mapping or a capability a transport
 * left behind would keep one). */
static void expect_workload(const char *name, const char *transport, unsigned requests,
                            const char *api, int want)
{
    char arg[96];
    fmt_snprintf(arg, sizeof arg, "ipc=%s;ncpus=%u;requests=%u;api=%s", transport, ncpus, requests,
                 api);
    expect_program_arg(name, arg, want);
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

/* A ring server killed while its client keeps calling: the client's calls end with ERR_PIPE
 * (the kernel's answer for a notification nothing can signal any more). Explicit, like the
 * zcopy failure test: each runs in its own transport's boots in tests/boot/cases.py. */
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
    expect_workload("zcopy_large", "zcopy", 0, "inplace", 0);
}
