/* ubench's side of the shm_peer process (ubench_peer.h has the protocol): start one for a
 * benchmark call, stop it and check how it ended. */
#pragma once
#include <stdbool.h>

#include "libbench/libbench.h"
#include "sys.h"
#include "user/ubench_peer.h"

struct ub_peer {
    long ep; /* every right */
    long pid;
    /* ubench's IPC buffer, registered by ub_peer_start for the calling thread: the capabilities
     * of the next call go in caps[]. */
    struct ipc_buffer *ipcbuf;
};

/* A fresh endpoint and a shm_peer serving it; false (the benchmark failed) when refused. */
bool ub_peer_start(struct lb_state *s, struct ub_peer *p);
/* Asks the peer to quit, fails the benchmark unless it ended with UB_PEER_OK, reaps it (killing
 * one that does not answer), deletes the endpoint. *answer (when not NULL): the peer's answer
 * to the quit message. */
void ub_peer_stop(struct lb_state *s, struct ub_peer *p, struct ipc_msg *answer);
