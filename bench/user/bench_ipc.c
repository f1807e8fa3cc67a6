/* Endpoint IPC between ubench and a server (issue 4; TARGETS.md IPC-1, IPC-2, IPC-3, IPC-11 and
 * the seL4 peer rows): call + reply round trips on the fast path and on the slow path, between
 * two address spaces (the `ipc_server` process) and within one (a server thread of ubench), and
 * the two one-way legs of the inter-AS round trip counted as sel4bench counts them.
 *
 * Round trips: one sample is one ipc_call of a full register message (tag + 7 words, the 64-byte
 * "FastMessage") that the server echoes with ipc_reply_recv: the user stubs on both sides, two
 * kernel passages and two switches, and both loops. The fast and slow variants run the same code
 * in the same boot; only IPC_CTL_FASTPATH differs (set for the benchmark, restored after it).
 *
 * Each benchmark checks that it measured what its name says: the kernel's IPC statistics
 * (IPC_CTL_STATS, summed over CPUs) are read around the measured loop, and a fast variant fails
 * unless (nearly) every call and reply_recv took the fast path, a slow variant unless none did.
 * The differences are written into each entry as counters (ipc_fast_calls, ...), which is how
 * the report shows the fast/slow path split (IPC-11). Everything runs on ubench's CPU (ubench.c
 * pins itself; the server process and thread inherit the pin), so the fast path's same-CPU
 * condition holds by construction. */
#include "libbench/libbench.h"
#include "sys.h"
#include "ubench.h"
#include "user/ubench_ipc.h"

/* Calls before the measured loop: the first finds the server not yet waiting (slow path). */
#define SETTLE_CALLS 4
/* A timer tick can make a call or reply_recv find its partner not waiting, or another thread
 * runnable: allow a few slow ones per run in a fast variant. */
#define SLACK(n) (2 + (n) / 512)
/* How long a quit message may wait for a server that stopped serving (ticks of 1 ms). */
#define QUIT_TIMEOUT 100

/* lb_arg bits of the registrations. */
#define INTER_AS  1u /* the server is a process, else a thread of ubench */
#define FASTPATH  2u /* IPC_CTL_FASTPATH 1, else 0 */
#define LEG_CALL  4u /* record the call leg (client -> server) of a stamped round trip */
#define LEG_REPLY 8u /* record the reply leg (server -> client) */
#define AS_BOOTED 16u /* leave IPC_CTL_FASTPATH as the boot option (fastpath=) set it */

struct server {
    long ep;  /* this call's endpoint, every right */
    long pid; /* the ipc_server process (inter-AS), or -1 */
    long tid; /* the server thread (intra-AS), or -1 */
};

/* The server thread's stack; dropped (and a new one mapped) when a thread that would not quit
 * may still be on it. */
static void *server_stack;

static int server_thread(void *arg)
{
    return ub_ipc_serve((cap_t)(uintptr_t)arg);
}

/* A fresh endpoint and a server on it; false (the benchmark failed) when either is refused. */
static bool server_start(struct lb_state *s, struct server *sv, bool inter_as)
{
    sv->pid = sv->tid = -1;
    sv->ep = sys_endpoint_create();
    if (sv->ep < 0) {
        lb_fail(s, ub_msg("sys_endpoint_create failed: %ld", sv->ep));
        return false;
    }
    if (inter_as) {
        sv->pid = sys_spawn_cap(UB_IPC_SERVER, PRIO_DEFAULT, (cap_t)sv->ep);
        if (sv->pid < 0)
            lb_fail(s, ub_msg("cannot spawn %s: %ld", UB_IPC_SERVER, sv->pid));
    } else if (!server_stack && !(server_stack = ub_map(UB_STACK_SIZE))) {
        lb_fail(s, "no memory for the server thread's stack");
    } else {
        sv->tid = thread_start(server_thread, (void *)(uintptr_t)sv->ep, server_stack,
                               UB_STACK_SIZE);
        if (sv->tid < 0)
            lb_fail(s, ub_msg("thread_start of the server failed: %ld", sv->tid));
    }
    if (sv->pid < 0 && sv->tid < 0) {
        sys_cap_delete((cap_t)sv->ep);
        return false;
    }
    return true;
}

