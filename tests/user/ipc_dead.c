/* ipc_dead: what clients see when their server dies or never answers. Servers are ipc_echo
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
 *   7  the last server's OP_EXIT and exit status.
 *   8  one reply slot per thread: a server thread that receives a second call while it owes
 *      a reply releases the first caller with ERR_PIPE and answers the second; receiving a
 *      plain send (not a call) that was queued before the server's recv keeps the first
 *      caller owed
 *   9  a server thread that ends while it owes a reply: its caller gets ERR_PIPE
 *  10  a client process killed while waiting: killed while queued in call, it is gone (a recv
 *      finds nothing); killed while waiting for the reply, the server's reply gets ERR_NOENT
 *  11  a server process killed while blocked in recv no longer receives: a non-blocking call
 *      finds no receiver (ERR_AGAIN) and a call with a timeout times out
 *  12  stage 8 again with the send arriving while the server already waits in recv: the
 *      first caller must stay owed (only receiving another call releases it) */
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
    long pid = EXPECT_OK(sys_spawn_cap("ipc_echo", PRIO_DEFAULT, ep), "spawn ipc_echo");
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
    long pid = EXPECT_OK(sys_spawn_cap("ipc_echo", PRIO_DEFAULT, root), "spawn ipc_echo");
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

/* A thread of this process as a server on `ep`: takes `n` messages with recv (with `gate`,
 * waiting for `go` before each after the first), then, after `end` (1: replies to the owed
 * caller; 2: ends without replying), exits. */
struct local_server {
    cap_t ep;
    int n, end, gate;
    volatile int go;
    volatile int ready;      /* about to wait in recv for message i: ready = i + 1 */
    volatile long reply_result;
    uint64_t labels[4];
};

static int local_server(void *p)
{
    struct local_server *s = p;
    for (int i = 0; i < s->n; i++) {
        struct ipc_msg m;
        uint64_t badge;
        if (i > 0 && s->gate)
            EXPECT(test_wait_flag(&s->go, BOUND), "the local server is let go on");
        s->ready = i + 1;
        EXPECT_EQ(ipc_recv(s->ep, &m, &badge, IPC_TIMEOUT, BOUND), 0, "local server recv");
        s->labels[i] = ipc_tag_label(m.tag);
    }
    if (s->end == 2)
        return 0; /* ends owing a reply */
    struct ipc_msg r = test_msg(OP_ECHO, 1);
    r.w[0] = 0x600d;
    s->reply_result = ipc_reply(&r);
    return 0;
}

struct sender {
    cap_t ep;
    uint64_t label;
    int is_call;
    volatile int started, done;
    volatile long result;
    volatile uint64_t w0;
};

static int sender(void *p)
{
    struct sender *s = p;
    struct ipc_msg m = test_msg(s->label, 1);
    m.w[0] = s->label;
    s->started = 1;
    s->result = s->is_call ? ipc_call(s->ep, &m) : ipc_send(s->ep, &m);
    s->w0 = m.w[0];
    s->done = 1;
    return 0;
}

static long start_sender(struct sender *s, cap_t ep, uint64_t label, int is_call)
{
    *s = (struct sender){.ep = ep, .label = label, .is_call = is_call};
    long tid = test_thread(sender, s);
    EXPECT(test_wait_flag(&s->started, BOUND), "a sender thread started");
    sys_sleep(10); /* into the endpoint's queue, or into the receiver waiting there */
    return tid;
}

static void finish_sender(struct sender *s, long tid, long want, const char *what)
{
    EXPECT(test_wait_flag(&s->done, BOUND), what);
    EXPECT_EQ(s->result, want, what);
    test_join(tid, what);
}

/* Waits until the local server is in its recv number i (1-based), and a little longer so that
 * it blocks there. */
static void server_waits(struct local_server *s, int i)
{
    EXPECT(test_wait_flag(&s->ready, BOUND), "the local server runs");
    for (int t = 0; t < BOUND && s->ready < i; t++)
        sys_sleep(1);
    EXPECT_EQ(s->ready, i, "the local server's recv count");
    sys_sleep(10);
}

static void reply_slot(void)
{
    test_stage = 8;
    cap_t e = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    struct sender a, b;
    struct local_server srv;

    /* A second call while one is owed: the first caller is released. */
    srv = (struct local_server){.ep = e, .n = 2, .end = 1};
    long ts = test_thread(local_server, &srv);
    long ta = start_sender(&a, e, 0x501, 1);
    long tb = start_sender(&b, e, 0x502, 1);
    test_join(ts, "join the local server");
    EXPECT_EQ(srv.labels[0], 0x501, "first call received");
    EXPECT_EQ(srv.labels[1], 0x502, "second call received");
    EXPECT_EQ(srv.reply_result, 0, "the reply goes to the second caller");
    finish_sender(&a, ta, ERR_PIPE, "the first caller, released by the second call");
    finish_sender(&b, tb, 0, "the second caller, answered");
    EXPECT_EQ(b.w0, 0x600d, "the second caller's reply");

    /* A send queued before the server's second recv: the first caller stays owed. */
    srv = (struct local_server){.ep = e, .n = 2, .end = 1, .gate = 1};
    ts = test_thread(local_server, &srv);
    ta = start_sender(&a, e, 0x503, 1);
    tb = start_sender(&b, e, 0x504, 0); /* queued: the server does not receive again yet */
    EXPECT(!b.done, "the send is queued while the server holds the call");
    srv.go = 1;
    test_join(ts, "join the local server");
    EXPECT_EQ(srv.labels[1], 0x504, "the send received second");
    EXPECT_EQ(srv.reply_result, 0, "reply after receiving a queued send");
    finish_sender(&a, ta, 0, "the caller owed across a received send (queued first)");
    finish_sender(&b, tb, 0, "the sender");
    EXPECT_EQ(sys_cap_delete(e), 0, "delete the endpoint");
}

