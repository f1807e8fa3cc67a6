/* ring_peer_dead: a ring-transport server killed mid-stream leaves its client with ERR_PIPE,
 * not a hang. The program spawns the echo service, connects over the ring transport, checks a
 * few round trips, then keeps calling while a second thread kills the service; the next call
 * that needs the dead service must fail with ERR_PIPE (its wait on a notification only the
 * service could signal ends when the service's SEND capability dies with it), and so must
 * every call after. Needs the kernel to end SYS_NOTIFY_WAIT with ERR_PIPE once no SEND
 * capability to the notification remains. Argument string: `ncpus=<n>` (the spin policy).
 * Expected exit status: 0.
 *   1  setup: endpoint, spawn, transport lookup or connect
 *   2  a call before the kill failed or returned wrong bytes
 *   3  calls went on succeeding for 100,000,000 iterations: the kill never took
 *   4  the first failing call's error was not ERR_PIPE
 *   5  a call after the failure did not fail with ERR_PIPE
 *   6  the service's exit status was not the kill status */
#include "echo_test.h"

static volatile long server_pid;
static volatile int killed;

static int killer(void *arg)
{
    (void)arg;
    sys_sleep(20);
    sys_kill((int)server_pid);
    int status = -1;
    sys_wait((int)server_pid, &status);
    killed = status == KILL_STATUS ? 1 : 2;
    return 0;
}

int main(void)
{
    test_name = "ring_peer_dead";
    struct transport_config cfg;
    const char *args = (const char *)sys_start_arg;
    EXPECT_EQ(transport_config_parse(args ? args : "", &cfg), 0, "transport_config_parse");
    cfg.ops = transport_find("ring");
    struct transport t;
    server_pid = test_connect_echo(&t, &cfg);
    cap_t ep = t.ep;

    test_stage = 2;
    uint8_t req[64], resp[64];
    for (unsigned i = 0; i < sizeof req; i++)
        req[i] = (uint8_t)i;
    for (int n = 0; n < 100; n++) {
        EXPECT_EQ(transport_call(&t, req, sizeof req, resp, sizeof resp), sizeof req, "call");
        EXPECT_EQ(resp[1], req[1] ^ (0x5a + 7), "the echo service's transform");
    }

    test_stage = 3;
    long tid = test_thread(killer, NULL);
    long r = 0;
    for (uint64_t n = 0; n < 100000000ull && r >= 0; n++)
        r = transport_call(&t, req, sizeof req, resp, sizeof resp);
    EXPECT(r < 0, "a call failed once the service was killed");
    test_stage = 4;
    EXPECT_EQ(r, ERR_PIPE, "the call that found the service dead");
    test_stage = 5;
    EXPECT_EQ(transport_call(&t, req, sizeof req, resp, sizeof resp), ERR_PIPE, "a later call");
    test_stage = 6;
    test_join(tid, "killer thread");
    test_forget_child(server_pid);
    EXPECT_EQ(killed, 1, "the service ended killed");
    transport_close(&t);
    EXPECT_EQ(sys_cap_delete(ep), 0, "delete the endpoint");
    printf("ring_peer_dead: the killed service's client got ERR_PIPE\n");
    return 0;
}
