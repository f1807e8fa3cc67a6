/* System call round trips from ring 3 (TARGETS.md K-1), and the baseline that turns them into
 * sel4bench's count. Each sample is one call timed alone, libbench's timer overhead (an empty
 * lb_start/lb_stop pair) subtracted. */
#include "libbench/libbench.h"
#include "sys.h"
#include "ubench.h"

/* sys_call0 (sys.h) with a two-byte nop (66 90) where `syscall` is: the same constraints, so
 * the compiler emits the same instructions around it. syscall/null minus this is what sel4bench
 * reports (TARGETS.md, peers): the syscall instruction, the kernel path and sysret. */
static inline long nop_call0(long n)
{
    long ret;
    __asm__ volatile(".byte 0x66, 0x90" : "=a"(ret) : "a"(n) : SYS_CLOBBERS);
    return ret;
}

static void bm_null(struct lb_state *s)
{
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        long r = sys_call0(SYS_NULL);
        lb_stop(s, t);
        if (r != 0)
            lb_fail(s, "SYS_NULL did not return 0");
    }
}
LB_BENCHMARK("syscall/null", bm_null, "K-1",
             "SYS_NULL from ring 3 as libsys calls it: mov, syscall, kernel entry, dispatch, "
             "exit, sysret (end to end; minus syscall/nop_baseline for sel4bench's count)");

static void bm_nop_baseline(struct lb_state *s)
{
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        long r = nop_call0(SYS_NULL);
        lb_stop(s, t);
        if (r != 0)
            lb_fail(s, "the nop changed rax");
    }
}
LB_BENCHMARK("syscall/nop_baseline", bm_nop_baseline, NULL,
             "syscall/null's loop with a 2-byte nop in place of syscall (sel4bench's overhead "
             "baseline): what syscall/null counts besides the kernel round trip");

static void bm_getpid(struct lb_state *s)
{
    while (lb_next(s)) {
        uint64_t t = lb_start(s);
        long r = sys_getpid();
        lb_stop(s, t);
        if (r <= 0)
            lb_fail(s, "SYS_GETPID failed");
    }
}
LB_BENCHMARK("syscall/getpid", bm_getpid, NULL,
             "SYS_GETPID from ring 3: a round trip that reads the caller's process");
