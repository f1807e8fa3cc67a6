#include "mm/slab.h"

#include <stdbool.h>

#include "lib/err.h"
#include "lib/kstring.h"

/* Mixed with the slab's own address so that a stale copy of a header (or a header-shaped
 * object) at another address does not pass for a slab. */
#define SLAB_MAGIC ((uintptr_t)0x51AB5EED0B1EC75ull)
#define SLAB_DEAD  ((uintptr_t)0xDEADBEEFDEADBEEFull)

enum { LIST_PARTIAL, LIST_FULL, LIST_EMPTY };

struct slab {
    uintptr_t magic;           /* SLAB_MAGIC ^ address of this header */
    struct slab_cache *cache;
    struct slab *next, *prev;  /* on the cache list named by `list` */
    void *free_list;           /* freed objects, linked through their first word */
    uint32_t inuse;
    uint32_t fresh;            /* objects [fresh, objs_per_slab) were never handed out */
    uint32_t list;
    uint32_t reserved;
    uint64_t bitmap[];         /* bit set = object allocated */
};

static inline size_t round_up(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static inline size_t slab_bytes(unsigned order)
{
    return (size_t)SLAB_PAGE_SIZE << order;
}

static inline size_t bitmap_words(size_t nobj)
{
    return (nobj + 63) / 64;
}

static inline size_t header_bytes(size_t nobj)
{
    return sizeof(struct slab) + bitmap_words(nobj) * sizeof(uint64_t);
}

static inline uintptr_t slab_base(const struct slab *s)
{
    return (uintptr_t)s;
}

static inline void *obj_at(const struct slab_cache *c, const struct slab *s, size_t idx)
{
    return (void *)(slab_base(s) + c->first_off + idx * c->stride);
}

static inline size_t obj_index(const struct slab_cache *c, const struct slab *s, const void *o)
{
    return ((uintptr_t)o - slab_base(s) - c->first_off) / c->stride;
}

static inline bool bit_get(const struct slab *s, size_t i)
{
    return (s->bitmap[i / 64] >> (i % 64)) & 1;
}

static inline void bit_flip(struct slab *s, size_t i)
{
    s->bitmap[i / 64] ^= (uint64_t)1 << (i % 64);
}

/* Objects that fit a slab of `order` with the header (whose bitmap grows with the count) in
 * front, or 0. */
static size_t objs_that_fit(size_t stride, size_t align, unsigned order)
{
    size_t bytes = slab_bytes(order);
    if (sizeof(struct slab) >= bytes)
        return 0;
    size_t n = (bytes - sizeof(struct slab)) / stride;
    while (n > 0 && round_up(header_bytes(n), align) + n * stride > bytes)
        n--;
    return n;
}

static struct slab **list_head(struct slab_cache *c, uint32_t list)
{
    return list == LIST_PARTIAL ? &c->partial : list == LIST_FULL ? &c->full : &c->empty;
}

static void list_del(struct slab_cache *c, struct slab *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        *list_head(c, s->list) = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
    if (s->list == LIST_EMPTY)
        c->stats.slabs_empty--;
}

static void list_add(struct slab_cache *c, struct slab *s, uint32_t list)
{
    struct slab **head = list_head(c, list);
    s->list = list;
    s->prev = NULL;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
    if (list == LIST_EMPTY)
        c->stats.slabs_empty++;
}

/* The list a slab belongs on follows from its fill level alone. */
static void list_update(struct slab_cache *c, struct slab *s)
{
    uint32_t want = s->inuse == 0                 ? LIST_EMPTY
                    : s->inuse == c->objs_per_slab ? LIST_FULL
                                                   : LIST_PARTIAL;
    if (want != s->list) {
        list_del(c, s);
        list_add(c, s, want);
    }
}

int slab_cache_init(struct slab_cache *c, const char *name, size_t obj_size, size_t align,
                    const struct slab_backend *b)
{
    size_t max_bytes = slab_bytes(SLAB_MAX_ORDER);

    if (!c || !b || !b->alloc_pages || !b->free_pages)
        return ERR_INVAL;
    /* The bounds also keep round_up and the fit computation clear of overflow. */
    if (obj_size == 0 || obj_size > max_bytes)
        return ERR_INVAL;
    if (align == 0 || (align & (align - 1)) != 0 || align > max_bytes)
        return ERR_INVAL;

    /* Free objects hold the free-list link, so each must be able to store an aligned pointer. */
    size_t eff_align = align < sizeof(void *) ? sizeof(void *) : align;
    size_t size = obj_size < sizeof(void *) ? sizeof(void *) : obj_size;
    size_t stride = round_up(size, eff_align);
    unsigned order = 0;
    size_t n = 0;
    for (; order <= SLAB_MAX_ORDER; order++) {
        n = objs_that_fit(stride, eff_align, order);
        if (n >= SLAB_MIN_OBJS)
            break;
    }
    if (order > SLAB_MAX_ORDER)
        order = SLAB_MAX_ORDER;  /* n is the count at the max order: fewer, but some */
    if (n == 0)
        return ERR_INVAL;

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; name && name[i] && i < SLAB_NAME_LEN - 1; i++)
        c->name[i] = name[i];
    c->obj_size = obj_size;
    c->align = eff_align;
    c->stride = stride;
    c->first_off = round_up(header_bytes(n), eff_align);
    c->objs_per_slab = (uint32_t)n;
    c->order = order;
    c->backend = *b;
    return 0;
}

