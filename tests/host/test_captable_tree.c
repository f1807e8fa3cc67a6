/* Host tests for kernel/cap/captable.c across tables: derive (rights, badges), transfer (grant,
 * copy, move), delete in the middle of a tree, and revoke of trees several levels deep spread
 * over three tables, including deep and wide trees that would overflow a recursive walk. */
#include "captable_fixture.h"

struct world {
    struct tbl a, b, c;
    struct obj ep;
    struct cap_object *dead;
};

static int world_init(struct world *w, uint32_t nslots)
{
    obj_init(&w->ep, CAP_TYPE_ENDPOINT);
    w->dead = NULL;
    int err = tbl_init(&w->a, nslots);
    if (!err)
        err = tbl_init(&w->b, nslots);
    return err ? err : tbl_init(&w->c, nslots);
}

static bool world_ok(const struct world *w)
{
    uint32_t caps = w->a.t.live + w->b.t.live + w->c.t.live;
    return cap_table_check(&w->a.t) == 0 && cap_table_check(&w->b.t) == 0 &&
           cap_table_check(&w->c.t) == 0 && w->ep.hdr.refs == caps;
}

static void world_fini(struct world *w)
{
    tbl_fini(&w->a);
    tbl_fini(&w->b);
    tbl_fini(&w->c);
}

TEST(cap_derive_rights_and_badges)
{
    struct world w;
    CHECK_EQ(world_init(&w, 16), 0);
    const unsigned sg = CAP_RIGHT_SEND | CAP_RIGHT_GRANT;
    cap_handle_t root, d, e, f, h = 0;
    const struct cap_slot *s;
    CHECK_EQ(cap_insert(&w.a.t, &w.ep.hdr, sg | CAP_RIGHT_RECEIVE, 0, &root), 0);

    CHECK_EQ(cap_derive(&w.a.t, root, &w.b.t, sg | CAP_RIGHT_MANAGE, 0, &h), ERR_PERM);
    CHECK_EQ(cap_derive(&w.a.t, root, &w.b.t, CAP_RIGHTS_ALL + 1, 0, &h), ERR_INVAL);
    CHECK_EQ(cap_derive(&w.a.t, 0, &w.b.t, CAP_RIGHT_SEND, 0, &h), ERR_BADF);
    CHECK_EQ(cap_derive(&w.a.t, root + 1, &w.b.t, CAP_RIGHT_SEND, 0, &h), ERR_STALE);
    CHECK_EQ(h, 0);
    CHECK_EQ(w.b.t.live, 0);

    /* Equal rights are a subset; an unbadged source takes a badge once, copies inherit it. */
    CHECK_EQ(cap_derive(&w.a.t, root, &w.b.t, sg | CAP_RIGHT_RECEIVE, 0, &d), 0);
    CHECK_EQ(cap_derive(&w.b.t, d, &w.c.t, sg, 0xB0B, &e), 0);
    CHECK_EQ(cap_lookup(&w.c.t, e, CAP_TYPE_ENDPOINT, sg, &s), 0);
    CHECK_EQ(s->badge, 0xB0B);
    CHECK(s->parent == slot_of(&w.b, d));
    CHECK_EQ(cap_derive(&w.c.t, e, &w.c.t, CAP_RIGHT_SEND, 99, &h), ERR_ALREADY);
    CHECK_EQ(cap_derive(&w.c.t, e, &w.c.t, CAP_RIGHT_RECEIVE, 0, &h), ERR_PERM);
    CHECK_EQ(cap_derive(&w.c.t, e, &w.a.t, CAP_RIGHT_SEND, 0, &f), 0);
    CHECK_EQ(cap_lookup(&w.a.t, f, CAP_TYPE_ENDPOINT, CAP_RIGHT_SEND, &s), 0);
    CHECK_EQ(s->badge, 0xB0B);
    CHECK_EQ(cap_lookup(&w.a.t, f, CAP_TYPE_ENDPOINT, CAP_RIGHT_GRANT, &s), ERR_PERM);
    CHECK_EQ(cap_derive(&w.a.t, f, &w.a.t, 0, 0, &h), 0); /* down to no rights at all */
    CHECK_EQ(cap_derive(&w.a.t, h, &w.a.t, CAP_RIGHT_SEND, 0, &h), ERR_PERM);
    CHECK(world_ok(&w));

    /* The destination's quota is checked before anything changes. */
    struct tbl tiny;
    CHECK_EQ(tbl_init(&tiny, 1), 0);
    CHECK_EQ(cap_derive(&w.a.t, root, &tiny.t, CAP_RIGHT_SEND, 0, &h), 0);
    uint32_t refs = w.ep.hdr.refs;
    CHECK_EQ(cap_derive(&w.a.t, root, &tiny.t, CAP_RIGHT_SEND, 0, &h), ERR_NOSPC);
    CHECK_EQ(w.ep.hdr.refs, refs);
    CHECK_EQ(cap_revoke(&w.a.t, root), 5);
    CHECK_EQ(tiny.t.live, 0);
    w.ep.hdr.refs = CAP_REFS_MAX;
    CHECK_EQ(cap_derive(&w.a.t, root, &w.b.t, CAP_RIGHT_SEND, 0, &h), ERR_RANGE);
    w.ep.hdr.refs = 1;
    CHECK(world_ok(&w));
    tbl_fini(&tiny);
    world_fini(&w);
}

