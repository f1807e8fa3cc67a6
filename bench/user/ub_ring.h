/* What ubench's shared-memory benchmarks (bench_ring.c, bench_xfer.c, bench_xcpu.c) share: SPSC
 * rings (ipc/spsc_ring.h) formatted in memory that two threads of ubench share, each side
 * sleeping on its own notification (SYS_NOTIFY_WAIT) and woken by the other's SYS_SIGNAL, which
 * is the sticky sleep the ring's event suppression needs (docs/ipc-ring.md, "Waiting").
 *
 * Two threads of one process run exactly the ring code that two processes sharing a memory
 * object would: the ring never knows who maps it. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "ipc/spsc_ring.h"
#include "libbench/libbench.h"

/* Largest ring a benchmark asks for, and the most messages one send or recv moves. */
#define UB_RING_MAX_SLOTS 256
#define UB_RING_MAX_BATCH 32

/* One ring with both sides attached, and the notifications the sides sleep on. */
struct ub_ring {
    struct spsc_producer p;
    struct spsc_consumer c;
    long prod_note, cons_note; /* the producer sleeps on prod_note, the consumer on cons_note */
    struct spsc_waiter pw, cw;
};

/* Formats ring `which` (0 or 1: a benchmark uses at most two, e.g. requests and replies) with
 * `slots` slots and creates its notifications; spin is both waiters' extra polls. False (the
 * benchmark failed) when memory or a notification is refused. */
bool ub_ring_open(struct lb_state *s, struct ub_ring *r, unsigned which, uint32_t slots,
                  uint32_t spin);
/* Deletes the notifications. */
void ub_ring_close(struct ub_ring *r);

/* Sum of the len / 8 64-bit words at p: how a receiver reads a message's data, the same code
 * for every transfer variant. Out of line so that no variant's loop is specialised. */
uint64_t ub_read_words(const void *p, size_t len);

/* A message of the benchmarks' stream: word 0 the sequence number, word 7 its complement, the
 * rest what the benchmark puts there. */
static inline void ub_ring_msg(struct spsc_msg *m, uint64_t seq)
{
    m->word[0] = seq;
    for (int i = 1; i < 7; i++)
        m->word[i] = 0;
    m->word[7] = ~seq;
}

static inline bool ub_ring_msg_ok(const struct spsc_msg *m, uint64_t seq)
{
    return m->word[0] == seq && m->word[7] == ~seq;
}
