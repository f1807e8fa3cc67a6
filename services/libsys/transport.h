/* The user-level transport interface (docs/transport.md): one request/response connection
 * between a client and a server, over whichever IPC mechanism the transport implements. A
 * workload is written once against these calls and runs unchanged over every transport; `ipc=`
 * picks one at boot and reaches the workload through its argument string.
 *
 * A transport is one file that fills a struct transport_ops and registers it with
 * TRANSPORT_REGISTER; nothing here names one. Payloads are bytes with a length, at most the
 * transport's max_payload. Every call returns 0, a length, or a negative ERR_*; ERR_PIPE means
 * the peer is gone (closed the connection or died).
 *
 * Two ways to move a payload: the copy API (transport_call, _recv, _reply) takes and fills the
 * caller's buffers; the in-place API (transport_buffer, transport_call_in_place, ...) hands out
 * the transport's own buffer to write the payload in and points at the peer's payload where it
 * lies, so a transport that shares memory with the peer (zcopy) copies no byte. A connection
 * belongs to one thread at a time: connect and accept register an IPC buffer of their own for the
 * calling thread, replacing any the thread had. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/transport.h"
#include "sys.h"

/* Labels of the messages a transport exchanges on the endpoint (bits 32 and up of the IPC
 * label; the low 32 bits carry a length where the protocol needs one). */
#define TRANSPORT_OP_CONNECT 0x7401u
#define TRANSPORT_OP_DATA    0x7402u
#define TRANSPORT_OP_CLOSE   0x7403u
#define TRANSPORT_OP_ERROR   0x7404u /* a reply: w0 is the ERR_* the server refused with */
#define TRANSPORT_OP_GRANT   0x7405u /* a payload in granted pages: w0 its length, one capability */

static inline uint64_t transport_label(unsigned op, uint32_t len)
{
    return ((uint64_t)op << 32) | len;
}

static inline unsigned transport_label_op(uint64_t tag)
{
    return (unsigned)(ipc_tag_label(tag) >> 32);
}

static inline uint32_t transport_label_len(uint64_t tag)
{
    return (uint32_t)ipc_tag_label(tag);
}

/* The goodbye of the transports that talk over an endpoint: a client closing calls with it,
 * and the server answers with it before its recv returns ERR_PIPE. */
static inline struct ipc_msg transport_close_msg(void)
{
    return (struct ipc_msg){.tag = ipc_tag(transport_label(TRANSPORT_OP_CLOSE, 0), 0, 0)};
}

/* Private per-connection state of the implementation, inside struct transport. */
#define TRANSPORT_STATE_BYTES 1024

struct transport;

struct transport_ops {
    const char *name;
    size_t max_payload; /* bytes, for requests and responses alike */
    /* The in-place API's limit, at least max_payload; 0 means max_payload. */
    size_t max_in_place;
    /* Client: set up the connection through t->ep (a capability with SEND and GRANT). */
    int (*connect)(struct transport *t, unsigned ncpus);
    /* Server: `hello` is the connect message just received on t->ep, `caps` the handles it
     * carried; answer it (with ipc_reply) whatever happens. */
    int (*accept)(struct transport *t, const struct ipc_msg *hello, const uint32_t *caps);
    /* Client: send a request, wait for the response; its length or an error. */
    long (*call)(struct transport *t, const void *req, size_t len, void *resp, size_t resp_max);
    /* Server: the next request's length or an error (ERR_PIPE: the client closed or died). */
    long (*recv)(struct transport *t, void *buf, size_t max);
    /* Server: the response to the request recv returned last. */
    int (*reply)(struct transport *t, const void *buf, size_t len);
    /* Either side: tell the peer (client) and give back every resource of the connection. */
    void (*close)(struct transport *t);
    /* The in-place operations, all four or none. A transport without them gets transport.c's:
     * a private buffer for each direction and the copy operations above. `buf` and `len` were
     * handed out and checked by transport_buffer. */
    int (*buffer)(struct transport *t, size_t len, void **buf);
    long (*call_in_place)(struct transport *t, void *buf, size_t len, const void **resp);
    long (*recv_in_place)(struct transport *t, const void **req);
    int (*reply_in_place)(struct transport *t, void *buf, size_t len);
};

struct transport {
    const struct transport_ops *ops;
    cap_t ep;
    struct ipc_buffer *ipcbuf; /* the page connect/accept mapped and registered */
    /* For transports without in-place operations: two pages-rounded buffers of max_payload
     * bytes, this side's outgoing one first (mapped by connect/accept). */
    uint8_t *own;
    size_t own_bytes;
    /* What transport_buffer handed out last and its length, until the message is sent. */
    void *out;
    size_t out_len;
    _Alignas(64) unsigned char state[TRANSPORT_STATE_BYTES];
};

