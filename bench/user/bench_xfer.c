/* Transfer cost by message size (issue 5; TARGETS.md IPC-4, IPC-5, IPC-7): what moving N bytes
 * from a sender to a receiver costs by copying and by sharing, N from 64 B to 1 MiB, so that the
 * report can name the size where zero-copy starts to win.
 *
 * One thread plays sender and receiver in turn, as ring/poll does (bench_ring.c): the ring code
 * is the same between processes, and one CPU cannot overlap the two sides anyway. Every variant
 * ends with the receiver reading the N bytes once (ub_read_words, checked against the sum the
 * sender's data must give), so that no variant wins by leaving the data unread. The sender's
 * data is written once, outside the timed region, in every variant.
 *
 * xfer/copy/size:N: the sender copies N bytes from its private buffer into memory the receiver
 *   reads (one memcpy, what a copying IPC does: a kernel copying between two address spaces,
 *   or a ring transport's sender filling a shared data area), sends a descriptor through the
 *   request ring, and the receiver takes it and reads the data.
 * xfer/pool/size:N: the data is already in a buffer of the shared pool; the sender sends its
 *   descriptor (offset, length), the receiver reads the data in place and hands the buffer back
 *   through a completion ring, which the sender takes: the zero-copy protocol's whole cost.
 *
 * xfer/grant/size:N (4 KiB and up: a grant moves whole pages): the sender's N bytes are in pages
 *   of its own (mapped and written before the sample, untimed); SYS_MEM_GRANT with
 *   MEM_GRANT_MOVE turns them into a memory object and takes them out of the sender's address
 *   space, the object's capability is moved to the receiver in an endpoint call
 *   (IPC_CAP_MOVE), and the receiver, the shm_peer process (bench/user/partners/shm_peer.c),
 *   maps it read-only (SYS_MEMOBJ_MAP), reads the data, unmaps it (SYS_MEM_UNMAP: the TLB
 *   shootdown), deletes the capability (the kernel frees the frames) and replies with the sum.
 *   Unlike copy and pool this crosses to another process and back: a capability only travels
 *   in a message, so the call's slow path (capability transfer) and two address-space switches
 *   are in the figure.
 *
 * The memcpy is libsys's `rep movsb`. Under icount each of its iterations counts as one
 * instruction, so a copy costs one tick per byte there, while hardware moves 16 to 64 bytes a
 * cycle with it: the icount crossover is a path-length statement, far below a hardware one. */
#include "libbench/libbench.h"
#include "sys.h"
#include "ub_peer.h"
#include "ub_ring.h"
#include "ubench.h"

#define MAX_SIZE (1024 * 1024)
#define SLOTS    16

/* The sender's private data and the memory both sides see, mapped once. */
static uint8_t *private_buf, *shared_buf;

static bool buffers(struct lb_state *s)
{
    if (!private_buf) {
        uint8_t *p = ub_map(MAX_SIZE), *q = p ? ub_map(MAX_SIZE) : NULL;
        if (!q) {
            lb_fail(s, "no memory for the transfer buffers");
            return false;
        }
        for (size_t i = 0; i < MAX_SIZE; i++) {
            p[i] = (uint8_t)(i * 7 + 1);
            q[i] = (uint8_t)(i * 13 + 5);
        }
        private_buf = p;
        shared_buf = q;
    }
    return true;
}

static void descriptor(struct spsc_msg *m, uint64_t seq, uint64_t off, uint64_t len)
{
    ub_ring_msg(m, seq);
    m->word[1] = off;
    m->word[2] = len;
}

static void bm_copy(struct lb_state *s)
{
    size_t n = (size_t)lb_arg(s);
    struct ub_ring req;
    if (!buffers(s) || !ub_ring_open(s, &req, 0, SLOTS, 0))
        return;
    uint64_t want = ub_read_words(private_buf, n), seq = 0;
    while (lb_next(s)) {
        struct spsc_msg m, d;
        uint64_t t = lb_start(s);
        memcpy(shared_buf, private_buf, n);
        descriptor(&m, seq, 0, n);
        int sent = spsc_ring_send(&req.p, &m, 1, &req.pw);
        int got = spsc_ring_recv(&req.c, &d, 1, &req.cw);
        uint64_t sum = got == 1 ? ub_read_words(shared_buf + d.word[1], d.word[2]) : 0;
        lb_stop(s, t);
        if (sent != 0 || got != 1 || !ub_ring_msg_ok(&d, seq++) || sum != want) {
            lb_fail(s, "the receiver did not get the sender's data");
            break;
        }
    }
    ub_ring_close(&req);
}

static void bm_pool(struct lb_state *s)
{
    size_t n = (size_t)lb_arg(s);
    struct ub_ring req, done;
    if (!buffers(s) || !ub_ring_open(s, &req, 0, SLOTS, 0))
        return;
    if (!ub_ring_open(s, &done, 1, SLOTS, 0)) {
        ub_ring_close(&req);
        return;
    }
    uint64_t want = ub_read_words(shared_buf, n), seq = 0;
    while (lb_next(s)) {
        struct spsc_msg m, d, c, back;
        uint64_t t = lb_start(s);
        descriptor(&m, seq, 0, n);
        int sent = spsc_ring_send(&req.p, &m, 1, &req.pw);
        int got = spsc_ring_recv(&req.c, &d, 1, &req.cw);
        uint64_t sum = got == 1 ? ub_read_words(shared_buf + d.word[1], d.word[2]) : 0;
        descriptor(&c, seq, d.word[1], 0);
        int freed = spsc_ring_send(&done.p, &c, 1, &done.pw);
        int back_got = spsc_ring_recv(&done.c, &back, 1, &done.cw);
        lb_stop(s, t);
        if (sent != 0 || got != 1 || !ub_ring_msg_ok(&d, seq) || sum != want) {
            lb_fail(s, "the receiver did not get the sender's data");
            break;
        }
        if (freed != 0 || back_got != 1 || !ub_ring_msg_ok(&back, seq++) || back.word[1] != 0) {
            lb_fail(s, "the buffer did not come back to the sender");
            break;
        }
    }
    ub_ring_close(&done);
    ub_ring_close(&req);
}

