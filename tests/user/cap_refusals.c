/* cap_refusals: every way a capability or IPC operation must be refused, with the exact error
 * code (notes: issue 4's contract; docs/capabilities.md). Where a refused operation could
 * wrongly deliver something, a receiver thread is waiting on the endpoint and counts what it
 * gets: a refusal must leave it waiting, and the next good message must be the one it gets.
 * Expected exit status: 0.
 *   1  setup (objects, the receiver thread, IPC buffers)
 *   2  forged handles: 0, 1, 0xdeadbeef, an index past the table -> ERR_BADF, for cap_info,
 *      derive, delete, revoke, signal, notify_wait, call, send, recv, ipc_ctl, spawn_cap (no
 *      child made)
 *   3  stale handles: after delete, and after revoke (a derived copy, and a copy derived from
 *      that one, killed by revoking their ancestor) -> ERR_STALE, everywhere
 *   4  rights: send-only cap to recv, receive-only cap to call/send -> ERR_PERM; derive asking
 *      for more rights -> ERR_PERM; derive of a right-less cap
 *   5  types: a notification cap to call/send/recv, an endpoint cap to signal/wait ->
 *      ERR_TYPE; sys_ipc_ctl with an endpoint cap -> ERR_TYPE; the control cap is CONTROL
 *   6  badges: a second badge -> ERR_ALREADY; badge 0 keeps the badge
 *   7  capability transfer through a capability without GRANT -> ERR_PERM, copy and move,
 *      nothing transferred (the sender's handle lives, the receiver keeps waiting and gets
 *      the next good message with no capability in it)
 *   8  bad tags: reserved bits, len 65, caps 5 -> ERR_INVAL on send and call; nothing
 *      delivered
 *   9  IPC buffers: a long message or capabilities without the sender's buffer -> ERR_INVAL;
 *      without the receiver's -> ERR_INVAL for the sender, the receiver keeps waiting;
 *      registering a misaligned or page-crossing buffer -> ERR_INVAL, one in the kernel ->
 *      ERR_FAULT
 *  10  non-blocking send/call/recv with no partner -> ERR_AGAIN; recv and call with a timeout
 *      and no partner -> ERR_TIMEDOUT; reply with nobody owed -> ERR_NOENT
 *  11  the receiver's final count: exactly the good messages arrived */
#include "ipc_test.h"

#define FORGED_PAST_TABLE ((1u << 16) | 5000u)
#define BOUND 5000

static cap_t ep;   /* the receiver waits here; all rights */
static struct ipc_buffer *mainbuf;

/* The receiver: counts messages, remembers the last one, replies to calls; label 0x41 makes it
 * drop its IPC buffer, label 0 ends it. */
static volatile int rx_count, rx_ready;
static volatile uint64_t rx_tag, rx_w0;

static int receiver(void *arg)
{
    (void)arg;
    test_ipc_buffer(1);
    for (;;) {
        struct ipc_msg m;
        uint64_t badge;
        rx_ready = 1;
        long r = ipc_recv(ep, &m, &badge, 0, 0);
        rx_ready = 0;
        EXPECT_EQ(r, 0, "the receiver's recv");
        rx_tag = m.tag;
        rx_w0 = m.w[0];
        rx_count++;
        if (ipc_tag_label(m.tag) == 0)
            return 0;
        if (ipc_tag_label(m.tag) == 0x41)
            EXPECT_EQ(sys_ipc_buffer(NULL), 0, "the receiver drops its IPC buffer");
        struct ipc_msg reply = test_msg(1, 0);
        ipc_reply(&reply); /* ERR_NOENT after a send: nothing owed, fine */
    }
}

/* Waits until the receiver is back in recv with `count` messages seen. */
static void receiver_idle(int count)
{
    for (int i = 0; i < BOUND && (!rx_ready || rx_count != count); i++)
        sys_sleep(1);
    EXPECT_EQ(rx_count, count, "messages the receiver got");
    EXPECT(rx_ready, "the receiver is waiting again");
    sys_sleep(2); /* and has had time to block in the kernel */
}

/* A good message, label `label`, that the receiver must get as its message number `count`. */
static void good_send(uint64_t label, int count)
{
    struct ipc_msg m = test_msg(label, 1);
    m.w[0] = label * 7;
    EXPECT_EQ(ipc_send(ep, &m), 0, "a good send");
    receiver_idle(count);
    EXPECT_EQ(rx_tag, ipc_tag(label, 1, 0), "the receiver got the good message's tag");
    EXPECT_EQ(rx_w0, label * 7, "the receiver got the good message's word");
}