static struct slab *slab_new(struct slab_cache *c)
{
    void *p = c->backend.alloc_pages(c->backend.ctx, c->order);
    if (!p)
        return NULL;
    /* slab_free finds headers by alignment: a misaligned block would be unfindable. */
    if (((uintptr_t)p & (slab_bytes(c->order) - 1)) != 0) {
        c->backend.free_pages(c->backend.ctx, p, c->order);
        return NULL;
    }
    struct slab *s = p;
    s->magic = SLAB_MAGIC ^ (uintptr_t)s;
    s->cache = c;
    s->free_list = NULL;
    s->inuse = 0;
    s->fresh = 0;
    s->reserved = 0;
    memset(s->bitmap, 0, bitmap_words(c->objs_per_slab) * sizeof(uint64_t));
    list_add(c, s, LIST_EMPTY);
    c->stats.slabs_total++;
    c->stats.pages_alloced += (uint64_t)1 << c->order;
    return s;
}

static void slab_release(struct slab_cache *c, struct slab *s)
{
    list_del(c, s);
    s->magic = SLAB_DEAD;  /* stale pointers into recycled pages must not find a header */
    s->cache = NULL;
    c->backend.free_pages(c->backend.ctx, s, c->order);
    c->stats.slabs_total--;
    c->stats.pages_freed += (uint64_t)1 << c->order;
}

void *slab_alloc(struct slab_cache *c)
{
    if (c->objs_per_slab == 0)
        return NULL;  /* destroyed or never initialized */

    struct slab *s = c->partial ? c->partial : c->empty;
    if (!s)
        s = slab_new(c);
    if (!s) {
        c->stats.alloc_fails++;
        return NULL;
    }

    void *obj;
    size_t idx;
    if (s->free_list) {
        obj = s->free_list;
        s->free_list = *(void **)obj;
        idx = obj_index(c, s, obj);
    } else {
        idx = s->fresh++;
        obj = obj_at(c, s, idx);
    }
    bit_flip(s, idx);
    s->inuse++;
    list_update(c, s);
    c->stats.objs_in_use++;
    c->stats.allocs++;
    return obj;
}