/* Registration: a pointer in the `transports` section (services/libsys/user.ld keeps it). */
#define TRANSPORT_REGISTER(ops_)                                                                   \
    static const struct transport_ops *const transport_ptr_##ops_                                  \
        __attribute__((used, section("transports"), aligned(sizeof(void *)))) = &ops_

/* What a workload's argument string says about its transport: `ipc=<name>` (absent: the
 * default) and `ncpus=<n>` (absent: 1), among other `key=value` pairs separated by `;`. */
struct transport_config {
    const struct transport_ops *ops;
    unsigned ncpus;
};

/* 0, or ERR_NOENT when `ipc=` names no registered transport (cfg->ops is then NULL). args may
 * be NULL. */
int transport_config_parse(const char *args, struct transport_config *cfg);
const struct transport_ops *transport_find(const char *name);
/* The registered names, sorted, comma separated, into buf. */
const char *transport_names(char *buf, size_t size);

/* Client side: ERR_NOENT when the server has no such transport; what the server refused with;
 * ERR_PIPE when no server can receive on ep. */
int transport_connect(struct transport *t, const struct transport_config *cfg, cap_t ep);
/* Server side: waits on ep (RECEIVE) for a client's connect and sets the connection up with
 * the transport the client chose. A connect naming no transport here is refused (the client
 * gets ERR_NOENT) and so is this call. */
int transport_accept(struct transport *t, cap_t ep);

static inline long transport_call(struct transport *t, const void *req, size_t len, void *resp,
                                  size_t resp_max)
{
    t->out = NULL; /* the copy calls spend a buffer transport_buffer handed out */
    if (len > t->ops->max_payload)
        return ERR_RANGE;
    return t->ops->call(t, req, len, resp, resp_max);
}

static inline long transport_recv(struct transport *t, void *buf, size_t max)
{
    return t->ops->recv(t, buf, max);
}

static inline int transport_reply(struct transport *t, const void *buf, size_t len)
{
    t->out = NULL;
    if (len > t->ops->max_payload)
        return ERR_RANGE;
    return t->ops->reply(t, buf, len);
}

/* Either side: tell the peer (client) and give back every resource of the connection. */
void transport_close(struct transport *t);

/* The in-place API. transport_buffer hands out the buffer for the next message this side sends
 * (client: its request; server: the response to the request it received last), with room for
 * len bytes: ERR_RANGE when len is over transport_max_in_place. Write the payload there, then
 * send it with transport_call_in_place or transport_reply_in_place, at most len bytes (more is
 * ERR_RANGE; sending with no buffer handed out is ERR_NOENT). The buffer stays this side's until
 * the message is sent; asking again, or a copy call, spends it. A received payload (*resp,
 * *req) stays where it lies until this side's next call, recv or close; it never overlaps the
 * buffer handed out for the answer. The peer may share that memory: read
 * what matters once, and validate it as any message. */
int transport_buffer(struct transport *t, size_t len, void **buf);
/* Client: sends the request written in the buffer; the response's length or an error. */
long transport_call_in_place(struct transport *t, size_t len, const void **resp);
/* Server: the next request's length, *req pointing at it, or an error (ERR_PIPE: the client
 * closed or died). */
long transport_recv_in_place(struct transport *t, const void **req);
/* Server: sends the response written in the buffer. */
int transport_reply_in_place(struct transport *t, size_t len);

static inline size_t transport_max_in_place(const struct transport *t)
{
    return t->ops->max_in_place ? t->ops->max_in_place : t->ops->max_payload;
}

/* For the implementations. Page-aligned address space for a connection's mappings, from a
 * window of the SYS_MEM_MAP area that libsys keeps for itself; never handed out twice. */
void *transport_va_reserve(size_t bytes);
/* Maps a memory object the peer sent, read-write, at a fresh reservation; ERR_RANGE when it
 * has fewer or more than `pages` pages (nothing stays mapped). */
int transport_map_object(cap_t obj, size_t pages, void **out);
/* The same at va, a reservation of at least pages + 1 pages (the last stays unmapped), with
 * prot. */
int transport_map_exact(cap_t obj, void *va, size_t pages, unsigned prot);
/* Maps a page for the calling thread's IPC buffer, registers it, and records it in t. */
int transport_ipcbuf_setup(struct transport *t);
void transport_ipcbuf_release(struct transport *t);
/* The private buffers of a transport without in-place operations; nothing for one with them. */
int transport_own_setup(struct transport *t);
void transport_own_release(struct transport *t);
/* Server: answers a connect with TRANSPORT_OP_ERROR and `err`, deleting the capabilities it
 * carried so that a refused client leaves nothing behind. */
void transport_refuse(const struct ipc_msg *hello, const uint32_t *caps, int err);
/* Client: 0 for the server's connect acknowledgement, the error it refused with, or ERR_RANGE
 * for anything else. */
int transport_connect_result(const struct ipc_msg *r);
/* The name in words 0-1 of a connect message (NUL padded). */
void transport_name_pack(const char *name, uint64_t out[2]);
