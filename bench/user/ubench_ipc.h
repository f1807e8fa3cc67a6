/* What ubench's IPC benchmarks (bench_ipc.c) and their server share: the protocol and the
 * server loop, which runs both as the `ipc_server` process (bench/user/partners/ipc_server.c,
 * inter-AS) and as a thread of ubench (intra-AS), so that both measure the same server code.
 *
 * The server gets an endpoint capability with RECEIVE (as sys_start_arg, or the thread's
 * argument), receives once, then reply_recvs forever, answering every call by label:
 *   UB_IPC_ECHO   the message back unchanged (the round-trip benchmarks);
 *   UB_IPC_STAMP  words 0 and 1 replaced by two clock reads: right after the receive returned,
 *                 and right before the reply_recv, so that the client can split the round trip
 *                 into its two one-way legs as sel4bench does (TARGETS.md, peers);
 *   UB_IPC_QUIT   replied to with ipc_reply, then the loop ends with status 0.
 * Any other label, or an IPC error, ends the loop with a UB_IPC_SERVE_* status. */
#pragma once
#include <stdint.h>

#include "sys.h"

#define UB_IPC_SERVER "ipc_server"

#define UB_IPC_ECHO  1
#define UB_IPC_STAMP 2
#define UB_IPC_QUIT  3

/* The server loop's result (the ipc_server's exit status). */
#define UB_IPC_SERVE_OK       0
#define UB_IPC_SERVE_NO_CAP   1 /* started without an endpoint */
#define UB_IPC_SERVE_IPC      2 /* recv or reply_recv failed */
#define UB_IPC_SERVE_REPLY    3 /* the reply to UB_IPC_QUIT failed */
#define UB_IPC_SERVE_LABEL    4 /* a label the protocol does not have */

/* libbench's clock (libbench.h lb__clock), for the one-way legs across two programs. */
static inline uint64_t ub_clock(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* One inner loop per label, so that the echo loop (what the round trips measure) is a bare
 * reply_recv and a label test, and the stamp loop reads the clock right next to the trap. */
static inline int ub_ipc_serve(cap_t ep)
{
    struct ipc_msg m;
    uint64_t badge;
    long r = ipc_recv(ep, &m, &badge, 0, 0);
    for (;;) {
        if (r < 0)
            return UB_IPC_SERVE_IPC;
        switch (ipc_tag_label(m.tag)) {
        case UB_IPC_ECHO:
            do
                r = ipc_reply_recv(ep, &m, &badge);
            while (r >= 0 && ipc_tag_label(m.tag) == UB_IPC_ECHO);
            break;
        case UB_IPC_STAMP: {
            uint64_t in = ub_clock();
            do {
                m.w[0] = in;
                m.w[1] = ub_clock();
                r = ipc_reply_recv(ep, &m, &badge);
                in = ub_clock();
            } while (r >= 0 && ipc_tag_label(m.tag) == UB_IPC_STAMP);
            break;
        }
        case UB_IPC_QUIT:
            return ipc_reply(&m) < 0 ? UB_IPC_SERVE_REPLY : UB_IPC_SERVE_OK;
        default:
            return UB_IPC_SERVE_LABEL;
        }
    }
}
