/* Process lifecycle: spawn from a boot module, exit, the zombie state, wait, kill, orphans and
 * the reaper. Threads inside a process are in process_thread.c, quotas in quota.c. */
#include "core/process.h"
#include "cap/capspace.h"
#include "ipc/kernel/ipc.h"

#include "core/bootinfo.h"
#include "core/console.h"
#include "core/elf.h"
#include "core/panic.h"
#include "core/syscall.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/kmem.h"
#include "mm/layout.h"
#include "mm/memobj.h"
#include "sched/sched.h"

#define USER_STACK_PAGES 4
#define MODULE_NAME_MAX 64

struct spinlock process_lock = SPINLOCK_INIT;
uint64_t process_default_limits[RES_COUNT];

static struct kmem_cache process_cache;
static uint32_t next_pid = 1;
static struct process *all_processes;
static struct process *reap_list; /* orphaned zombies, for the reaper thread */
static struct waitq reaper_wq;

/* A module string is "path [args]": the name is the path's last component. */
static bool module_is(const struct boot_module *m, const char *name, size_t len)
{
    const char *s = m->name, *base = s;
    for (const char *p = s; *p && *p != ' '; p++)
        if (*p == '/')
            base = p + 1;
    size_t n = 0;
    while (base[n] && base[n] != ' ')
        n++;
    return n == len && !strncmp(base, name, n);
}

static const struct boot_module *find_module(const char *name, size_t len)
{
    for (unsigned i = 0; i < boot_info.nmodules; i++)
        if (module_is(&boot_info.modules[i], name, len))
            return &boot_info.modules[i];
    return NULL;
}

static int load_segments(struct process *p, const uint8_t *image, const struct elf_image *elf,
                         const char *arg, size_t arg_len)
{
    for (unsigned s = 0; s < elf->nsegments; s++) {
        const struct elf_segment *seg = &elf->seg[s];
        uint64_t first = seg->vaddr & ~(PAGE_SIZE - 1);
        for (uint64_t va = first; va < seg->vaddr + seg->memsz; va += PAGE_SIZE) {
            uint8_t *page;
            int err = vmspace_map_page(&p->vs, va, seg->prot, (void **)&page);
            if (err)
                return err;
            /* Copy the part of the file image that falls into this page; the rest stays 0. */
            uint64_t lo = va > seg->vaddr ? va : seg->vaddr;
            uint64_t hi = va + PAGE_SIZE < seg->vaddr + seg->filesz ? va + PAGE_SIZE
                                                                     : seg->vaddr + seg->filesz;
            if (hi > lo)
                memcpy(page + (lo - va), image + seg->offset + (lo - seg->vaddr), hi - lo);
        }
    }
    uint8_t *top_page = NULL;
    for (unsigned i = 1; i <= USER_STACK_PAGES; i++) {
        int err = vmspace_map_page(&p->vs, USER_TOP - i * PAGE_SIZE, PROT_READ | PROT_WRITE,
                                   i == 1 ? (void **)&top_page : NULL);
        if (err)
            return err;
    }
    p->entry = elf->entry;
    p->stack_top = USER_TOP;
    p->start_arg = 0;
    if (arg) {
        /* The argument string sits above the initial stack; rdi points at it. */
        uint64_t size = (arg_len + 1 + 15) & ~15ul;
        memcpy(top_page + PAGE_SIZE - size, arg, arg_len);
        top_page[PAGE_SIZE - size + arg_len] = 0;
        p->stack_top = USER_TOP - size;
        p->start_arg = p->stack_top;
    }
    return 0;
}

bool process_module_exists(const char *name)
{
    return find_module(name, strlen(name)) != NULL;
}

static void reaper_main(void *arg);

void process_init(void)
{
    if (kmem_cache_init(&process_cache, "process", sizeof(struct process), 8))
        panic("process: cannot create the process cache");
    if (!thread_create(reaper_main, NULL, SCHED_PRIO_DEFAULT))
        panic("process: no memory for the reaper thread");
    kprintf("process: quotas per subtree: %lu processes, %lu threads, %lu KiB\n",
            process_default_limits[RES_PROCESSES], process_default_limits[RES_THREADS],
            process_default_limits[RES_FRAMES] * (PAGE_SIZE / 1024));
}