/* Asks the server to quit and reaps it. One that does not answer is killed (a process) or left
 * blocked (a thread: nothing can end it, and it costs nothing while blocked). */
static void server_stop(struct lb_state *s, struct server *sv)
{
    struct ipc_msg m = {.tag = ipc_tag(UB_IPC_QUIT, 0, 0)};
    long r = ipc_call_timeout((cap_t)sv->ep, &m, QUIT_TIMEOUT);
    int status = -1;
    if (sv->pid >= 0) {
        if (r < 0)
            sys_kill((int)sv->pid);
        long w = sys_wait((int)sv->pid, &status);
        if (r >= 0 && (w != sv->pid || status != UB_IPC_SERVE_OK))
            lb_fail(s, ub_msg("%s ended with status %d", UB_IPC_SERVER, status));
    } else if (r >= 0) {
        if (sys_thread_join((int)sv->tid, &status) < 0 || status != UB_IPC_SERVE_OK)
            lb_fail(s, ub_msg("the server thread ended with status %d", status));
    } else {
        server_stack = NULL;
    }
    if (r < 0)
        lb_fail(s, ub_msg("the server did not answer the quit message: %ld", r));
    sys_cap_delete((cap_t)sv->ep);
}

static bool read_stats(struct lb_state *s, struct ipc_stats *st)
{
    long r = sys_ipc_ctl(CAP_ROOT_CONTROL, IPC_CTL_STATS, (uint64_t)(uintptr_t)st);
    if (r < 0)
        lb_fail(s, ub_msg("IPC_CTL_STATS failed: %ld", r));
    return r >= 0;
}

/* Records the path counts of the measured loop and fails a benchmark whose calls did not take
 * the path its name says. n: the calls of the measured loop (each also one reply_recv). */
static void check_paths(struct lb_state *s, bool fast, uint64_t n, const struct ipc_stats *a,
                        const struct ipc_stats *b)
{
    uint64_t fc = b->fast_call - a->fast_call, frr = b->fast_reply_recv - a->fast_reply_recv;
    uint64_t sc = b->slow_call - a->slow_call, srr = b->slow_reply_recv - a->slow_reply_recv;
    lb_counter(s, "ipc_fast_calls", fc);
    lb_counter(s, "ipc_fast_reply_recvs", frr);
    lb_counter(s, "ipc_slow_calls", sc);
    lb_counter(s, "ipc_slow_reply_recvs", srr);
    if (fast && (fc + SLACK(n) < n || frr + SLACK(n) < n)) {
        /* The commonest reason says what to look at (enum ipc_slow_reason). */
        unsigned top = 0;
        for (unsigned i = 1; i < IPC_SLOW_REASONS; i++)
            if (b->slow_reason[i] - a->slow_reason[i] > b->slow_reason[top] - a->slow_reason[top])
                top = i;
        lb_fail(s, ub_msg("fast path taken by %lu calls and %lu reply_recvs of %lu round trips "
                          "(slow: %lu, %lu; commonest slow reason %u)",
                          fc, frr, n, sc, srr, top));
    } else if (!fast && (fc || frr || sc < n)) {
        lb_fail(s, ub_msg("fast path off, yet %lu calls and %lu reply_recvs took it (%lu slow "
                          "calls for %lu round trips)",
                          fc, frr, sc, n));
    }
}

/* The cost of one clock read as libbench subtracts it (an empty lb_start/lb_stop pair): the
 * one-way legs span two programs' clock reads, so libbench's own subtraction cannot apply. */
static uint64_t clock_overhead(void)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 16; i++) {
        uint64_t a = ub_clock(), b = ub_clock();
        best = b - a < best ? b - a : best;
    }
    return best;
}