static void forged(void)
{
    test_stage = 2;
    static const cap_t bad[] = {0, 1, 0xdeadbeef, FORGED_PAST_TABLE, 0xffff};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cap_t h = bad[i];
        struct ipc_msg m = test_msg(5, 1);
        uint64_t badge;
        EXPECT_EQ(sys_cap_info(h), ERR_BADF, "cap_info of a forged handle");
        EXPECT_EQ(sys_cap_derive(h, CAP_RIGHT_SEND, 0), ERR_BADF, "derive of a forged handle");
        EXPECT_EQ(sys_cap_delete(h), ERR_BADF, "delete of a forged handle");
        EXPECT_EQ(sys_cap_revoke(h), ERR_BADF, "revoke of a forged handle");
        EXPECT_EQ(sys_signal(h, 1), ERR_BADF, "signal on a forged handle");
        EXPECT_EQ(sys_notify_wait(h, NOTIFY_POLL), ERR_BADF, "wait on a forged handle");
        EXPECT_EQ(ipc_call(h, &m), ERR_BADF, "call on a forged handle");
        EXPECT_EQ(ipc_tag_label(m.tag), 5, "the tag after a refused call is unchanged");
        EXPECT_EQ(ipc_send(h, &m), ERR_BADF, "send on a forged handle");
        EXPECT_EQ(ipc_recv(h, &m, &badge, IPC_NONBLOCK, 0), ERR_BADF, "recv on a forged handle");
        EXPECT_EQ(ipc_recv(h, &m, &badge, 0, 0), ERR_BADF, "blocking recv on a forged handle");
        EXPECT_EQ(sys_ipc_ctl(h, IPC_CTL_FASTPATH, 1), ERR_BADF, "ipc_ctl with a forged handle");
        EXPECT_EQ(sys_spawn_cap("hello", PRIO_DEFAULT, h == 0 ? 1 : h), ERR_BADF,
                  "spawn_cap with a forged handle");
    }
    /* A live capability's index with generation 0 is still no handle. */
    EXPECT_EQ(sys_cap_info(ep & 0xffff), ERR_BADF, "a live slot's index with generation 0");
    EXPECT_EQ(sys_wait(-1, NULL), ERR_NOENT, "no child was made by the refused spawns");
}

static void stale(void)
{
    test_stage = 3;
    cap_t n = (cap_t)EXPECT_OK(sys_notification_create(), "notification_create");
    EXPECT_EQ(sys_cap_delete(n), 0, "delete");
    EXPECT_EQ(sys_cap_info(n), ERR_STALE, "cap_info after delete");
    EXPECT_EQ(sys_signal(n, 1), ERR_STALE, "signal after delete");
    EXPECT_EQ(sys_cap_delete(n), ERR_STALE, "second delete");
    EXPECT_EQ(sys_cap_derive(n, CAP_RIGHT_SEND, 0), ERR_STALE, "derive after delete");
    /* The slot is reused by the next capability, under a new generation. */
    cap_t n2 = (cap_t)EXPECT_OK(sys_notification_create(), "notification_create again");
    EXPECT_EQ(sys_cap_info(n), ERR_STALE, "the old handle stays stale after reuse");
    EXPECT_EQ(sys_cap_info(n2), CAP_INFO(CAP_TYPE_NOTIFICATION, CAP_RIGHTS_ALL), "new handle");

    cap_t e = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    cap_t child = (cap_t)EXPECT_OK(sys_cap_derive(e, CAP_RIGHT_SEND | CAP_RIGHT_RECEIVE, 0),
                                   "derive a child");
    cap_t grandchild = (cap_t)EXPECT_OK(sys_cap_derive(child, CAP_RIGHT_SEND, 0),
                                        "derive a grandchild");
    EXPECT_EQ(sys_cap_revoke(e), 2, "revoke counts child and grandchild");
    EXPECT_EQ(sys_cap_info(e), CAP_INFO(CAP_TYPE_ENDPOINT, CAP_RIGHTS_ALL),
              "the revoked capability itself stays valid");
    struct ipc_msg m = test_msg(1, 0);
    uint64_t badge;
    EXPECT_EQ(sys_cap_info(child), ERR_STALE, "child after revoke of its parent");
    EXPECT_EQ(ipc_call(child, &m), ERR_STALE, "call through a revoked child");
    EXPECT_EQ(ipc_send(grandchild, &m), ERR_STALE, "send through a revoked grandchild");
    EXPECT_EQ(ipc_recv(child, &m, &badge, IPC_NONBLOCK, 0), ERR_STALE, "recv on a revoked child");
    EXPECT_EQ(sys_cap_revoke(e), 0, "a second revoke finds nothing");
    EXPECT_EQ(sys_cap_delete(child), ERR_STALE, "delete of a revoked child");
    /* Deleting a parent does not kill its children. */
    child = (cap_t)EXPECT_OK(sys_cap_derive(e, CAP_RIGHT_SEND, 0), "derive a child again");
    EXPECT_EQ(sys_cap_delete(e), 0, "delete the parent");
    EXPECT_EQ(sys_cap_info(child), CAP_INFO(CAP_TYPE_ENDPOINT, CAP_RIGHT_SEND),
              "a child outlives its deleted parent");
    EXPECT_EQ(sys_cap_delete(child), 0, "delete the child");
    EXPECT_EQ(sys_cap_delete(n2), 0, "delete the notification");
}