/* Stage 8's last case, run last (stage 12) so that a kernel failing it still runs the rest. */
static void reply_slot_kept_while_waiting(void)
{
    test_stage = 12;
    cap_t e = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    struct sender a, b;
    struct local_server srv;
    long ts, ta, tb;

    /* The send arrives while the server already waits in its second recv. */
    srv = (struct local_server){.ep = e, .n = 2, .end = 1};
    ts = test_thread(local_server, &srv);
    ta = start_sender(&a, e, 0x505, 1);
    server_waits(&srv, 2);
    tb = start_sender(&b, e, 0x506, 0);
    test_join(ts, "join the local server");
    EXPECT_EQ(srv.labels[1], 0x506, "the send received second");
    finish_sender(&b, tb, 0, "the sender");
    EXPECT_EQ(srv.reply_result, 0, "reply after waiting for and receiving a send");
    finish_sender(&a, ta, 0, "the caller owed across a received send (server waited first)");
    EXPECT_EQ(sys_cap_delete(e), 0, "delete the endpoint");
}

static void server_thread_ends(void)
{
    test_stage = 9;
    cap_t e = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    struct sender a;
    struct local_server srv = {.ep = e, .n = 1, .end = 2};
    long ts = test_thread(local_server, &srv);
    long ta = start_sender(&a, e, 0x601, 1);
    test_join(ts, "join the local server");
    finish_sender(&a, ta, ERR_PIPE, "a caller whose server thread ended owing the reply");
    EXPECT_EQ(sys_cap_delete(e), 0, "delete the endpoint");
}

/* The server calls back through `back`, a fresh endpoint of ours (OP_CALL_BACK). */
static void call_back(cap_t ep, cap_t back)
{
    struct ipc_buffer *b = (struct ipc_buffer *)TEST_BUF_AREA;
    b->caps[0] = back;
    struct ipc_msg m = {.tag = ipc_tag(OP_CALL_BACK, 0, 1)};
    EXPECT_EQ(ipc_call(ep, &m), 0, "OP_CALL_BACK call");
    long bits = sys_notify_wait(note, BOUND);
    EXPECT(bits > 0 && (bits & SRV_CALLING), "the server calls back");
}

static void client_killed(cap_t ep)
{
    test_stage = 10;
    cap_t back = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    struct ipc_msg m;
    uint64_t badge;

    /* Killed while queued in its call. */
    long pid = spawn_server(ep, ep);
    call_back(ep, back);
    sys_sleep(20); /* into the queue of `back` */
    kill_server(pid);
    EXPECT_EQ(ipc_recv(back, &m, &badge, IPC_NONBLOCK, 0), ERR_AGAIN,
              "a killed caller's message is gone from the queue");

    /* Killed while waiting for the reply. */
    pid = spawn_server(ep, ep);
    call_back(ep, back);
    EXPECT_EQ(ipc_recv(back, &m, &badge, IPC_TIMEOUT, BOUND), 0, "receive the server's call");
    EXPECT_EQ(m.w[0], SRV_HELLO_MAGIC, "the server's call");
    kill_server(pid);
    m = test_msg(OP_HELLO, 0);
    EXPECT_EQ(ipc_reply(&m), ERR_NOENT, "reply to a caller that was killed");
    EXPECT_EQ(sys_cap_delete(back), 0, "delete the endpoint");
}

static void receiver_killed(cap_t ep)
{
    test_stage = 11;
    long pid = spawn_server(ep, ep);
    struct ipc_msg m = test_msg(OP_ECHO, 1);
    EXPECT_EQ(ipc_call(ep, &m), 0, "echo: the server now waits in reply_recv");
    sys_sleep(10);
    kill_server(pid);
    m = test_msg(OP_ECHO, 1);
    m.tag |= IPC_NONBLOCK;
    EXPECT_EQ(ipc_call(ep, &m), ERR_AGAIN, "non-blocking call after the receiver was killed");
    m = test_msg(OP_ECHO, 1);
    EXPECT_EQ(ipc_call_timeout(ep, &m, 20), ERR_TIMEDOUT, "call after the receiver was killed");
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
    reply_slot();
    server_thread_ends();
    client_killed(ep);
    receiver_killed(ep);
    reply_slot_kept_while_waiting();

    EXPECT_EQ(sys_cap_delete(ep), 0, "delete the endpoint");
    EXPECT_EQ(sys_cap_delete(note), 0, "delete the notification");
    printf("ipc_dead: killed servers release reply-waiting and queued callers with ERR_PIPE, "
           "dead endpoints refuse at once, timeouts and late replies behave\n");
    return 0;
}
