#include "core/process.h"

#include "abi/syscall.h"
#include "core/bootinfo.h"
#include "core/console.h"
#include "core/elf.h"
#include "core/thread.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/kmem.h"
#include "mm/layout.h"

#define USER_STACK_PAGES 4

void enter_user(uint64_t rip, uint64_t rsp, uint64_t arg);

static struct kmem_cache process_cache;
static bool cache_ready;

/* A module string is "path [args]": the name is the path's last component. */
static bool module_is(const struct boot_module *m, const char *name)
{
    const char *s = m->name, *base = s;
    for (const char *p = s; *p && *p != ' '; p++)
        if (*p == '/')
            base = p + 1;
    size_t n = 0;
    while (base[n] && base[n] != ' ')
        n++;
    return n == strlen(name) && !strncmp(base, name, n);
}

static const struct boot_module *find_module(const char *name)
{
    for (unsigned i = 0; i < boot_info.nmodules; i++)
        if (module_is(&boot_info.modules[i], name))
            return &boot_info.modules[i];
    return NULL;
}

static int load_segments(struct process *p, const uint8_t *image, const struct elf_image *elf)
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
    for (unsigned i = 1; i <= USER_STACK_PAGES; i++) {
        int err = vmspace_map_page(&p->vs, USER_TOP - i * PAGE_SIZE, PROT_READ | PROT_WRITE, NULL);
        if (err)
            return err;
    }
    p->entry = elf->entry;
    p->stack_top = USER_TOP;
    return 0;
}

static void user_main(void *arg)
{
    struct process *p = arg;
    enter_user(p->entry, p->stack_top, 0);
}

int process_spawn(const char *name, unsigned prio, struct process **out)
{
    const struct boot_module *m = find_module(name);
    struct elf_image elf;
    const char *why;
    if (!m)
        return ERR_NOENT;
    int err = elf_parse(phys_to_virt(m->start), m->end - m->start, &elf, &why);
    if (err) {
        kprintf("spawn: module '%s' is not a valid program: %s\n", name, why);
        return err;
    }
    if (!cache_ready) {
        if (kmem_cache_init(&process_cache, "process", sizeof(struct process), 8))
            return ERR_NOMEM;
        cache_ready = true;
    }
    struct process *p = kmem_alloc(&process_cache);
    if (!p)
        return ERR_NOMEM;
    memset(p, 0, sizeof(*p));
    if ((err = vmspace_create(&p->vs))) {
        kmem_free(&process_cache, p);
        return err;
    }
    err = load_segments(p, phys_to_virt(m->start), &elf);
    if (!err && !(p->main = thread_create_in(&p->vs, user_main, p, prio)))
        err = ERR_NOMEM;
    if (err) {
        vmspace_destroy(&p->vs);
        kmem_free(&process_cache, p);
        return err;
    }
    *out = p;
    return 0;
}

int process_wait(struct process *p)
{
    int status = thread_join(p->main);
    vmspace_destroy(&p->vs);
    kmem_free(&process_cache, p);
    return status;
}
