/* Single-producer single-consumer ring of 64-byte messages in memory shared by two processes
 * (docs/ipc-ring.md has the layout, the protocol and the memory-ordering argument).
 *
 * The region holds only what both sides must see: a header (configuration, then the producer
 * index, the consumer index and the two sleep announcements, each on its own cache line so the
 * sides do not steal each other's lines) and the slots. Everything else, including the truth
 * about a side's own index, lives in that side's private struct: the peer may be hostile, so
 * nothing read from the region is trusted for longer than one check, and no value read from it
 * can make either side touch memory outside the region.
 *
 * Freestanding: the same code runs in user programs (no libc, no system calls here: sleeping and
 * waking go through callbacks) and in the host unit tests. Indices are free-running uint32_t
 * counters, reduced modulo the slot count (a power of two) only to address a slot. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPSC_RING_MAGIC     0x474e5253u /* "SRNG" */
#define SPSC_RING_VERSION   1u
#define SPSC_RING_LINE      64u
#define SPSC_RING_MIN_SLOTS 2u
/* 64 MiB of slots; well below 2^31 so that index differences never become ambiguous. */
#define SPSC_RING_MAX_SLOTS (1u << 20)

/* One slot: a tag word and seven data words, the register message of the endpoint fast path. */
struct spsc_msg {
    _Alignas(SPSC_RING_LINE) uint64_t word[8];
};

/* The shared header; the slots follow it. Offsets are ABI (docs/ipc-ring.md). */
struct spsc_ring_hdr {
    /* Written by spsc_ring_init before the region is handed over; magic last (release). */
    _Alignas(SPSC_RING_LINE) uint32_t magic;
    uint32_t version;
    uint32_t slot_bytes; /* sizeof(struct spsc_msg) */
    uint32_t slots;      /* power of two in [SPSC_RING_MIN_SLOTS, SPSC_RING_MAX_SLOTS] */
    /* Messages published so far; written only by the producer. */
    _Alignas(SPSC_RING_LINE) uint32_t prod;
    /* Messages consumed so far; written only by the consumer. */
    _Alignas(SPSC_RING_LINE) uint32_t cons;
    /* Non-zero: the consumer found the ring empty and is going to sleep. Set by the consumer,
     * cleared by the producer when it takes the request and notifies. */
    _Alignas(SPSC_RING_LINE) uint32_t cons_sleeping;
    /* Non-zero: the producer found the ring full and is going to sleep. Set by the producer,
     * cleared by the consumer when it takes the request and notifies. */
    _Alignas(SPSC_RING_LINE) uint32_t prod_sleeping;
};

_Static_assert(sizeof(struct spsc_msg) == 64, "a slot is one cache line");
_Static_assert(offsetof(struct spsc_ring_hdr, prod) == 64, "layout is ABI");
_Static_assert(offsetof(struct spsc_ring_hdr, cons) == 128, "layout is ABI");
_Static_assert(offsetof(struct spsc_ring_hdr, cons_sleeping) == 192, "layout is ABI");
_Static_assert(offsetof(struct spsc_ring_hdr, prod_sleeping) == 256, "layout is ABI");
_Static_assert(sizeof(struct spsc_ring_hdr) == 320, "slots start at 320");

/* Per side, for benchmarks. */
struct spsc_stats {
    uint64_t msgs;     /* messages committed (producer) or released (consumer) */
    uint64_t batches;  /* commits / releases of at least one message */
    uint64_t notifies; /* times the peer had asked to be woken and this side was told to */
    uint64_t sleeps;   /* times a wait helper called the sleep callback */
};

/* Private to the producer; fields are read-only to callers. */
struct spsc_producer {
    struct spsc_ring_hdr *hdr;
    struct spsc_msg *slots;
    uint32_t mask;       /* slots - 1, validated at attach and never re-read from the region */
    uint32_t head;       /* next index to publish: the producer never reads its own index back */
    uint32_t cons_cache; /* consumer index last read, so that space is known without its line */
    uint32_t reserved;   /* slots from head on that reserve handed out and commit may publish */
    bool broken;         /* the consumer published an impossible index; sticky */
    struct spsc_stats stats;
};

/* Private to the consumer; fields are read-only to callers. */
struct spsc_consumer {
    struct spsc_ring_hdr *hdr;
    struct spsc_msg *slots;
    uint32_t mask;
    uint32_t tail;       /* next index to consume: never read back from the region */
    uint32_t prod_cache; /* producer index last read */
    bool broken;         /* the producer published an impossible index; sticky */
    struct spsc_stats stats;
};

/* How a side blocks and wakes its peer; user space passes its notification system calls.
 * sleep must be sticky: a notify that arrives after the side announced it will sleep but before
 * it calls sleep makes sleep return at once (a semaphore, a futex word, a notification object),
 * otherwise that wake-up is lost. sleep may return early for no reason; a negative return (a
 * timeout, the peer gone) abandons the wait and is passed to the caller. */
