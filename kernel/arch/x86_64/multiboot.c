/* Multiboot v1 information (QEMU -kernel, GRUB, iPXE). Only the early physmap (first GiB) is
 * mapped when this runs, so every pointer the loader hands over is checked against it. */
#include "core/bootinfo.h"

#include <stdbool.h>

#include "core/console.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/layout.h"

#define MULTIBOOT_LOADER_MAGIC 0x2badb002
#define MBI_MEM      (1u << 0)
#define MBI_CMDLINE  (1u << 2)
#define MBI_MODS     (1u << 3)
#define MBI_MMAP     (1u << 6)

struct __attribute__((packed)) mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
};

struct __attribute__((packed)) mb_mmap_entry {
    uint32_t size;
    uint64_t base, len;
    uint32_t type;
};

struct __attribute__((packed)) mb_module {
    uint32_t start, end, string, reserved;
};

struct boot_info boot_info;

static bool reachable(uint64_t phys, uint64_t len)
{
    return phys < EARLY_PHYSMAP_LIMIT && len <= EARLY_PHYSMAP_LIMIT - phys;
}

/* Copies a loader string; a string that does not fit is an error, never silently cut. */
static int copy_string(char *dst, size_t size, uint64_t phys, const char *what)
{
    if (!reachable(phys, 1)) {
        kprintf("multiboot: %s at %#lx is outside the early map\n", what, phys);
        return ERR_RANGE;
    }
    const char *src = phys_to_virt(phys);
    size_t n = 0;
    while (n < size && reachable(phys + n, 1) && src[n])
        n++;
    if (n == size) {
        kprintf("multiboot: %s longer than %zu bytes\n", what, size - 1);
        return ERR_RANGE;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

static int parse_mmap(const struct mb_info *mbi, struct boot_info *bi)
{
    if (!(mbi->flags & MBI_MMAP)) {
        kprintf("multiboot: loader gave no memory map\n");
        return ERR_INVAL;
    }
    if (!reachable(mbi->mmap_addr, mbi->mmap_length))
        return ERR_RANGE;
    uint64_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
    while (p + sizeof(struct mb_mmap_entry) <= end) {
        const struct mb_mmap_entry *e = phys_to_virt(p);
        if (e->len) {
            if (bi->nregions == BOOT_MAX_REGIONS) {
                kprintf("multiboot: more than %d memory regions\n", BOOT_MAX_REGIONS);
                return ERR_NOSPC;
            }
            bi->regions[bi->nregions++] = (struct mem_region){e->base, e->len, e->type};
        }
        p += e->size + sizeof(e->size);
    }
    return 0;
}

static int parse_modules(const struct mb_info *mbi, struct boot_info *bi)
{
    if (!(mbi->flags & MBI_MODS) || mbi->mods_count == 0)
        return 0;
    if (mbi->mods_count > BOOT_MAX_MODULES) {
        kprintf("multiboot: %u modules, at most %d supported\n", mbi->mods_count,
                BOOT_MAX_MODULES);
        return ERR_NOSPC;
    }
    if (!reachable(mbi->mods_addr, mbi->mods_count * sizeof(struct mb_module)))
        return ERR_RANGE;
    const struct mb_module *m = phys_to_virt(mbi->mods_addr);
    for (uint32_t i = 0; i < mbi->mods_count; i++) {
        struct boot_module *bm = &bi->modules[i];
        if (m[i].end < m[i].start) {
            kprintf("multiboot: module %u has end %#x before start %#x\n", i, m[i].end,
                    m[i].start);
            return ERR_INVAL;
        }
        bm->start = m[i].start;
        bm->end = m[i].end;
        bm->name[0] = '\0';
        if (m[i].string) {
            int err = copy_string(bm->name, sizeof(bm->name), m[i].string, "module name");
            if (err)
                return err;
        }
    }
    bi->nmodules = mbi->mods_count;
    return 0;
}

int multiboot_parse(uint32_t magic, uint32_t mbi_phys, struct boot_info *bi)
{
    if (magic != MULTIBOOT_LOADER_MAGIC) {
        kprintf("multiboot: bad loader magic %#x (expected %#x)\n", magic,
                MULTIBOOT_LOADER_MAGIC);
        return ERR_INVAL;
    }
    if (!reachable(mbi_phys, sizeof(struct mb_info)))
        return ERR_RANGE;
    const struct mb_info *mbi = phys_to_virt(mbi_phys);
    bi->mbi_phys = mbi_phys;
    bi->cmdline[0] = '\0';
    if (mbi->flags & MBI_CMDLINE) {
        int err = copy_string(bi->cmdline, sizeof(bi->cmdline), mbi->cmdline, "command line");
        if (err)
            return err;
    }
    int err = parse_mmap(mbi, bi);
    if (err)
        return err;
    return parse_modules(mbi, bi);
}
