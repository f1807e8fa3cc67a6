#include "cap/captable.h"

#include <stdbool.h>
#include <stddef.h>

#include "lib/kstring.h"

static uint32_t slot_index(const struct cap_slot *s)
{
    return (uint32_t)(s - s->table->slots);
}

static cap_handle_t vacant(uint32_t idx)
{
    return idx ^ CAP_INDEX_MASK;
}

static bool is_live(const struct cap_slot *s)
{
    return s->obj != NULL;
}

static void free_push(struct cap_table *t, struct cap_slot *s)
{
    s->next_free = NULL;
    if (t->free_tail)
        t->free_tail->next_free = s;
    else
        t->free_head = s;
    t->free_tail = s;
}

int cap_table_init(struct cap_table *t, struct cap_slot *slots, uint32_t nslots)
{
    if (!t || !slots || nslots == 0 || nslots > CAP_MAX_SLOTS)
        return ERR_INVAL;
    memset(t, 0, sizeof(*t));
    t->slots = slots;
    t->nslots = nslots;
    for (uint32_t i = 0; i < nslots; i++) {
        memset(&slots[i], 0, sizeof(slots[i]));
        slots[i].handle = vacant(i);
        slots[i].table = t;
        slots[i].gen = 1;
        free_push(t, &slots[i]);
    }
    return 0;
}

/* cap_lookup for the mutating operations, which get the slot back writable. */
static int lookup(struct cap_table *t, cap_handle_t h, struct cap_slot **out)
{
    const struct cap_slot *s = NULL;
    int err = cap_lookup(t, h, CAP_TYPE_ANY, 0, &s);
    *out = (struct cap_slot *)s;
    return err;
}

/* Takes the oldest free slot, ready to link into the tree. The caller has checked that the
 * object can take another reference, and counts it. */
static struct cap_slot *slot_fill(struct cap_table *t, struct cap_object *obj, unsigned rights,
                                  uint64_t badge)
{
    struct cap_slot *s = t->free_head;
    t->free_head = s->next_free;
    if (!t->free_head)
        t->free_tail = NULL;
    s->handle = ((cap_handle_t)s->gen << CAP_INDEX_BITS) | slot_index(s);
    s->type = (uint8_t)obj->type;
    s->rights = (uint8_t)rights;
    s->badge = badge;
    s->obj = obj;
    s->parent = s->first_child = s->prev_sib = s->next_sib = NULL;
    obj->recv_refs += (rights & CAP_RIGHT_RECEIVE) != 0;
    obj->send_refs += (rights & CAP_RIGHT_SEND) != 0;
    t->live++;
    return s;
}

/* Empties a slot that is already out of the tree. The next generation is set now, so a stale
 * handle fails from this moment; a slot whose generations are used up is retired rather than
 * wrapped, because a wrapped generation would let a stale handle name a new capability. */
static void slot_release(struct cap_slot *s)
{
    struct cap_table *t = s->table;
    s->obj->recv_refs -= (s->rights & CAP_RIGHT_RECEIVE) != 0;
    s->obj->send_refs -= (s->rights & CAP_RIGHT_SEND) != 0;
    s->handle = vacant(slot_index(s));
    s->type = 0;
    s->rights = 0;
    s->badge = 0;
    s->obj = NULL;
    s->parent = s->first_child = s->prev_sib = s->next_sib = NULL;
    t->live--;
    if (s->gen == CAP_GEN_MAX) {
        s->gen = 0;
        t->retired++;
        return;
    }
    s->gen++;
    free_push(t, s);
}

/* The slot holding o with `rights` is already released. */
static void obj_put(struct cap_object *o, unsigned rights, struct cap_object **dead)
{
    bool last_receiver = (rights & CAP_RIGHT_RECEIVE) && o->recv_refs == 0;
    bool last_sender = (rights & CAP_RIGHT_SEND) && o->send_refs == 0;
    if ((--o->refs == 0 || last_receiver || last_sender) && !o->listed) {
        o->listed = 1;
        o->next_dead = *dead;
        *dead = o;
    }
}