struct spsc_waiter {
    int (*sleep)(void *ctx);
    void (*notify)(void *ctx);
    void *ctx;
    uint32_t spin; /* extra polls before sleeping; 0 (sleep at once) when both sides share a CPU */
};

/* Bytes a ring of `slots` slots needs; 0 when slots is not a power of two in range. */
size_t spsc_ring_region_bytes(uint32_t slots);

/* Formats a region: both indices 0, nobody asleep. ERR_INVAL: region NULL or not 64-byte
 * aligned, slots invalid, region_bytes too small. */
int spsc_ring_init(void *region, size_t region_bytes, uint32_t slots);

/* Validate a region handed over by the peer and take one side of it. region_bytes is what this
 * process mapped, never a size read from the region. ERR_INVAL: misaligned, bad magic, version or
 * slot size, slot count not a power of two in range, region too small for it, or indices further
 * apart than the slot count. */
int spsc_ring_producer_attach(struct spsc_producer *p, void *region, size_t region_bytes);
int spsc_ring_consumer_attach(struct spsc_consumer *c, void *region, size_t region_bytes);

/* Producer. reserve hands out up to n free slots (0 when full or broken), replacing any earlier
 * reservation; fill them through spsc_ring_reserved_slot(p, 0..got-1), then commit publishes the
 * first n of them (n is clamped to the reservation; the rest stay reserved). */
uint32_t spsc_ring_reserve(struct spsc_producer *p, uint32_t n);
void spsc_ring_commit(struct spsc_producer *p, uint32_t n);
/* Copies as many of msgs[0..n) as fit and publishes them as one batch; returns how many. */
uint32_t spsc_ring_produce_batch(struct spsc_producer *p, const struct spsc_msg *msgs,
                                 uint32_t n);
/* Call after publishing: true when the consumer announced it will sleep, in which case the
 * caller must notify it. Takes the announcement, so a burst of batches notifies once. */
bool spsc_ring_needs_notify(struct spsc_producer *p);
/* The producer found the ring full and wants to sleep: announces it, then re-checks. False: space
 * appeared (or the ring broke) and the announcement is withdrawn; true: it may sleep, and calls
 * spsc_ring_cancel_sleep_full once awake. */
bool spsc_ring_prepare_sleep_full(struct spsc_producer *p);
void spsc_ring_cancel_sleep_full(struct spsc_producer *p);

/* Consumer. peek returns how many messages, up to n, may be read through
 * spsc_ring_peeked_slot(c, 0..got-1); release hands the first n back to the producer (clamped to
 * what has been published). Slots stay writable by a hostile producer while peeked: copy a
 * message before validating it. */
uint32_t spsc_ring_peek(struct spsc_consumer *c, uint32_t n);
void spsc_ring_release(struct spsc_consumer *c, uint32_t n);
/* Copies up to n messages out and releases them as one batch; returns how many. */
uint32_t spsc_ring_consume_batch(struct spsc_consumer *c, struct spsc_msg *msgs, uint32_t n);
/* The consumer found the ring empty and wants to sleep: announces it, then re-checks. False:
 * a message arrived (or the ring broke) and the announcement is withdrawn; true: it may sleep,
 * and calls spsc_ring_cancel_sleep once awake. */
bool spsc_ring_prepare_sleep(struct spsc_consumer *c);
void spsc_ring_cancel_sleep(struct spsc_consumer *c);
/* Call after releasing: true when the producer announced it sleeps on a full ring, in which case
 * the caller must notify it. Takes the announcement. */
bool spsc_ring_space_needs_notify(struct spsc_consumer *c);

/* Waits, polling w->spin more times and then sleeping, until at least one slot is free (writable)
 * or one message is published (readable); returns how many, or a negative sleep result, or
 * ERR_RANGE once the ring is broken. */
int spsc_ring_wait_writable(struct spsc_producer *p, const struct spsc_waiter *w);
int spsc_ring_wait_readable(struct spsc_consumer *c, const struct spsc_waiter *w);

/* Blocking send of all n messages, notifying the consumer whenever it asked for it: 0, or as
 * wait_writable. Blocking receive of 1 to max messages, notifying a producer that waits for
 * space: the count (0 only for max 0), or as wait_readable. */
int spsc_ring_send(struct spsc_producer *p, const struct spsc_msg *msgs, uint32_t n,
                   const struct spsc_waiter *w);
int spsc_ring_recv(struct spsc_consumer *c, struct spsc_msg *msgs, uint32_t max,
                   const struct spsc_waiter *w);

/* Slot i of the current reservation / of the peeked messages. Masked with the private mask, so
 * even a wrong i stays inside the region. */
static inline struct spsc_msg *spsc_ring_reserved_slot(const struct spsc_producer *p, uint32_t i)
{
    return &p->slots[(p->head + i) & p->mask];
}

static inline const struct spsc_msg *spsc_ring_peeked_slot(const struct spsc_consumer *c,
                                                           uint32_t i)
{
    return &c->slots[(c->tail + i) & c->mask];
}