static void rights(void)
{
    test_stage = 4;
    cap_t send = (cap_t)EXPECT_OK(sys_cap_derive(ep, CAP_RIGHT_SEND, 0), "derive send-only");
    cap_t recv = (cap_t)EXPECT_OK(sys_cap_derive(ep, CAP_RIGHT_RECEIVE, 0), "derive recv-only");
    cap_t none = (cap_t)EXPECT_OK(sys_cap_derive(ep, 0, 0), "derive with no rights");
    struct ipc_msg m = test_msg(9, 1);
    uint64_t badge;
    EXPECT_EQ(ipc_recv(send, &m, &badge, IPC_NONBLOCK, 0), ERR_PERM, "recv on send-only");
    EXPECT_EQ(ipc_recv(send, &m, &badge, 0, 0), ERR_PERM, "blocking recv on send-only");
    EXPECT_EQ(ipc_call(recv, &m), ERR_PERM, "call on receive-only");
    EXPECT_EQ(ipc_send(recv, &m), ERR_PERM, "send on receive-only");
    EXPECT_EQ(ipc_call(none, &m), ERR_PERM, "call on a right-less capability");
    EXPECT_EQ(sys_cap_derive(send, CAP_RIGHT_SEND | CAP_RIGHT_RECEIVE, 0), ERR_PERM,
              "derive more rights than the source");
    EXPECT_EQ(sys_cap_derive(send, CAP_RIGHT_SEND | CAP_RIGHT_GRANT, 0), ERR_PERM,
              "derive GRANT from a capability without it");
    EXPECT_EQ(sys_cap_derive(none, CAP_RIGHT_SEND, 0), ERR_PERM, "derive from a right-less cap");
    EXPECT_EQ(sys_cap_derive(ep, 0x100, 0), ERR_INVAL, "derive with rights outside the byte");
    receiver_idle(0); /* nothing got through */
    EXPECT_EQ(sys_cap_revoke(ep), 3, "revoke the three derived capabilities");
}

static void types(void)
{
    test_stage = 5;
    cap_t n = (cap_t)EXPECT_OK(sys_notification_create(), "notification_create");
    struct ipc_msg m = test_msg(9, 1);
    uint64_t badge;
    EXPECT_EQ(ipc_call(n, &m), ERR_TYPE, "call on a notification");
    EXPECT_EQ(ipc_send(n, &m), ERR_TYPE, "send on a notification");
    EXPECT_EQ(ipc_recv(n, &m, &badge, IPC_NONBLOCK, 0), ERR_TYPE, "recv on a notification");
    EXPECT_EQ(sys_signal(ep, 1), ERR_TYPE, "signal on an endpoint");
    EXPECT_EQ(sys_notify_wait(ep, NOTIFY_POLL), ERR_TYPE, "wait on an endpoint");
    EXPECT_EQ(ipc_call(CAP_ROOT_CONTROL, &m), ERR_TYPE, "call on the control capability");
    EXPECT_EQ(sys_ipc_ctl(ep, IPC_CTL_FASTPATH, 1), ERR_TYPE, "ipc_ctl with an endpoint cap");
    EXPECT_EQ(sys_ipc_ctl(n, IPC_CTL_STATS, 0), ERR_TYPE, "ipc_ctl with a notification cap");
    EXPECT_EQ(CAP_INFO_TYPE(sys_cap_info(CAP_ROOT_CONTROL)), CAP_TYPE_CONTROL,
              "the first capability is the control capability");
    EXPECT_EQ(sys_cap_delete(n), 0, "delete the notification");
    receiver_idle(0);
}

