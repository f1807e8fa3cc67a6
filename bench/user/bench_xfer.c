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
 * The memcpy is libsys's `rep movsb`. Under icount each of its iterations counts as one
 * instruction, so a copy costs one tick per byte there, while hardware moves 16 to 64 bytes a
 * cycle with it: the icount crossover is a path-length statement, far below a hardware one. */
#include "libbench/libbench.h"
#include "sys.h"
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

#define COPY_DESC(sz)                                                                              \
    "a " sz " message by copy: memcpy into memory the receiver reads, a descriptor through an "    \
    "SPSC ring, the receiver reading the data once"
#define POOL_DESC(sz)                                                                              \
    "a " sz " message already in a shared pool buffer: its descriptor through an SPSC ring, "      \
    "the receiver reading the data in place, the buffer handed back through a second ring"
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
