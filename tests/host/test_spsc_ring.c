/* Host tests for ipc/spsc_ring.c in one thread: ring semantics, and the event-suppression
 * handshake and the wait helpers stepped through by hand (a script plays the peer). Validation
 * and hostile peers: test_spsc_ring_hostile.c; real threads: test_spsc_ring_stress.c. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "lib/err.h"
#include "spsc_ring_fixture.h"

TEST(empty_and_full)
{
    struct pair r;
    uint64_t seq = 0;
    CHECK_EQ(pair_new(&r, 8), 0);
    CHECK_EQ(spsc_ring_peek(&r.c, 1), 0);
    CHECK_EQ(consume_seq(&r.c, &seq, 8), 0);
    CHECK_EQ(produce_seq(&r.p, 0, 8), 8);
    CHECK_EQ(produce_seq(&r.p, 8, 1), 0);
    CHECK_EQ(spsc_ring_reserve(&r.p, 1), 0);
    CHECK_EQ(spsc_ring_peek(&r.c, 100), 8);
    CHECK_EQ(consume_seq(&r.c, &seq, 8), 8);
    CHECK_EQ(spsc_ring_peek(&r.c, 1), 0);
    CHECK_EQ(produce_seq(&r.p, 8, 8), 8);
    CHECK(!r.p.broken && !r.c.broken);
    pair_free(&r);
}

TEST(wrap_around_many_laps)
{
    /* Start 20 below 2^32 so that the free-running indices wrap too, not only the slot number. */
    struct pair r;
    uint64_t sent = 0, seq = 0, rnd = 42;
    CHECK_EQ(pair_new_at(&r, 8, UINT32_MAX - 20), 0);
    for (int round = 0; round < 20000; round++) {
        sent += produce_seq(&r.p, sent, 1 + (uint32_t)(ring_rand(&rnd) % 11));
        CHECK(consume_seq(&r.c, &seq, 1 + (uint32_t)(ring_rand(&rnd) % 11)) >= 0);
    }
    while (seq < sent)
        CHECK(consume_seq(&r.c, &seq, 8) > 0);
    CHECK(sent > 20000 * 4); /* thousands of laps of 8 slots */
    CHECK_EQ(r.hdr->prod, (uint32_t)(UINT32_MAX - 20 + sent));
    CHECK_EQ(r.hdr->cons, r.hdr->prod);
    CHECK_EQ(r.p.stats.msgs, sent);
    CHECK_EQ(r.c.stats.msgs, sent);
    pair_free(&r);
}

TEST(batch_partial_fit)
{
    struct pair r;
    uint64_t seq = 0;
    CHECK_EQ(pair_new(&r, 8), 0);
    CHECK_EQ(produce_seq(&r.p, 0, 5), 5);
    CHECK_EQ(produce_seq(&r.p, 5, 5), 3);
    CHECK_EQ(consume_seq(&r.c, &seq, 2), 2);
    CHECK_EQ(produce_seq(&r.p, 8, 5), 2);
    CHECK_EQ(consume_seq(&r.c, &seq, 64), 8);
    CHECK_EQ(seq, 10);
    CHECK_EQ(r.p.stats.batches, 3);
    CHECK_EQ(r.c.stats.batches, 2);
    pair_free(&r);
}