TEST(cap_transfer_needs_grant)
{
    struct world w;
    CHECK_EQ(world_init(&w, 8), 0);
    cap_handle_t x, h = 0;
    CHECK_EQ(cap_insert(&w.a.t, &w.ep.hdr, CAP_RIGHT_SEND, 5, &x), 0);
    const unsigned no_grant = CAP_RIGHTS_ALL & ~CAP_RIGHT_GRANT;
    CHECK_EQ(cap_transfer(&w.a.t, x, no_grant, &w.b.t, CAP_XFER_COPY, &h), ERR_PERM);
    CHECK_EQ(cap_transfer(&w.a.t, x, 0, &w.b.t, CAP_XFER_MOVE, &h), ERR_PERM);
    CHECK_EQ(cap_transfer(&w.a.t, 0, no_grant, &w.b.t, CAP_XFER_MOVE, &h), ERR_PERM);
    CHECK_EQ(cap_transfer(&w.a.t, 0, CAP_RIGHT_GRANT, &w.b.t, CAP_XFER_MOVE, &h), ERR_BADF);
    CHECK_EQ(cap_transfer(&w.a.t, x, CAP_RIGHT_GRANT, &w.b.t, (enum cap_xfer)2, &h), ERR_INVAL);
    CHECK_EQ(h, 0);
    CHECK_EQ(live(&w.a, x), 0);
    CHECK_EQ(w.b.t.live, 0);
    CHECK_EQ(w.ep.hdr.refs, 1);

    /* The transferred capability itself needs no right: grant is the carrier's. */
    CHECK_EQ(cap_transfer(&w.a.t, x, CAP_RIGHT_GRANT, &w.b.t, CAP_XFER_COPY, &h), 0);
    const struct cap_slot *s;
    CHECK_EQ(cap_lookup(&w.b.t, h, CAP_TYPE_ENDPOINT, CAP_RIGHT_SEND, &s), 0);
    CHECK_EQ(s->badge, 5);
    CHECK(s->parent == slot_of(&w.a, x));
    CHECK(world_ok(&w));

    struct tbl full;
    CHECK_EQ(tbl_init(&full, 1), 0);
    CHECK_EQ(cap_transfer(&w.a.t, x, CAP_RIGHT_GRANT, &full.t, CAP_XFER_MOVE, &h), 0);
    CHECK_EQ(cap_transfer(&w.b.t, s->handle, CAP_RIGHT_GRANT, &full.t, CAP_XFER_MOVE, &h),
             ERR_NOSPC);
    CHECK_EQ(cap_transfer(&w.b.t, s->handle, CAP_RIGHT_GRANT, &full.t, CAP_XFER_COPY, &h),
             ERR_NOSPC);
    CHECK_EQ(live(&w.b, s->handle), 0);
    CHECK(s->parent == &full.slots[0]);
    CHECK_EQ(w.a.t.live, 0);
    CHECK_EQ(w.ep.hdr.refs, 2);
    CHECK_EQ(cap_table_check(&full.t), 0);
    CHECK(world_ok(&w) == false); /* refs counts the capability in `full` too */
    tbl_fini(&full);
    world_fini(&w);
}

