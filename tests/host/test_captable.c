/* Host tests for kernel/cap/captable.c, single table: handle format, every lookup error, insert
 * and delete, quotas, generations (reuse and wrap-around retirement) and object lifetime.
 * Derivation trees are in test_captable_tree.c, the randomized model in test_captable_model.c. */
#include "captable_fixture.h"

TEST(cap_error_names)
{
    CHECK_STR(err_name(ERR_BADF), "ERR_BADF");
    CHECK_STR(err_name(ERR_TYPE), "ERR_TYPE");
    CHECK_STR(err_name(ERR_STALE), "ERR_STALE");
    CHECK(ERR_BADF != ERR_STALE && ERR_STALE != ERR_TYPE && ERR_TYPE != ERR_PERM);
}

TEST(cap_init_errors)
{
    struct cap_table t;
    struct cap_slot one;
    CHECK_EQ(cap_table_init(&t, NULL, 1), ERR_INVAL);
    CHECK_EQ(cap_table_init(&t, &one, 0), ERR_INVAL);
    CHECK_EQ(cap_table_init(NULL, &one, 1), ERR_INVAL);
    CHECK_EQ(cap_table_init(&t, &one, CAP_MAX_SLOTS + 1), ERR_INVAL);
    CHECK_EQ(cap_table_init(&t, &one, 1), 0);
    CHECK_EQ(cap_table_check(&t), 0);

    /* The largest table: its last index with the last generation is handle 0xFFFFFFFF. */
    struct tbl x;
    struct obj o;
    obj_init(&o, CAP_TYPE_MEMORY);
    CHECK_EQ(tbl_init(&x, CAP_MAX_SLOTS), 0);
    cap_handle_t h = 0;
    for (uint32_t i = 0; i < CAP_MAX_SLOTS; i++)
        CHECK_EQ(cap_insert(&x.t, &o.hdr, CAP_RIGHT_READ, 0, &h), 0);
    CHECK_EQ(cap_handle_index(h), CAP_MAX_SLOTS - 1);
    CHECK_EQ(cap_insert(&x.t, &o.hdr, CAP_RIGHT_READ, 0, &h), ERR_NOSPC);
    CHECK_EQ(o.hdr.refs, CAP_MAX_SLOTS);
    CHECK_EQ(cap_table_check(&x.t), 0);
    x.slots[CAP_MAX_SLOTS - 1].gen = CAP_GEN_MAX; /* as if churned that far */
    x.slots[CAP_MAX_SLOTS - 1].handle = 0xFFFFFFFFu;
    CHECK_EQ(live(&x, 0xFFFFFFFFu), 0);
    tbl_fini(&x);
}

TEST(cap_handle_format)
{
    struct tbl x;
    struct obj o;
    obj_init(&o, CAP_TYPE_ENDPOINT);
    CHECK_EQ(tbl_init(&x, 4), 0);
    cap_handle_t h[4];
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(cap_insert(&x.t, &o.hdr, CAP_RIGHT_SEND, 0, &h[i]), 0);
        CHECK(h[i] != 0);
        CHECK_EQ(cap_handle_index(h[i]), i);
        CHECK_EQ(cap_handle_gen(h[i]), 1);
        CHECK(h[i] > 0xFFFF); /* no small integer is a capability */
    }
    CHECK_EQ(x.t.live, 4);
    CHECK_EQ(cap_table_check(&x.t), 0);
    tbl_fini(&x);
}

