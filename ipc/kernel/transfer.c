/* Message transfer between two threads' frames and IPC buffers (endpoint.h). The register part
 * is eight stores; the rest (words past the seventh, capabilities) goes through the IPC
 * buffers, which live in two different address spaces, so both are reached through the page
 * tables (vmspace_copy) rather than through whichever address space is loaded. */
#include <stddef.h>

#include "cap/capspace.h"
#include "core/process.h"
#include "ipc/kernel/endpoint.h"
#include "lib/err.h"
#include "mm/vmspace.h"

int ipc_tag_check(uint64_t tag)
{
    if (tag & IPC_TAG_RESERVED)
        return ERR_INVAL;
    if (ipc_tag_len(tag) > IPC_MAX_WORDS || ipc_tag_caps(tag) > IPC_MAX_CAPS)
        return ERR_INVAL;
    return 0;
}

static struct cap_table *table_of(struct thread *t)
{
    return &t->proc->caps.t;
}

/* The capabilities a message names: all live, carried by a GRANT capability, none named twice
 * when they move, and room for all of them at the receiver. */
static int check_caps(struct thread *from, struct thread *to, const uint32_t *caps, unsigned n,
                      unsigned rights, bool move)
{
    if (!(rights & CAP_RIGHT_GRANT))
        return ERR_PERM;
    for (unsigned i = 0; i < n; i++) {
        const struct cap_slot *s;
        int err = cap_lookup(table_of(from), caps[i], CAP_TYPE_ANY, 0, &s);
        if (err)
            return err;
        for (unsigned j = 0; move && j < i; j++)
            if (caps[j] == caps[i])
                return ERR_INVAL;
    }
    const struct cap_table *dst = table_of(to);
    return dst->nslots - dst->live - dst->retired >= n ? 0 : ERR_NOSPC;
}

/* Everything past the registers. Order: read the sender's side, check, make sure the
 * receiver's buffer takes writes, and only then move capabilities, which cannot fail. */
static int transfer_long(struct thread *from, struct thread *to, uint64_t tag, unsigned rights)
{
    unsigned len = ipc_tag_len(tag), ncaps = ipc_tag_caps(tag);
    uint64_t words[IPC_MAX_WORDS - IPC_REG_WORDS];
    uint32_t caps[IPC_MAX_CAPS], out[IPC_MAX_CAPS] = {0};
    size_t nwords = len > IPC_REG_WORDS ? len - IPC_REG_WORDS : 0;
    uintptr_t sbuf = from->ipc.buffer, rbuf = to->ipc.buffer;
    const size_t words_at = offsetof(struct ipc_buffer, words[IPC_REG_WORDS]);
    const size_t caps_at = offsetof(struct ipc_buffer, caps);
    int err;

    if (!sbuf || !rbuf)
        return ERR_INVAL;
    if ((err = vmspace_copy(from->vs, sbuf + words_at, words, nwords * 8, false)) ||
        (err = vmspace_copy(from->vs, sbuf + caps_at, caps, ncaps * 4, false)))
        return err;
    bool move = tag & IPC_CAP_MOVE;
    if (ncaps && (err = check_caps(from, to, caps, ncaps, rights, move)))
        return err;
    if ((err = vmspace_copy(to->vs, rbuf + words_at, words, nwords * 8, true)) ||
        (err = vmspace_copy(to->vs, rbuf + caps_at, out, sizeof(out), true)))
        return err;
    for (unsigned i = 0; i < ncaps; i++)
        cap_transfer(table_of(from), caps[i], rights, table_of(to),
                     move ? CAP_XFER_MOVE : CAP_XFER_COPY, &out[i]);
    return vmspace_copy(to->vs, rbuf + caps_at, out, ncaps * 4, true);
}

int ipc_transfer(struct thread *from, struct thread *to, unsigned rights)
{
    const struct ipc_frame *sf = ipc_frame_of(from);
    uint64_t tag = sf->s.rsi & ~IPC_TAG_FLAGS;
    if (ipc_tag_len(tag) > IPC_REG_WORDS || ipc_tag_caps(tag)) {
        int err = transfer_long(from, to, sf->s.rsi, rights);
        if (err)
            return err;
    }
    struct ipc_frame *rf = ipc_frame_of(to);
    rf->s.rsi = tag;
    ipc_copy_words(sf, rf);
    return 0;
}