/* Gives back what spawn charged before the process had an address space. */
static void uncharge_shell(struct process *p)
{
    uint64_t flags = spin_lock_irqsave(&process_lock);
    quota_uncharge(p, RES_PROCESSES, 1);
    spin_unlock_irqrestore(&process_lock, flags);
}

static int spawn(struct process *parent, const char *name, size_t len, unsigned prio,
                 const char *arg, size_t arg_len, uint64_t give_cap, struct process **out);

int process_spawn(struct process *parent, const char *name, size_t len, unsigned prio,
                  struct process **out)
{
    return spawn(parent, name, len, prio, NULL, 0, 0, out);
}

int process_spawn_arg(struct process *parent, const char *name, size_t len, unsigned prio,
                      const char *arg, size_t arg_len, struct process **out)
{
    return spawn(parent, name, len, prio, arg, arg_len, 0, out);
}

/* The child's capability table: a root process gets the control capability first (so that it
 * is CAP_ROOT_CONTROL); a child gets a copy of give_cap, if any, whose handle becomes its start
 * argument. The table's frames are charged like any other memory of the child's. */
static int make_capspace(struct process *p, struct process *parent, uint64_t give_cap)
{
    int err = quota_charge_frames(&p->vs, capspace_pages());
    if (err)
        return err;
    if ((err = capspace_create(&p->caps))) {
        quota_charge_frames(&p->vs, -(int64_t)capspace_pages());
        return err;
    }
    if (!parent)
        return capspace_add_control(&p->caps);
    if (!give_cap)
        return 0;
    cap_handle_t h;
    if (give_cap > UINT32_MAX)
        return ERR_BADF;
    if ((err = capspace_copy(&parent->caps, (cap_handle_t)give_cap, &p->caps, &h)))
        return err;
    p->start_arg = h;
    return 0;
}

static void drop_capspace(struct process *p)
{
    if (p->caps.pages) {
        capspace_destroy(&p->caps);
        quota_charge_frames(&p->vs, -(int64_t)capspace_pages());
    }
}

static int spawn(struct process *parent, const char *name, size_t len, unsigned prio,
                 const char *arg, size_t arg_len, uint64_t give_cap, struct process **out)
{
    if (arg && arg_len >= PROCESS_ARG_MAX)
        return ERR_INVAL;
    const struct boot_module *m = find_module(name, len);
    struct elf_image elf;
    const char *why;
    if (!m)
        return ERR_NOENT;
    int err = elf_parse(phys_to_virt(m->start), m->end - m->start, &elf, &why);
    if (err) {
        kprintf("spawn: module '%.*s' is not a valid program: %s\n", (int)len, name, why);
        return err;
    }
    struct process *p = kmem_alloc(&process_cache);
    if (!p)
        return ERR_NOMEM;
    memset(p, 0, sizeof(*p));
    memcpy(p->limit, parent ? parent->limit : process_default_limits, sizeof(p->limit));
    p->charge_parent = parent;

    uint64_t flags = spin_lock_irqsave(&process_lock);
    err = quota_charge(p, RES_PROCESSES, 1);
    spin_unlock_irqrestore(&process_lock, flags);
    if (err) {
        kmem_free(&process_cache, p);
        return err;
    }
    if ((err = vmspace_create(&p->vs, quota_charge_frames))) {
        uncharge_shell(p);
        kmem_free(&process_cache, p);
        return err;
    }
    err = load_segments(p, phys_to_virt(m->start), &elf, arg, arg_len);
    struct thread *t = NULL;
    if (!err)
        err = make_capspace(p, parent, give_cap);
    if (!err)
        err = process_add_thread(p, p->entry, p->stack_top, p->start_arg, prio, &t);
    if (err) {
        drop_capspace(p);
        vmspace_destroy(&p->vs);
        uncharge_shell(p);
        kmem_free(&process_cache, p);
        return err;
    }
    /* Visible only now, complete: a kill or wait can never find it half built. */
    flags = spin_lock_irqsave(&process_lock);
    p->pid = next_pid++;
    p->parent = parent;
    if (parent) {
        p->sibling = parent->children;
        parent->children = p;
    }
    p->all_next = all_processes;
    all_processes = p;
    spin_unlock_irqrestore(&process_lock, flags);
    thread_start(t);
    *out = p;
    return 0;
}

