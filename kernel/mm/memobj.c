/* Memory objects (memobj.h, docs/memory-objects.md): the objects, their capability type, the
 * quota charge they carry, and SYS_MEMOBJ_CREATE, SYS_MEMOBJ_MAP and SYS_MEM_GRANT. The
 * page-table side is vmspace_objmap.c. */
#include "mm/memobj.h"

#include "abi/cap.h"
#include "abi/syscall.h"
#include "cap/capspace.h"
#include "core/mem_syscalls.h"
#include "core/panic.h"
#include "core/process.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/kmem.h"
#include "mm/layout.h"
#include "mm/tlb.h"
#include "mm/vmspace.h"

static struct kmem_cache memobj_cache;

/* Objects whose last hold went with their last capability, under cap_lock: freeing takes
 * process_lock and may return thousands of frames, so it waits for memobj_flush. */
static struct memobj *free_later;

static struct memobj *memobj_of(struct cap_object *o)
{
    return (struct memobj *)o; /* obj is the first member */
}

/* Under process_lock. */
static void charged_unlink(struct memobj *m)
{
    *m->charge_prev = m->charge_next;
    if (m->charge_next)
        m->charge_next->charge_prev = m->charge_prev;
    m->charged = NULL;
}

/* Under process_lock. */
static void charged_link(struct memobj *m, struct process *p)
{
    m->charged = p;
    m->charge_next = p->memobjs;
    m->charge_prev = &p->memobjs;
    if (p->memobjs)
        p->memobjs->charge_prev = &m->charge_next;
    p->memobjs = m;
}

static void memobj_free(struct memobj *m)
{
    uint64_t flags = spin_lock_irqsave(&process_lock);
    if (m->charged) {
        quota_uncharge(m->charged, RES_FRAMES, m->charge);
        charged_unlink(m);
    }
    spin_unlock_irqrestore(&process_lock, flags);
    for (uint64_t i = 0; i < m->pages; i++)
        frame_free(m->frames[i], 0);
    if (m->frames != m->inline_frames)
        frame_free(virt_to_phys(m->frames), (unsigned)m->list_order);
    kmem_free(&memobj_cache, m);
}

void memobj_get(struct memobj *m)
{
    __atomic_add_fetch(&m->holds, 1, __ATOMIC_RELAXED);
}

void memobj_put(struct memobj *m)
{
    if (__atomic_sub_fetch(&m->holds, 1, __ATOMIC_ACQ_REL) == 0)
        memobj_free(m);
}

/* The last capability went (under cap_lock, interrupts off): only the capabilities' hold is
 * dropped here. Mappings keep the object, with its frames, until they go too. */
static void memobj_destroy(struct cap_object *o)
{
    struct memobj *m = memobj_of(o);
    if (__atomic_sub_fetch(&m->holds, 1, __ATOMIC_ACQ_REL) == 0) {
        m->free_next = free_later;
        free_later = m;
    }
}

/* After cap_lock is released (cap_flush): frees what memobj_destroy left. */
static void memobj_flush(void)
{
    if (!__atomic_load_n(&free_later, __ATOMIC_RELAXED))
        return;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    struct memobj *list = free_later;
    free_later = NULL;
    spin_unlock_irqrestore(&cap_lock, flags);
    while (list) {
        struct memobj *m = list;
        list = m->free_next;
        memobj_free(m);
    }
}

static const struct cap_type_ops memobj_ops = {
    .destroy = memobj_destroy,
    .flush = memobj_flush,
};

void memobj_init(void)
{
    if (kmem_cache_init(&memobj_cache, "memobj", sizeof(struct memobj), 64))
        panic("memobj: cannot create the memory object cache");
    vmspace_objmap_init();
    cap_type_register(CAP_TYPE_MEMORY, &memobj_ops);
}

void memobj_recharge(struct process *p)
{
    struct process *to = p->charge_parent;
    while (p->memobjs) {
        struct memobj *m = p->memobjs;
        charged_unlink(m);
        if (to)
            charged_link(m, to);
    }
}

/* The buddy order of a page list for `pages` pages, or -1 when it fits in the object. */
static int list_order(uint64_t pages)
{
    if (pages <= MEMOBJ_INLINE_PAGES)
        return -1;
    uint64_t frames = (pages * sizeof(uint64_t) + PAGE_SIZE - 1) / PAGE_SIZE;
    int order = 0;
    while ((1ul << order) < frames)
        order++;
    return order;
}

/* A new object with room for `pages` pages and none yet, its capabilities' hold taken, charged
 * to p for its page list plus `extra` frames; NULL when out of memory or quota. */
static struct memobj *memobj_new(struct process *p, uint64_t pages, uint64_t extra)
{
    int order = list_order(pages);
    uint64_t charge = (order < 0 ? 0 : 1ul << order) + extra;
    struct memobj *m = kmem_alloc(&memobj_cache);
    if (!m)
        return NULL;
    memset(m, 0, sizeof(*m));
    cap_object_init(&m->obj, CAP_TYPE_MEMORY);
    m->holds = 1;
    m->list_order = order;
    m->frames = m->inline_frames;
    uint64_t flags = spin_lock_irqsave(&process_lock);
    int err = quota_charge(p, RES_FRAMES, charge);
    if (!err) {
        m->charge = charge;
        charged_link(m, p);
    }
    spin_unlock_irqrestore(&process_lock, flags);
    uint64_t list;
    if (err || (order >= 0 && frame_alloc((unsigned)order, &list))) {
        memobj_free(m);
        return NULL;
    }
    if (order >= 0)
        m->frames = phys_to_virt(list);
    return m;
}