static void badges(void)
{
    test_stage = 6;
    cap_t b = (cap_t)EXPECT_OK(sys_cap_derive(ep, CAP_RIGHT_SEND, 0x77), "derive badged");
    EXPECT_EQ(sys_cap_derive(b, CAP_RIGHT_SEND, 0x78), ERR_ALREADY, "a second badge");
    EXPECT_EQ(sys_cap_derive(b, CAP_RIGHT_SEND, 0x77), ERR_ALREADY, "the same badge again");
    cap_t b2 = (cap_t)EXPECT_OK(sys_cap_derive(b, CAP_RIGHT_SEND, 0), "badge 0 keeps it");
    EXPECT_EQ(sys_cap_info(b2), CAP_INFO(CAP_TYPE_ENDPOINT, CAP_RIGHT_SEND), "kept rights");
    EXPECT_EQ(sys_cap_revoke(ep), 2, "revoke the badged capabilities");
}

/* Sends a message carrying one capability through `carrier`, which lacks GRANT. */
static void transfer_refused(cap_t carrier, cap_t cargo, uint64_t flags, const char *what)
{
    mainbuf->caps[0] = cargo;
    struct ipc_msg m = {.tag = ipc_tag(0x33, 1, 1) | flags};
    EXPECT_EQ(ipc_send(carrier, &m), ERR_PERM, what);
    EXPECT_EQ(sys_cap_info(cargo), CAP_INFO(CAP_TYPE_NOTIFICATION, CAP_RIGHTS_ALL),
              "the capability stays ours after a refused transfer");
}

static void no_grant(void)
{
    test_stage = 7;
    cap_t n = (cap_t)EXPECT_OK(sys_notification_create(), "notification_create");
    cap_t nogrant = (cap_t)EXPECT_OK(sys_cap_derive(ep, CAP_RIGHT_SEND, 0), "derive send-only");
    receiver_idle(0);
    transfer_refused(nogrant, n, 0, "copy through a capability without GRANT");
    transfer_refused(nogrant, n, IPC_CAP_MOVE, "move through a capability without GRANT");
    mainbuf->caps[0] = n;
    struct ipc_msg m = {.tag = ipc_tag(0x33, 1, 1)};
    EXPECT_EQ(ipc_call(nogrant, &m), ERR_PERM, "call carrying a cap without GRANT");
    EXPECT_EQ(sys_cap_revoke(n), 0, "no copy of the capability exists anywhere");
    receiver_idle(0);
    good_send(0x34, 1); /* the receiver still waits, and gets this one with no capability */
    EXPECT_EQ(sys_cap_delete(nogrant), 0, "delete send-only");
    EXPECT_EQ(sys_cap_delete(n), 0, "delete the notification");
}

static void bad_tags(void)
{
    test_stage = 8;
    const uint64_t tags[] = {
        ipc_tag(1, 1, 0) | (1ull << 7),  ipc_tag(1, 1, 0) | (1ull << 11),
        ipc_tag(1, 1, 0) | (1ull << 15), ipc_tag(1, IPC_MAX_WORDS + 1, 0),
        ipc_tag(1, 127, 0),              ipc_tag(1, 1, IPC_MAX_CAPS + 1),
        ipc_tag(1, 1, 7),
    };
    for (unsigned i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        struct ipc_msg m = {.tag = tags[i]};
        EXPECT_EQ(ipc_send(ep, &m), ERR_INVAL, "send with a bad tag");
        m.tag = tags[i];
        EXPECT_EQ(ipc_call(ep, &m), ERR_INVAL, "call with a bad tag");
        EXPECT_EQ(m.tag, tags[i], "the tag after a refused call is unchanged");
        m.tag = tags[i] | IPC_NONBLOCK;
        EXPECT_EQ(ipc_call(ep, &m), ERR_INVAL, "non-blocking call with a bad tag");
    }
    uint64_t badge;
    struct ipc_msg m;
    EXPECT_EQ(ipc_recv(ep, &m, &badge, (1ull << 7), 0), ERR_INVAL, "recv with a reserved bit");
    receiver_idle(1);
}

