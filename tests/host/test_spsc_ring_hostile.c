/* Host tests for ipc/spsc_ring.c against a hostile peer: validation of a handed-over region,
 * and indices or configuration rewritten in the shared header. Regions are sized exactly, so ASan
 * fails a test on any access outside one. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "lib/err.h"
#include "spsc_ring_fixture.h"

TEST(region_bytes_and_init)
{
    CHECK_EQ(spsc_ring_region_bytes(2), 320 + 2 * 64);
    CHECK_EQ(spsc_ring_region_bytes(1024), 320 + 1024 * 64);
    CHECK_EQ(spsc_ring_region_bytes(SPSC_RING_MAX_SLOTS), 320 + (size_t)SPSC_RING_MAX_SLOTS * 64);
    const uint32_t bad[] = {0, 1, 3, 6, 1000, SPSC_RING_MAX_SLOTS * 2, 0x80000000u, UINT32_MAX};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ(spsc_ring_region_bytes(bad[i]), 0);

    size_t bytes = spsc_ring_region_bytes(8);
    char *region = aligned_alloc(64, bytes + 64);
    CHECK(region);
    CHECK_EQ(spsc_ring_init(NULL, bytes, 8), ERR_INVAL);
    CHECK_EQ(spsc_ring_init(region + 8, bytes, 8), ERR_INVAL);
    CHECK_EQ(spsc_ring_init(region, bytes - 1, 8), ERR_INVAL);
    CHECK_EQ(spsc_ring_init(region, bytes, 3), ERR_INVAL);
    CHECK_EQ(spsc_ring_init(region, bytes, 16), ERR_INVAL);
    CHECK_EQ(spsc_ring_init(region + 64, bytes, 8), 0);
    const struct spsc_ring_hdr *h = (const void *)(region + 64);
    CHECK_EQ(h->magic, SPSC_RING_MAGIC);
    CHECK_EQ(h->version, SPSC_RING_VERSION);
    CHECK_EQ(h->slot_bytes, 64);
    CHECK_EQ(h->slots, 8);
    CHECK_EQ(h->prod, 0);
    CHECK_EQ(h->cons, 0);
    CHECK_EQ(h->cons_sleeping, 0);
    CHECK_EQ(h->prod_sleeping, 0);
    free(region);
}

/* Each case damages a freshly formatted 8-slot region (or what attach is told about it); both
 * sides must refuse it. */
enum { BAD_MAGIC, BAD_VERSION, BAD_SLOT_BYTES, ZERO_SLOTS, ODD_SLOTS, HUGE_SLOTS, SLOTS_OVERFLOW,
       REGION_SHORT, REGION_HEADER_ONLY, MISALIGNED, PROD_TOO_FAR, PROD_BEHIND, BAD_CASES };

TEST(attach_rejects_bad_headers)
{
    for (int bad = 0; bad < BAD_CASES; bad++) {
        size_t bytes;
        char *region = ring_region_new(8, &bytes);
        CHECK(region);
        struct spsc_ring_hdr *h = (void *)region;
        char *at = region;
        switch (bad) {
        case BAD_MAGIC: h->magic ^= 1; break;
        case BAD_VERSION: h->version = SPSC_RING_VERSION + 1; break;
        case BAD_SLOT_BYTES: h->slot_bytes = 32; break;
        case ZERO_SLOTS: h->slots = 0; break;
        case ODD_SLOTS: h->slots = 12; break;
        case HUGE_SLOTS: h->slots = SPSC_RING_MAX_SLOTS * 2; break;
        case SLOTS_OVERFLOW: h->slots = 16; break; /* valid count, but the region holds 8 */
        case REGION_SHORT: bytes -= 64; break;
        case REGION_HEADER_ONLY: bytes = sizeof(*h) - 1; break;
        case MISALIGNED: at += 8; bytes -= 8; break;
        case PROD_TOO_FAR: h->prod = h->cons + 9; break;
        case PROD_BEHIND: h->cons = h->prod + 1; break;
        }
        struct spsc_producer p;
        struct spsc_consumer c;
        int rp = spsc_ring_producer_attach(&p, at, bytes);
        int rc = spsc_ring_consumer_attach(&c, at, bytes);
        free(region);
        if (rp != ERR_INVAL || rc != ERR_INVAL)
            check_fail(__FILE__, __LINE__, "case %d: attach returned %d/%d", bad, rp, rc);
        CHECK(rp == ERR_INVAL && rc == ERR_INVAL);
    }
    /* A full ring (prod exactly one lap ahead) is a legitimate state to hand over. */
    struct pair r;
    CHECK_EQ(pair_new_at(&r, 8, 5), 0);
    r.hdr->prod = 13;
    CHECK_EQ(spsc_ring_consumer_attach(&r.c, r.region, r.bytes), 0);
    CHECK_EQ(spsc_ring_peek(&r.c, 100), 8);
    pair_free(&r);
}

