/* The fastpath transport: every request is an endpoint call and every response its reply, so a
 * round trip is one system call each way and, on one CPU, a direct switch between the two
 * processes (docs/ipc.md). The payload travels as message words: bytes 0-55 in the seven
 * register words, the rest through both IPC buffers, up to the 64 words of a long message.
 * The label carries the byte length. The server answers with reply_recv, so its reply and its
 * wait for the next request are one system call. */
#include "transport.h"

#define FP_MAX_PAYLOAD (IPC_MAX_WORDS * 8)

struct fp_state {
    struct ipc_msg pending; /* the server's reply, sent by its next recv or its close */
    bool have_reply;
    bool called; /* the server received a request it has not answered yet */
    bool server;
};

_Static_assert(sizeof(struct fp_state) <= TRANSPORT_STATE_BYTES, "fastpath state too large");

static struct fp_state *state(struct transport *t)
{
    return (struct fp_state *)t->state;
}

static unsigned words_for(size_t len)
{
    return (unsigned)((len + 7) / 8);
}

/* Words 0-6 into the registers, the rest into this thread's IPC buffer. */
static void pack(struct transport *t, struct ipc_msg *m, unsigned op, const void *buf, size_t len)
{
    uint64_t words[IPC_MAX_WORDS];
    unsigned n = words_for(len);
    if (n)
        words[n - 1] = 0; /* the tail of the last word: no stale stack bytes to the peer */
    memcpy(words, buf, len);
    m->tag = ipc_tag(transport_label(op, (uint32_t)len), n, 0);
    for (unsigned i = 0; i < IPC_REG_WORDS; i++)
        m->w[i] = i < n ? words[i] : 0;
    for (unsigned i = IPC_REG_WORDS; i < n; i++)
        t->ipcbuf->words[i] = words[i];
}

/* A DATA message's length, checked against its word count and against max: ERR_RANGE when
 * the message does not hold what it says or does not fit. */
static long unpack(struct transport *t, const struct ipc_msg *m, void *buf, size_t max)
{
    uint32_t len = transport_label_len(m->tag);
    if (len > FP_MAX_PAYLOAD || words_for(len) != ipc_tag_len(m->tag) || len > max)
        return ERR_RANGE;
    uint64_t words[IPC_MAX_WORDS];
    unsigned n = words_for(len);
    for (unsigned i = 0; i < n; i++)
        words[i] = i < IPC_REG_WORDS ? m->w[i] : t->ipcbuf->words[i];
    memcpy(buf, words, len);
    return len;
}

static int fp_connect(struct transport *t, unsigned ncpus)
{
    (void)ncpus;
    *state(t) = (struct fp_state){0};
    struct ipc_msg m = {.tag = ipc_tag(transport_label(TRANSPORT_OP_CONNECT, 0), 2, 0)};
    transport_name_pack(t->ops->name, m.w);
    long r = ipc_call(t->ep, &m);
    return r < 0 ? (int)r : transport_connect_result(&m);
}

static int fp_accept(struct transport *t, const struct ipc_msg *hello, const uint32_t *caps)
{
    if (ipc_tag_caps(hello->tag)) {
        transport_refuse(hello, caps, ERR_INVAL);
        return ERR_INVAL;
    }
    struct fp_state *s = state(t);
    *s = (struct fp_state){.have_reply = true, .called = true, .server = true};
    s->pending.tag = ipc_tag(transport_label(TRANSPORT_OP_CONNECT, 0), 0, 0);
    return 0;
}

static long fp_call(struct transport *t, const void *req, size_t len, void *resp, size_t resp_max)
{
    struct ipc_msg m;
    pack(t, &m, TRANSPORT_OP_DATA, req, len);
    long r = ipc_call(t->ep, &m);
    if (r < 0)
        return r;
    if (transport_label_op(m.tag) == TRANSPORT_OP_ERROR)
        return transport_connect_result(&m);
    if (transport_label_op(m.tag) != TRANSPORT_OP_DATA)
        return ERR_RANGE;
    return unpack(t, &m, resp, resp_max);
}

static void refuse_request(struct fp_state *s, int err)
{
    s->pending = (struct ipc_msg){.tag = ipc_tag(transport_label(TRANSPORT_OP_ERROR, 0), 1, 0)};
    s->pending.w[0] = (uint64_t)(int64_t)err;
    s->have_reply = true;
}

static long fp_recv(struct transport *t, void *buf, size_t max)
{
    struct fp_state *s = state(t);
    for (;;) {
        struct ipc_msg m = s->have_reply ? s->pending : (struct ipc_msg){0};
        uint64_t badge;
        long r =
            s->have_reply ? ipc_reply_recv(t->ep, &m, &badge) : ipc_recv(t->ep, &m, &badge, 0, 0);
        s->have_reply = false;
        s->called = r == 0;
        if (r < 0)
            return r;
        switch (transport_label_op(m.tag)) {
        case TRANSPORT_OP_DATA:
            r = unpack(t, &m, buf, max);
            if (r >= 0)
                return r;
            refuse_request(s, (int)r);
            break;
        case TRANSPORT_OP_CLOSE:
            s->pending = transport_close_msg();
            ipc_reply(&s->pending);
            s->called = false;
            return ERR_PIPE;
        default:
            refuse_request(s, ERR_INVAL);
        }
    }
}

static int fp_reply(struct transport *t, const void *buf, size_t len)
{
    struct fp_state *s = state(t);
    if (!s->called || s->have_reply)
        return ERR_NOENT;
    pack(t, &s->pending, TRANSPORT_OP_DATA, buf, len);
    s->have_reply = true;
    return 0;
}

/* The client says goodbye so that the server's recv ends with ERR_PIPE; the server sends the
 * reply it still holds. */
static void fp_close(struct transport *t)
{
    struct fp_state *s = state(t);
    if (s->server && s->have_reply) {
        ipc_reply(&s->pending);
        s->have_reply = false;
    } else if (!s->server) {
        struct ipc_msg m = transport_close_msg();
        ipc_call(t->ep, &m);
    }
    transport_ipcbuf_release(t);
}

static const struct transport_ops fastpath_ops = {
    .name = "fastpath",
    .max_payload = FP_MAX_PAYLOAD,
    .connect = fp_connect,
    .accept = fp_accept,
    .call = fp_call,
    .recv = fp_recv,
    .reply = fp_reply,
    .close = fp_close,
};
TRANSPORT_REGISTER(fastpath_ops);
