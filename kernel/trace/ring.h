/* One CPU's trace ring: the whole algorithm, free of kernel dependencies so the self tests can
 * drive a private small ring through the same code the real rings use.
 *
 * head counts every event ever reserved; the slot of event seq is seq & mask, so once head
 * passes the ring size the oldest events are overwritten and head - size of them are lost. Only
 * the owning CPU writes, so reserving is a plain increment; the caller keeps interrupts off
 * across taking the stamp and reserving, which keeps both atomic with respect to an interrupt
 * handler that traces on the same CPU. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "trace/trace_abi.h"

struct trace_ring {
    struct trace_event *slots;
    uint64_t mask; /* slots - 1; the size is a power of two */
    uint64_t head;
} __attribute__((aligned(64))); /* one cache line per CPU: no false sharing between writers */

static inline void trace_ring_setup(struct trace_ring *r, struct trace_event *slots, uint64_t n)
{
    r->slots = slots;
    r->mask = n - 1;
    r->head = 0;
}

static inline uint64_t trace_ring_reserve(struct trace_ring *r)
{
    return r->head++;
}

static inline void trace_ring_fill(struct trace_ring *r, uint64_t seq, uint64_t tsc, unsigned cpu,
                                   unsigned type, uint32_t thread, uint64_t arg0, uint64_t arg1)
{
    struct trace_event *e = &r->slots[seq & r->mask];
    e->tsc = tsc;
    e->arg0 = arg0;
    e->arg1 = arg1;
    /* Metadata last (see struct trace_event); the barrier keeps the compiler from merging it
     * into the stores above. */
    __asm__ volatile("" : : : "memory");
    e->meta = (uint64_t)(uint16_t)cpu | (uint64_t)(uint8_t)type << 16 | (uint64_t)thread << 32;
}

static inline uint64_t trace_ring_lost(const struct trace_ring *r)
{
    return r->head > r->mask + 1 ? r->head - (r->mask + 1) : 0;
}

/* Is event seq still in the ring? */
static inline bool trace_ring_holds(const struct trace_ring *r, uint64_t seq)
{
    return seq < r->head && seq >= trace_ring_lost(r);
}
