/* ipc_transfer: capabilities and long messages end to end, between this program and an
 * ipc_echo process it spawns with the endpoint's root capability (so the endpoint has GRANT).
 * Expected exit status: 0.
 *   1  setup (objects, spawn, IPC buffer)
 *   2  a notification capability passed by copy: the server gets a notification capability
 *      with the same rights (cap_info), signals bits on it, and this side collects exactly
 *      those bits on its own handle, which stays valid
 *   3  an endpoint capability passed with IPC_CAP_MOVE: the server gets an endpoint capability
 *      with the same rights; ours is ERR_STALE afterwards; a receive capability derived from
 *      it before the move still works, and receives what the server sends through the moved
 *      one
 *   4  a 64-word message (7 words in registers, 57 in the IPC buffers) arrives intact, and
 *      the server's 64-word reply too; so does a 7-word one that needs no buffer
 *   5  badges: two threads call through two capabilities badged differently; the server
 *      reports the badge of each request, which must be the caller's own, every time; the
 *      unbadged root arrives with badge 0
 *   6  the server's OP_EXIT and exit status */
#include "ipc_test.h"

#define BADGE_CALLS 2000

static struct ipc_buffer *buf;

/* 2: copy a notification to the server and collect what it signals. */
static void pass_notification(cap_t ep)
{
    test_stage = 2;
    cap_t n = (cap_t)EXPECT_OK(sys_notification_create(), "notification_create");
    buf->caps[0] = n;
    struct ipc_msg m = {.tag = ipc_tag(OP_CAPS, 1, 1)};
    m.w[0] = 0x5a5a0001;
    EXPECT_EQ(ipc_call(ep, &m), 0, "OP_CAPS call carrying a notification");
    EXPECT_EQ(ipc_tag_label(m.tag), OP_CAPS, "reply label");
    EXPECT_EQ(ipc_tag_caps(m.tag), 0, "the reply carries no capability");
    EXPECT_EQ(m.w[1], 1, "capabilities the server received");
    EXPECT_EQ(m.w[0], CAP_INFO(CAP_TYPE_NOTIFICATION, CAP_RIGHTS_ALL),
              "the server's copy: a notification with our rights");
    EXPECT_EQ(sys_cap_info(n), CAP_INFO(CAP_TYPE_NOTIFICATION, CAP_RIGHTS_ALL),
              "our handle after a copy");
    EXPECT_EQ(sys_notify_wait(n, NOTIFY_POLL), 0x5a5a0001, "the bits the server signalled");
    EXPECT_EQ(sys_notify_wait(n, NOTIFY_POLL), ERR_AGAIN, "the bits are collected once");
    /* The server's copy is a child of ours: revoking ours deletes it. */
    EXPECT_EQ(sys_cap_revoke(n), 1, "revoke reaches the server's copy");
    EXPECT_EQ(sys_cap_delete(n), 0, "delete the notification");
}

/* 3: move an endpoint capability; the server sends through it. */
static void move_endpoint(cap_t ep)
{
    test_stage = 3;
    cap_t e2 = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    cap_t e2_recv = (cap_t)EXPECT_OK(sys_cap_derive(e2, CAP_RIGHT_RECEIVE, 0),
                                     "derive a receive capability");
    buf->caps[0] = e2;
    struct ipc_msg m = {.tag = ipc_tag(OP_TAKE_EP, 0, 1) | IPC_CAP_MOVE};
    EXPECT_EQ(ipc_call(ep, &m), 0, "OP_TAKE_EP call moving an endpoint");
    EXPECT_EQ(m.w[1], 1, "capabilities the server received");
    EXPECT_EQ(m.w[0], CAP_INFO(CAP_TYPE_ENDPOINT, CAP_RIGHTS_ALL),
              "the server's moved capability: an endpoint with all rights");
    EXPECT_EQ(sys_cap_info(e2), ERR_STALE, "our handle after the move");
    EXPECT_EQ(sys_cap_delete(e2), ERR_STALE, "delete of the moved handle");
    EXPECT_EQ(sys_cap_info(e2_recv), CAP_INFO(CAP_TYPE_ENDPOINT, CAP_RIGHT_RECEIVE),
              "the receive capability derived before the move");
    uint64_t badge = 1;
    EXPECT_EQ(ipc_recv(e2_recv, &m, &badge, IPC_TIMEOUT, 5000), 0,
              "receive what the server sends through the moved capability");
    EXPECT_EQ(ipc_tag_label(m.tag), OP_HELLO, "label of the server's message");
    EXPECT_EQ(ipc_tag_len(m.tag), 1, "length of the server's message");
    EXPECT_EQ(m.w[0], SRV_HELLO_MAGIC, "word of the server's message");
    EXPECT_EQ(badge, 0, "badge of the server's (unbadged) moved capability");
    EXPECT_EQ(sys_cap_delete(e2_recv), 0, "delete the receive capability");
}

