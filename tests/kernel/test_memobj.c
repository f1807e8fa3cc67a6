/* Memory objects and page grants end to end (docs/memory-objects.md): each test runs a user
 * program from tests/user that checks one part of the contract and reports through its exit
 * status (its header lists the stages); after each, every frame must be back, which is the
 * check that objects are freed once no capability and no mapping is left, whoever held them
 * and however they ended. Needs the user programs as modules. */
#include "program_check.h"

#include "abi/syscall.h"
#include "core/process.h"
#include "core/selftest.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "sched/sched.h"

/* Bad sizes, forged, stale and wrong-type handles, missing rights, bad prot and addresses,
 * overlaps, bad grants, protect beyond a mapping's rights, too many mappings: each refused with
 * its own error and nothing changed. */
SELFTEST(memobj, refusals_have_exact_errors)
{
    expect_program_arg("memobj_refusals", NULL, 0);
}

/* Two processes sharing an object, read-only views, mapping into descendants, grants MOVE and
 * SHARE both ways, and the quota charge of an object whose creator has ended. */
SELFTEST(memobj, share_and_grant_between_processes)
{
    char arg[48];
    fmt_snprintf(arg, sizeof arg, "quota_pages=%lu", process_default_limits[RES_FRAMES]);
    expect_program_arg("memobj_share", arg, 0);
}

/* On several CPUs the reader thread runs beside the granting one: only a shootdown stops it. */
SELFTEST(memobj, grant_move_reaches_every_thread_tlb)
{
    expect_program_arg("shootdown", "grant", USER_KILLED_BASE + 14);
}