/* A moved capability keeps its place: its parent can still revoke it, it can still revoke its
 * children, and the handle it had in the sender's table is stale. */
TEST(cap_transfer_move_keeps_tree)
{
    struct world w;
    CHECK_EQ(world_init(&w, 8), 0);
    cap_handle_t root, mid, kid1, kid2, moved, back;
    CHECK_EQ(cap_insert(&w.a.t, &w.ep.hdr, CAP_RIGHTS_ALL, 0, &root), 0);
    CHECK_EQ(cap_derive(&w.a.t, root, &w.a.t, CAP_RIGHT_SEND | CAP_RIGHT_GRANT, 0, &mid), 0);
    CHECK_EQ(cap_derive(&w.a.t, mid, &w.c.t, CAP_RIGHT_SEND, 1, &kid1), 0);
    CHECK_EQ(cap_derive(&w.a.t, mid, &w.c.t, CAP_RIGHT_SEND, 2, &kid2), 0);
    CHECK_EQ(cap_transfer(&w.a.t, mid, CAP_RIGHT_GRANT, &w.b.t, CAP_XFER_MOVE, &moved), 0);
    CHECK_EQ(live(&w.a, mid), ERR_STALE);
    CHECK_EQ(w.ep.hdr.refs, 4);
    const struct cap_slot *s;
    CHECK_EQ(cap_lookup(&w.b.t, moved, CAP_TYPE_ENDPOINT, CAP_RIGHT_SEND | CAP_RIGHT_GRANT, &s),
             0);
    CHECK(s->parent == slot_of(&w.a, root));
    CHECK(slot_of(&w.c, kid1)->parent == s && slot_of(&w.c, kid2)->parent == s);
    CHECK(world_ok(&w));

    /* Moving back into the first table, then revoking from either end. */
    CHECK_EQ(cap_transfer(&w.b.t, moved, CAP_RIGHT_GRANT, &w.a.t, CAP_XFER_MOVE, &back), 0);
    CHECK(back != mid);
    CHECK_EQ(live(&w.b, moved), ERR_STALE);
    CHECK_EQ(cap_revoke(&w.a.t, back), 2);
    CHECK_EQ(live(&w.c, kid1), ERR_STALE);
    CHECK_EQ(live(&w.c, kid2), ERR_STALE);
    CHECK_EQ(cap_revoke(&w.a.t, root), 1);
    CHECK_EQ(live(&w.a, back), ERR_STALE);
    CHECK_EQ(live(&w.a, root), 0);
    CHECK(world_ok(&w));
    CHECK(w.dead == NULL);
    world_fini(&w);
}

/* root(A) -+- x1(B) -+- y1(C) --- z1(A) --- q1(B)
 *          |         +- y2(A) --- z2(C)
 *          |         +- y3(B)
 *          +- x2(C) --- w1(B)
 *          +- x3(A)
 * Revoking y1 kills z1 and q1 only; revoking x1 kills its subtree but not x2, w1, x3. */
