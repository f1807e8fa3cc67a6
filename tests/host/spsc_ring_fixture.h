/* Shared by the ring host tests: regions sized exactly (so that ASan flags any access past the
 * last slot), messages that carry their sequence number, a payload derived from it and a
 * checksum (so a lost, duplicated, reordered or torn message is detected), and a producer and a
 * consumer on one region for the single-thread tests. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/spsc_ring.h"
#include "lib/err.h"

static inline void *ring_region_new(uint32_t slots, size_t *bytes)
{
    *bytes = spsc_ring_region_bytes(slots);
    void *region = aligned_alloc(SPSC_RING_LINE, *bytes);
    if (region && spsc_ring_init(region, *bytes, slots) != 0) {
        free(region);
        region = NULL;
    }
    return region;
}

static inline uint64_t msg_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static inline uint64_t msg_checksum(const struct spsc_msg *m)
{
    uint64_t sum = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 7; i++)
        sum = msg_mix(sum ^ m->word[i]);
    return sum;
}

static inline void msg_fill(struct spsc_msg *m, uint64_t seq)
{
    m->word[0] = seq;
    for (int i = 1; i < 7; i++)
        m->word[i] = msg_mix(seq * 8 + (uint64_t)i);
    m->word[7] = msg_checksum(m);
}

static inline bool msg_ok(const struct spsc_msg *m, uint64_t seq)
{
    if (m->word[0] != seq || m->word[7] != msg_checksum(m))
        return false;
    for (int i = 1; i < 7; i++)
        if (m->word[i] != msg_mix(seq * 8 + (uint64_t)i))
            return false;
    return true;
}

/* xorshift64: reproducible test randomness without libc's global rand state (threads). */
static inline uint64_t ring_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

struct pair {
    void *region;
    size_t bytes;
    struct spsc_ring_hdr *hdr;
    struct spsc_producer p;
    struct spsc_consumer c;
};

/* A formatted ring whose indices both start at `start` (a legitimate state), both sides on it. */
static inline int pair_new_at(struct pair *r, uint32_t slots, uint32_t start)
{
    memset(r, 0, sizeof(*r));
    r->region = ring_region_new(slots, &r->bytes);
    if (!r->region)
        return ERR_NOMEM;
    r->hdr = r->region;
    r->hdr->prod = r->hdr->cons = start;
    int rc = spsc_ring_producer_attach(&r->p, r->region, r->bytes);
    return rc ? rc : spsc_ring_consumer_attach(&r->c, r->region, r->bytes);
}

static inline int pair_new(struct pair *r, uint32_t slots)
{
    return pair_new_at(r, slots, 0);
}

static inline void pair_free(struct pair *r)
{
    free(r->region);
    r->region = NULL;
}

/* Produces seq, seq+1, ... for n messages, as one batch; returns how many fit. */
static inline uint32_t produce_seq(struct spsc_producer *p, uint64_t seq, uint32_t n)
{
    struct spsc_msg msgs[64];
    if (n > 64)
        n = 64;
    for (uint32_t i = 0; i < n; i++)
        msg_fill(&msgs[i], seq + i);
    return spsc_ring_produce_batch(p, msgs, n);
}

/* Consumes up to n messages, checking they continue from *seq; returns how many, or -1. */
static inline int consume_seq(struct spsc_consumer *c, uint64_t *seq, uint32_t n)
{
    struct spsc_msg msgs[64];
    uint32_t got = spsc_ring_consume_batch(c, msgs, n > 64 ? 64 : n);
    for (uint32_t i = 0; i < got; i++, (*seq)++)
        if (!msg_ok(&msgs[i], *seq))
            return -1;
    return (int)got;
}

/* A waiter context; its sleep callbacks play the peer while this side "sleeps". */
struct script {
    struct pair *r;
    uint64_t sent, received; /* sequence numbers the peer produced / consumed */
    int sleeps, notifies;
    bool bad; /* the peer's step did not go as the protocol says it must */
};

static inline void count_notify(void *ctx)
{
    ((struct script *)ctx)->notifies++;
}

static inline int sleep_fails(void *ctx)
{
    ((struct script *)ctx)->sleeps++;
    return ERR_BUSY;
}
