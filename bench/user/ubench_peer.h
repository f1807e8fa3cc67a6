/* What ubench's cross-process shared-memory benchmarks (bench_xfer.c's page grants,
 * bench_ring_proc.c's ring between two processes) and their partner, the `shm_peer` process
 * (bench/user/partners/shm_peer.c), agree on.
 *
 * ubench spawns shm_peer with an endpoint capability (RECEIVE and SEND; sys_spawn_cap) and calls
 * it; every call is answered, by label:
 *   UB_PEER_GRANT  one capability (a memory object of w0 bytes, moved): the peer maps it
 *                  read-only at UB_PEER_GRANT_VA, sums its 64-bit words, unmaps it, deletes the
 *                  capability and answers w0 = the sum (w1 = 0, or the ERR_* that stopped it);
 *   UB_PEER_RING   three capabilities (the ring's memory object, the notification the peer
 *                  sleeps on, the one it signals) and w0 = slots, w1 = UB_PEER_POLL or
 *                  UB_PEER_NOTIFY, w2 = the batch: the peer maps the object at UB_PEER_RING_VA,
 *                  attaches as the ring's consumer, answers w0 = 0 (or the ERR_*), and consumes
 *                  until a message whose word 1 is UB_PEER_RING_QUIT, checking the sequence;
 *   UB_PEER_QUIT   answered with w0 = the peer's status (UB_PEER_OK or what went wrong), w1 and
 *                  w2 the ring consumer's wake-ups of the producer and its sleeps (spsc_stats),
 *                  and the peer exits with that status.
 * Anything else ends the peer with UB_PEER_LABEL. */
#pragma once
#include <stdint.h>

#include "sys.h"

#define UB_PEER "shm_peer"

#define UB_PEER_GRANT 1
#define UB_PEER_RING  2
#define UB_PEER_QUIT  3

#define UB_PEER_POLL   1 /* the consumer never sleeps: it yields the CPU when the ring is empty */
#define UB_PEER_NOTIFY 2 /* the consumer sleeps on its notification, as bench_ring.c's */

#define UB_PEER_RING_QUIT 0x71u

/* Where the peer maps what it receives: free in a process that maps nothing else there. */
#define UB_PEER_GRANT_VA (USER_MAP_BASE + 0x1000000ul)
#define UB_PEER_RING_VA  (USER_MAP_BASE + 0x4000000ul)

/* The largest granted payload the peer accepts. */
#define UB_PEER_GRANT_MAX (1024 * 1024)

/* Exit statuses (and UB_PEER_QUIT's answer). */
#define UB_PEER_OK     0
#define UB_PEER_NO_CAP 1 /* started without an endpoint */
#define UB_PEER_IPC    2 /* a receive or reply failed */
#define UB_PEER_LABEL  3 /* a label the protocol does not have */
#define UB_PEER_SETUP  4 /* a grant or ring message it could not use (wrong caps, map refused) */
#define UB_PEER_ORDER  5 /* a ring message out of sequence or changed */

/* The words of a message of the ring stream, as ub_ring.h's ub_ring_msg writes them: word 0 the
 * sequence number, word 7 its complement. */
static inline int ub_peer_msg_ok(const uint64_t *w, uint64_t seq)
{
    return w[0] == seq && w[7] == ~seq;
}
