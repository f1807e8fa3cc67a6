/* The zcopy transport: payloads sit in a buffer pool, a memory object the client creates and
 * both sides map, and only (offset, length) descriptors travel, over endpoint call/reply (the
 * register fast path when it applies). The pool has a request area the client writes and a
 * response area the server writes (transport_zcopy.h); each side checks every descriptor it
 * receives against the area the peer may write, without overflow, so a hostile descriptor is
 * refused (the server answers TRANSPORT_OP_ERROR with ERR_RANGE and keeps serving) and never
 * makes either side touch memory outside the pool. Payloads too big for an area travel as
 * granted pages instead (transport_zcopy_grant.c). The in-place operations hand out the areas
 * (or the grant path's pages) themselves, so the transport copies no byte; the copy operations
 * copy into and out of them. */
#include "transport.h"
#include "transport_zcopy.h"
#include "transport_zcopy_grant.h"

#define ZC_OBJ_RIGHTS (CAP_RIGHT_MAP | CAP_RIGHT_READ | CAP_RIGHT_WRITE)

struct zc_state {
    uint8_t *pool;
    cap_t obj;
    struct ipc_msg pending; /* the server's reply, sent by its next recv or its close */
    cap_t pending_cap;      /* the object a pending TRANSPORT_OP_GRANT reply carries */
    struct zc_grant grant;
    bool have_reply, called, server;
    bool out_granted; /* the buffer handed out is the grant path's, not the pool's area */
    uint64_t refused; /* descriptors the server refused */
};

_Static_assert(sizeof(struct zc_state) <= TRANSPORT_STATE_BYTES, "zcopy state too large");

static struct zc_state *state(struct transport *t)
{
    return (struct zc_state *)t->state;
}

/* [off, off + len) inside [lo, hi), written so that no sum can wrap. */
static bool desc_ok(uint64_t off, uint64_t len, uint64_t lo, uint64_t hi)
{
    return off >= lo && off <= hi && len <= hi - off;
}

static struct ipc_msg desc_msg(unsigned op, uint64_t off, uint64_t len)
{
    struct ipc_msg m = {.tag = ipc_tag(transport_label(op, 0), 2, 0)};
    m.w[0] = off;
    m.w[1] = len;
    return m;
}

/* Capabilities a message carried that the protocol has no use for: deleted, so that a peer
 * cannot fill this side's table. */
static void drop_caps(struct transport *t, const struct ipc_msg *m)
{
    for (unsigned i = 0; i < ipc_tag_caps(m->tag); i++)
        sys_cap_delete(t->ipcbuf->caps[i]);
}

static void release(struct transport *t)
{
    struct zc_state *s = state(t);
    zc_grant_release(&s->grant);
    if (s->pending_cap)
        sys_cap_delete(s->pending_cap);
    s->pending_cap = 0;
    if (s->pool)
        sys_mem_unmap(s->pool, ZCOPY_POOL_BYTES);
    if (s->obj)
        sys_cap_delete(s->obj);
    s->pool = NULL;
    s->obj = 0;
}

static int map_pool(struct zc_state *s, cap_t obj)
{
    void *va;
    int err = transport_map_object(obj, ZCOPY_POOL_PAGES, &va);
    s->pool = err ? NULL : va;
    return err;
}

static int zc_connect(struct transport *t, unsigned ncpus)
{
    (void)ncpus;
    struct zc_state *s = state(t);
    *s = (struct zc_state){0};
    int err = zc_grant_setup(&s->grant);
    if (err)
        return err;
    long obj = sys_memobj_create(ZCOPY_POOL_PAGES);
    if (obj < 0)
        return (int)obj;
    s->obj = (cap_t)obj;
    err = map_pool(s, s->obj);
    long share = err ? err : sys_cap_derive(s->obj, ZC_OBJ_RIGHTS, 0);
    if (share < 0) {
        release(t);
        return (int)share;
    }
    struct ipc_msg m = {.tag = ipc_tag(transport_label(TRANSPORT_OP_CONNECT, 0), 3, 1)};
    transport_name_pack(t->ops->name, m.w);
    m.w[2] = ZCOPY_POOL_PAGES;
    t->ipcbuf->caps[0] = (uint32_t)share;
    long r = ipc_call(t->ep, &m);
    sys_cap_delete((cap_t)share);
    err = r < 0 ? (int)r : transport_connect_result(&m);
    if (err)
        release(t);
    return err;
}