int slab_free(struct slab_cache *c, void *obj)
{
    if (!obj || c->objs_per_slab == 0)
        return ERR_INVAL;

    uintptr_t base = (uintptr_t)obj & ~(uintptr_t)(slab_bytes(c->order) - 1);
    struct slab *s = (struct slab *)base;
    if (s->magic != (SLAB_MAGIC ^ base) || s->cache != c)
        return ERR_INVAL;
    uintptr_t off = (uintptr_t)obj - base;
    if (off < c->first_off || (off - c->first_off) % c->stride != 0)
        return ERR_INVAL;
    size_t idx = (off - c->first_off) / c->stride;
    if (idx >= c->objs_per_slab)
        return ERR_INVAL;
    /* Checked before the free list is touched: a double free must not corrupt it. */
    if (!bit_get(s, idx))
        return ERR_ALREADY;

    bit_flip(s, idx);
    *(void **)obj = s->free_list;
    s->free_list = obj;
    s->inuse--;
    list_update(c, s);
    c->stats.objs_in_use--;
    c->stats.frees++;
    return 0;
}

size_t slab_shrink(struct slab_cache *c)
{
    size_t pages = 0;
    while (c->empty) {
        slab_release(c, c->empty);
        pages += (size_t)1 << c->order;
    }
    return pages;
}

int slab_cache_destroy(struct slab_cache *c)
{
    if (c->stats.objs_in_use != 0)
        return ERR_BUSY;
    /* No live object means no partial or full slab: every slab is on the empty list. */
    slab_shrink(c);
    c->objs_per_slab = 0;
    return 0;
}

static unsigned popcount64(uint64_t v)
{
    /* Open-coded: __builtin_popcountll may become a libgcc call the kernel does not link. */
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((v * 0x0101010101010101ull) >> 56);
}

static int check_slab(const struct slab_cache *c, const struct slab *s, uint32_t list)
{
    size_t n = c->objs_per_slab;

    if (s->magic != (SLAB_MAGIC ^ slab_base(s)) || s->cache != c || s->list != list)
        return ERR_INVAL;
    if (slab_base(s) & (slab_bytes(c->order) - 1))
        return ERR_INVAL;
    if (s->fresh > n || s->inuse > s->fresh)
        return ERR_INVAL;
    if ((list == LIST_EMPTY) != (s->inuse == 0) || (list == LIST_FULL) != (s->inuse == n))
        return ERR_INVAL;

    size_t bits = 0;
    for (size_t w = 0; w < bitmap_words(n); w++)
        bits += popcount64(s->bitmap[w]);
    if (bits != s->inuse)
        return ERR_INVAL;
    for (size_t i = s->fresh; i < bitmap_words(n) * 64; i++)
        if (bit_get(s, i))
            return ERR_INVAL;  /* never handed out, or past the last object */

    /* Every freed object is on the free list exactly once; a cycle shows up as excess length. */
    size_t len = 0, want = s->fresh - s->inuse;
    for (const void *o = s->free_list; o; o = *(void *const *)o) {
        uintptr_t off = (uintptr_t)o - slab_base(s);
        if (++len > want || (uintptr_t)o < slab_base(s) || off < c->first_off ||
            (off - c->first_off) % c->stride != 0)
            return ERR_INVAL;
        size_t idx = (off - c->first_off) / c->stride;
        if (idx >= s->fresh || bit_get(s, idx))
            return ERR_INVAL;
    }
    return len == want ? 0 : ERR_INVAL;
}

int slab_check(const struct slab_cache *c)
{
    const struct slab *heads[3] = {c->partial, c->full, c->empty};
    uint64_t slabs = 0, empty = 0, inuse = 0;

    for (uint32_t l = 0; l < 3; l++) {
        const struct slab *prev = NULL;
        for (const struct slab *s = heads[l]; s; s = s->next) {
            if (++slabs > c->stats.slabs_total || s->prev != prev)
                return ERR_INVAL;
            if (check_slab(c, s, l) != 0)
                return ERR_INVAL;
            inuse += s->inuse;
            empty += l == LIST_EMPTY;
            prev = s;
        }
    }
    if (slabs != c->stats.slabs_total || empty != c->stats.slabs_empty ||
        inuse != c->stats.objs_in_use)
        return ERR_INVAL;
    if (c->stats.allocs - c->stats.frees != c->stats.objs_in_use)
        return ERR_INVAL;
    if (c->stats.pages_alloced - c->stats.pages_freed != slabs << c->order)
        return ERR_INVAL;
    return 0;
}
