/* The ring transport: requests and responses travel through two SPSC rings (ipc/spsc_ring.h) in
 * one memory object that the client creates and both sides map, so a busy pair exchanges them
 * without any system call. A side that finds nothing to do spins a bounded number of polls
 * (none when there is one CPU: spinning would only delay the peer), then announces that it
 * will sleep and waits on its notification; the peer signals it only after such an
 * announcement (event suppression, docs/ipc-ring.md).
 *
 * Each side waits on a notification of its own of which only the peer holds a SEND
 * capability: the connect handshake hands each side a SEND-only copy of the other's and both
 * delete their all-rights originals, so when a peer dies, its last SEND capability goes with
 * it and the survivor's wait ends with ERR_PIPE instead of sleeping for ever.
 *
 * A message is a header slot (word 0: operation and length; words 1-7: the first 56 payload
 * bytes) followed by as many slots of 64 payload bytes as the rest needs. A whole message takes
 * at most half a ring, so a request and the close that may follow it always fit. */
#include "ipc/spsc_ring.h"
#include "transport.h"

#define RING_SLOTS       128u
#define RING_MSG_SLOTS   (RING_SLOTS / 2)
#define RING_HEAD_BYTES  56u
#define RING_MAX_PAYLOAD (RING_HEAD_BYTES + (RING_MSG_SLOTS - 1) * 64u)
/* Polls before sleeping when the peer may run on another CPU: of the order of a round trip. */
#define RING_SPIN 2000u

#define RING_BYTES      (320u + 64u * RING_SLOTS) /* spsc_ring_region_bytes(RING_SLOTS) */
#define RING_PAGES      ((2 * RING_BYTES + PAGE_SIZE - 1) / PAGE_SIZE)
#define RING_OBJ_RIGHTS (CAP_RIGHT_MAP | CAP_RIGHT_READ | CAP_RIGHT_WRITE)

struct ring_state {
    struct spsc_producer tx; /* client: requests; server: responses */
    struct spsc_consumer rx;
    struct spsc_waiter waiter;
    uint8_t *region;
    cap_t obj;    /* the memory object (the client's has every right, the server's MAP|R|W) */
    cap_t wait;   /* RECEIVE on this side's notification */
    cap_t signal; /* SEND on the peer's */
    bool client;
    bool broken; /* the peer sent something impossible: every later operation fails */
};

_Static_assert(sizeof(struct ring_state) <= TRANSPORT_STATE_BYTES, "ring state too large");

static struct ring_state *state(struct transport *t)
{
    return (struct ring_state *)t->state;
}

static int ring_sleep(void *ctx)
{
    struct ring_state *s = ctx;
    long r = sys_notify_wait(s->wait, NOTIFY_FOREVER);
    return r < 0 ? (int)r : 0;
}

static void ring_notify(void *ctx)
{
    struct ring_state *s = ctx;
    sys_signal(s->signal, 1);
}

static uint32_t slots_for(size_t len)
{
    return len <= RING_HEAD_BYTES ? 1 : 1 + (uint32_t)((len - RING_HEAD_BYTES + 63) / 64);
}

static int send_msg(struct ring_state *s, unsigned op, const void *buf, size_t len)
{
    struct spsc_msg msgs[RING_MSG_SLOTS];
    uint32_t n = slots_for(len);
    size_t first = len < RING_HEAD_BYTES ? len : RING_HEAD_BYTES;
    memset(&msgs[n - 1], 0, sizeof msgs[0]); /* no stale stack bytes past the payload */
    msgs[0].word[0] = ((uint64_t)op << 32) | len;
    memcpy(&msgs[0].word[1], buf, first);
    memcpy(&msgs[1], (const uint8_t *)buf + first, len - first);
    return spsc_ring_send(&s->tx, msgs, n, &s->waiter);
}

/* The next message: its length, or ERR_PIPE for a close, or an error. A header the peer could
 * not have sent honestly breaks the connection; a message longer than max is consumed whole
 * (the stream stays in step) and refused with ERR_RANGE. */