static int zc_accept(struct transport *t, const struct ipc_msg *hello, const uint32_t *caps)
{
    struct zc_state *s = state(t);
    *s = (struct zc_state){.server = true};
    long info = ipc_tag_caps(hello->tag) == 1 ? sys_cap_info(caps[0]) : ERR_INVAL;
    int err = 0;
    if (ipc_tag_caps(hello->tag) != 1 || ipc_tag_len(hello->tag) < 3 ||
        hello->w[2] != ZCOPY_POOL_PAGES)
        err = ERR_INVAL;
    else if (info < 0 || CAP_INFO_TYPE(info) != CAP_TYPE_MEMORY ||
             (CAP_INFO_RIGHTS(info) & ZC_OBJ_RIGHTS) != ZC_OBJ_RIGHTS)
        err = ERR_TYPE;
    else if (!(err = zc_grant_setup(&s->grant)))
        err = map_pool(s, caps[0]);
    if (err) {
        transport_refuse(hello, caps, err);
        return err;
    }
    s->obj = caps[0];
    s->pending = (struct ipc_msg){.tag = ipc_tag(transport_label(TRANSPORT_OP_CONNECT, 0), 0, 0)};
    s->have_reply = s->called = true;
    return 0;
}

/* The request is in the pool's request area already, and only its descriptor travels; or it
 * is in pages of the grant path, which go to the server. The response descriptor is checked
 * against the area only the server writes before *resp points into it; a granted response is
 * checked and mapped read-only. */
static long zc_call_in_place(struct transport *t, void *buf, size_t len, const void **resp)
{
    (void)buf; /* zc_buffer handed out the request area or the grant path's pages */
    struct zc_state *s = state(t);
    zc_grant_drop_in(&s->grant); /* the previous response */
    struct ipc_msg m = desc_msg(TRANSPORT_OP_DATA, ZCOPY_REQ_OFF, len);
    long obj = 0;
    if (s->out_granted) {
        s->out_granted = false;
        if ((obj = zc_grant_pack(&s->grant, len, &m)) < 0)
            return obj;
        t->ipcbuf->caps[0] = (uint32_t)obj;
    }
    long r = ipc_call(t->ep, &m);
    if (obj)
        sys_cap_delete((cap_t)obj); /* the server has its copy */
    if (r < 0)
        return r;
    unsigned op = transport_label_op(m.tag);
    if (op == TRANSPORT_OP_GRANT)
        return zc_grant_unpack(&s->grant, &m, t->ipcbuf->caps, resp);
    drop_caps(t, &m);
    if (op == TRANSPORT_OP_ERROR)
        return transport_connect_result(&m);
    uint64_t off = m.w[0], n = m.w[1];
    if (op != TRANSPORT_OP_DATA || ipc_tag_len(m.tag) != 2 || ipc_tag_caps(m.tag) ||
        !desc_ok(off, n, ZCOPY_RESP_OFF, ZCOPY_POOL_BYTES))
        return ERR_RANGE;
    *resp = s->pool + off;
    return (long)n;
}

static long zc_call(struct transport *t, const void *req, size_t len, void *resp, size_t resp_max)
{
    struct zc_state *s = state(t);
    zc_grant_drop_out(&s->grant);
    s->out_granted = false;
    memcpy(s->pool + ZCOPY_REQ_OFF, req, len);
    const void *in;
    long n = zc_call_in_place(t, s->pool + ZCOPY_REQ_OFF, len, &in);
    if (n < 0)
        return n;
    if ((size_t)n > resp_max)
        return ERR_RANGE;
    memcpy(resp, in, (size_t)n);
    return n;
}

static void refuse_request(struct zc_state *s, int err)
{
    s->pending = (struct ipc_msg){.tag = ipc_tag(transport_label(TRANSPORT_OP_ERROR, 0), 1, 0)};
    s->pending.w[0] = (uint64_t)(int64_t)err;
    s->have_reply = true;
    s->refused++;
}

/* Sends the pending reply (with the object a granted response carries) and waits for the next
 * message; the pending object is this side's no longer. */
static long reply_recv(struct transport *t, struct ipc_msg *m)
{
    struct zc_state *s = state(t);
    uint64_t badge;
    *m = s->have_reply ? s->pending : (struct ipc_msg){0};
    if (s->pending_cap)
        t->ipcbuf->caps[0] = s->pending_cap;
    long r = s->have_reply ? ipc_reply_recv(t->ep, m, &badge) : ipc_recv(t->ep, m, &badge, 0, 0);
    if (s->pending_cap)
        sys_cap_delete(s->pending_cap);
    s->pending_cap = 0;
    s->have_reply = false;
    s->called = r == 0;
    return r;
}

/* The next request: its length, *req pointing at it (its descriptor checked, or its granted
 * pages mapped read-only), or an error. A request longer than max is refused and the wait goes
 * on. */
