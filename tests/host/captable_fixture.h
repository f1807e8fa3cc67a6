/* Shared fixtures for the capability table host tests (test_captable.c, test_captable_tree.c,
 * test_captable_model.c): tables whose slots come from malloc, so ASan sees any access past
 * them, and objects with a count of how often they reached a dead list. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cap/captable.h"
#include "check.h"
#include "lib/err.h"

struct tbl {
    struct cap_table t;
    struct cap_slot *slots;
};

static __attribute__((unused)) int tbl_init(struct tbl *x, uint32_t nslots)
{
    x->slots = malloc(nslots * sizeof(*x->slots));
    return x->slots ? cap_table_init(&x->t, x->slots, nslots) : ERR_NOMEM;
}

static __attribute__((unused)) void tbl_fini(struct tbl *x)
{
    free(x->slots);
    x->slots = NULL;
}

struct obj {
    struct cap_object hdr; /* first, so a dead-list pointer converts back */
    int deaths;
    int closes; /* listed while capabilities remain: the last RECEIVE one went */
};

static __attribute__((unused)) void obj_init(struct obj *o, enum cap_type type)
{
    cap_object_init(&o->hdr, type);
    o->deaths = 0;
    o->closes = 0;
}

/* Empties a dead list, counting each object's deaths (no capability left) and closes (no
 * RECEIVE capability left); returns the number of deaths. */
static __attribute__((unused)) int reap(struct cap_object **dead)
{
    int n = 0;
    while (*dead) {
        struct obj *o = (struct obj *)*dead;
        *dead = o->hdr.next_dead;
        o->hdr.listed = 0;
        if (o->hdr.refs == 0) {
            o->deaths++;
            n++;
        } else {
            o->closes++;
        }
    }
    return n;
}

/* 0 when h names a live capability in t (any type, no rights needed), else the lookup error. */
static __attribute__((unused)) int live(const struct tbl *x, cap_handle_t h)
{
    const struct cap_slot *s;
    return cap_lookup(&x->t, h, CAP_TYPE_ANY, 0, &s);
}

static __attribute__((unused)) const struct cap_slot *slot_of(const struct tbl *x, cap_handle_t h)
{
    return &x->slots[cap_handle_index(h)];
}
