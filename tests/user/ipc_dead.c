/* ipc_dead: what clients see when their server dies or never answers. Servers are ipc_server
 * processes; each is given a notification (OP_SETUP) on which it signals SRV_HELD when it has
 * received an OP_HOLD call and is keeping the caller waiting, so the test knows the call is
 * past the queue before it kills the server.
 * Expected exit status: 0.
 *   1  setup (objects, spawning, OP_SETUP)
 *   2  (a) a caller waiting for the reply of a server that is killed must get ERR_PIPE. This
 *      program keeps a RECEIVE capability to the endpoint itself, so the endpoint stays alive
 *      and only the reply-waiting rule can release the caller.
 *   3  (b) several callers queued on an endpoint whose only receiver process is killed: the
 *      one whose call was received and every one still queued get ERR_PIPE.
 *   4  (c) after that, call (plain and with a timeout) and send get ERR_PIPE at once.
 *   5  (d) a server that holds a call past the caller's timeout: ipc_call_timeout returns
 *      ERR_TIMEDOUT, and the same client's next call works.
 *   6  (e) that server's late ipc_reply gets ERR_NOENT (it reports through SRV_REPLY_NOENT).
 *   7  the last server's OP_EXIT and exit status. */
#include "ipc_test.h"

#define NQUEUED 3
/* Generous bounds for waits that must end: on a loaded TCG host a tick can pass before a
 * woken thread runs, but 5 seconds means the wake-up was lost. */
#define BOUND 5000

static cap_t note; /* the servers' SRV_* bits */

struct caller {
    cap_t ep;
    uint64_t hold_ticks;
    volatile int started, done;
    volatile long result;
};

/* Calls OP_HOLD and records what the call returned. */
static int caller(void *p)
{
    struct caller *c = p;
    struct ipc_msg m = test_msg(OP_HOLD, 1);
    m.w[0] = c->hold_ticks;
    c->started = 1;
    c->result = ipc_call(c->ep, &m);
    c->done = 1;
    return 0;
}

static long spawn_server(cap_t ep, cap_t setup_ep)
{
    long pid = EXPECT_OK(sys_spawn_cap("ipc_server", PRIO_DEFAULT, ep), "spawn ipc_server");
    test_add_child(pid);
    /* The notification goes over as a copy; setup_ep needs GRANT for that. */
    struct ipc_buffer *b = (struct ipc_buffer *)TEST_BUF_AREA;
    b->caps[0] = note;
    struct ipc_msg m = {.tag = ipc_tag(OP_SETUP, 0, 1)};
    EXPECT_EQ(ipc_call(setup_ep, &m), 0, "OP_SETUP call");
    EXPECT_EQ(m.w[0], 0, "OP_SETUP reply");
    return pid;
}

static void expect_held(void)
{
    long bits = sys_notify_wait(note, BOUND);
    EXPECT(bits > 0 && (bits & SRV_HELD), "the server received the OP_HOLD call");
}

static void kill_server(long pid)
{
    EXPECT_EQ(sys_kill((int)pid), 0, "kill the server");
    int status = -1;
    EXPECT_EQ(sys_wait((int)pid, &status), pid, "wait for the killed server");
    test_forget_child(pid);
    EXPECT_EQ(status, KILL_STATUS, "the server's status");
}

/* (a) The server holds the call forever and is killed; this process still holds the
 * endpoint's root (RECEIVE included). */
static void reply_waiter_gets_pipe(cap_t ep)
{
    test_stage = 2;
    long pid = spawn_server(ep, ep);
    struct caller c = {.ep = ep, .hold_ticks = 0};
    long tid = test_thread(caller, &c);
    expect_held();
    EXPECT(!c.done, "the caller waits for the reply while the server holds it");
    kill_server(pid);
    EXPECT(test_wait_flag(&c.done, BOUND), "the caller is released when its server dies");
    EXPECT_EQ(c.result, ERR_PIPE, "call whose server was killed while holding it");
    test_join(tid, "join the caller");
    /* The endpoint itself is alive (we hold RECEIVE): a non-blocking call finds nobody. */
    struct ipc_msg m = test_msg(OP_ECHO, 0);
    m.tag |= IPC_NONBLOCK;
    EXPECT_EQ(ipc_call(ep, &m), ERR_AGAIN, "call on the live endpoint without a receiver");
}

/* (b) and (c): only the server can receive; NQUEUED callers, one received and held, the rest
 * queued behind it. */