TEST(cap_lookup_errors)
{
    struct tbl x;
    struct obj ep, mem;
    obj_init(&ep, CAP_TYPE_ENDPOINT);
    obj_init(&mem, CAP_TYPE_MEMORY);
    CHECK_EQ(tbl_init(&x, 8), 0);
    cap_handle_t a, b;
    CHECK_EQ(cap_insert(&x.t, &ep.hdr, CAP_RIGHT_SEND | CAP_RIGHT_GRANT, 42, &a), 0);
    CHECK_EQ(cap_insert(&x.t, &mem.hdr, CAP_RIGHTS_ALL, 0, &b), 0);

    const struct cap_slot *s = NULL;
    CHECK_EQ(cap_lookup(&x.t, a, CAP_TYPE_ENDPOINT, CAP_RIGHT_SEND, &s), 0);
    CHECK(s->obj == &ep.hdr);
    CHECK_EQ(s->badge, 42);
    CHECK_EQ(s->rights, CAP_RIGHT_SEND | CAP_RIGHT_GRANT);
    CHECK_EQ(s->type, CAP_TYPE_ENDPOINT);
    CHECK_EQ(cap_lookup(&x.t, a, CAP_TYPE_ANY, 0, &s), 0);
    CHECK_EQ(cap_lookup(&x.t, b, CAP_TYPE_MEMORY, CAP_RIGHTS_ALL, &s), 0);
    CHECK(s->obj == &mem.hdr);

    /* Forged: zero, generation 0 with a good index, index past the table, never-used slot. */
    s = NULL;
    CHECK_EQ(cap_lookup(&x.t, 0, CAP_TYPE_ANY, 0, &s), ERR_BADF);
    CHECK_EQ(cap_lookup(&x.t, cap_handle_index(a), CAP_TYPE_ANY, 0, &s), ERR_BADF);
    CHECK_EQ(cap_lookup(&x.t, (1u << CAP_INDEX_BITS) | 8, CAP_TYPE_ANY, 0, &s), ERR_BADF);
    CHECK_EQ(cap_lookup(&x.t, 0xFFFFFFFFu, CAP_TYPE_ANY, 0, &s), ERR_BADF);
    CHECK_EQ(cap_lookup(&x.t, (1u << CAP_INDEX_BITS) | 5, CAP_TYPE_ANY, 0, &s), ERR_STALE);
    CHECK_EQ(cap_lookup(&x.t, a + (1u << CAP_INDEX_BITS), CAP_TYPE_ANY, 0, &s), ERR_STALE);
    CHECK(s == NULL);

    /* Wrong type is reported before missing rights; every right is required. */
    CHECK_EQ(cap_lookup(&x.t, a, CAP_TYPE_MEMORY, CAP_RIGHT_WRITE, &s), ERR_TYPE);
    CHECK_EQ(cap_lookup(&x.t, b, CAP_TYPE_THREAD, 0, &s), ERR_TYPE);
    CHECK_EQ(cap_lookup(&x.t, a, CAP_TYPE_ENDPOINT, CAP_RIGHT_RECEIVE, &s), ERR_PERM);
    CHECK_EQ(cap_lookup(&x.t, a, CAP_TYPE_ENDPOINT, CAP_RIGHT_SEND | CAP_RIGHT_RECEIVE, &s),
             ERR_PERM);
    CHECK_EQ(cap_lookup(&x.t, b, CAP_TYPE_ANY, 0x100, &s), ERR_PERM);
    CHECK(s == NULL);

    /* Freed slot: stale, as is the handle after the slot is reused. */
    struct cap_object *dead = NULL;
    CHECK_EQ(cap_delete(&x.t, a, &dead), 0);
    CHECK_EQ(cap_lookup(&x.t, a, CAP_TYPE_ENDPOINT, 0, &s), ERR_STALE);
    CHECK_EQ(cap_delete(&x.t, a, &dead), ERR_STALE);
    CHECK_EQ(cap_delete(&x.t, 0, &dead), ERR_BADF); /* on the now empty slot 0 */
    for (uint32_t i = 0; i < 8; i += 5) {           /* freed and never used */
        CHECK_EQ(live(&x, i), ERR_BADF);
        CHECK_EQ(live(&x, x.slots[i].handle), ERR_BADF);
    }
    CHECK_EQ(reap(&dead), 1);
    CHECK_EQ(ep.deaths, 1);
    CHECK_EQ(cap_table_check(&x.t), 0);
    tbl_fini(&x);
}

TEST(cap_insert_errors)
{
    struct tbl x;
    struct obj o, untyped, badtype;
    obj_init(&o, CAP_TYPE_IRQ);
    obj_init(&untyped, CAP_TYPE_ANY);
    obj_init(&badtype, CAP_TYPE_COUNT);
    CHECK_EQ(tbl_init(&x, 2), 0);
    cap_handle_t h = 7;
    CHECK_EQ(cap_insert(&x.t, NULL, 0, 0, &h), ERR_INVAL);
    CHECK_EQ(cap_insert(&x.t, &untyped.hdr, 0, 0, &h), ERR_INVAL);
    CHECK_EQ(cap_insert(&x.t, &badtype.hdr, 0, 0, &h), ERR_INVAL);
    CHECK_EQ(cap_insert(&x.t, &o.hdr, CAP_RIGHTS_ALL + 1, 0, &h), ERR_INVAL);
    o.hdr.refs = CAP_REFS_MAX;
    CHECK_EQ(cap_insert(&x.t, &o.hdr, 0, 0, &h), ERR_RANGE);
    CHECK_EQ(o.hdr.refs, CAP_REFS_MAX);
    o.hdr.refs = 0;
    CHECK_EQ(h, 7);
    CHECK_EQ(x.t.live, 0);
    CHECK_EQ(cap_table_check(&x.t), 0);
    CHECK_EQ(cap_insert(&x.t, &o.hdr, 0, 0, &h), 0); /* no rights at all is still a capability */
    CHECK_EQ(live(&x, h), 0);
    tbl_fini(&x);
}