/* Frees a zombie that is unlinked from its parent and that nobody else can reach. */
static void process_free(struct process *p)
{
    while (p->threads) {
        struct thread *t = p->threads;
        p->threads = t->proc_next;
        process_free_thread(p, t);
    }
    uint64_t flags = spin_lock_irqsave(&process_lock);
    quota_uncharge(p, RES_PROCESSES, 1);
    for (struct process **link = &all_processes; *link; link = &(*link)->all_next)
        if (*link == p) {
            *link = p->all_next;
            break;
        }
    spin_unlock_irqrestore(&process_lock, flags);
    kmem_free(&process_cache, p);
}

/* Under process_lock. */
static void hand_to_reaper(struct process *p)
{
    p->reap_next = reap_list;
    reap_list = p;
    waitq_wake_all(&reaper_wq);
}

static void reaper_main(void *arg)
{
    (void)arg;
    for (;;) {
        uint64_t flags = spin_lock_irqsave(&process_lock);
        while (!reap_list)
            waitq_wait(&reaper_wq, &process_lock);
        struct process *p = reap_list;
        reap_list = p->reap_next;
        spin_unlock_irqrestore(&process_lock, flags);
        process_free(p);
    }
}

/* The last thread is leaving; its address space is gone already. Called with interrupts off
 * (see process_thread_exit): the zombie becomes visible here, and reapers then spin until this
 * thread's stack is released. */
static void process_finish(struct process *p, int status)
{
    spin_lock(&process_lock);
    if (!p->exiting)
        p->exit_status = status;
    p->exiting = true;
    p->state = PROCESS_ZOMBIE;
    while (p->children) {
        struct process *c = p->children;
        p->children = c->sibling;
        c->parent = NULL;
        c->orphan = true;
        if (c->state == PROCESS_ZOMBIE)
            hand_to_reaper(c);
    }
    /* Not only p's children are accounted under p: so are the orphans of its children that
     * ended before it. Every one moves up, so that no chain names p once it is freed. */
    for (struct process *q = all_processes; q; q = q->all_next)
        if (q->charge_parent == p)
            q->charge_parent = p->charge_parent;
    memobj_recharge(p);
    waitq_wake_all(&p->exit_wq);
    if (p->parent)
        waitq_wake_all(&p->parent->child_wq);
    else if (p->orphan)
        hand_to_reaper(p);
    spin_unlock(&process_lock);
}

void process_thread_exit(int status)
{
    struct thread *self = thread_current();
    struct process *p = self->proc;
    /* Interrupts stay off from the count below to the final switch (except around the
     * teardown): a thread preempted after it stopped counting could be switched back into an
     * address space that the last thread has freed meanwhile. Once `exited` or the zombie state
     * is visible, joiners and reapers spin until this stack is released, so nothing may
     * preempt the way there either. */
    ipc_thread_exit(self);
    irq_disable();
    spin_lock(&process_lock);
    self->exit_status = status;
    bool last = --p->live_threads == 0;
    if (last)
        self->vs = NULL; /* a kernel thread from here on: no switch reloads the dying tables */
    spin_unlock(&process_lock);
    if (last) {
        /* The address space and the capabilities go now (a fork bomb's memory comes back at
         * once, and clients of an endpoint only this process could receive on learn at once
         * that it is closed), with interrupts on: other CPUs may have to be asked to drop the
         * address space. */
        irq_enable();
        drop_capspace(p);
        vmspace_destroy(&p->vs);
        irq_disable();
    }
    spin_lock(&process_lock);
    self->exited = true;
    waitq_wake_all(&p->join_wq);
    spin_unlock(&process_lock);
    if (last)
        process_finish(p, status);
    thread_exit(status);
}