TEST(reserve_commit_peek_release)
{
    struct pair r;
    CHECK_EQ(pair_new(&r, 8), 0);
    CHECK_EQ(spsc_ring_reserve(&r.p, 5), 5);
    for (uint32_t i = 0; i < 5; i++)
        msg_fill(spsc_ring_reserved_slot(&r.p, i), i);
    spsc_ring_commit(&r.p, 2);
    CHECK_EQ(spsc_ring_peek(&r.c, 8), 2);
    CHECK_EQ(r.p.reserved, 3);
    CHECK(msg_ok(spsc_ring_reserved_slot(&r.p, 0), 2)); /* the rest stay reserved, as written */
    spsc_ring_commit(&r.p, 10);                          /* clamped to the 3 reserved */
    CHECK_EQ(r.p.reserved, 0);
    CHECK_EQ(r.hdr->prod, 5);
    spsc_ring_commit(&r.p, 1); /* nothing reserved: nothing published */
    CHECK_EQ(r.hdr->prod, 5);
    CHECK_EQ(spsc_ring_reserve(&r.p, 8), 3);
    CHECK_EQ(spsc_ring_reserve(&r.p, 2), 2); /* replaces the reservation */
    spsc_ring_commit(&r.p, 0);
    CHECK_EQ(r.hdr->prod, 5);

    CHECK_EQ(spsc_ring_peek(&r.c, 3), 3);
    for (uint32_t i = 0; i < 3; i++)
        CHECK(msg_ok(spsc_ring_peeked_slot(&r.c, i), i));
    spsc_ring_release(&r.c, 2);
    CHECK_EQ(r.hdr->cons, 2);
    CHECK(msg_ok(spsc_ring_peeked_slot(&r.c, 0), 2));
    spsc_ring_release(&r.c, 100); /* clamped to the 3 published and unreleased */
    CHECK_EQ(r.hdr->cons, 5);
    spsc_ring_release(&r.c, 1);
    CHECK_EQ(r.hdr->cons, 5);
    CHECK_EQ(r.p.stats.msgs, 5);
    CHECK_EQ(r.p.stats.batches, 2);
    CHECK_EQ(r.c.stats.msgs, 5);
    CHECK_EQ(r.c.stats.batches, 2);
    pair_free(&r);
}

/* Each side reads the other's index only when its cached copy does not show enough. The proof:
 * garbage in the peer's index goes unnoticed while the cache suffices. */
TEST(cached_index_read_only_when_needed)
{
    struct pair r;
    uint64_t seq = 0;
    CHECK_EQ(pair_new(&r, 8), 0);
    CHECK_EQ(produce_seq(&r.p, 0, 6), 6);
    CHECK_EQ(consume_seq(&r.c, &seq, 6), 6);
    CHECK_EQ(r.p.cons_cache, 0); /* had room without looking */
    CHECK_EQ(produce_seq(&r.p, 6, 2), 2);
    r.hdr->cons = 0xdead; /* not looked at: 2 slots left in the cached view covers nothing more */
    CHECK_EQ(produce_seq(&r.p, 8, 1), 0);
    CHECK(r.p.broken); /* needed a look, and the look found garbage */
    pair_free(&r);

    CHECK_EQ(pair_new(&r, 8), 0);
    CHECK_EQ(produce_seq(&r.p, 0, 4), 4);
    CHECK_EQ(spsc_ring_peek(&r.c, 1), 1); /* caches prod = 4 */
    r.hdr->prod = 0xdead;
    CHECK_EQ(spsc_ring_peek(&r.c, 4), 4); /* from the cache */
    CHECK(!r.c.broken);
    CHECK_EQ(spsc_ring_peek(&r.c, 5), 0);
    CHECK(r.c.broken);
    pair_free(&r);
}

/* The consumer sleeps; the producer publishes one message and must be told to notify. */
static int producer_runs_while_asleep(void *ctx)
{
    struct script *s = ctx;
    s->sleeps++;
    if (produce_seq(&s->r->p, s->sent++, 1) != 1 || !spsc_ring_needs_notify(&s->r->p))
        s->bad = true;
    return 0;
}

/* The producer sleeps on a full ring; the consumer drains it and must be told to notify. */
static int consumer_drains_while_asleep(void *ctx)
{
    struct script *s = ctx;
    s->sleeps++;
    if (consume_seq(&s->r->c, &s->received, 64) <= 0 || !spsc_ring_space_needs_notify(&s->r->c))
        s->bad = true;
    return 0;
}

/* ---- event suppression ---------------------------------------------------------------------- */

TEST(no_notify_while_peer_awake)
{
    struct pair r;
    uint64_t sent = 0, seq = 0, rnd = 9;
    CHECK_EQ(pair_new(&r, 8), 0);
    for (int round = 0; round < 1000; round++) {
        sent += produce_seq(&r.p, sent, 1 + (uint32_t)(ring_rand(&rnd) % 8));
        CHECK(!spsc_ring_needs_notify(&r.p));
        CHECK(consume_seq(&r.c, &seq, 1 + (uint32_t)(ring_rand(&rnd) % 8)) >= 0);
        CHECK(!spsc_ring_space_needs_notify(&r.c));
    }
    CHECK_EQ(r.p.stats.notifies + r.c.stats.notifies, 0);
    pair_free(&r);
}