TEST(cap_table_full)
{
    enum { N = 100 };
    struct tbl x;
    struct obj o[N + 1];
    cap_handle_t h[N + 1];
    CHECK_EQ(tbl_init(&x, N), 0);
    for (int i = 0; i <= N; i++)
        obj_init(&o[i], CAP_TYPE_NOTIFICATION);
    for (int i = 0; i < N; i++)
        CHECK_EQ(cap_insert(&x.t, &o[i].hdr, CAP_RIGHT_SEND, (uint64_t)i, &h[i]), 0);
    CHECK_EQ(cap_insert(&x.t, &o[N].hdr, CAP_RIGHT_SEND, 0, &h[N]), ERR_NOSPC);
    CHECK_EQ(o[N].hdr.refs, 0);
    CHECK_EQ(x.t.live, N);
    CHECK_EQ(cap_table_check(&x.t), 0);

    /* One delete makes room for exactly one capability, in the freed slot. */
    struct cap_object *dead = NULL;
    CHECK_EQ(cap_delete(&x.t, h[37], &dead), 0);
    CHECK_EQ(reap(&dead), 1);
    CHECK_EQ(cap_insert(&x.t, &o[N].hdr, CAP_RIGHT_SEND, 0, &h[N]), 0);
    CHECK_EQ(cap_handle_index(h[N]), 37);
    CHECK_EQ(cap_handle_gen(h[N]), 2);
    CHECK_EQ(cap_insert(&x.t, &o[N].hdr, CAP_RIGHT_SEND, 0, &h[N]), ERR_NOSPC);
    for (int i = 0; i < N; i++)
        CHECK_EQ(live(&x, h[i]), i == 37 ? ERR_STALE : 0);
    CHECK_EQ(cap_table_check(&x.t), 0);
    tbl_fini(&x);
}

TEST(cap_free_list_reuse)
{
    struct tbl x;
    struct obj o;
    obj_init(&o, CAP_TYPE_THREAD);
    CHECK_EQ(tbl_init(&x, 4), 0);
    cap_handle_t h[4], again;
    struct cap_object *dead = NULL;
    for (int i = 0; i < 4; i++)
        CHECK_EQ(cap_insert(&x.t, &o.hdr, CAP_RIGHT_MANAGE, 0, &h[i]), 0);
    CHECK_EQ(cap_delete(&x.t, h[2], &dead), 0);
    CHECK_EQ(cap_delete(&x.t, h[0], &dead), 0);
    CHECK(dead == NULL);

    /* Oldest free slot first, each with the next generation; the old handles stay stale. */
    CHECK_EQ(cap_insert(&x.t, &o.hdr, CAP_RIGHT_MANAGE, 0, &again), 0);
    CHECK_EQ(cap_handle_index(again), 2);
    CHECK_EQ(cap_handle_gen(again), 2);
    CHECK(again != h[2]);
    CHECK_EQ(live(&x, h[2]), ERR_STALE);
    CHECK_EQ(cap_insert(&x.t, &o.hdr, CAP_RIGHT_MANAGE, 0, &again), 0);
    CHECK_EQ(cap_handle_index(again), 0);
    CHECK_EQ(cap_handle_gen(again), 2);
    CHECK_EQ(live(&x, h[0]), ERR_STALE);
    CHECK_EQ(live(&x, again), 0);
    CHECK_EQ(o.hdr.refs, 4);
    CHECK_EQ(cap_table_check(&x.t), 0);
    tbl_fini(&x);
}

/* A slot is used for generations 1..CAP_GEN_MAX, then retired: wrapping to 1 would make the
 * first handle ever issued for it valid again. */
