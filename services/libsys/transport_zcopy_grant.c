/* The zcopy transport's page-grant path (docs/transport.md, "Large payloads"): a payload too big
 * for the pool's area is written in pages of the sender's own, which SYS_MEM_GRANT with
 * MEM_GRANT_MOVE turns into a memory object and takes out of the sender's address space; the
 * object's capability travels in the message and the receiver maps it read-only. No byte is
 * copied, and no page is ever mapped on both sides: the sender loses its pages before the
 * receiver can map them.
 *
 * Each side keeps two address ranges for this, each large enough for the biggest payload: one
 * where it writes what it sends, one where it maps what it receives. The received object is
 * unmapped and its capability deleted by the side's next call, recv or close, so at most one
 * payload each way is held at a time. */
#include "transport.h"
#include "transport_zcopy_grant.h"

static size_t pages_for(size_t len)
{
    return (len + PAGE_SIZE - 1) / PAGE_SIZE;
}

int zc_grant_setup(struct zc_grant *g)
{
    *g = (struct zc_grant){0};
    g->out = transport_va_reserve(ZCOPY_GRANT_MAX);
    g->in = transport_va_reserve(ZCOPY_GRANT_MAX);
    return g->out && g->in ? 0 : ERR_NOMEM;
}

void zc_grant_drop_out(struct zc_grant *g)
{
    if (g->out_pages)
        sys_mem_unmap(g->out, g->out_pages * PAGE_SIZE);
    g->out_pages = 0;
}

void zc_grant_drop_in(struct zc_grant *g)
{
    if (g->in_pages)
        sys_mem_unmap(g->in, g->in_pages * PAGE_SIZE);
    if (g->in_obj)
        sys_cap_delete(g->in_obj);
    g->in_pages = 0;
    g->in_obj = 0;
}

void zc_grant_release(struct zc_grant *g)
{
    zc_grant_drop_out(g);
    zc_grant_drop_in(g);
}

int zc_grant_buffer(struct zc_grant *g, size_t len, void **buf)
{
    zc_grant_drop_out(g);
    size_t pages = pages_for(len);
    long err = sys_mem_map(g->out, pages * PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (err)
        return (int)err;
    g->out_pages = pages;
    *buf = g->out;
    return 0;
}

long zc_grant_pack(struct zc_grant *g, size_t len, struct ipc_msg *m)
{
    if (!g->out_pages || pages_for(len) > g->out_pages)
        return ERR_NOENT;
    /* The pages leave this address space whatever happens next: the buffer is spent. */
    long obj = sys_mem_grant(g->out, g->out_pages * PAGE_SIZE, MEM_GRANT_MOVE);
    if (obj < 0) {
        zc_grant_drop_out(g);
        return obj;
    }
    g->out_pages = 0;
    *m = (struct ipc_msg){.tag = ipc_tag(transport_label(TRANSPORT_OP_GRANT, 0), 1, 1)};
    m->w[0] = len;
    return obj;
}

long zc_grant_unpack(struct zc_grant *g, const struct ipc_msg *m, const uint32_t *caps,
                     const void **payload)
{
    zc_grant_drop_in(g);
    uint64_t len = m->w[0];
    unsigned ncaps = ipc_tag_caps(m->tag);
    cap_t obj = ncaps ? caps[0] : 0;
    long info = ncaps ? sys_cap_info(obj) : ERR_BADF;
    int err = 0;
    if (ipc_tag_len(m->tag) != 1 || ncaps != 1 || len <= ZCOPY_AREA_BYTES || len > ZCOPY_GRANT_MAX)
        err = ERR_RANGE;
    else if (info < 0 || CAP_INFO_TYPE(info) != CAP_TYPE_MEMORY ||
             (CAP_INFO_RIGHTS(info) & (CAP_RIGHT_MAP | CAP_RIGHT_READ)) !=
                 (CAP_RIGHT_MAP | CAP_RIGHT_READ))
        err = ERR_TYPE;
    else
        err = transport_map_exact(obj, g->in, pages_for(len), PROT_READ);
    if (err) {
        for (unsigned i = 0; i < ncaps; i++)
            sys_cap_delete(caps[i]);
        return err;
    }
    g->in_obj = obj;
    g->in_pages = pages_for(len);
    *payload = g->in;
    return (long)len;
}
