/* memobj_peer: the partner process of the memory object tests (memobj_refusals, memobj_share).
 * Not a test of its own: a client spawns it with sys_spawn_cap(name, prio, endpoint) and it
 * serves memobj_test.h's protocol on that endpoint (recv once, then reply_recv) until MO_EXIT,
 * reporting in its replies what each system call returned, so that the client judges. Some
 * requests are meant to kill it (a write through a read-only mapping, a read of a page it has
 * granted away); the client then checks its exit status.
 * Exit status: 0 after MO_EXIT.
 *   2  started without an endpoint capability
 *   3  sys_ipc_buffer failed, or the first recv did
 *   4  recv/reply_recv failed later
 *   5  a request with an unknown label */
#include "memobj_test.h"

static struct ipc_buffer buf __attribute__((aligned(1024)));

static long create(struct ipc_msg *m)
{
    uint64_t pages = m->w[0];
    void *at = (void *)m->w[1];
    long obj = sys_memobj_create(pages);
    if (obj < 0)
        return obj;
    long r = sys_memobj_map((cap_t)obj, at, RW, 0);
    if (r < 0)
        return r;
    mo_fill(at, pages, m->w[2]);
    if ((r = sys_mem_unmap(at, pages * PAGE_SIZE)) < 0)
        return r;
    buf.caps[0] = (cap_t)obj;
    return 0;
}

static long grant(struct ipc_msg *m)
{
    void *at = (void *)m->w[0];
    uint64_t pages = m->w[1];
    long r = sys_mem_map(at, pages * PAGE_SIZE, RW);
    if (r < 0)
        return r;
    mo_fill(at, pages, m->w[3]);
    long obj = sys_mem_grant(at, pages * PAGE_SIZE, (unsigned)m->w[2]);
    if (obj < 0)
        return obj;
    buf.caps[0] = (cap_t)obj;
    return 0;
}

/* Does what *m asks and turns it into the reply; returns 0 for MO_EXIT, 1 otherwise. */
static int serve(struct ipc_msg *m)
{
    uint64_t op = ipc_tag_label(m->tag);
    uint64_t *w = m->w;
    unsigned caps = 0;
    long r = 0;
    switch (op) {
    case MO_MAP: {
        cap_t obj = buf.caps[0];
        r = ipc_tag_caps(m->tag) == 1 ? sys_memobj_map(obj, (void *)w[0], (unsigned)w[1], 0)
                                      : ERR_INVAL;
        w[1] = (uint64_t)sys_cap_info(obj);
        w[2] = obj;
        break;
    }
    case MO_CHECK:
        r = (long)mo_mismatches((void *)w[0], w[1], w[2]);
        break;
    case MO_FILL:
        mo_fill((void *)w[0], w[1], w[2]);
        break;
    case MO_READ:
        r = (long)*(volatile uint64_t *)w[0];
        break;
    case MO_WRITE:
        *(volatile uint64_t *)w[0] = w[1];
        break;
    case MO_PROTECT:
        r = sys_mem_protect((void *)w[0], w[1], (unsigned)w[2]);
        break;
    case MO_UNMAP:
        r = sys_mem_unmap((void *)w[0], w[1]);
        break;
    case MO_MAP_INTO:
        r = sys_memobj_map((cap_t)w[0], (void *)w[1], (unsigned)w[2], (int)w[3]);
        break;
    case MO_CREATE:
        caps = (r = create(m)) == 0;
        break;
    case MO_GRANT:
        caps = (r = grant(m)) == 0;
        break;
    case MO_EXIT:
        break;
    default:
        exit(5);
    }
    w[0] = (uint64_t)r;
    m->tag = ipc_tag(op, 3, caps) | (caps ? IPC_CAP_MOVE : 0);
    return op != MO_EXIT;
}

int main(void)
{
    cap_t ep = (cap_t)sys_start_arg;
    if (!ep || CAP_INFO_TYPE(sys_cap_info(ep)) != CAP_TYPE_ENDPOINT)
        return 2;
    struct ipc_msg m;
    uint64_t badge;
    if (sys_ipc_buffer(&buf) != 0 || ipc_recv(ep, &m, &badge, 0, 0) != 0)
        return 3;
    while (serve(&m))
        if (ipc_reply_recv(ep, &m, &badge) != 0)
            return 4;
    return ipc_reply(&m) == 0 ? 0 : 4;
}