/* The measured loop; returns the round trips it completed. */
static uint64_t measure(struct lb_state *s, cap_t ep, unsigned mode)
{
    uint64_t label = mode & (LEG_CALL | LEG_REPLY) ? UB_IPC_STAMP : UB_IPC_ECHO;
    uint64_t ovh = clock_overhead(), i = 0;
    while (lb_next(s)) {
        struct ipc_msg m = {ipc_tag(label, IPC_REG_WORDS, 0), {i, 1, 2, 3, 4, 5, 6}};
        long r;
        if (label == UB_IPC_ECHO) {
            uint64_t t = lb_start(s);
            r = ipc_call(ep, &m);
            lb_stop(s, t);
        } else {
            /* sel4bench's one-way count: from a clock read before the sender's trap to one
             * after the receiver's return, minus a clock read. The leg is recorded through a
             * start time moved back by it, so that libbench's subtraction of its empty pair
             * leaves the leg itself. */
            uint64_t t0 = ub_clock();
            r = ipc_call(ep, &m);
            uint64_t t3 = ub_clock();
            uint64_t leg = mode & LEG_CALL ? m.w[0] - t0 : t3 - m.w[1];
            if (r >= 0 && (m.w[0] < t0 || m.w[1] < m.w[0] || t3 < m.w[1])) {
                lb_fail(s, "the server's clock reads are not between the client's");
                break;
            }
            leg = leg > ovh ? leg - ovh : 0;
            lb_stop(s, lb_start(s) - leg);
        }
        if (r < 0) {
            lb_fail(s, ub_msg("ipc_call failed: %ld", r));
            break;
        }
        if (ipc_tag_label(m.tag) != label || ipc_tag_len(m.tag) != IPC_REG_WORDS ||
            (label == UB_IPC_ECHO && (m.w[0] != i || m.w[6] != 6))) {
            lb_fail(s, "the reply is not the server's answer to this call");
            break;
        }
        i++;
    }
    return i;
}

static void bm_ipc(struct lb_state *s)
{
    unsigned mode = (unsigned)lb_arg(s);
    bool fast = mode & FASTPATH;
    struct server sv;
    if (!server_start(s, &sv, mode & INTER_AS))
        return;
    /* Setting the state it had is how AS_BOOTED learns it: the call returns the previous one. */
    long prev = sys_ipc_ctl(CAP_ROOT_CONTROL, IPC_CTL_FASTPATH, fast);
    if (prev >= 0 && (mode & AS_BOOTED)) {
        fast = prev;
        sys_ipc_ctl(CAP_ROOT_CONTROL, IPC_CTL_FASTPATH, (uint64_t)prev);
    }
    if (prev < 0) {
        lb_fail(s, ub_msg("IPC_CTL_FASTPATH failed: %ld", prev));
        server_stop(s, &sv);
        return;
    }
    for (int i = 0; i < SETTLE_CALLS; i++) {
        struct ipc_msg m = {.tag = ipc_tag(mode & (LEG_CALL | LEG_REPLY) ? UB_IPC_STAMP
                                                                          : UB_IPC_ECHO, 0, 0)};
        long r = ipc_call((cap_t)sv.ep, &m);
        if (r < 0) {
            lb_fail(s, ub_msg("settling call failed: %ld", r));
            break;
        }
    }
    struct ipc_stats a, b;
    bool stats = read_stats(s, &a);
    uint64_t n = measure(s, (cap_t)sv.ep, mode);
    stats = stats && read_stats(s, &b);
    sys_ipc_ctl(CAP_ROOT_CONTROL, IPC_CTL_FASTPATH, (uint64_t)prev);
    server_stop(s, &sv);
    if (stats)
        check_paths(s, fast, n, &a, &b);
}

/* ipc_trap (sys_ipc.h) with a two-byte nop (66 90) where `syscall` is: the same register
 * constraints, so the compiler emits the same loads and stores around it. A round trip minus
 * this is what sel4bench counts (TARGETS.md, peers), as syscall/nop_baseline is for SYS_NULL. */