TEST(one_notify_per_announced_sleep)
{
    struct pair r;
    uint64_t seq = 0;
    CHECK_EQ(pair_new(&r, 8), 0);
    CHECK(spsc_ring_prepare_sleep(&r.c));
    CHECK_EQ(r.hdr->cons_sleeping, 1);
    CHECK_EQ(produce_seq(&r.p, 0, 1), 1);
    CHECK(spsc_ring_needs_notify(&r.p));
    CHECK_EQ(r.hdr->cons_sleeping, 0);
    for (uint64_t i = 1; i < 6; i++) { /* the rest of the burst */
        CHECK_EQ(produce_seq(&r.p, i, 1), 1);
        CHECK(!spsc_ring_needs_notify(&r.p));
    }
    CHECK_EQ(r.p.stats.notifies, 1);
    spsc_ring_cancel_sleep(&r.c); /* awake: nothing left to withdraw */
    CHECK_EQ(consume_seq(&r.c, &seq, 8), 6);
    /* Announce again; the notify can reach the consumer before it actually sleeps, which a sticky
     * sleep turns into an immediate return (the wait tests run that path). */
    CHECK(spsc_ring_prepare_sleep(&r.c));
    CHECK_EQ(produce_seq(&r.p, 6, 1), 1);
    CHECK(spsc_ring_needs_notify(&r.p));
    CHECK_EQ(r.p.stats.notifies, 2);
    pair_free(&r);
}

TEST(recheck_catches_message_published_before_announcing)
{
    struct pair r;
    CHECK_EQ(pair_new(&r, 8), 0);
    CHECK_EQ(spsc_ring_peek(&r.c, 1), 0); /* the consumer looked: empty */
    CHECK_EQ(produce_seq(&r.p, 0, 1), 1);  /* then a message, and no announcement yet */
    CHECK(!spsc_ring_needs_notify(&r.p));
    CHECK(!spsc_ring_prepare_sleep(&r.c)); /* the re-check after announcing sees it */
    CHECK_EQ(r.hdr->cons_sleeping, 0);     /* and the announcement is withdrawn */
    CHECK_EQ(produce_seq(&r.p, 1, 1), 1);
    CHECK(!spsc_ring_needs_notify(&r.p));
    CHECK_EQ(spsc_ring_peek(&r.c, 8), 2);
    pair_free(&r);
}

TEST(full_ring_handshake)
{
    struct pair r;
    uint64_t seq = 0;
    CHECK_EQ(pair_new(&r, 4), 0);
    CHECK_EQ(produce_seq(&r.p, 0, 4), 4);
    CHECK(spsc_ring_prepare_sleep_full(&r.p));
    CHECK_EQ(r.hdr->prod_sleeping, 1);
    CHECK_EQ(consume_seq(&r.c, &seq, 1), 1);
    CHECK(spsc_ring_space_needs_notify(&r.c));
    CHECK_EQ(consume_seq(&r.c, &seq, 1), 1);
    CHECK(!spsc_ring_space_needs_notify(&r.c));
    CHECK_EQ(r.c.stats.notifies, 1);
    spsc_ring_cancel_sleep_full(&r.p);
    CHECK_EQ(produce_seq(&r.p, 4, 4), 2);
    CHECK_EQ(consume_seq(&r.c, &seq, 1), 1); /* space freed before the producer announces */
    CHECK(!spsc_ring_space_needs_notify(&r.c));
    CHECK(!spsc_ring_prepare_sleep_full(&r.p)); /* its re-check sees it */
    CHECK_EQ(r.hdr->prod_sleeping, 0);
    pair_free(&r);
}