TEST(cap_generation_wrap_retires_slot)
{
    struct tbl x;
    struct obj o;
    obj_init(&o, CAP_TYPE_IOPORT);
    CHECK_EQ(tbl_init(&x, 2), 0);
    cap_handle_t first = 0, h = 0, other;
    struct cap_object *dead = NULL;
    CHECK_EQ(cap_insert(&x.t, &o.hdr, CAP_RIGHT_READ, 0, &other), 0); /* pins slot 0 */
    for (uint32_t gen = 1; gen <= CAP_GEN_MAX; gen++) {
        CHECK_EQ(cap_insert(&x.t, &o.hdr, CAP_RIGHT_READ, 0, &h), 0);
        CHECK_EQ(cap_handle_index(h), 1);
        CHECK_EQ(cap_handle_gen(h), gen);
        if (gen == 1)
            first = h;
        CHECK_EQ(cap_delete(&x.t, h, &dead), 0);
    }
    CHECK(dead == NULL);
    CHECK_EQ(x.t.retired, 1);
    CHECK_EQ(x.slots[1].gen, 0);
    CHECK_EQ(cap_table_check(&x.t), 0);
    CHECK_EQ(cap_insert(&x.t, &o.hdr, CAP_RIGHT_READ, 0, &h), ERR_NOSPC);
    CHECK_EQ(live(&x, first), ERR_STALE);
    CHECK_EQ(live(&x, h), ERR_STALE);
    CHECK_EQ(live(&x, (CAP_GEN_MAX << CAP_INDEX_BITS) | 1), ERR_STALE);
    CHECK_EQ(live(&x, 1), ERR_BADF);

    /* The retired slot stays out for good; the other slot still cycles. */
    CHECK_EQ(cap_delete(&x.t, other, &dead), 0);
    CHECK_EQ(reap(&dead), 1);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(cap_insert(&x.t, &o.hdr, CAP_RIGHT_READ, 0, &h), 0);
        CHECK_EQ(cap_handle_index(h), 0);
        CHECK_EQ(cap_insert(&x.t, &o.hdr, CAP_RIGHT_READ, 0, &other), ERR_NOSPC);
        CHECK_EQ(cap_delete(&x.t, h, &dead), 0);
        CHECK_EQ(reap(&dead), 1);
    }
    CHECK_EQ(o.deaths, 4);
    CHECK_EQ(cap_table_check(&x.t), 0);
    tbl_fini(&x);
}

TEST(cap_last_reference_once)
{
    struct tbl a, b;
    struct obj o, p;
    obj_init(&o, CAP_TYPE_ENDPOINT);
    obj_init(&p, CAP_TYPE_ASPACE);
    CHECK_EQ(tbl_init(&a, 8), 0);
    CHECK_EQ(tbl_init(&b, 8), 0);
    cap_handle_t r1, r2, d1, d2, pr;
    struct cap_object *dead = NULL;
    CHECK_EQ(cap_insert(&a.t, &o.hdr, CAP_RIGHTS_ALL, 0, &r1), 0);
    CHECK_EQ(cap_insert(&b.t, &o.hdr, CAP_RIGHT_SEND, 0, &r2), 0); /* a second root */
    CHECK_EQ(cap_derive(&a.t, r1, &b.t, CAP_RIGHT_SEND, 0, &d1), 0);
    CHECK_EQ(cap_derive(&b.t, d1, &a.t, CAP_RIGHT_SEND, 0, &d2), 0);
    CHECK_EQ(cap_insert(&a.t, &p.hdr, CAP_RIGHT_MAP, 0, &pr), 0);
    CHECK_EQ(o.hdr.refs, 4);

    /* r1 was the only capability that could receive: the object is listed, still alive, so
     * that the caller can close it. */
    CHECK_EQ(o.hdr.recv_refs, 1);
    CHECK_EQ(cap_delete(&a.t, r1, &dead), 0);
    CHECK(dead == &o.hdr && o.hdr.refs == 3 && o.hdr.recv_refs == 0);
    dead = NULL;
    o.hdr.listed = 0;
    CHECK_EQ(cap_delete(&b.t, r2, &dead), 0);
    CHECK_EQ(cap_delete(&b.t, d1, &dead), 0);
    CHECK(dead == NULL);
    CHECK_EQ(o.hdr.refs, 1);
    CHECK_EQ(cap_delete(&a.t, d2, &dead), 0);
    CHECK(dead == &o.hdr);
    CHECK_EQ(o.hdr.refs, 0);

    /* Deaths accumulate on one list, newest first. */
    CHECK_EQ(cap_delete(&a.t, pr, &dead), 0);
    CHECK(dead == &p.hdr && p.hdr.next_dead == &o.hdr);
    CHECK_EQ(reap(&dead), 2);
    CHECK_EQ(cap_delete(&a.t, d2, &dead), ERR_STALE);
    CHECK(dead == NULL);
    CHECK_EQ(o.deaths, 1);
    CHECK_EQ(p.deaths, 1);
    CHECK_EQ(a.t.live + b.t.live, 0);
    CHECK_EQ(cap_table_check(&a.t), 0);
    CHECK_EQ(cap_table_check(&b.t), 0);
    tbl_fini(&a);
    tbl_fini(&b);
}