static inline long nop_trap(long nr, cap_t ep, struct ipc_msg *m)
{
    register uint64_t rdi __asm__("rdi") = ep;
    register uint64_t rsi __asm__("rsi") = m->tag;
    register uint64_t rdx __asm__("rdx") = m->w[0];
    register uint64_t r10 __asm__("r10") = m->w[1];
    register uint64_t r8 __asm__("r8") = m->w[2];
    register uint64_t r9 __asm__("r9") = m->w[3];
    register uint64_t r12 __asm__("r12") = m->w[4];
    register uint64_t r13 __asm__("r13") = m->w[5];
    register uint64_t r14 __asm__("r14") = m->w[6];
    register uint64_t r15 __asm__("r15") = 0;
    long ret = nr;
    __asm__ volatile(".byte 0x66, 0x90"
                     : "+a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8),
                       "+r"(r9), "+r"(r12), "+r"(r13), "+r"(r14)
                     : "r"(r15)
                     : "rcx", "r11", "memory");
    m->tag = rsi;
    m->w[0] = rdx;
    m->w[1] = r10;
    m->w[2] = r8;
    m->w[3] = r9;
    m->w[4] = r12;
    m->w[5] = r13;
    m->w[6] = r14;
    return ret;
}

static void bm_nop_baseline(struct lb_state *s)
{
    for (uint64_t i = 0; lb_next(s); i++) {
        struct ipc_msg m = {ipc_tag(UB_IPC_ECHO, IPC_REG_WORDS, 0), {i, 1, 2, 3, 4, 5, 6}};
        uint64_t t = lb_start(s);
        long r = nop_trap(SYS_CALL, 1, &m);
        lb_stop(s, t);
        if (r != SYS_CALL || m.w[0] != i)
            lb_fail(s, "the nop changed the registers");
    }
}
LB_BENCHMARK("ipc/nop_baseline", bm_nop_baseline, NULL,
             "the round trips' client loop with a 2-byte nop in place of syscall (sel4bench's "
             "overhead baseline): what a round trip counts besides the kernel and the server");

#define RT_DESC(where, path)                                                                   \
    "call + reply round trip of a 7-word register message between ubench and " where ", "     \
    path " (user stubs, both loops, two switches; the kernel's IPC statistics checked)"
LB_BENCHMARK_ARG("ipc/call_reply/inter_as/fast", bm_ipc, INTER_AS | FASTPATH, "IPC-2,IPC-3",
                 RT_DESC("the ipc_server process", "fast path"));
LB_BENCHMARK_ARG("ipc/call_reply/inter_as/slow", bm_ipc, INTER_AS, NULL,
                 RT_DESC("the ipc_server process", "fast path off (IPC_CTL_FASTPATH 0)"));
LB_BENCHMARK_ARG("ipc/call_reply/inter_as/as_booted", bm_ipc, INTER_AS | AS_BOOTED, NULL,
                 RT_DESC("the ipc_server process",
                         "fast path as the boot option fastpath= left it (what the matrix's "
                         "fastpath axis compares)"));
LB_BENCHMARK_ARG("ipc/call_reply/intra_as/fast", bm_ipc, FASTPATH, NULL,
                 RT_DESC("a server thread of ubench", "fast path"));
LB_BENCHMARK_ARG("ipc/call_reply/intra_as/slow", bm_ipc, 0, NULL,
                 RT_DESC("a server thread of ubench", "fast path off (IPC_CTL_FASTPATH 0)"));
LB_BENCHMARK_ARG("ipc/call/inter_as/oneway/fast", bm_ipc, INTER_AS | FASTPATH | LEG_CALL,
                 "IPC-1",
                 "call leg of a fast-path round trip to the ipc_server process, counted as "
                 "sel4bench does: client clock read before the trap to the server's after its "
                 "reply_recv returns, minus one clock read");
LB_BENCHMARK_ARG("ipc/reply_recv/inter_as/oneway/fast", bm_ipc,
                 INTER_AS | FASTPATH | LEG_REPLY, NULL,
                 "reply leg of a fast-path round trip from the ipc_server process: the server's "
                 "clock read before reply_recv to the client's after its call returns, minus "
                 "one clock read");