TEST(wait_readable_sleeps_until_notified)
{
    struct pair r;
    struct script s = {.r = &r};
    struct spsc_waiter w = {.sleep = producer_runs_while_asleep, .notify = count_notify,
                            .ctx = &s, .spin = 3};
    CHECK_EQ(pair_new(&r, 8), 0);
    CHECK_EQ(spsc_ring_wait_readable(&r.c, &w), 1);
    CHECK(!s.bad);
    CHECK_EQ(s.sleeps, 1);
    CHECK_EQ(r.c.stats.sleeps, 1);
    CHECK_EQ(r.p.stats.notifies, 1);
    CHECK_EQ(r.hdr->cons_sleeping, 0);
    CHECK_EQ(spsc_ring_wait_readable(&r.c, &w), 1); /* a message waits: no sleep */
    CHECK_EQ(s.sleeps, 1);
    pair_free(&r);
}

TEST(send_notifies_before_waiting_for_space)
{
    struct pair r;
    struct script s = {.r = &r};
    struct spsc_waiter w = {.sleep = consumer_drains_while_asleep, .notify = count_notify,
                            .ctx = &s, .spin = 2};
    struct spsc_msg msgs[20];
    for (uint64_t i = 0; i < 20; i++)
        msg_fill(&msgs[i], i);
    CHECK_EQ(pair_new(&r, 4), 0);
    /* The consumer is asleep: unless the first batch notifies it before the producer waits for
     * space, both sleep for ever. */
    CHECK(spsc_ring_prepare_sleep(&r.c));
    CHECK_EQ(spsc_ring_send(&r.p, msgs, 20, &w), 0);
    CHECK(!s.bad);
    CHECK_EQ(s.notifies, 1);
    CHECK_EQ(r.p.stats.notifies, 1);
    /* 4 slots: full after 4, 8, 12 and 16 messages, each time drained by the sleeping script. */
    CHECK_EQ(s.sleeps, 4);
    CHECK_EQ(r.p.stats.sleeps, 4);
    CHECK_EQ(r.c.stats.notifies, 4);
    while (s.received < 20)
        CHECK(consume_seq(&r.c, &s.received, 64) > 0);
    pair_free(&r);
}

TEST(recv_wakes_producer_waiting_for_space)
{
    struct pair r;
    struct script s = {.r = &r};
    struct spsc_waiter w = {.sleep = sleep_fails, .notify = count_notify, .ctx = &s};
    struct spsc_msg got[2];
    CHECK_EQ(pair_new(&r, 4), 0);
    CHECK_EQ(produce_seq(&r.p, 0, 4), 4);
    CHECK(spsc_ring_prepare_sleep_full(&r.p));
    CHECK_EQ(spsc_ring_recv(&r.c, got, 2, &w), 2);
    CHECK(msg_ok(&got[0], 0) && msg_ok(&got[1], 1));
    CHECK_EQ(s.notifies, 1);
    CHECK_EQ(spsc_ring_recv(&r.c, got, 2, &w), 2);
    CHECK_EQ(s.notifies, 1); /* the announcement was taken by the first */
    CHECK_EQ(spsc_ring_recv(&r.c, got, 0, &w), 0);
    CHECK_EQ(s.sleeps, 0);
    pair_free(&r);
}

TEST(sleep_error_ends_the_wait)
{
    struct pair r;
    struct script s = {.r = &r};
    struct spsc_waiter w = {.sleep = sleep_fails, .notify = count_notify, .ctx = &s, .spin = 5};
    struct spsc_msg m;
    msg_fill(&m, 0);
    CHECK_EQ(pair_new(&r, 4), 0);
    CHECK_EQ(spsc_ring_wait_readable(&r.c, &w), ERR_BUSY);
    CHECK_EQ(r.hdr->cons_sleeping, 0);
    CHECK_EQ(spsc_ring_recv(&r.c, &m, 1, &w), ERR_BUSY);
    CHECK_EQ(produce_seq(&r.p, 0, 4), 4);
    CHECK_EQ(spsc_ring_wait_writable(&r.p, &w), ERR_BUSY);
    CHECK_EQ(r.hdr->prod_sleeping, 0);
    CHECK_EQ(spsc_ring_send(&r.p, &m, 1, &w), ERR_BUSY);
    CHECK_EQ(s.sleeps, 4);
    CHECK_EQ(r.c.stats.sleeps + r.p.stats.sleeps, 4);
    CHECK_EQ(s.notifies, 0);
    pair_free(&r);
}