/* Under process_lock: decides the status (first decision wins) and kills every thread. */
static void kill_locked(struct process *p, int status, struct thread *except)
{
    if (p->state == PROCESS_ZOMBIE)
        return;
    if (!p->exiting)
        p->exit_status = status;
    p->exiting = true;
    for (struct thread *t = p->threads; t; t = t->proc_next)
        if (t != except && !t->exited)
            thread_request(t, THREAD_PENDING_KILL);
}

void process_exit(int status)
{
    struct thread *self = thread_current();
    uint64_t flags = spin_lock_irqsave(&process_lock);
    kill_locked(self->proc, status, self);
    spin_unlock_irqrestore(&process_lock, flags);
    process_thread_exit(status);
}

int process_wait(struct process *p)
{
    uint64_t flags = spin_lock_irqsave(&process_lock);
    while (p->state != PROCESS_ZOMBIE)
        waitq_wait(&p->exit_wq, &process_lock);
    spin_unlock_irqrestore(&process_lock, flags);
    int status = p->exit_status;
    process_free(p);
    return status;
}

long process_sys_spawn(struct process *self, uintptr_t name, size_t len, unsigned prio,
                       uint64_t give_cap)
{
    char buf[MODULE_NAME_MAX];
    if (prio >= SCHED_PRIO_LEVELS)
        return ERR_INVAL;
    if (!user_range_ok(name, len))
        return ERR_FAULT;
    if (len > sizeof(buf))
        return ERR_NOENT; /* no module has so long a name */
    if (copy_from_user(buf, name, len))
        return ERR_FAULT;
    struct process *child;
    int err = spawn(self, buf, len, prio, NULL, 0, give_cap, &child);
    return err ? err : (long)child->pid;
}

static void unlink_child(struct process *parent, struct process *c)
{
    for (struct process **link = &parent->children; *link; link = &(*link)->sibling)
        if (*link == c) {
            *link = c->sibling;
            return;
        }
}

long process_sys_wait(struct process *self, int64_t pid, uintptr_t status)
{
    struct thread *me = thread_current();
    uint64_t flags = spin_lock_irqsave(&process_lock);
    struct process *zombie;
    for (;;) {
        bool any = false;
        zombie = NULL;
        for (struct process *c = self->children; c && !zombie; c = c->sibling)
            if (pid == -1 || c->pid == pid) {
                any = true;
                if (c->state == PROCESS_ZOMBIE)
                    zombie = c;
            }
        if (zombie || !any || thread_killed(me))
            break;
        waitq_wait(&self->child_wq, &process_lock);
    }
    if (!zombie) {
        spin_unlock_irqrestore(&process_lock, flags);
        return thread_killed(me) ? ERR_INTR : ERR_NOENT;
    }
    /* Claimed, so no other thread reaps it while the status is written outside the lock. */
    unlink_child(self, zombie);
    spin_unlock_irqrestore(&process_lock, flags);
    if (status && copy_to_user(status, &zombie->exit_status, sizeof(int))) {
        /* Nothing is lost: the child stays to be waited for again. */
        flags = spin_lock_irqsave(&process_lock);
        zombie->sibling = self->children;
        self->children = zombie;
        spin_unlock_irqrestore(&process_lock, flags);
        return ERR_FAULT;
    }
    long reaped = zombie->pid;
    process_free(zombie);
    return reaped;
}

static bool is_ancestor(const struct process *a, const struct process *p)
{
    for (p = p->parent; p; p = p->parent)
        if (p == a)
            return true;
    return false;
}

int process_find_descendant(struct process *self, int64_t pid, struct process **out)
{
    struct process *target = all_processes;
    while (target && target->pid != pid)
        target = target->all_next;
    if (!target)
        return ERR_NOENT;
    if (!is_ancestor(self, target))
        return ERR_PERM;
    *out = target;
    return 0;
}

long process_sys_kill(struct process *self, int64_t pid)
{
    struct process *target;
    uint64_t flags = spin_lock_irqsave(&process_lock);
    int err = process_find_descendant(self, pid, &target);
    if (!err)
        kill_locked(target, PROCESS_KILLED_STATUS, NULL);
    spin_unlock_irqrestore(&process_lock, flags);
    return err;
}
