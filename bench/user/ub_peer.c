#include "ub_peer.h"

#include "ubench.h"

/* How long the quit message may wait for a peer that stopped serving (ticks of 1 ms). */
#define QUIT_TIMEOUT 100

static _Alignas(4096) struct ipc_buffer ipcbuf;

bool ub_peer_start(struct lb_state *s, struct ub_peer *p)
{
    p->pid = -1;
    p->ipcbuf = &ipcbuf;
    /* The transport benchmarks' connections register and unregister IPC buffers of their own
     * for this thread, so register ours for every call. */
    long r = sys_ipc_buffer(&ipcbuf);
    if (r < 0) {
        lb_fail(s, ub_msg("sys_ipc_buffer failed: %ld", r));
        return false;
    }
    p->ep = sys_endpoint_create();
    if (p->ep < 0) {
        lb_fail(s, ub_msg("sys_endpoint_create failed: %ld", p->ep));
        return false;
    }
    p->pid = sys_spawn_cap(UB_PEER, PRIO_DEFAULT, (cap_t)p->ep);
    if (p->pid < 0) {
        lb_fail(s, ub_msg("cannot spawn %s: %ld", UB_PEER, p->pid));
        sys_cap_delete((cap_t)p->ep);
        return false;
    }
    return true;
}

void ub_peer_stop(struct lb_state *s, struct ub_peer *p, struct ipc_msg *answer)
{
    struct ipc_msg m = {.tag = ipc_tag(UB_PEER_QUIT, 0, 0)};
    long r = ipc_call_timeout((cap_t)p->ep, &m, QUIT_TIMEOUT);
    if (r < 0)
        sys_kill((int)p->pid);
    int status = -1;
    long w = sys_wait((int)p->pid, &status);
    if (r < 0)
        lb_fail(s, ub_msg("%s did not answer the quit message: %ld", UB_PEER, r));
    else if (w != p->pid || status != UB_PEER_OK)
        lb_fail(s, ub_msg("%s ended with status %d", UB_PEER, status));
    sys_cap_delete((cap_t)p->ep);
    if (answer)
        *answer = m;
}