static void queued_callers_get_pipe(void)
{
    test_stage = 3;
    cap_t root = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    cap_t send = (cap_t)EXPECT_OK(
        sys_cap_derive(root, CAP_RIGHT_SEND | CAP_RIGHT_GRANT, 0), "derive SEND|GRANT");
    long pid = EXPECT_OK(sys_spawn_cap("ipc_server", PRIO_DEFAULT, root), "spawn ipc_server");
    test_add_child(pid);
    /* From here on the server's copy is the only capability that can receive. */
    EXPECT_EQ(sys_cap_delete(root), 0, "delete our root");
    struct ipc_buffer *b = (struct ipc_buffer *)TEST_BUF_AREA;
    b->caps[0] = note;
    struct ipc_msg m = {.tag = ipc_tag(OP_SETUP, 0, 1)};
    EXPECT_EQ(ipc_call(send, &m), 0, "OP_SETUP call");

    static struct caller c[NQUEUED];
    long tids[NQUEUED];
    for (int i = 0; i < NQUEUED; i++) {
        c[i] = (struct caller){.ep = send, .hold_ticks = 0};
        tids[i] = test_thread(caller, &c[i]);
        if (i == 0)
            expect_held(); /* the first is received, the others queue behind it */
    }
    for (int i = 0; i < NQUEUED; i++)
        EXPECT(test_wait_flag(&c[i].started, BOUND), "a caller thread started");
    sys_sleep(20); /* let the last callers reach the queue; if they come later, (c) applies */
    for (int i = 0; i < NQUEUED; i++)
        EXPECT(!c[i].done, "every caller waits while the server lives");
    kill_server(pid);
    for (int i = 0; i < NQUEUED; i++) {
        EXPECT(test_wait_flag(&c[i].done, BOUND), "a queued caller is released");
        EXPECT_EQ(c[i].result, ERR_PIPE, "call queued on an endpoint whose receiver died");
        test_join(tids[i], "join a caller");
    }

    test_stage = 4;
    m = test_msg(OP_ECHO, 1);
    EXPECT_EQ(ipc_call_timeout(send, &m, BOUND), ERR_PIPE, "call with a timeout on a dead endpoint");
    m = test_msg(OP_ECHO, 1);
    EXPECT_EQ(ipc_send(send, &m), ERR_PIPE, "send on a dead endpoint");
    /* A plain call could block forever if the kernel got this wrong: make it in a thread and
     * bound the wait here. */
    struct caller late = {.ep = send, .hold_ticks = 1};
    long tid = test_thread(caller, &late);
    EXPECT(test_wait_flag(&late.done, BOUND), "a plain call on a dead endpoint returns");
    EXPECT_EQ(late.result, ERR_PIPE, "plain call on a dead endpoint");
    test_join(tid, "join the late caller");
    EXPECT_EQ(sys_cap_delete(send), 0, "delete the send capability");
}

/* (d) and (e). */
static void timeout_then_late_reply(cap_t ep)
{
    test_stage = 5;
    long pid = spawn_server(ep, ep);
    struct ipc_msg m = test_msg(OP_HOLD, 1);
    m.w[0] = 200; /* the server replies after 200 ticks; we give up after 20 */
    struct ipc_msg saved = m;
    long r = ipc_call_timeout(ep, &m, 20);
    EXPECT_EQ(r, ERR_TIMEDOUT, "call to a server that holds it past the timeout");
    /* Errors leave the registers as they were: the message is not a reply. */
    EXPECT_EQ(m.w[0], saved.w[0], "message word after ERR_TIMEDOUT");
    expect_held();
    /* The client carries on: the server is asleep in OP_HOLD, so the call waits for it. */
    m = test_msg(OP_ECHO, 3);
    m.w[0] = 1, m.w[1] = 2, m.w[2] = 3;
    EXPECT_EQ(ipc_call(ep, &m), 0, "the next call after a timeout");
    EXPECT_EQ(m.w[0], ~1ull, "echo word 0");
    EXPECT_EQ(m.w[2], ~3ull, "echo word 2");

    test_stage = 6;
    /* The server signalled its reply's result before it took our echo call. */
    long bits = sys_notify_wait(note, NOTIFY_POLL);
    EXPECT_EQ(bits, SRV_REPLY_NOENT, "the server's late reply got ERR_NOENT");

    test_stage = 7;
    m = test_msg(OP_EXIT, 0);
    EXPECT_EQ(ipc_call(ep, &m), 0, "OP_EXIT call");
    EXPECT_EQ(m.w[0], 0, "server error count");
    int status = -1;
    EXPECT_EQ(sys_wait((int)pid, &status), pid, "wait for the server");
    test_forget_child(pid);
    EXPECT_EQ(status, 0, "the server's exit status");
}

int main(void)
{
    test_name = "ipc_dead";
    test_stage = 1;
    test_ipc_buffer(0); /* at TEST_BUF_AREA: the main thread's, for OP_SETUP's capability */
    note = (cap_t)EXPECT_OK(sys_notification_create(), "notification_create");
    cap_t ep = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");

    reply_waiter_gets_pipe(ep);
    queued_callers_get_pipe();
    timeout_then_late_reply(ep);

    EXPECT_EQ(sys_cap_delete(ep), 0, "delete the endpoint");
    EXPECT_EQ(sys_cap_delete(note), 0, "delete the notification");
    printf("ipc_dead: killed servers release reply-waiting and queued callers with ERR_PIPE, "
           "dead endpoints refuse at once, timeouts and late replies behave\n");
    return 0;
}