static long recv_desc(struct transport *t, size_t max, const void **req)
{
    struct zc_state *s = state(t);
    zc_grant_drop_in(&s->grant); /* the previous request */
    for (;;) {
        struct ipc_msg m;
        long r = reply_recv(t, &m);
        if (r < 0)
            return r;
        uint64_t off = m.w[0], len = m.w[1];
        switch (transport_label_op(m.tag)) {
        case TRANSPORT_OP_DATA:
            if (ipc_tag_len(m.tag) != 2 || ipc_tag_caps(m.tag) ||
                !desc_ok(off, len, ZCOPY_REQ_OFF, ZCOPY_AREA_BYTES) || len > max) {
                drop_caps(t, &m);
                refuse_request(s, ERR_RANGE);
                break;
            }
            *req = s->pool + off;
            return (long)len;
        case TRANSPORT_OP_GRANT:
            r = zc_grant_unpack(&s->grant, &m, t->ipcbuf->caps, req);
            if (r >= 0 && (size_t)r > max) {
                zc_grant_drop_in(&s->grant);
                r = ERR_RANGE;
            }
            if (r >= 0)
                return r;
            refuse_request(s, (int)r);
            break;
        case TRANSPORT_OP_CLOSE:
            drop_caps(t, &m);
            s->pending = transport_close_msg();
            ipc_reply(&s->pending);
            s->called = false;
            return ERR_PIPE;
        default:
            drop_caps(t, &m);
            refuse_request(s, ERR_INVAL);
        }
    }
}

static long zc_recv_in_place(struct transport *t, const void **req)
{
    return recv_desc(t, ZCOPY_GRANT_MAX, req);
}

static long zc_recv(struct transport *t, void *buf, size_t max)
{
    const void *req;
    long n = recv_desc(t, max, &req);
    if (n > 0)
        memcpy(buf, req, (size_t)n);
    return n;
}

/* The response is in the response area already, or in pages of the grant path: its
 * descriptor (or the granted object) goes with the server's next recv (reply_recv) or close. */
static int zc_reply_in_place(struct transport *t, void *buf, size_t len)
{
    (void)buf; /* zc_buffer handed out the response area or the grant path's pages */
    struct zc_state *s = state(t);
    if (!s->called || s->have_reply)
        return ERR_NOENT;
    s->pending = desc_msg(TRANSPORT_OP_DATA, ZCOPY_RESP_OFF, len);
    if (s->out_granted) {
        s->out_granted = false;
        long obj = zc_grant_pack(&s->grant, len, &s->pending);
        if (obj < 0)
            return (int)obj;
        s->pending_cap = (cap_t)obj;
    }
    s->have_reply = true;
    return 0;
}

static int zc_reply(struct transport *t, const void *buf, size_t len)
{
    struct zc_state *s = state(t);
    if (!s->called || s->have_reply)
        return ERR_NOENT;
    zc_grant_drop_out(&s->grant);
    s->out_granted = false;
    memcpy(s->pool + ZCOPY_RESP_OFF, buf, len);
    return zc_reply_in_place(t, s->pool + ZCOPY_RESP_OFF, len);
}

/* Each side writes only its own area (the client requests, the server responses), or pages
 * of its own for the grant path. */
static int zc_buffer(struct transport *t, size_t len, void **buf)
{
    struct zc_state *s = state(t);
    zc_grant_drop_out(&s->grant);
    s->out_granted = false;
    if (len > ZCOPY_AREA_BYTES) {
        int err = zc_grant_buffer(&s->grant, len, buf);
        s->out_granted = !err;
        return err;
    }
    *buf = s->pool + (s->server ? ZCOPY_RESP_OFF : ZCOPY_REQ_OFF);
    return 0;
}

static void zc_close(struct transport *t)
{
    struct zc_state *s = state(t);
    if (s->server && s->have_reply) {
        if (s->pending_cap)
            t->ipcbuf->caps[0] = s->pending_cap;
        ipc_reply(&s->pending);
    } else if (!s->server) {
        struct ipc_msg m = transport_close_msg();
        ipc_call(t->ep, &m);
    }
    s->have_reply = false;
    release(t);
    transport_ipcbuf_release(t);
}

static const struct transport_ops zcopy_ops = {
    .name = "zcopy",
    .max_payload = ZCOPY_AREA_BYTES,
    .max_in_place = ZCOPY_GRANT_MAX,
    .connect = zc_connect,
    .accept = zc_accept,
    .call = zc_call,
    .recv = zc_recv,
    .reply = zc_reply,
    .close = zc_close,
    .buffer = zc_buffer,
    .call_in_place = zc_call_in_place,
    .recv_in_place = zc_recv_in_place,
    .reply_in_place = zc_reply_in_place,
};
TRANSPORT_REGISTER(zcopy_ops);