/* Puts the sibling chain first..last (none when first is NULL) where s is among its parent's
 * children; s's own links are left for the caller. */
static void sib_replace(struct cap_slot *s, struct cap_slot *first, struct cap_slot *last)
{
    struct cap_slot *prev = s->prev_sib, *next = s->next_sib;
    if (first) {
        first->prev_sib = prev;
        last->next_sib = next;
    } else {
        first = next;
        last = prev;
    }
    if (prev)
        prev->next_sib = first;
    else if (s->parent)
        s->parent->first_child = first;
    if (next)
        next->prev_sib = last;
}

static void add_child(struct cap_slot *parent, struct cap_slot *c)
{
    c->parent = parent;
    c->prev_sib = NULL;
    c->next_sib = parent->first_child;
    if (parent->first_child)
        parent->first_child->prev_sib = c;
    parent->first_child = c;
}

/* Any slot, in any table: its children move up to its parent. */
static void delete_slot(struct cap_slot *s, struct cap_object **dead)
{
    struct cap_slot *last = NULL;
    for (struct cap_slot *c = s->first_child; c; c = c->next_sib) {
        c->parent = s->parent;
        last = c;
    }
    sib_replace(s, s->first_child, last);
    struct cap_object *o = s->obj;
    unsigned rights = s->rights;
    slot_release(s);
    obj_put(o, rights, dead);
}

int cap_insert(struct cap_table *t, struct cap_object *obj, unsigned rights, uint64_t badge,
               cap_handle_t *out)
{
    if (!obj || obj->type == CAP_TYPE_ANY || obj->type >= CAP_TYPE_COUNT ||
        (rights & ~CAP_RIGHTS_ALL))
        return ERR_INVAL;
    if (!t->free_head)
        return ERR_NOSPC;
    if (obj->refs >= CAP_REFS_MAX)
        return ERR_RANGE;
    obj->refs++;
    *out = slot_fill(t, obj, rights, badge)->handle;
    return 0;
}

int cap_delete(struct cap_table *t, cap_handle_t h, struct cap_object **dead)
{
    struct cap_slot *s;
    int err = lookup(t, h, &s);
    if (err)
        return err;
    delete_slot(s, dead);
    return 0;
}

/* The checks shared by derive and transfer-copy come first, so either fails before it
 * changes anything. */
static int add_derived(struct cap_slot *src, struct cap_table *dst, unsigned rights,
                       uint64_t badge, cap_handle_t *out)
{
    if (!dst->free_head)
        return ERR_NOSPC;
    if (src->obj->refs >= CAP_REFS_MAX)
        return ERR_RANGE;
    src->obj->refs++;
    struct cap_slot *c = slot_fill(dst, src->obj, rights, badge);
    add_child(src, c);
    *out = c->handle;
    return 0;
}

int cap_derive(struct cap_table *src, cap_handle_t h, struct cap_table *dst, unsigned rights,
               uint64_t badge, cap_handle_t *out)
{
    struct cap_slot *s;
    int err = lookup(src, h, &s);
    if (err)
        return err;
    if (rights & ~CAP_RIGHTS_ALL)
        return ERR_INVAL;
    if (rights & ~(unsigned)s->rights)
        return ERR_PERM;
    /* As seL4's mint: a badge identifies the client a server handed a capability to, so a
     * holder must not be able to pass for another client by rebadging. */
    if (badge != 0 && s->badge != 0)
        return ERR_ALREADY;
    return add_derived(s, dst, rights, badge ? badge : s->badge, out);
}

int cap_transfer(struct cap_table *src, cap_handle_t h, unsigned carrier_rights,
                 struct cap_table *dst, enum cap_xfer mode, cap_handle_t *out)
{
    if (!(carrier_rights & CAP_RIGHT_GRANT))
        return ERR_PERM;
    struct cap_slot *s;
    int err = lookup(src, h, &s);
    if (err)
        return err;
    if (mode == CAP_XFER_COPY)
        return add_derived(s, dst, s->rights, s->badge, out);
    if (mode != CAP_XFER_MOVE)
        return ERR_INVAL;
    if (!dst->free_head)
        return ERR_NOSPC;

