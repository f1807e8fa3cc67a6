/* ipc_million: 1,000,000 call/reply pairs between two processes, every one checked. The
 * program creates an endpoint, pins itself to its CPU (so that the server it spawns starts
 * pinned there too: same-CPU calls are what the fast path serves) and spawns ipc_echo with
 * sys_spawn_cap, which hands the child its endpoint through sys_start_arg. Request n carries
 * n and five words derived from it plus a checksum (srv_seq_request): the server checks it
 * receives 0, 1, 2, ... exactly once and in order, intact, and replies n + 1 with transformed
 * words (srv_seq_reply), which this side checks in full. Afterwards IPC_CTL_STATS must show
 * fast-path calls, unless the fast path is off. Nothing is timed: ubench measures speed.
 * Expected exit status: 0.
 *   1  setup: endpoint, pin, spawn, reading the statistics
 *   2  a call failed, or a reply was not exactly srv_seq_reply(n) (the server's status word
 *      says whether it saw the request out of order or corrupted)
 *   3  the server's exit handshake or status (it counts malformed requests)
 *   4  the statistics show no fast-path call with the fast path on */
#include "ipc_test.h"

#define CALLS 1000000ull

static void stats(struct ipc_stats *s)
{
    EXPECT_EQ(sys_ipc_ctl(CAP_ROOT_CONTROL, IPC_CTL_STATS, (uint64_t)s), 0, "IPC_CTL_STATS");
}

int main(void)
{
    test_name = "ipc_million";
    test_stage = 1;
    cap_t ep = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    long cpu = EXPECT_OK(sys_pin(1), "sys_pin(1)");
    long pid = EXPECT_OK(sys_spawn_cap("ipc_echo", PRIO_DEFAULT, ep), "spawn ipc_echo");
    test_add_child(pid);
    struct ipc_stats before, after;
    stats(&before);

    test_stage = 2;
    for (uint64_t n = 0; n < CALLS; n++) {
        struct ipc_msg m, want;
        srv_seq_request(&m, n);
        long r = ipc_call(ep, &m);
        if (r != 0) {
            printf("ipc_million: call %lu: %s\n", (unsigned long)n, err_name((int)r));
            EXPECT_EQ(r, 0, "ipc_call");
        }
        srv_seq_reply(&want, n, 0);
        if (!srv_msg_equal(&m, &want)) {
            printf("ipc_million: reply %lu: tag %#lx w0 %lu w1 %#lx w2 (server status) %lu\n",
                   (unsigned long)n, (unsigned long)m.tag, (unsigned long)m.w[0],
                   (unsigned long)m.w[1], (unsigned long)m.w[2]);
            EXPECT(0, "the reply is srv_seq_reply(n)");
        }
    }
    stats(&after);

    test_stage = 3;
    struct ipc_msg m = test_msg(OP_EXIT, 0);
    EXPECT_EQ(ipc_call(ep, &m), 0, "OP_EXIT call");
    EXPECT_EQ(m.w[0], 0, "server's count of malformed requests");
    int status = -1;
    EXPECT_EQ(sys_wait((int)pid, &status), pid, "wait for ipc_echo");
    test_forget_child(pid);
    EXPECT_EQ(status, 0, "ipc_echo's exit status");
    EXPECT_EQ(sys_cap_delete(ep), 0, "delete the endpoint");

    test_stage = 4;
    /* Other tests may have run before: only the difference says what this run did. */
    uint64_t fast = after.fast_call - before.fast_call;
    uint64_t slow = after.slow_call - before.slow_call;
    printf("ipc_million: %llu calls checked on cpu %ld; fast path %s: %lu fast, %lu slow calls, "
           "%lu fast reply_recv\n", CALLS, cpu, after.fastpath_enabled ? "on" : "off",
           (unsigned long)fast, (unsigned long)slow,
           (unsigned long)(after.fast_reply_recv - before.fast_reply_recv));
    EXPECT(fast + slow >= CALLS, "the statistics count at least this program's calls");
    if (after.fastpath_enabled && before.fastpath_enabled)
        EXPECT(fast > 0, "same-CPU calls took the fast path");
    else
        EXPECT_EQ(fast, 0, "no fast-path call while the fast path is off");
    return 0;
}
