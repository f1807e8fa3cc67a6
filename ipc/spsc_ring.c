/* SPSC ring: see spsc_ring.h for the API and docs/ipc-ring.md for the protocol.
 *
 * Memory ordering is written against the C11 model, not against x86: on x86 (TSO) every plain
 * load is already an acquire and every plain store a release, so the acquire/release operations
 * below compile to ordinary moves and only the seq_cst fences cost an instruction (mfence or a
 * locked op). Writing them out keeps the code correct on the host compiler's terms, where the
 * optimiser may reorder plain accesses, and lets a race checker reason about it.
 *
 * Every read of a word the peer can write is one __atomic load, even where no ordering is needed:
 * with a plain load the compiler may read the word again after we checked it (it assumes nobody
 * else writes), and a hostile peer changing it in between would defeat the check. */
#include "spsc_ring.h"

#include "lib/err.h"

static bool valid_slot_count(uint32_t slots)
{
    return slots >= SPSC_RING_MIN_SLOTS && slots <= SPSC_RING_MAX_SLOTS &&
           (slots & (slots - 1)) == 0;
}

size_t spsc_ring_region_bytes(uint32_t slots)
{
    if (!valid_slot_count(slots))
        return 0;
    return sizeof(struct spsc_ring_hdr) + (size_t)slots * sizeof(struct spsc_msg);
}

static bool region_aligned(const void *region)
{
    return region && ((uintptr_t)region & (SPSC_RING_LINE - 1)) == 0;
}

int spsc_ring_init(void *region, size_t region_bytes, uint32_t slots)
{
    size_t need = spsc_ring_region_bytes(slots);
    if (!region_aligned(region) || need == 0 || region_bytes < need)
        return ERR_INVAL;
    struct spsc_ring_hdr *h = region;
    __atomic_store_n(&h->version, SPSC_RING_VERSION, __ATOMIC_RELAXED);
    __atomic_store_n(&h->slot_bytes, (uint32_t)sizeof(struct spsc_msg), __ATOMIC_RELAXED);
    __atomic_store_n(&h->slots, slots, __ATOMIC_RELAXED);
    __atomic_store_n(&h->prod, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h->cons, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h->cons_sleeping, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h->prod_sleeping, 0, __ATOMIC_RELAXED);
    /* Release, paired with the acquire in attach: a peer that maps the region while it is being
     * formatted either sees no magic and refuses, or sees every field above. */
    __atomic_store_n(&h->magic, SPSC_RING_MAGIC, __ATOMIC_RELEASE);
    return 0;
}

/* Checks the header once and returns the slot count, or 0. The caller keeps what it needs in
 * private state; nothing here is read again, so a peer rewriting the configuration later changes
 * nothing. */
static uint32_t validate(struct spsc_ring_hdr *h, size_t region_bytes)
{
    if (!region_aligned(h) || region_bytes < sizeof(*h))
        return 0;
    if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != SPSC_RING_MAGIC ||
        __atomic_load_n(&h->version, __ATOMIC_RELAXED) != SPSC_RING_VERSION ||
        __atomic_load_n(&h->slot_bytes, __ATOMIC_RELAXED) != sizeof(struct spsc_msg))
        return 0;
    uint32_t slots = __atomic_load_n(&h->slots, __ATOMIC_RELAXED);
    size_t need = spsc_ring_region_bytes(slots);
    if (need == 0 || region_bytes < need)
        return 0;
    return slots;
}

/* Free-running indices: prod - cons (mod 2^32) is the number of published, unconsumed messages.
 * Any value above the slot count means an index the peer could not legitimately have written. */
static bool distance_ok(uint32_t ahead, uint32_t behind, uint32_t slots)
{
    return (uint32_t)(ahead - behind) <= slots;
}

int spsc_ring_producer_attach(struct spsc_producer *p, void *region, size_t region_bytes)
{
    struct spsc_ring_hdr *h = region;
    uint32_t slots = validate(h, region_bytes);
    if (slots == 0)
        return ERR_INVAL;
    uint32_t prod = __atomic_load_n(&h->prod, __ATOMIC_RELAXED);
    uint32_t cons = __atomic_load_n(&h->cons, __ATOMIC_ACQUIRE);
    if (!distance_ok(prod, cons, slots))
        return ERR_INVAL;
    *p = (struct spsc_producer){
        .hdr = h,
        .slots = (struct spsc_msg *)(h + 1),
        .mask = slots - 1,
        .head = prod,
        .cons_cache = cons,
    };
    return 0;
}

int spsc_ring_consumer_attach(struct spsc_consumer *c, void *region, size_t region_bytes)
{
    struct spsc_ring_hdr *h = region;
    uint32_t slots = validate(h, region_bytes);
    if (slots == 0)
        return ERR_INVAL;
    uint32_t cons = __atomic_load_n(&h->cons, __ATOMIC_RELAXED);
    uint32_t prod = __atomic_load_n(&h->prod, __ATOMIC_ACQUIRE);
    if (!distance_ok(prod, cons, slots))
        return ERR_INVAL;
    *c = (struct spsc_consumer){
        .hdr = h,
        .slots = (struct spsc_msg *)(h + 1),
        .mask = slots - 1,
        .tail = cons,
        .prod_cache = prod,
    };
    return 0;
}