TEST(cap_revoke_three_tables)
{
    struct world w;
    CHECK_EQ(world_init(&w, 16), 0);
    const unsigned r = CAP_RIGHT_SEND | CAP_RIGHT_RECEIVE | CAP_RIGHT_GRANT;
    cap_handle_t root, x1, x2, x3, y1, y2, y3, z1, z2, q1, w1;
    CHECK_EQ(cap_insert(&w.a.t, &w.ep.hdr, CAP_RIGHTS_ALL, 0, &root), 0);
    CHECK_EQ(cap_derive(&w.a.t, root, &w.b.t, r, 0, &x1), 0);
    CHECK_EQ(cap_derive(&w.a.t, root, &w.c.t, r, 0, &x2), 0);
    CHECK_EQ(cap_derive(&w.a.t, root, &w.a.t, r, 0, &x3), 0);
    CHECK_EQ(cap_derive(&w.b.t, x1, &w.c.t, r, 1, &y1), 0);
    CHECK_EQ(cap_derive(&w.b.t, x1, &w.a.t, r, 2, &y2), 0);
    CHECK_EQ(cap_transfer(&w.b.t, x1, CAP_RIGHT_GRANT, &w.b.t, CAP_XFER_COPY, &y3), 0);
    CHECK_EQ(cap_derive(&w.c.t, y1, &w.a.t, CAP_RIGHT_SEND, 0, &z1), 0);
    CHECK_EQ(cap_derive(&w.a.t, y2, &w.c.t, CAP_RIGHT_SEND, 0, &z2), 0);
    CHECK_EQ(cap_derive(&w.a.t, z1, &w.b.t, 0, 0, &q1), 0);
    CHECK_EQ(cap_derive(&w.c.t, x2, &w.b.t, CAP_RIGHT_SEND, 0, &w1), 0);
    CHECK_EQ(w.ep.hdr.refs, 11);
    CHECK(world_ok(&w));

    CHECK_EQ(cap_revoke(&w.c.t, y1), 2);
    CHECK_EQ(live(&w.a, z1), ERR_STALE);
    CHECK_EQ(live(&w.b, q1), ERR_STALE);
    CHECK_EQ(live(&w.c, y1), 0);
    CHECK(slot_of(&w.c, y1)->first_child == NULL);
    CHECK_EQ(cap_revoke(&w.c.t, y1), 0);
    CHECK(world_ok(&w));

    CHECK_EQ(cap_revoke(&w.b.t, x1), 4);
    const cap_handle_t gone[] = {y1, z2, y3};
    const struct tbl *gone_in[] = {&w.c, &w.c, &w.b};
    for (int i = 0; i < 3; i++)
        CHECK_EQ(live(gone_in[i], gone[i]), ERR_STALE);
    CHECK_EQ(live(&w.a, y2), ERR_STALE);
    CHECK_EQ(live(&w.b, x1), 0);
    CHECK_EQ(live(&w.c, x2), 0);
    CHECK_EQ(live(&w.b, w1), 0);
    CHECK_EQ(live(&w.a, x3), 0);
    CHECK_EQ(w.ep.hdr.refs, 5);
    CHECK(world_ok(&w));

    /* Revoking the root leaves only the root; a revoked handle stays stale after reuse. */
    CHECK_EQ(cap_revoke(&w.a.t, root), 4);
    CHECK_EQ(w.ep.hdr.refs, 1);
    for (int i = 0; i <= 16; i++)
        CHECK_EQ(cap_derive(&w.a.t, root, &w.b.t, r, 0, &y1), i < 16 ? 0 : ERR_NOSPC);
    CHECK_EQ(live(&w.b, x1), ERR_STALE);
    CHECK(world_ok(&w));
    CHECK(w.dead == NULL);
    world_fini(&w);
}

/* Deleting an inner node hands its children to its parent; deleting a root leaves them as
 * independent roots. Either way nothing derived from a deleted copy dies with it. */