long memobj_sys_create(struct process *self, uint64_t pages)
{
    if (pages == 0 || pages > MEMOBJ_MAX_PAGES)
        return ERR_INVAL;
    struct memobj *m = memobj_new(self, pages, pages);
    if (!m)
        return ERR_NOMEM;
    for (; m->pages < pages; m->pages++) {
        if (frame_alloc(0, &m->frames[m->pages])) {
            memobj_free(m);
            return ERR_NOMEM;
        }
        memset(phys_to_virt(m->frames[m->pages]), 0, PAGE_SIZE);
    }
    long h = cap_sys_insert_new(self, &m->obj);
    if (h < 0)
        memobj_free(m);
    return h;
}

/* The PROT_* bits a capability's rights allow. */
static unsigned prot_allowed(unsigned rights)
{
    return (rights & CAP_RIGHT_READ ? PROT_READ : 0) | (rights & CAP_RIGHT_WRITE ? PROT_WRITE : 0) |
           (rights & CAP_RIGHT_EXECUTE ? PROT_EXEC : 0);
}

/* Maps m (with the caller's hold, which the mapping takes over) into self's address space or
 * a descendant's. process_lock is held throughout: a descendant's address space cannot be torn
 * down meanwhile (its last thread takes the lock before it starts), and the page tables are
 * charged directly, as the charge function would take the lock again. */
static int map_into(struct process *self, int64_t pid, struct memobj *m, uintptr_t addr,
                    unsigned prot, unsigned maxprot)
{
    uint64_t budget = vmspace_tables_worst(m->pages);
    unsigned used = 0;
    struct process *target = self;
    uint64_t flags = spin_lock_irqsave(&process_lock);
    int err = pid ? process_find_descendant(self, pid, &target) : 0;
    if (!err && target->live_threads == 0)
        err = ERR_NOENT; /* its address space is gone or going */
    if (!err)
        err = quota_charge(target, RES_FRAMES, budget);
    if (!err) {
        err = vmspace_map_object(&target->vs, addr, m, prot, maxprot, &used);
        quota_uncharge(target, RES_FRAMES, budget - used);
    }
    spin_unlock_irqrestore(&process_lock, flags);
    return err;
}

long memobj_sys_map(struct process *self, uint64_t h, uintptr_t addr, uint64_t prot, int64_t pid)
{
    if (!mem_prot_ok(prot))
        return ERR_INVAL;
    if (h > UINT32_MAX)
        return ERR_BADF;
    /* x86 cannot hide a present page's contents: every mapping needs READ. */
    unsigned need = CAP_RIGHT_MAP | CAP_RIGHT_READ | (prot & PROT_WRITE ? CAP_RIGHT_WRITE : 0) |
                    (prot & PROT_EXEC ? CAP_RIGHT_EXECUTE : 0);
    const struct cap_slot *s;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    int err = cap_lookup(&self->caps.t, (cap_handle_t)h, CAP_TYPE_MEMORY, need, &s);
    struct memobj *m = err ? NULL : memobj_of(s->obj);
    unsigned maxprot = err ? 0 : prot_allowed(s->rights);
    if (m)
        memobj_get(m);
    spin_unlock_irqrestore(&cap_lock, flags);
    if (err)
        return err;
    if (addr & (PAGE_SIZE - 1) || addr < USER_BASE || addr >= USER_TOP ||
        m->pages > (USER_TOP - addr) / PAGE_SIZE)
        err = ERR_INVAL;
    if (!err)
        err = map_into(self, pid, m, addr, (unsigned)prot, maxprot);
    if (err)
        memobj_put(m);
    return err;
}

long memobj_sys_grant(struct process *self, uintptr_t addr, size_t len, uint64_t mode)
{
    uint64_t pages = mem_range_pages(addr, len);
    if (!pages || pages > MEMOBJ_MAX_PAGES || (mode != MEM_GRANT_MOVE && mode != MEM_GRANT_SHARE))
        return ERR_INVAL;
    bool share = mode == MEM_GRANT_SHARE;
    struct memobj *m = memobj_new(self, pages, 0);
    if (!m)
        return ERR_NOMEM;
    struct vm_objmap *rec = NULL;
    if (share && !(rec = vmspace_objmap_alloc())) {
        memobj_free(m);
        return ERR_NOMEM;
    }
    /* The grant's own hold: a moved page's frame may not be freed (should another thread
     * guess the new handle and delete it) while a TLB may still reach it. */
    memobj_get(m);
    /* Both locks: the handle becomes visible only with the pages already the object's, and a
     * full table refuses before anything changed. */
    cap_handle_t h;
    uint64_t flags = spin_lock_irqsave(&cap_lock);
    spin_lock(&self->vs.lock);
    int err = vmspace_grant_check_locked(&self->vs, addr, pages, share);
    if (!err)
        err = cap_insert(&self->caps.t, &m->obj, CAP_RIGHTS_ALL, 0, &h);
    if (!err) {
        vmspace_grant_take_locked(&self->vs, addr, pages, m, rec);
        m->charge += pages; /* moved from the address space: the process's count stays */
    }
    spin_unlock(&self->vs.lock);
    spin_unlock_irqrestore(&cap_lock, flags);
    if (err) {
        vmspace_objmap_free(rec);
        memobj_free(m);
        return err;
    }
    if (!share)
        tlb_flush_range(&self->vs, addr, pages);
    memobj_put(m);
    return (long)h;
}