static long recv_msg(struct ring_state *s, void *buf, size_t max)
{
    if (s->broken)
        return ERR_RANGE;
    struct spsc_msg msgs[RING_MSG_SLOTS];
    int r = spsc_ring_recv(&s->rx, msgs, 1, &s->waiter);
    if (r < 0)
        return r;
    uint64_t head = msgs[0].word[0];
    unsigned op = (unsigned)(head >> 32);
    uint32_t len = (uint32_t)head;
    if (op == TRANSPORT_OP_CLOSE && len == 0)
        return ERR_PIPE;
    if (op != TRANSPORT_OP_DATA || len > RING_MAX_PAYLOAD) {
        s->broken = true;
        return ERR_RANGE;
    }
    uint32_t n = slots_for(len);
    for (uint32_t got = 1; got < n; got += (uint32_t)r)
        if ((r = spsc_ring_recv(&s->rx, &msgs[got], n - got, &s->waiter)) < 0)
            return r;
    if (len > max)
        return ERR_RANGE;
    size_t first = len < RING_HEAD_BYTES ? len : RING_HEAD_BYTES;
    memcpy(buf, &msgs[0].word[1], first);
    memcpy((uint8_t *)buf + first, &msgs[1], len - first);
    return len;
}

static void release(struct transport *t)
{
    struct ring_state *s = state(t);
    if (s->region)
        sys_mem_unmap(s->region, RING_PAGES * PAGE_SIZE);
    cap_t caps[] = {s->obj, s->wait, s->signal};
    for (unsigned i = 0; i < sizeof caps / sizeof caps[0]; i++)
        if (caps[i])
            sys_cap_delete(caps[i]);
    *s = (struct ring_state){0};
}

/* Maps the object, attaches this side's ends of both rings and makes this side's notification
 * (keeping RECEIVE; *give gets a SEND-only copy for the peer and must be deleted once sent). */
static int setup(struct transport *t, cap_t obj, unsigned spin, cap_t *give)
{
    struct ring_state *s = state(t);
    s->obj = obj;
    void *mapped;
    long r = transport_map_object(obj, RING_PAGES, &mapped);
    if (r < 0)
        return (int)r;
    uint8_t *va = mapped;
    s->region = va;
    uint8_t *tx = s->client ? va : va + RING_BYTES, *rx = s->client ? va + RING_BYTES : va;
    if (s->client && ((r = spsc_ring_init(va, RING_BYTES, RING_SLOTS)) ||
                      (r = spsc_ring_init(va + RING_BYTES, RING_BYTES, RING_SLOTS))))
        return (int)r;
    if ((r = spsc_ring_producer_attach(&s->tx, tx, RING_BYTES)) ||
        (r = spsc_ring_consumer_attach(&s->rx, rx, RING_BYTES)))
        return (int)r;
    long note = sys_notification_create();
    if (note < 0)
        return (int)note;
    long wait = sys_cap_derive((cap_t)note, CAP_RIGHT_RECEIVE, 0);
    long send = wait < 0 ? wait : sys_cap_derive((cap_t)note, CAP_RIGHT_SEND, 0);
    sys_cap_delete((cap_t)note); /* the copies live on: a deleted capability's children stay */
    if (send < 0) {
        if (wait >= 0)
            sys_cap_delete((cap_t)wait);
        return (int)send;
    }
    s->wait = (cap_t)wait;
    *give = (cap_t)send;
    s->waiter =
        (struct spsc_waiter){.sleep = ring_sleep, .notify = ring_notify, .ctx = s, .spin = spin};
    return 0;
}

/* A capability the peer sent must be what the protocol says, with at least these rights. */
static bool cap_is(cap_t cap, unsigned type, unsigned rights)
{
    long info = sys_cap_info(cap);
    return info >= 0 && CAP_INFO_TYPE(info) == type && (CAP_INFO_RIGHTS(info) & rights) == rights;
}