    /* The new slot takes over s's place in the tree, so revoking an ancestor still reaches the
     * capability wherever it moved, and s's children now hang below it. */
    struct cap_slot *n = slot_fill(dst, s->obj, s->rights, s->badge);
    n->parent = s->parent;
    sib_replace(s, n, n);
    n->first_child = s->first_child;
    for (struct cap_slot *c = n->first_child; c; c = c->next_sib)
        c->parent = n;
    slot_release(s);
    *out = n->handle;
    return 0;
}

int cap_revoke(struct cap_table *t, cap_handle_t h)
{
    struct cap_slot *root;
    int err = lookup(t, h, &root);
    if (err)
        return err;

    /* Post-order without a stack: descend through first children to a leaf and delete it. The
     * path walked down consists of first children only, so once a node's children are gone it
     * is itself a leaf and its parent's first child; each node is visited a bounded number of
     * times, so the cost is linear in the descendants however deep or wide the tree. */
    struct cap_object *never_dead = NULL; /* root still names the object */
    int n = 0;
    struct cap_slot *c = root->first_child;
    while (c) {
        while (c->first_child)
            c = c->first_child;
        struct cap_slot *p = c->parent;
        delete_slot(c, &never_dead);
        n++;
        c = p == root ? root->first_child : p->first_child ? p->first_child : p;
    }
    return n;
}

void cap_table_clear(struct cap_table *t, struct cap_object **dead)
{
    for (uint32_t i = 0; i < t->nslots; i++)
        if (is_live(&t->slots[i]))
            delete_slot(&t->slots[i], dead);
}

static int check_links(const struct cap_slot *s)
{
    const struct cap_slot *p = s->parent, *prev = s->prev_sib, *next = s->next_sib;
    const struct cap_slot *child = s->first_child;
    if (p && p->obj != s->obj)
        return ERR_INVAL;
    if (prev ? prev->next_sib != s || !is_live(prev) || prev->parent != p
             : p && p->first_child != s)
        return ERR_INVAL;
    if (next && (next->prev_sib != s || !is_live(next) || next->parent != p))
        return ERR_INVAL;
    if (child && (child->parent != s || child->prev_sib || !is_live(child)))
        return ERR_INVAL;
    return 0;
}

int cap_table_check(const struct cap_table *t)
{
    uint32_t live = 0, retired = 0;
    for (uint32_t i = 0; i < t->nslots; i++) {
        const struct cap_slot *s = &t->slots[i];
        if (s->table != t)
            return ERR_INVAL;
        if (!is_live(s)) {
            if (s->handle != vacant(i) || s->parent || s->first_child || s->prev_sib)
                return ERR_INVAL;
            retired += s->gen == 0;
            if (s->gen == 0 && s->next_free)
                return ERR_INVAL;
            continue;
        }
        live++;
        if (cap_handle_index(s->handle) != i || cap_handle_gen(s->handle) != s->gen ||
            s->gen == 0)
            return ERR_INVAL;
        if (s->type != s->obj->type || s->type == CAP_TYPE_ANY ||
            s->type >= CAP_TYPE_COUNT || s->obj->refs == 0)
            return ERR_INVAL;
        if (check_links(s) != 0)
            return ERR_INVAL;
    }
    if (live != t->live || retired != t->retired)
        return ERR_INVAL;

    /* Every entry is a free slot of this table and the length is the free count, so with no
     * slot listed twice (that needs a cycle, caught by the length) every free slot is listed. */
    uint32_t nfree = t->nslots - live - retired, len = 0;
    const struct cap_slot *last = NULL;
    for (const struct cap_slot *s = t->free_head; s; s = s->next_free) {
        if (++len > nfree || s->table != t || is_live(s) || s->gen == 0)
            return ERR_INVAL;
        last = s;
    }
    return len == nfree && last == t->free_tail ? 0 : ERR_INVAL;
}