static int nobuf_sender(void *arg)
{
    (void)arg;
    /* This thread never registered an IPC buffer. */
    struct ipc_msg m = test_msg(0x40, IPC_REG_WORDS + 1);
    EXPECT_EQ(ipc_send(ep, &m), ERR_INVAL, "long send without the sender's IPC buffer");
    m = test_msg(0x40, IPC_MAX_WORDS);
    EXPECT_EQ(ipc_call(ep, &m), ERR_INVAL, "64-word call without the sender's IPC buffer");
    m = (struct ipc_msg){.tag = ipc_tag(0x40, 0, 1)};
    EXPECT_EQ(ipc_send(ep, &m), ERR_INVAL, "capability without the sender's IPC buffer");
    return 0;
}

static void buffers(void)
{
    test_stage = 9;
    test_join(test_thread(nobuf_sender, NULL), "the sender without a buffer");
    receiver_idle(1);

    /* The receiver drops its buffer: a long message is then refused to the sender, and the
     * receiver, still waiting, gets the next short one. */
    struct ipc_msg m = test_msg(0x41, 0);
    EXPECT_EQ(ipc_send(ep, &m), 0, "tell the receiver to drop its buffer");
    receiver_idle(2);
    m = test_msg(0x42, IPC_REG_WORDS + 2);
    EXPECT_EQ(ipc_send(ep, &m), ERR_INVAL, "long send to a receiver without a buffer");
    receiver_idle(2);
    good_send(0x43, 3);

    /* Registration. */
    uint8_t *page = (uint8_t *)mainbuf;
    EXPECT_EQ(sys_ipc_buffer((void *)(page + 4)), ERR_INVAL, "misaligned IPC buffer");
    EXPECT_EQ(sys_ipc_buffer((void *)(page + PAGE_SIZE - 64)), ERR_INVAL,
              "IPC buffer crossing a page");
    EXPECT_EQ(sys_ipc_buffer((void *)0xffff800000001000ul), ERR_FAULT, "IPC buffer in the kernel");
    EXPECT_EQ(sys_ipc_buffer(mainbuf), 0, "the good buffer again");
}

static void no_partner(void)
{
    test_stage = 10;
    cap_t e = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    struct ipc_msg m = test_msg(3, 1);
    uint64_t badge;
    m.tag |= IPC_NONBLOCK;
    EXPECT_EQ(ipc_send(e, &m), ERR_AGAIN, "non-blocking send without a receiver");
    m.tag = ipc_tag(3, 1, 0) | IPC_NONBLOCK;
    EXPECT_EQ(ipc_call(e, &m), ERR_AGAIN, "non-blocking call without a receiver");
    EXPECT_EQ(ipc_recv(e, &m, &badge, IPC_NONBLOCK, 0), ERR_AGAIN,
              "non-blocking recv without a sender");
    EXPECT_EQ(ipc_recv(e, &m, &badge, IPC_TIMEOUT, 5), ERR_TIMEDOUT, "recv with a timeout");
    m = test_msg(3, 1);
    EXPECT_EQ(ipc_call_timeout(e, &m, 5), ERR_TIMEDOUT, "call with a timeout, no receiver");
    m = test_msg(3, 0);
    EXPECT_EQ(ipc_reply(&m), ERR_NOENT, "reply with nobody owed");
    EXPECT_EQ(sys_cap_delete(e), 0, "delete the endpoint");
    receiver_idle(3);
}

int main(void)
{
    test_name = "cap_refusals";
    test_stage = 1;
    mainbuf = test_ipc_buffer(0);
    ep = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    long rx = test_thread(receiver, NULL);
    receiver_idle(0);

    forged();
    stale();
    rights();
    types();
    badges();
    no_grant();
    bad_tags();
    buffers();
    no_partner();

    test_stage = 11;
    struct ipc_msg m = test_msg(0, 0);
    EXPECT_EQ(ipc_send(ep, &m), 0, "stop the receiver");
    test_join(rx, "join the receiver");
    EXPECT_EQ(rx_count, 4, "messages the receiver got in all");
    EXPECT_EQ(sys_cap_delete(ep), 0, "delete the endpoint");
    printf("cap_refusals: every refusal has the contract's error, and nothing leaked through\n");
    return 0;
}
