/* Capabilities, endpoints and notifications end to end (issue 4's "must show" list): each test
 * runs a user program from tests/user that checks one part of the contract and reports
 * through its exit status (its header lists the stages); after each, every frame must be back.
 * Partner processes (ipc_echo) are spawned by the programs themselves. Needs the user
 * programs as modules (tests/boot/cases.py passes every program in build/user). */
#include "program_check.h"

#include "abi/syscall.h"
#include "arch/x86_64/percpu.h"
#include "core/process.h"
#include "core/selftest.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "sched/sched.h"

/* Forged, stale, missing-right and wrong-type handles, badges, transfers without GRANT, bad
 * tags and IPC buffers, no partner, nobody owed: each refused with its own error. */
SELFTEST(ipc, refusals_have_exact_errors)
{
    expect_program("cap_refusals", 0);
}

/* A notification copied and an endpoint moved to a server process that uses them, 64-word
 * messages both ways, and badges telling two clients apart. */
SELFTEST(ipc, capabilities_and_long_messages_cross_processes)
{
    expect_program("ipc_transfer", 0);
}

/* 1,000,000 checked call/reply pairs between two processes, through the fast path when on.
 * Explicit (test=ipc or its full name runs it; test=all does not): under TCG it takes 15-50
 * s, which the test=all boots' timeouts have no room for; tests/boot/cases.py gives it boots
 * of its own. */
SELFTEST_EXPLICIT(ipc, million_calls_between_processes)
{
    expect_program("ipc_million", 0);
}

/* Killed and silent servers: ERR_PIPE for reply waiters, queued and later callers;
 * ERR_TIMEDOUT for a caller that gives up, ERR_NOENT for the server's late reply. */
SELFTEST(ipc, dead_and_silent_servers)
{
    expect_program("ipc_dead", 0);
}

SELFTEST(ipc, notifications)
{
    expect_program("ipc_notify", 0);
}

/* Server pinned on another CPU than its clients when there is one (the program is told how
 * many CPUs run, so that it can insist). */
SELFTEST(ipc, calls_across_cpus)
{
    char arg[32];
    fmt_snprintf(arg, sizeof arg, "ncpus=%u", ncpus);
    expect_program_arg("ipc_smp", arg, 0);
}