TEST(cap_delete_reparents)
{
    struct world w;
    CHECK_EQ(world_init(&w, 16), 0);
    cap_handle_t root, mid, l1, l2, l3, g, sib;
    CHECK_EQ(cap_insert(&w.a.t, &w.ep.hdr, CAP_RIGHTS_ALL, 0, &root), 0);
    CHECK_EQ(cap_derive(&w.a.t, root, &w.a.t, CAP_RIGHTS_ALL, 0, &sib), 0);
    CHECK_EQ(cap_derive(&w.a.t, root, &w.b.t, CAP_RIGHTS_ALL, 0, &mid), 0);
    CHECK_EQ(cap_derive(&w.b.t, mid, &w.c.t, CAP_RIGHT_SEND, 0, &l1), 0);
    CHECK_EQ(cap_derive(&w.b.t, mid, &w.c.t, CAP_RIGHT_SEND, 0, &l2), 0);
    CHECK_EQ(cap_derive(&w.b.t, mid, &w.a.t, CAP_RIGHT_SEND, 0, &l3), 0);
    CHECK_EQ(cap_derive(&w.c.t, l2, &w.b.t, CAP_RIGHT_SEND, 0, &g), 0);

    CHECK_EQ(cap_delete(&w.b.t, mid, &w.dead), 0);
    CHECK_EQ(live(&w.c, l1), 0);
    CHECK(slot_of(&w.c, l1)->parent == slot_of(&w.a, root));
    CHECK(slot_of(&w.a, l3)->parent == slot_of(&w.a, root));
    CHECK(slot_of(&w.b, g)->parent == slot_of(&w.c, l2));
    CHECK(world_ok(&w));

    CHECK_EQ(cap_delete(&w.a.t, root, &w.dead), 0);
    CHECK(slot_of(&w.c, l1)->parent == NULL && slot_of(&w.a, sib)->parent == NULL);
    CHECK(world_ok(&w));
    CHECK_EQ(cap_revoke(&w.c.t, l2), 1);
    CHECK_EQ(live(&w.c, l1), 0);
    CHECK_EQ(live(&w.a, sib), 0);
    CHECK(w.dead == NULL);

    /* Parentless siblings unlink cleanly, in every order. */
    CHECK_EQ(cap_delete(&w.c.t, l2, &w.dead), 0);
    CHECK_EQ(cap_delete(&w.a.t, sib, &w.dead), 0);
    CHECK(world_ok(&w));
    CHECK_EQ(cap_delete(&w.a.t, l3, &w.dead), 0);
    /* l3 was the last capability that could receive: listed as closed, not dead. */
    CHECK_EQ(reap(&w.dead), 0);
    CHECK_EQ(w.ep.closes, 1);
    CHECK_EQ(cap_delete(&w.c.t, l1, &w.dead), 0);
    CHECK(w.dead == &w.ep.hdr);
    CHECK_EQ(reap(&w.dead), 1);
    CHECK_EQ(w.ep.deaths, 1);
    CHECK(world_ok(&w));
    world_fini(&w);
}

/* 60,000 levels, alternating tables, then 60,000 children of one node: a recursive walk would
 * overflow the stack; the iterative one is linear either way. */
TEST(cap_revoke_deep_and_wide)
{
    enum { N = 60000 };
    struct world w;
    CHECK_EQ(world_init(&w, N + 2), 0);
    struct tbl *t[3] = {&w.a, &w.b, &w.c};
    cap_handle_t root, h, mid;
    CHECK_EQ(cap_insert(&w.a.t, &w.ep.hdr, CAP_RIGHTS_ALL, 0, &root), 0);
    h = root;
    for (int i = 0; i < N; i++)
        CHECK_EQ(cap_derive(&t[i % 3]->t, h, &t[(i + 1) % 3]->t, CAP_RIGHTS_ALL, 0, &h), 0);
    CHECK(world_ok(&w));
    CHECK_EQ(cap_revoke(&w.a.t, root), N);
    CHECK_EQ(w.ep.hdr.refs, 1);
    CHECK(world_ok(&w));

    CHECK_EQ(cap_derive(&w.a.t, root, &w.b.t, CAP_RIGHTS_ALL, 0, &mid), 0);
    for (int i = 0; i < N; i++)
        CHECK_EQ(cap_derive(&w.b.t, mid, &t[i % 3]->t, CAP_RIGHT_READ, 0, &h), 0);
    CHECK_EQ(cap_revoke(&w.b.t, mid), N);
    CHECK_EQ(live(&w.b, mid), 0);
    CHECK_EQ(cap_revoke(&w.a.t, root), 1);
    CHECK_EQ(w.ep.hdr.refs, 1);
    CHECK(world_ok(&w));
    CHECK(w.dead == NULL);
    world_fini(&w);
}