/* 4: 64 words out, 64 words back, each one checked; then 7, the most that needs no buffer. */
static void long_messages(cap_t ep)
{
    test_stage = 4;
    static const unsigned lens[] = {IPC_MAX_WORDS, IPC_REG_WORDS, IPC_REG_WORDS + 1, 33};
    for (unsigned k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        unsigned len = lens[k];
        uint64_t seed = 0xabcdef00 + k;
        struct ipc_msg m = {.tag = ipc_tag(OP_ECHO, len, 0)};
        for (unsigned i = 0; i < IPC_MAX_WORDS; i++) {
            if (i < IPC_REG_WORDS)
                m.w[i] = test_word(seed, i);
            else
                buf->words[i] = i < len ? test_word(seed, i) : 0xdead0000 + i;
        }
        EXPECT_EQ(ipc_call(ep, &m), 0, "OP_ECHO call with a long message");
        EXPECT_EQ(m.tag, ipc_tag(OP_ECHO, len, 0), "tag of the echo reply");
        for (unsigned i = 0; i < len; i++) {
            uint64_t got = i < IPC_REG_WORDS ? m.w[i] : buf->words[i];
            if (got != ~test_word(seed, i)) {
                printf("ipc_transfer: len %u word %u\n", len, i);
                EXPECT_EQ(got, ~test_word(seed, i), "a word of the echo reply");
            }
        }
        /* Words past the reply's length are not written. */
        for (unsigned i = len > IPC_REG_WORDS ? len : IPC_REG_WORDS; i < IPC_MAX_WORDS; i++)
            EXPECT_EQ(buf->words[i], 0xdead0000 + i, "a buffer word past the reply's length");
    }
}

struct badged {
    cap_t cap;
    uint64_t badge;
};

/* Calls through its own badged capability; the server reports the badge it saw. */
static int badge_caller(void *p)
{
    struct badged *b = p;
    for (uint64_t i = 0; i < BADGE_CALLS; i++) {
        struct ipc_msg m = test_msg(OP_BADGE, 1);
        m.w[0] = i * 2 + b->badge;
        EXPECT_EQ(ipc_call(b->cap, &m), 0, "OP_BADGE call");
        EXPECT_EQ(m.w[0], b->badge, "the badge the server saw");
        EXPECT_EQ(m.w[1], i * 2 + b->badge + 1, "the reply to this thread's own request");
        if (i % 64 == 0)
            sys_yield(); /* interleave the two clients on one CPU too */
    }
    return 0;
}

static void badges(cap_t ep)
{
    test_stage = 5;
    static struct badged b[2] = {{0, 0x1111}, {0, 0x2222}};
    for (int i = 0; i < 2; i++) {
        b[i].cap = (cap_t)EXPECT_OK(sys_cap_derive(ep, CAP_RIGHT_SEND, b[i].badge),
                                    "derive a badged send capability");
        EXPECT_EQ(sys_cap_info(b[i].cap), CAP_INFO(CAP_TYPE_ENDPOINT, CAP_RIGHT_SEND),
                  "badged capability's rights");
    }
    long tids[2];
    for (int i = 0; i < 2; i++)
        tids[i] = test_thread(badge_caller, &b[i]);
    for (int i = 0; i < 2; i++)
        test_join(tids[i], "join a badged caller");
    struct ipc_msg m = test_msg(OP_BADGE, 1);
    m.w[0] = 7;
    EXPECT_EQ(ipc_call(ep, &m), 0, "OP_BADGE through the root");
    EXPECT_EQ(m.w[0], 0, "badge of the unbadged root");
    EXPECT_EQ(m.w[1], 8, "OP_BADGE reply word");
    for (int i = 0; i < 2; i++)
        EXPECT_EQ(sys_cap_delete(b[i].cap), 0, "delete a badged capability");
}

int main(void)
{
    test_name = "ipc_transfer";
    test_stage = 1;
    buf = test_ipc_buffer(0);
    cap_t ep = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    long pid = EXPECT_OK(sys_spawn_cap("ipc_echo", PRIO_DEFAULT, ep), "spawn ipc_echo");
    test_add_child(pid);

    pass_notification(ep);
    move_endpoint(ep);
    long_messages(ep);
    badges(ep);

    test_stage = 6;
    struct ipc_msg m = test_msg(OP_EXIT, 0);
    EXPECT_EQ(ipc_call(ep, &m), 0, "OP_EXIT call");
    EXPECT_EQ(m.w[0], 0, "server error count");
    int status = -1;
    EXPECT_EQ(sys_wait((int)pid, &status), pid, "wait for ipc_echo");
    test_forget_child(pid);
    EXPECT_EQ(status, 0, "ipc_echo's exit status");
    EXPECT_EQ(sys_cap_delete(ep), 0, "delete the endpoint");
    printf("ipc_transfer: copy, move, 64-word messages and badges all check out\n");
    return 0;
}