/* The last SEND capability going lists the object too (a notification nothing can signal);
 * deriving SEND-less children does not count as a sender. */
TEST(cap_last_sender_lists_the_object)
{
    struct tbl a;
    struct obj o;
    obj_init(&o, CAP_TYPE_NOTIFICATION);
    CHECK_EQ(tbl_init(&a, 8), 0);
    cap_handle_t all, recv_only, send_only;
    struct cap_object *dead = NULL;
    CHECK_EQ(cap_insert(&a.t, &o.hdr, CAP_RIGHTS_ALL, 0, &all), 0);
    CHECK_EQ(cap_derive(&a.t, all, &a.t, CAP_RIGHT_RECEIVE, 0, &recv_only), 0);
    CHECK_EQ(cap_derive(&a.t, all, &a.t, CAP_RIGHT_SEND, 0, &send_only), 0);
    CHECK_EQ(o.hdr.send_refs, 2);
    CHECK_EQ(o.hdr.recv_refs, 2);

    /* Children move up to the root's parent (none): both survive the original's deletion. */
    CHECK_EQ(cap_delete(&a.t, all, &dead), 0);
    CHECK(dead == NULL);
    CHECK_EQ(o.hdr.send_refs, 1);
    CHECK_EQ(cap_delete(&a.t, send_only, &dead), 0);
    CHECK(dead == &o.hdr && o.hdr.refs == 1 && o.hdr.send_refs == 0 && o.hdr.recv_refs == 1);
    o.hdr.listed = 0;
    dead = NULL;
    CHECK_EQ(cap_delete(&a.t, recv_only, &dead), 0);
    CHECK(dead == &o.hdr && o.hdr.refs == 0);
    CHECK_EQ(cap_table_check(&a.t), 0);
    tbl_fini(&a);
}

TEST(cap_clear_table)
{
    struct tbl a, b;
    struct obj shared, own[3];
    obj_init(&shared, CAP_TYPE_MEMORY);
    CHECK_EQ(tbl_init(&a, 16), 0);
    CHECK_EQ(tbl_init(&b, 16), 0);
    cap_handle_t root, mid, leaf, h;
    struct cap_object *dead = NULL;
    CHECK_EQ(cap_insert(&a.t, &shared.hdr, CAP_RIGHTS_ALL, 0, &root), 0);
    CHECK_EQ(cap_derive(&a.t, root, &a.t, CAP_RIGHT_READ | CAP_RIGHT_MAP, 0, &mid), 0);
    CHECK_EQ(cap_derive(&a.t, mid, &b.t, CAP_RIGHT_READ, 7, &leaf), 0);
    for (int i = 0; i < 3; i++) {
        obj_init(&own[i], CAP_TYPE_THREAD);
        CHECK_EQ(cap_insert(&a.t, &own[i].hdr, CAP_RIGHT_MANAGE, 0, &h), 0);
        CHECK_EQ(cap_derive(&a.t, h, &a.t, 0, 0, &h), 0);
    }

    /* Process teardown: only objects with no capability left anywhere die. */
    cap_table_clear(&a.t, &dead);
    CHECK_EQ(a.t.live, 0);
    CHECK_EQ(reap(&dead), 3);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(own[i].deaths, 1);
    CHECK_EQ(shared.deaths, 0);
    CHECK_EQ(shared.hdr.refs, 1);
    CHECK_EQ(live(&b, leaf), 0);
    CHECK(slot_of(&b, leaf)->parent == NULL);
    CHECK_EQ(live(&a, root), ERR_STALE);
    CHECK_EQ(cap_table_check(&a.t), 0);
    CHECK_EQ(cap_table_check(&b.t), 0);
    cap_table_clear(&b.t, &dead);
    CHECK_EQ(reap(&dead), 1);
    CHECK_EQ(shared.deaths, 1);
    tbl_fini(&a);
    tbl_fini(&b);
}
