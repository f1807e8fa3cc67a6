/* ipc_echo: the partner process of the IPC tests (ipc_transfer, ipc_million, ipc_dead). Not a
 * test of its own: a client spawns it with sys_spawn_cap(name, prio, endpoint), and it serves
 * the protocol in tests/user/ipc_test.h on that endpoint, the way a real server would: recv
 * once, then reply_recv forever, until OP_EXIT. What it checks itself (the order and contents
 * of OP_SEQ requests, the capabilities that arrive) it reports in its replies and exit status.
 * Exit status: 0 after OP_EXIT when every request was well formed.
 *   2  started without a capability (sys_start_arg 0)
 *   3  its first recv failed (the endpoint capability it was handed does not work)
 *   4  recv/reply_recv failed later
 *   5  OP_EXIT after errors: an OP_SEQ out of order or corrupted, a malformed request, or a
 *      failed server-side operation (each printed)
 *   6  the handed capability is not an endpoint, or this process (spawned by another, so
 *      with no capability but the handed one) could use the kernel control capability */
#include "ipc_test.h"

/* In .bss, aligned so that its 528 bytes never cross a page (sys_ipc_buffer's rule). */
static struct ipc_buffer buf __attribute__((aligned(1024)));

static cap_t note;          /* from OP_SETUP */
static uint64_t next_seq;   /* the OP_SEQ sequence number expected next */
static uint64_t seq_status; /* 0, or the first wrong sequence number + 1 */
static unsigned errors;

static void error(const char *what, long v)
{
    if (errors++ < 5)
        printf("ipc_echo: %s (%ld %s)\n", what, v, test_val_name(v));
}

/* OP_SEQ: the request must carry exactly the next sequence number, intact. */
static void seq(struct ipc_msg *m)
{
    struct ipc_msg want;
    srv_seq_request(&want, next_seq);
    if (!seq_status && !srv_msg_equal(m, &want)) {
        seq_status = next_seq + 1;
        error("OP_SEQ request out of order or corrupted at expected seq", (long)next_seq);
    }
    uint64_t got = m->w[0];
    srv_seq_reply(m, got, seq_status);
    next_seq = got + 1; /* resynchronise, so that one error is reported once */
}

/* OP_HOLD: keep the caller waiting for a reply. With w0 = 0 this never returns; the tests
 * kill the process. */
static void hold(uint64_t ticks)
{
    if (note)
        sys_signal(note, SRV_HELD);
    if (ticks == 0)
        for (;;)
            sys_sleep(1000);
    sys_sleep(ticks);
    struct ipc_msg r = test_msg(OP_HOLD, 0);
    long ret = ipc_reply(&r);
    if (note)
        sys_signal(note, ret == ERR_NOENT ? SRV_REPLY_NOENT : SRV_REPLY_OTHER);
}

int main(void)
{
    cap_t ep = (cap_t)sys_start_arg;
    if (!ep)
        return 2;
    if (CAP_INFO_TYPE(sys_cap_info(ep)) != CAP_TYPE_ENDPOINT)
        return 6;
    /* Only processes the kernel starts hold CAP_ROOT_CONTROL; here that handle is either
     * unused or names the endpoint we were handed. */
    struct ipc_stats stats;
    long ctl = sys_ipc_ctl(CAP_ROOT_CONTROL, IPC_CTL_STATS, (uint64_t)&stats);
    if (ctl != ERR_TYPE && ctl != ERR_STALE) {
        printf("ipc_echo: IPC_CTL_STATS with handle %#x returned %ld\n", CAP_ROOT_CONTROL, ctl);
        return 6;
    }
    if (sys_ipc_buffer(&buf) != 0)
        return 3;

    struct ipc_msg m;
    uint64_t badge = 0;
    long r = ipc_recv(ep, &m, &badge, 0, 0);
    if (r < 0) {
        printf("ipc_echo: first recv: %s\n", err_name((int)r));
        return 3;
    }
    for (;;) {
        uint64_t label = ipc_tag_label(m.tag);
        unsigned len = ipc_tag_len(m.tag), ncaps = ipc_tag_caps(m.tag);
        /* By default the reply goes out with the next reply_recv; operations that reply
         * themselves (or never) clear `reply`. */
        int reply = 1;
        if (label == OP_SEQ) {
            seq(&m);
        } else if (label == OP_ECHO) {
            for (unsigned i = 0; i < len; i++) {
                if (i < IPC_REG_WORDS)
                    m.w[i] = ~m.w[i];
                else
                    buf.words[i] = ~buf.words[i];
            }
            m.tag = ipc_tag(OP_ECHO, len, 0);
        } else if (label == OP_SETUP && ncaps == 1) {
            note = buf.caps[0];
            m = test_msg(OP_SETUP, 1);
            m.w[0] = 0;
        } else if (label == OP_HOLD) {
            hold(m.w[0]);
            reply = 0;
        } else if (label == OP_CAPS && ncaps == 1) {
            long info = sys_cap_info(buf.caps[0]);
            long s = sys_signal(buf.caps[0], m.w[0]);
            if (s != 0)
                error("OP_CAPS: signal on the received notification", s);
            m = test_msg(OP_CAPS, 2);
            m.w[0] = (uint64_t)info;
            m.w[1] = ncaps;
        } else if (label == OP_TAKE_EP && ncaps == 1) {
            cap_t moved = buf.caps[0];
            struct ipc_msg rep = test_msg(OP_TAKE_EP, 2);
            rep.w[0] = (uint64_t)sys_cap_info(moved);
            rep.w[1] = ncaps;
            long s = ipc_reply(&rep);
            if (s != 0)
                error("OP_TAKE_EP: reply", s);
            /* Uses the moved capability: the client receives this on its own receive cap. */
            struct ipc_msg hello = test_msg(OP_HELLO, 1);
            hello.w[0] = SRV_HELLO_MAGIC;
            s = ipc_send(moved, &hello);
            if (s != 0)
                error("OP_TAKE_EP: send through the moved endpoint", s);
            reply = 0;
        } else if (label == OP_CALL_BACK && ncaps == 1) {
            cap_t back = buf.caps[0];
            struct ipc_msg rep = test_msg(OP_CALL_BACK, 1);
            rep.w[0] = 0;
            long s = ipc_reply(&rep);
            if (s != 0)
                error("OP_CALL_BACK: reply", s);
            if (note)
                sys_signal(note, SRV_CALLING);
            struct ipc_msg call = test_msg(OP_HELLO, 1);
            call.w[0] = SRV_HELLO_MAGIC;
            s = ipc_call(back, &call);
            if (s != 0)
                error("OP_CALL_BACK: the call back", s);
            reply = 0;
        } else if (label == OP_BADGE) {
            uint64_t w0 = m.w[0];
            m = test_msg(OP_BADGE, 2);
            m.w[0] = badge;
            m.w[1] = w0 + 1;
        } else if (label == OP_EXIT) {
            m = test_msg(OP_EXIT, 1);
            m.w[0] = errors;
            r = ipc_reply(&m);
            if (r != 0)
                printf("ipc_echo: reply to OP_EXIT: %s\n", err_name((int)r));
            return errors ? 5 : 0;
        } else {
            error("unknown or malformed request, label", (long)label);
            m = test_msg(0, 0);
        }
        if (reply) {
            r = ipc_reply_recv(ep, &m, &badge);
        } else {
            m.tag = 0;
            r = ipc_recv(ep, &m, &badge, 0, 0);
        }
        if (r < 0) {
            printf("ipc_echo: %s: %s\n", reply ? "reply_recv" : "recv", err_name((int)r));
            return 4;
        }
    }
}
