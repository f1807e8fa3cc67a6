/* Capability tables: the kernel-independent core. docs/capabilities.md has the full rules.
 *
 * A table is an array of slots supplied by the caller (its length is the process's capability
 * quota), so the kernel backs it with frames or a slab and the host tests with malloc, and no
 * operation allocates. A handle names a slot by index plus generation; the generation changes
 * whenever the slot is emptied, so a handle kept after delete, move or revoke is stale, never
 * an alias for whatever occupies the slot next.
 *
 * Every capability derived from another (cap_derive, cap_transfer with CAP_XFER_COPY) is its
 * child in a derivation tree that spans tables; cap_revoke deletes a capability's descendants
 * in time proportional to their number. All nodes of one tree name the same object.
 *
 * The table does not own objects: it counts the capabilities naming each object and hands an
 * object back to the caller (on a `dead` list) when its last capability goes away, so that the
 * caller can destroy it after dropping its locks, or when its last capability with
 * CAP_RIGHT_RECEIVE or with CAP_RIGHT_SEND goes away while others remain (refs > 0), so that
 * the caller can tell one side the other is gone (an endpoint with no receiver left "closes";
 * so does a notification with no signaller left). An object is listed at most once (its
 * `listed` flag; the caller clears it when it takes the object off); the caller looks at refs
 * to tell the two apart.
 *
 * Not thread-safe. Operations that touch the derivation tree write slots of other tables (the
 * parent's, siblings', children's); see "Locking" in docs/capabilities.md for what the kernel
 * must hold. */
#pragma once
#include <stdint.h>

#include "abi/cap.h"
#include "lib/err.h"

/* 16-bit index, 16-bit generation: 65536 slots is far above any per-process quota, and 65535
 * generations per slot make retirement (below) rare even for a table that churns one slot. */
typedef uint32_t cap_handle_t;
#define CAP_INDEX_BITS 16
#define CAP_INDEX_MASK ((1u << CAP_INDEX_BITS) - 1)
#define CAP_MAX_SLOTS  (1u << CAP_INDEX_BITS)
#define CAP_GEN_MAX    0xFFFFu /* a slot emptied at this generation is retired, never reused */

/* Generation 0 is never issued, so handle 0, and any small integer, is never a capability. */
static inline uint32_t cap_handle_index(cap_handle_t h)
{
    return h & CAP_INDEX_MASK;
}

static inline uint32_t cap_handle_gen(cap_handle_t h)
{
    return h >> CAP_INDEX_BITS;
}


/* refs stops here, so a process copying one capability over and over gets ERR_RANGE instead of
 * wrapping the count (a use-after-free); also keeps cap_revoke's count within an int. */
#define CAP_REFS_MAX 0x7FFFFFFFu

/* Embedded in every kernel object that capabilities can name. */
struct cap_object {
    uint32_t type;                /* enum cap_type, fixed by cap_object_init */
    uint32_t refs;                /* capabilities naming the object, across all tables */
    uint32_t recv_refs;           /* ... of which hold CAP_RIGHT_RECEIVE */
    uint32_t send_refs;           /* ... of which hold CAP_RIGHT_SEND */
    uint32_t listed;              /* on a dead list; the caller clears it when it takes it off */
    struct cap_object *next_dead; /* link on a caller's dead list */
};

static inline void cap_object_init(struct cap_object *o, enum cap_type type)
{
    o->type = type;
    o->refs = 0;
    o->recv_refs = 0;
    o->send_refs = 0;
    o->listed = 0;
    o->next_dead = 0;
}

struct cap_table;

/* One cache line, so that a lookup reads a single line of the table. */
struct cap_slot {
    /* The handle naming this capability. While the slot is free or retired: its index with
     * every index bit flipped, a value no handle that indexes this slot can equal (0 would
     * match handle 0 on slot 0), so lookups need no separate liveness test. */
    cap_handle_t handle;
    uint16_t gen;           /* generation of the current or next occupant; 0 once retired */
    uint8_t type;           /* copy of obj->type: lookups need not touch the object */
    uint8_t rights;         /* CAP_RIGHT_* */
    uint64_t badge;         /* 0: unbadged */
    struct cap_object *obj; /* NULL while free */
    struct cap_table *table;
    /* Derivation tree. The children of a deleted root keep their sibling links as a
     * parentless group; nothing depends on a root having no siblings. */
    struct cap_slot *parent, *first_child, *prev_sib;
    union {
        struct cap_slot *next_sib;  /* while live */
        struct cap_slot *next_free; /* while free: FIFO, so generations wear evenly */
    };
};
_Static_assert(sizeof(struct cap_slot) == 64, "a capability slot is one cache line");