TEST(hostile_producer_index)
{
    /* More than a lap ahead of the consumer, or behind it. */
    const uint32_t delta[] = {9, 100, 0x80000000u, UINT32_MAX, (uint32_t)-8};
    for (size_t i = 0; i < sizeof(delta) / sizeof(delta[0]); i++) {
        struct pair r;
        struct script s = {.r = &r};
        struct spsc_waiter w = {.sleep = sleep_fails, .notify = count_notify, .ctx = &s};
        struct spsc_msg m;
        uint64_t seq = 0;
        CHECK_EQ(pair_new(&r, 8), 0);
        CHECK_EQ(produce_seq(&r.p, 0, 3), 3);
        CHECK_EQ(consume_seq(&r.c, &seq, 1), 1);
        r.hdr->prod = r.c.tail + delta[i];
        CHECK_EQ(spsc_ring_peek(&r.c, 8), 0);
        CHECK(r.c.broken);
        CHECK_EQ(spsc_ring_consume_batch(&r.c, &m, 1), 0);
        CHECK(!spsc_ring_prepare_sleep(&r.c));
        CHECK_EQ(r.hdr->cons_sleeping, 0);
        CHECK_EQ(spsc_ring_wait_readable(&r.c, &w), ERR_RANGE);
        CHECK_EQ(spsc_ring_recv(&r.c, &m, 1, &w), ERR_RANGE);
        CHECK_EQ(s.sleeps, 0);
        r.hdr->prod = r.c.tail + 1; /* sticky: a sane index later does not revive the ring */
        CHECK_EQ(spsc_ring_peek(&r.c, 8), 0);
        CHECK_EQ(r.hdr->cons, 1);
        pair_free(&r);
    }
    /* A full lap of garbage looks like messages: it is read, inside the region, and no more. */
    struct pair r;
    struct spsc_msg m[16];
    CHECK_EQ(pair_new(&r, 8), 0);
    r.hdr->prod = 8;
    CHECK_EQ(spsc_ring_consume_batch(&r.c, m, 16), 8);
    CHECK(!r.c.broken);
    pair_free(&r);
}

TEST(hostile_consumer_index)
{
    /* cons - head: ahead of the producer, or more than a lap behind it. */
    const uint32_t delta[] = {1, 100, 0x80000000u, (uint32_t)-9};
    for (size_t i = 0; i < sizeof(delta) / sizeof(delta[0]); i++) {
        struct pair r;
        struct script s = {.r = &r};
        struct spsc_waiter w = {.sleep = sleep_fails, .notify = count_notify, .ctx = &s};
        struct spsc_msg m;
        uint64_t seq = 0;
        msg_fill(&m, 0);
        CHECK_EQ(pair_new(&r, 8), 0);
        CHECK_EQ(produce_seq(&r.p, 0, 5), 5);
        CHECK_EQ(consume_seq(&r.c, &seq, 2), 2);
        r.hdr->cons = r.p.head + delta[i];
        CHECK_EQ(produce_seq(&r.p, 5, 8), 0);
        CHECK(r.p.broken);
        CHECK(!spsc_ring_prepare_sleep_full(&r.p));
        CHECK_EQ(r.hdr->prod_sleeping, 0);
        CHECK_EQ(spsc_ring_wait_writable(&r.p, &w), ERR_RANGE);
        CHECK_EQ(spsc_ring_send(&r.p, &m, 1, &w), ERR_RANGE);
        CHECK_EQ(s.sleeps, 0);
        CHECK_EQ(r.hdr->prod, 5);
        pair_free(&r);
    }
    /* Moved back, but within a lap: the producer sees less room, nothing worse. */
    struct pair r;
    struct script s = {.r = &r};
    struct spsc_waiter w = {.sleep = sleep_fails, .notify = count_notify, .ctx = &s};
    uint64_t seq = 0;
    CHECK_EQ(pair_new(&r, 8), 0);
    CHECK_EQ(produce_seq(&r.p, 0, 8), 8);
    CHECK_EQ(consume_seq(&r.c, &seq, 8), 8);
    r.hdr->cons = 0;
    CHECK_EQ(spsc_ring_reserve(&r.p, 1), 0);
    CHECK(!r.p.broken);
    CHECK_EQ(spsc_ring_wait_writable(&r.p, &w), ERR_BUSY);
    pair_free(&r);
}