/* ---- producer ------------------------------------------------------------------------------ */

/* Free slots, re-reading the consumer index only when the cached one does not show `want`: while
 * the consumer keeps up, the producer touches the consumer's line once per lap, not per batch. */
static uint32_t prod_space(struct spsc_producer *p, uint32_t want)
{
    if (p->broken)
        return 0;
    uint32_t slots = p->mask + 1;
    uint32_t space = slots - (p->head - p->cons_cache);
    if (space >= want)
        return space;
    /* Acquire, paired with the release in spsc_ring_release: the consumer's reads of the slots it
     * freed happen before our writes into them, or we could overwrite a message being read. */
    uint32_t cons = __atomic_load_n(&p->hdr->cons, __ATOMIC_ACQUIRE);
    if (!distance_ok(p->head, cons, slots)) {
        p->broken = true;
        return 0;
    }
    p->cons_cache = cons;
    return slots - (p->head - cons);
}

uint32_t spsc_ring_reserve(struct spsc_producer *p, uint32_t n)
{
    uint32_t space = prod_space(p, n);
    p->reserved = n < space ? n : space;
    return p->reserved;
}

void spsc_ring_commit(struct spsc_producer *p, uint32_t n)
{
    if (n > p->reserved)
        n = p->reserved;
    if (n == 0)
        return;
    p->head += n;
    p->reserved -= n;
    /* Release: the slot contents must be visible to whoever sees the new index, or the consumer
     * could read a slot before our write to it lands. */
    __atomic_store_n(&p->hdr->prod, p->head, __ATOMIC_RELEASE);
    p->stats.msgs += n;
    p->stats.batches++;
}

uint32_t spsc_ring_produce_batch(struct spsc_producer *p, const struct spsc_msg *msgs, uint32_t n)
{
    uint32_t got = spsc_ring_reserve(p, n);
    for (uint32_t i = 0; i < got; i++)
        *spsc_ring_reserved_slot(p, i) = msgs[i];
    spsc_ring_commit(p, got);
    return got;
}

/* Event suppression is Dekker's pattern. The sleeper does   store(flag); fence; load(index)
 * and the waker does                                       store(index); fence; load(flag).
 * Each side stores one word and then loads the word the other stores. Without the fences both
 * loads may be satisfied before either store is visible (on x86 too: a store waits in the store
 * buffer while a later load runs), so the sleeper sees no new index, the waker sees no flag, and
 * the sleeper sleeps on a message nobody will wake it for. With a seq_cst fence on each side,
 * the two fences are ordered one before the other, and C11 guarantees that the load after the
 * later fence sees the store before the earlier fence (or a newer value): either the sleeper
 * sees the new index and does not sleep, or the waker sees the flag and notifies (or both, which
 * costs one spurious notify). Release and acquire cannot give this: they order accesses only
 * for a thread that reads the released value, and neither side is sure to read the other's. */
static bool take_request(uint32_t *flag)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    /* A load first: in the common case (peer awake) the line stays shared, not owned. The
     * exchange makes one waker take each announcement, so a burst notifies once. */
    if (__atomic_load_n(flag, __ATOMIC_RELAXED) == 0)
        return false;
    return __atomic_exchange_n(flag, 0, __ATOMIC_RELAXED) != 0;
}

/* Withdrawing needs no ordering: a flag seen late by the peer costs one spurious notify, and a
 * sticky sleep absorbs it. Only a set flag is written, so an awake side leaves the line alone. */
static void withdraw(uint32_t *flag)
{
    if (__atomic_load_n(flag, __ATOMIC_RELAXED) != 0)
        __atomic_store_n(flag, 0, __ATOMIC_RELAXED);
}

bool spsc_ring_needs_notify(struct spsc_producer *p)
{
    if (!take_request(&p->hdr->cons_sleeping))
        return false;
    p->stats.notifies++;
    return true;
}