static int ring_connect(struct transport *t, unsigned ncpus)
{
    struct ring_state *s = state(t);
    *s = (struct ring_state){.client = true};
    long obj = sys_memobj_create(RING_PAGES);
    if (obj < 0)
        return (int)obj;
    unsigned spin = ncpus > 1 ? RING_SPIN : 0;
    cap_t give = 0;
    int err = setup(t, (cap_t)obj, spin, &give);
    long share = err ? err : sys_cap_derive((cap_t)obj, RING_OBJ_RIGHTS, 0);
    if (share < 0) {
        if (give)
            sys_cap_delete(give);
        release(t);
        return (int)share;
    }
    struct ipc_msg m = {.tag = ipc_tag(transport_label(TRANSPORT_OP_CONNECT, 0), 4, 2)};
    transport_name_pack(t->ops->name, m.w);
    m.w[2] = RING_PAGES;
    m.w[3] = spin;
    t->ipcbuf->caps[0] = (uint32_t)share;
    t->ipcbuf->caps[1] = give;
    long r = ipc_call(t->ep, &m);
    sys_cap_delete((cap_t)share);
    sys_cap_delete(give);
    err = r < 0 ? (int)r : transport_connect_result(&m);
    if (!err && ipc_tag_caps(m.tag) != 1)
        err = ERR_RANGE;
    if (!err) {
        s->signal = t->ipcbuf->caps[0];
        if (!cap_is(s->signal, CAP_TYPE_NOTIFICATION, CAP_RIGHT_SEND))
            err = ERR_TYPE;
    }
    if (err)
        release(t);
    return err;
}

static int ring_accept(struct transport *t, const struct ipc_msg *hello, const uint32_t *caps)
{
    struct ring_state *s = state(t);
    *s = (struct ring_state){0};
    int err = ERR_INVAL;
    if (ipc_tag_caps(hello->tag) != 2 || ipc_tag_len(hello->tag) < 4 || hello->w[2] != RING_PAGES)
        goto refuse;
    err = ERR_TYPE;
    if (!cap_is(caps[0], CAP_TYPE_MEMORY, RING_OBJ_RIGHTS) ||
        !cap_is(caps[1], CAP_TYPE_NOTIFICATION, CAP_RIGHT_SEND))
        goto refuse;
    cap_t give = 0;
    if ((err = setup(t, caps[0], hello->w[3] ? RING_SPIN : 0, &give))) {
        s->obj = 0; /* transport_refuse deletes it with the other received capabilities */
        release(t);
        goto refuse;
    }
    s->signal = caps[1];
    struct ipc_msg r = {.tag = ipc_tag(transport_label(TRANSPORT_OP_CONNECT, 0), 0, 1)};
    t->ipcbuf->caps[0] = give;
    long sent = ipc_reply(&r);
    sys_cap_delete(give);
    if (sent < 0)
        release(t);
    return (int)sent;
refuse:
    transport_refuse(hello, caps, err);
    return err;
}

static long ring_call(struct transport *t, const void *req, size_t len, void *resp, size_t resp_max)
{
    struct ring_state *s = state(t);
    if (s->broken)
        return ERR_RANGE;
    int err = send_msg(s, TRANSPORT_OP_DATA, req, len);
    return err ? err : recv_msg(s, resp, resp_max);
}

static long ring_recv(struct transport *t, void *buf, size_t max)
{
    return recv_msg(state(t), buf, max);
}

static int ring_reply(struct transport *t, const void *buf, size_t len)
{
    struct ring_state *s = state(t);
    return s->broken ? ERR_RANGE : send_msg(s, TRANSPORT_OP_DATA, buf, len);
}

static void ring_close(struct transport *t)
{
    struct ring_state *s = state(t);
    if (s->client && !s->broken)
        send_msg(s, TRANSPORT_OP_CLOSE, "", 0);
    release(t);
    transport_ipcbuf_release(t);
}

static const struct transport_ops ring_ops = {
    .name = "ring",
    .max_payload = RING_MAX_PAYLOAD,
    .connect = ring_connect,
    .accept = ring_accept,
    .call = ring_call,
    .recv = ring_recv,
    .reply = ring_reply,
    .close = ring_close,
};
TRANSPORT_REGISTER(ring_ops);