TEST(hostile_config_ignored_after_attach)
{
    struct pair r;
    uint64_t sent = 0, seq = 0;
    CHECK_EQ(pair_new(&r, 4), 0);
    r.hdr->magic = 0;
    r.hdr->slots = SPSC_RING_MAX_SLOTS;
    r.hdr->slot_bytes = 4096;
    for (uint32_t round = 0; round < 1000; round++) {
        sent += produce_seq(&r.p, sent, 1 + round % 7);
        CHECK(consume_seq(&r.c, &seq, 1 + round % 5) >= 0);
    }
    CHECK_EQ(r.p.mask, 3);
    CHECK(sent > 1000 && !r.p.broken && !r.c.broken);
    pair_free(&r);
}

/* Random writes to every shared word between random operations of both sides. ASan fails the
 * test on any access outside the exactly-sized region; the counts stay within a lap. */
TEST(hostile_fuzz_stays_in_bounds)
{
    struct pair r;
    uint64_t rnd = 0x5eed, sink = 0;
    int breaks = 0;
    CHECK_EQ(pair_new(&r, 4), 0);
    for (int i = 0; i < 200000; i++) {
        uint64_t x = ring_rand(&rnd);
        uint32_t n = (uint32_t)(x >> 8) % 7, got = 0;
        uint32_t *words[] = {&r.hdr->prod, &r.hdr->cons, &r.hdr->cons_sleeping,
                             &r.hdr->prod_sleeping, &r.hdr->slots, &r.hdr->magic};
        uint32_t *wd = words[(x >> 16) % 6];
        switch (x % 8) {
        case 0: /* near the current value, so that both legal and illegal ones come up */
            *wd = (x >> 24) & 1 ? (uint32_t)(x >> 32) : *wd + (uint32_t)(x >> 32) % 19 - 9;
            break;
        case 1:
        case 2:
            got = spsc_ring_reserve(&r.p, n);
            for (uint32_t k = 0; k < got; k++)
                msg_fill(spsc_ring_reserved_slot(&r.p, k), k);
            spsc_ring_commit(&r.p, (uint32_t)(x >> 32) % (got + 2));
            break;
        case 3:
        case 4:
            got = spsc_ring_peek(&r.c, n);
            for (uint32_t k = 0; k < got + 3; k++) /* past what was peeked: still in the ring */
                sink += spsc_ring_peeked_slot(&r.c, k)->word[k % 8];
            spsc_ring_release(&r.c, (uint32_t)(x >> 32) % (got + 2));
            break;
        case 5:
            sink += spsc_ring_needs_notify(&r.p) + spsc_ring_space_needs_notify(&r.c);
            break;
        case 6:
            if (spsc_ring_prepare_sleep(&r.c))
                spsc_ring_cancel_sleep(&r.c);
            if (spsc_ring_prepare_sleep_full(&r.p))
                spsc_ring_cancel_sleep_full(&r.p);
            break;
        case 7: {
            struct spsc_msg m[8];
            got = produce_seq(&r.p, 0, n);
            got += spsc_ring_consume_batch(&r.c, m, n);
            break;
        }
        }
        CHECK(got <= 8);
        CHECK(r.p.reserved <= 4);
        CHECK((uint32_t)(r.p.head - r.p.cons_cache) <= 4);
        CHECK((uint32_t)(r.c.prod_cache - r.c.tail) <= 4);
        if (r.p.broken || r.c.broken) {
            CHECK(!r.p.broken || spsc_ring_reserve(&r.p, 1) == 0); /* sticky */
            CHECK(!r.c.broken || spsc_ring_peek(&r.c, 1) == 0);
            breaks++;
            CHECK_EQ(spsc_ring_init(r.region, r.bytes, 4), 0);
            CHECK_EQ(spsc_ring_producer_attach(&r.p, r.region, r.bytes), 0);
            CHECK_EQ(spsc_ring_consumer_attach(&r.c, r.region, r.bytes), 0);
        }
    }
    CHECK(breaks > 100);
    CHECK(sink != 1); /* keeps the slot reads */
    pair_free(&r);
}