struct cap_table {
    struct cap_slot *slots;
    uint32_t nslots;  /* capacity: the quota of live capabilities */
    uint32_t live;
    uint32_t retired; /* slots whose generations are used up */
    struct cap_slot *free_head, *free_tail;
};

enum cap_xfer { CAP_XFER_COPY, CAP_XFER_MOVE };

/* nslots in [1, CAP_MAX_SLOTS]; slots (nslots entries) stay owned by the caller and must
 * outlive the table. ERR_INVAL otherwise. */
int cap_table_init(struct cap_table *t, struct cap_slot *slots, uint32_t nslots);

/* The IPC fast path's check, O(1): the handle's index is inside the table, its generation is
 * the slot's current one, the object is of `type` (or type is CAP_TYPE_ANY) and the capability
 * holds every right in `rights`. Errors, in the order checked: ERR_BADF (index out of range,
 * or generation 0: zero or forged), ERR_STALE (the slot is free, retired or reused since),
 * ERR_TYPE, ERR_PERM. On success *out points at the slot until the table next changes. */
static inline int cap_lookup(const struct cap_table *t, cap_handle_t h, enum cap_type type,
                             unsigned rights, const struct cap_slot **out)
{
    uint32_t idx = cap_handle_index(h);
    if (__builtin_expect(idx >= t->nslots, 0))
        return ERR_BADF;
    /* The index comes from user space: all ones below nslots, zero above, computed without a
     * branch, so that a mispredicted bound check cannot read past the array (Spectre v1). */
    idx &= (uint32_t)((int64_t)((uint64_t)idx - t->nslots) >> 63);
    const struct cap_slot *s = &t->slots[idx];
    if (__builtin_expect(s->handle != h, 0))
        return cap_handle_gen(h) == 0 ? ERR_BADF : ERR_STALE;
    if (__builtin_expect(type != CAP_TYPE_ANY && s->type != type, 0))
        return ERR_TYPE;
    if (__builtin_expect((s->rights & rights) != rights, 0))
        return ERR_PERM;
    *out = s;
    return 0;
}

/* A root capability (no parent) to obj, whose type must be set. ERR_INVAL: obj NULL or of no
 * valid type, rights outside CAP_RIGHTS_ALL; ERR_NOSPC: no free slot; ERR_RANGE: obj->refs is
 * at CAP_REFS_MAX. */
int cap_insert(struct cap_table *t, struct cap_object *obj, unsigned rights, uint64_t badge,
               cap_handle_t *out);

/* Empties the slot; the capability's children take its place in the tree (under its parent,
 * or as roots), so deleting one's own copy never kills copies derived from it. When this was
 * the object's last capability the object is pushed on *dead. Lookup errors as cap_lookup. */
int cap_delete(struct cap_table *t, cap_handle_t h, struct cap_object **dead);

/* A child of capability h in table dst (which may be src) with `rights`, a subset of h's.
 * badge 0 keeps h's badge; a nonzero badge is minted only on an unbadged capability, once.
 * Errors after cap_lookup's: ERR_INVAL (rights outside CAP_RIGHTS_ALL), ERR_PERM (a right h
 * lacks), ERR_ALREADY (a badge for a badged h), ERR_NOSPC (dst full), ERR_RANGE (refs). */
int cap_derive(struct cap_table *src, cap_handle_t h, struct cap_table *dst, unsigned rights,
               uint64_t badge, cap_handle_t *out);

/* Carries capability h from src to dst in a message sent through a capability holding
 * carrier_rights: refused with ERR_PERM unless those include CAP_RIGHT_GRANT. COPY adds a
 * child of h with its rights and badge; MOVE relocates h, tree position and children included,
 * and its old handle goes stale. Then cap_lookup's errors, ERR_INVAL (unknown mode), ERR_NOSPC
 * (dst full), ERR_RANGE (COPY only: refs). Failures change nothing. */
int cap_transfer(struct cap_table *src, cap_handle_t h, unsigned carrier_rights,
                 struct cap_table *dst, enum cap_xfer mode, cap_handle_t *out);

/* Deletes every descendant of h, in every table, and returns their number; h itself and its
 * handle stay valid. O(descendants). Never frees the object (h still names it) and never takes
 * its last RECEIVE capability (a descendant's rights are a subset of h's, so if any of them
 * could receive, h can). Lookup errors as cap_lookup. */
int cap_revoke(struct cap_table *t, cap_handle_t h);

/* Deletes every capability in t, as cap_delete does, for process teardown; objects left with
 * no capability go on *dead. O(nslots + children of t's capabilities). */
void cap_table_clear(struct cap_table *t, struct cap_object **dead);

/* Consistency walk for tests: slot states against the counters, handles against generations,
 * the free list, and every live slot's tree links (symmetric, same object, live neighbours).
 * O(nslots). Returns 0 or ERR_INVAL. */
int cap_table_check(const struct cap_table *t);