bool spsc_ring_prepare_sleep_full(struct spsc_producer *p)
{
    __atomic_store_n(&p->hdr->prod_sleeping, 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* Dekker, see take_request */
    /* UINT32_MAX: always re-read the index; the cached one predates the fence. */
    if (prod_space(p, UINT32_MAX) == 0 && !p->broken)
        return true;
    withdraw(&p->hdr->prod_sleeping);
    return false;
}

void spsc_ring_cancel_sleep_full(struct spsc_producer *p)
{
    withdraw(&p->hdr->prod_sleeping);
}

/* ---- consumer ------------------------------------------------------------------------------ */

/* Published messages, re-reading the producer index only when the cached one does not show
 * `want`. */
static uint32_t cons_avail(struct spsc_consumer *c, uint32_t want)
{
    if (c->broken)
        return 0;
    uint32_t avail = c->prod_cache - c->tail;
    if (avail >= want)
        return avail;
    /* Acquire, paired with the release in spsc_ring_commit: slot reads after this see what the
     * producer wrote before publishing the index. */
    uint32_t prod = __atomic_load_n(&c->hdr->prod, __ATOMIC_ACQUIRE);
    if (!distance_ok(prod, c->tail, c->mask + 1)) {
        c->broken = true;
        return 0;
    }
    c->prod_cache = prod;
    return prod - c->tail;
}

uint32_t spsc_ring_peek(struct spsc_consumer *c, uint32_t n)
{
    uint32_t avail = cons_avail(c, n);
    return n < avail ? n : avail;
}

void spsc_ring_release(struct spsc_consumer *c, uint32_t n)
{
    uint32_t avail = c->prod_cache - c->tail;
    if (n > avail)
        n = avail;
    if (n == 0)
        return;
    c->tail += n;
    /* Release: our reads of the slots must be done before the producer can see them free and
     * refill them (a load-to-store ordering: free on x86, not in C11 or on weaker CPUs). */
    __atomic_store_n(&c->hdr->cons, c->tail, __ATOMIC_RELEASE);
    c->stats.msgs += n;
    c->stats.batches++;
}

uint32_t spsc_ring_consume_batch(struct spsc_consumer *c, struct spsc_msg *msgs, uint32_t n)
{
    uint32_t got = spsc_ring_peek(c, n);
    for (uint32_t i = 0; i < got; i++)
        msgs[i] = *spsc_ring_peeked_slot(c, i);
    spsc_ring_release(c, got);
    return got;
}

bool spsc_ring_prepare_sleep(struct spsc_consumer *c)
{
    __atomic_store_n(&c->hdr->cons_sleeping, 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* Dekker, see take_request */
    /* UINT32_MAX: always re-read the index; the cached one predates the fence. */
    if (cons_avail(c, UINT32_MAX) == 0 && !c->broken)
        return true;
    withdraw(&c->hdr->cons_sleeping);
    return false;
}

void spsc_ring_cancel_sleep(struct spsc_consumer *c)
{
    withdraw(&c->hdr->cons_sleeping);
}

bool spsc_ring_space_needs_notify(struct spsc_consumer *c)
{
    if (!take_request(&c->hdr->prod_sleeping))
        return false;
    c->stats.notifies++;
    return true;
}

/* ---- waiting ------------------------------------------------------------------------------- */

static inline void cpu_relax(void)
{
    __builtin_ia32_pause(); /* lets the sibling hyperthread run and eases the exit from the spin */
}

/* Both waits poll 1 + w->spin times, then announce, re-check and sleep, until there is work or
 * the ring breaks. The announcement is withdrawn after every sleep, so that a side woken for any
 * other reason leaves no stale request behind that would cost the peer a notify. */
int spsc_ring_wait_writable(struct spsc_producer *p, const struct spsc_waiter *w)
{
    for (;;) {
        for (uint32_t spun = 0;; spun++) {
            uint32_t space = prod_space(p, UINT32_MAX);
            if (space > 0)
                return (int)space;
            if (p->broken)
                return ERR_RANGE;
            if (spun >= w->spin)
                break;
            cpu_relax();
        }
        if (!spsc_ring_prepare_sleep_full(p))
            continue;
        p->stats.sleeps++;
        int rc = w->sleep(w->ctx);
        spsc_ring_cancel_sleep_full(p);
        if (rc < 0)
            return rc;
    }
}

int spsc_ring_wait_readable(struct spsc_consumer *c, const struct spsc_waiter *w)
{
    for (;;) {
        for (uint32_t spun = 0;; spun++) {
            uint32_t avail = cons_avail(c, UINT32_MAX);
            if (avail > 0)
                return (int)avail;
            if (c->broken)
                return ERR_RANGE;
            if (spun >= w->spin)
                break;
            cpu_relax();
        }
        if (!spsc_ring_prepare_sleep(c))
            continue;
        c->stats.sleeps++;
        int rc = w->sleep(w->ctx);
        spsc_ring_cancel_sleep(c);
        if (rc < 0)
            return rc;
    }
}

int spsc_ring_send(struct spsc_producer *p, const struct spsc_msg *msgs, uint32_t n,
                   const struct spsc_waiter *w)
{
    while (n > 0) {
        uint32_t got = spsc_ring_produce_batch(p, msgs, n);
        if (got > 0) {
            msgs += got;
            n -= got;
            /* Before waiting for space too: a consumer asleep on what we just published would
             * never free any. */
            if (spsc_ring_needs_notify(p))
                w->notify(w->ctx);
            continue;
        }
        int rc = spsc_ring_wait_writable(p, w);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int spsc_ring_recv(struct spsc_consumer *c, struct spsc_msg *msgs, uint32_t max,
                   const struct spsc_waiter *w)
{
    if (max == 0)
        return 0;
    int rc = spsc_ring_wait_readable(c, w);
    if (rc < 0)
        return rc;
    uint32_t got = spsc_ring_consume_batch(c, msgs, max);
    if (spsc_ring_space_needs_notify(c))
        w->notify(w->ctx);
    return (int)got;
}