/* The sender's data for sample seq: word i is i * 7 + seq, so a stale page never passes. */
static uint64_t grant_fill(uint64_t *w, size_t n, uint64_t seq)
{
    uint64_t words = n / 8;
    for (uint64_t i = 0; i < words; i++)
        w[i] = i * 7 + seq;
    return 7 * (words * (words - 1) / 2) + words * seq;
}

static void bm_grant(struct lb_state *s)
{
    static uint64_t *out;
    size_t n = (size_t)lb_arg(s);
    struct ub_peer peer;
    if (!out && !(out = ub_reserve(MAX_SIZE))) {
        lb_fail(s, "no address space for the granted pages");
        return;
    }
    if (!ub_peer_start(s, &peer))
        return;
    for (uint64_t seq = 0; lb_next(s); seq++) {
        long err = sys_mem_map(out, n, PROT_READ | PROT_WRITE);
        if (err) {
            lb_fail(s, ub_msg("sys_mem_map of the sender's pages failed: %ld", err));
            break;
        }
        uint64_t want = grant_fill(out, n, seq);
        struct ipc_msg m = {ipc_tag(UB_PEER_GRANT, 1, 1) | IPC_CAP_MOVE, {n}};
        uint64_t t = lb_start(s);
        long obj = sys_mem_grant(out, n, MEM_GRANT_MOVE);
        peer.ipcbuf->caps[0] = (uint32_t)obj;
        long r = obj < 0 ? obj : ipc_call((cap_t)peer.ep, &m);
        lb_stop(s, t);
        if (obj < 0) {
            lb_fail(s, ub_msg("sys_mem_grant failed: %ld", obj));
            sys_mem_unmap(out, n);
            break;
        }
        if (r < 0 || m.w[1] || m.w[0] != want) {
            lb_fail(s, ub_msg("the receiver did not get the sender's data (call %ld, peer %ld)", r,
                              (long)m.w[1]));
            break;
        }
    }
    ub_peer_stop(s, &peer, NULL);
}

#define COPY_DESC(sz)                                                                              \
    "a " sz " message by copy: memcpy into memory the receiver reads, a descriptor through an "    \
    "SPSC ring, the receiver reading the data once"
#define POOL_DESC(sz)                                                                              \
    "a " sz " message already in a shared pool buffer: its descriptor through an SPSC ring, "      \
    "the receiver reading the data in place, the buffer handed back through a second ring"
#define GRANT_DESC(sz)                                                                             \
    "a " sz " message in pages moved to another process: SYS_MEM_GRANT (move) + the capability "   \
    "moved in an endpoint call + the receiver's SYS_MEMOBJ_MAP, read, unmap and capability "       \
    "delete + its reply"
LB_BENCHMARK_ARG("xfer/copy/size:64", bm_copy, 64, NULL, COPY_DESC("64 B"));
LB_BENCHMARK_ARG("xfer/copy/size:1024", bm_copy, 1024, NULL, COPY_DESC("1 KiB"));
LB_BENCHMARK_ARG("xfer/copy/size:4096", bm_copy, 4096, "IPC-4,IPC-5", COPY_DESC("4 KiB"));
LB_BENCHMARK_ARG("xfer/copy/size:65536", bm_copy, 65536, NULL, COPY_DESC("64 KiB"));
LB_BENCHMARK_ARG("xfer/copy/size:1048576", bm_copy, 1048576, "IPC-7", COPY_DESC("1 MiB"));
LB_BENCHMARK_ARG("xfer/pool/size:64", bm_pool, 64, NULL, POOL_DESC("64 B"));
LB_BENCHMARK_ARG("xfer/pool/size:1024", bm_pool, 1024, NULL, POOL_DESC("1 KiB"));
LB_BENCHMARK_ARG("xfer/pool/size:4096", bm_pool, 4096, "IPC-4,IPC-5", POOL_DESC("4 KiB"));
LB_BENCHMARK_ARG("xfer/pool/size:65536", bm_pool, 65536, NULL, POOL_DESC("64 KiB"));
LB_BENCHMARK_ARG("xfer/pool/size:1048576", bm_pool, 1048576, "IPC-7", POOL_DESC("1 MiB"));
LB_BENCHMARK_ARG("xfer/grant/size:4096", bm_grant, 4096, "IPC-4,IPC-5", GRANT_DESC("4 KiB"));
LB_BENCHMARK_ARG("xfer/grant/size:65536", bm_grant, 65536, NULL, GRANT_DESC("64 KiB"));
LB_BENCHMARK_ARG("xfer/grant/size:1048576", bm_grant, 1048576, "IPC-7", GRANT_DESC("1 MiB"));
