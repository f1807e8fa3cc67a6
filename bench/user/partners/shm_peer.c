/* shm_peer: the other process of ubench's cross-process shared-memory benchmarks: the receiver
 * of page grants (the xfer grant variants) and the consumer of a ring in a memory object both
 * processes map (bench_ring_proc.c). bench/user/ubench_peer.h has the protocol. ubench spawns it
 * pinned to its own CPU, one peer per benchmark call. Exit status: UB_PEER_*. */
#include "ipc/spsc_ring.h"
#include "sys.h"
#include "user/ubench_peer.h"

#define RING_MAX_BATCH 32

static _Alignas(4096) struct ipc_buffer ipcbuf;
/* The consumer's wake-ups of the producer and its own sleeps, for UB_PEER_QUIT's answer. */
static uint64_t ring_notifies, ring_sleeps;

/* The receiver's read of the data, the same loop as ubench's ub_read_words (ub_ring.c), out of
 * line for the same reason: no transfer variant gets a loop specialised for it. */
static __attribute__((noinline)) uint64_t read_words(const void *p, size_t len)
{
    const uint64_t *w = p;
    uint64_t sum = 0;
    for (size_t i = 0; i < len / 8; i++)
        sum += w[i];
    return sum;
}

static void drop_caps(const struct ipc_msg *m)
{
    for (unsigned i = 0; i < ipc_tag_caps(m->tag); i++)
        sys_cap_delete(ipcbuf.caps[i]);
}

/* UB_PEER_GRANT: the answer's words. */
static void take_grant(struct ipc_msg *m)
{
    uint64_t len = m->w[0];
    cap_t obj = ipcbuf.caps[0];
    long err = ipc_tag_caps(m->tag) != 1 || !len || len > UB_PEER_GRANT_MAX || len % PAGE_SIZE
                   ? ERR_RANGE
                   : sys_memobj_map(obj, (void *)UB_PEER_GRANT_VA, PROT_READ, 0);
    uint64_t sum = 0;
    if (!err) {
        sum = read_words((const void *)UB_PEER_GRANT_VA, len);
        err = sys_mem_unmap((void *)UB_PEER_GRANT_VA, len);
    }
    drop_caps(m);
    *m = (struct ipc_msg){.tag = ipc_tag(UB_PEER_GRANT, 2, 0), .w = {sum, (uint64_t)err}};
}

struct ring {
    struct spsc_consumer c;
    cap_t sleep_on, wake;
    uint32_t mode, batch;
};

static int ring_sleep(void *ctx)
{
    long r = sys_notify_wait(((struct ring *)ctx)->sleep_on, NOTIFY_FOREVER);
    return r < 0 ? (int)r : 0;
}

static void ring_wake(void *ctx)
{
    sys_signal(((struct ring *)ctx)->wake, 1);
}

/* UB_PEER_RING: maps and attaches; 0 or the ERR_* it was refused with. */
static long ring_setup(struct ring *r, const struct ipc_msg *m)
{
    uint64_t slots = m->w[0];
    size_t bytes = slots <= SPSC_RING_MAX_SLOTS ? spsc_ring_region_bytes((uint32_t)slots) : 0;
    r->mode = (uint32_t)m->w[1];
    r->batch = (uint32_t)m->w[2];
    r->sleep_on = ipcbuf.caps[1];
    r->wake = ipcbuf.caps[2];
    if (ipc_tag_caps(m->tag) != 3 || !bytes || !r->batch || r->batch > RING_MAX_BATCH ||
        (r->mode != UB_PEER_POLL && r->mode != UB_PEER_NOTIFY))
        return ERR_RANGE;
    r->c.stats = (struct spsc_stats){0};
    long err = sys_memobj_map(ipcbuf.caps[0], (void *)UB_PEER_RING_VA, PROT_READ | PROT_WRITE, 0);
    if (!err)
        err = spsc_ring_consumer_attach(&r->c, (void *)UB_PEER_RING_VA, bytes);
    return err;
}

/* Consumes until the quit message; keeps draining after a bad message, so that the producer
 * never waits for ever on a full ring. */
static int ring_consume(struct ring *r)
{
    const struct spsc_waiter w = {ring_sleep, ring_wake, r, 0};
    struct spsc_msg buf[RING_MAX_BATCH];
    int status = UB_PEER_OK;
    for (uint64_t seq = 0;;) {
        int n;
        if (r->mode == UB_PEER_NOTIFY) {
            n = spsc_ring_recv(&r->c, buf, r->batch, &w);
        } else {
            /* Polling on one CPU: the producer runs only when this side gives the CPU up. */
            n = (int)spsc_ring_consume_batch(&r->c, buf, r->batch);
            if (!n)
                sys_yield();
        }
        if (n < 0)
            return UB_PEER_IPC;
        for (int i = 0; i < n; i++, seq++) {
            if (!ub_peer_msg_ok(buf[i].word, seq))
                status = UB_PEER_ORDER;
            if (buf[i].word[1] == UB_PEER_RING_QUIT)
                return status;
        }
    }
}

int main(void)
{
    cap_t ep = (cap_t)sys_start_arg;
    if (!ep)
        return UB_PEER_NO_CAP;
    if (sys_ipc_buffer(&ipcbuf) < 0)
        return UB_PEER_IPC;
    int status = UB_PEER_OK;
    struct ipc_msg m;
    uint64_t badge;
    long r = ipc_recv(ep, &m, &badge, 0, 0);
    for (;;) {
        if (r < 0)
            return UB_PEER_IPC;
        switch (ipc_tag_label(m.tag)) {
        case UB_PEER_GRANT:
            take_grant(&m);
            if (m.w[1])
                status = UB_PEER_SETUP;
            r = ipc_reply_recv(ep, &m, &badge);
            break;
        case UB_PEER_RING: {
            struct ring ring;
            long err = ring_setup(&ring, &m);
            m = (struct ipc_msg){.tag = ipc_tag(UB_PEER_RING, 1, 0), .w = {(uint64_t)err}};
            if (ipc_reply(&m) < 0)
                return UB_PEER_IPC;
            if (err)
                status = UB_PEER_SETUP;
            else if (status == UB_PEER_OK)
                status = ring_consume(&ring);
            ring_notifies += ring.c.stats.notifies;
            ring_sleeps += ring.c.stats.sleeps;
            r = ipc_recv(ep, &m, &badge, 0, 0);
            break;
        }
        case UB_PEER_QUIT:
            m = (struct ipc_msg){.tag = ipc_tag(UB_PEER_QUIT, 3, 0),
                                 .w = {(uint64_t)status, ring_notifies, ring_sleeps}};
            return ipc_reply(&m) < 0 ? UB_PEER_IPC : status;
        default:
            return UB_PEER_LABEL;
        }
    }
}
