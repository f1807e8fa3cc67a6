/* Builds the final kernel address space: the image at 4 KiB granularity so that text is RX,
 * rodata R+NX and data/bss RW+NX; the physmap in 2 MiB pages over RAM only (never over device
 * holes, which must not be cached); the boot stack's guard page left unmapped. */
#include "mm/paging.h"

#include <stdbool.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/spinlock.h"
#include "core/bootinfo.h"
#include "core/console.h"
#include "core/panic.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/layout.h"

extern char boot_stack_guard[];

static uint64_t *kernel_pml4;
static uint64_t nx;
static bool use_boot_pool = true;
static struct spinlock paging_lock = SPINLOCK_INIT;
static uint64_t ioremap_next = IOREMAP_BASE;

static uint64_t *new_table(void)
{
    if (use_boot_pool)
        return boot_pool_page();
    uint64_t phys;
    if (frame_alloc(0, &phys))
        return NULL;
    uint64_t *t = phys_to_virt(phys);
    memset(t, 0, PAGE_SIZE);
    return t;
}

static unsigned index_at(uintptr_t va, unsigned level)
{
    return (va >> (12 + 9 * level)) & 511;
}

/* Intermediate entries are permissive (writable, executable, and user-accessible in user
 * address spaces); the leaf decides. */
static uint64_t *walk_from(uint64_t *root, uintptr_t va, unsigned leaf_level, bool create,
                           uint64_t table_flags, unsigned *created)
{
    uint64_t *table = root;
    for (unsigned level = 3; level > leaf_level; level--) {
        uint64_t *e = &table[index_at(va, level)];
        if (!(*e & PTE_P)) {
            if (!create)
                return NULL;
            uint64_t *t = new_table();
            if (!t)
                return NULL;
            *e = virt_to_phys(t) | PTE_P | PTE_W | table_flags;
            if (created)
                ++*created;
        } else if (*e & PTE_PS) {
            return NULL;
        }
        table = phys_to_virt(*e & PTE_ADDR);
    }
    return &table[index_at(va, leaf_level)];
}

static uint64_t *walk(uintptr_t va, unsigned leaf_level, bool create)
{
    return walk_from(kernel_pml4, va, leaf_level, create, 0, NULL);
}

uint64_t *paging_user_pte(uint64_t *root, uintptr_t va, unsigned *created)
{
    return walk_from(root, va, 0, created != NULL, PTE_U, created);
}

uint64_t *paging_kernel_root(void)
{
    return kernel_pml4;
}

static void map(uintptr_t va, uint64_t pa, uint64_t flags, unsigned level)
{
    uint64_t *e = walk(va, level, true);
    if (!e)
        panic("paging: out of page-table memory mapping %#lx", va);
    *e = pa | flags | PTE_P | (level ? PTE_PS : 0);
}

static void map_image_range(const char *start, const char *end, uint64_t flags)
{
    for (uintptr_t va = (uintptr_t)start; va < (uintptr_t)end; va += PAGE_SIZE) {
        if (va == (uintptr_t)boot_stack_guard)
            continue;
        map(va, va - KERNEL_VMA, flags, 0);
    }
}

static void map_physmap(const struct boot_info *bi, uint64_t *mapped_bytes)
{
    for (unsigned i = 0; i < bi->nregions; i++) {
        const struct mem_region *r = &bi->regions[i];
        if (r->type != MEM_USABLE && r->type != MEM_ACPI && r->type != MEM_NVS)
            continue;
        uint64_t start = r->base & ~(LARGE_PAGE - 1);
        for (uint64_t pa = start; pa < r->base + r->len; pa += LARGE_PAGE) {
            uint64_t *e = walk(PHYSMAP_BASE + pa, 1, true);
            if (!e)
                panic("paging: out of page-table memory for the physmap");
            if (!(*e & PTE_P)) {
                *e = pa | PTE_P | PTE_W | PTE_PS | PTE_G | nx;
                *mapped_bytes += LARGE_PAGE;
            }
        }
    }
}

void paging_init(const struct boot_info *bi)
{
    uint64_t global = cpu.pge ? PTE_G : 0, physmap_bytes = 0;

    nx = cpu.nx ? PTE_NX : 0;
    kernel_pml4 = new_table();
    if (!kernel_pml4)
        panic("paging: no page for the PML4");

    map_image_range(_text_start, _text_end, global);
    map_image_range(_rodata_start, _rodata_end, global | nx);
    map_image_range(_data_start, _kernel_end, global | PTE_W | nx);
    map_physmap(bi, &physmap_bytes);

    write_cr3(virt_to_phys(kernel_pml4));
    if (cpu.pge)
        write_cr4(read_cr4() | CR4_PGE);
    use_boot_pool = false;

    kprintf("paging: text %lu KiB RX, rodata %lu KiB R, data+bss %lu KiB RW, NX %s, global %s, "
            "physmap %lu MiB, stack guard at %#lx\n",
            (uint64_t)(_text_end - _text_start) >> 10,
            (uint64_t)(_rodata_end - _rodata_start) >> 10,
            (uint64_t)(_kernel_end - _data_start) >> 10, nx ? "on" : "off (CPU has no NX)",
            global ? "on" : "off", physmap_bytes >> 20, (uint64_t)boot_stack_guard);
}

void *ioremap(uint64_t phys, uint64_t size)
{
    uint64_t offset = phys & (PAGE_SIZE - 1);
    uint64_t pages = (offset + size + PAGE_SIZE - 1) / PAGE_SIZE;
    uint64_t flags = spin_lock_irqsave(&paging_lock);
    uintptr_t va = ioremap_next;
    if (pages == 0 || va + pages * PAGE_SIZE > IOREMAP_BASE + IOREMAP_SIZE) {
        spin_unlock_irqrestore(&paging_lock, flags);
        return NULL;
    }
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t *e = walk(va + i * PAGE_SIZE, 0, true);
        if (!e) {
            spin_unlock_irqrestore(&paging_lock, flags);
            return NULL;
        }
        *e = (phys - offset + i * PAGE_SIZE) | PTE_P | PTE_W | PTE_PCD | PTE_PWT | nx;
    }
    ioremap_next += pages * PAGE_SIZE;
    spin_unlock_irqrestore(&paging_lock, flags);
    return (void *)(va + offset);
}

int paging_map(uintptr_t va, uint64_t pa, uint64_t flags)
{
    if ((va | pa) & (PAGE_SIZE - 1) || va < KMAP_BASE || va >= KMAP_BASE + KMAP_SIZE)
        return ERR_INVAL;
    uint64_t irq = spin_lock_irqsave(&paging_lock);
    uint64_t *e = walk(va, 0, true);
    int err = !e ? ERR_NOMEM : (*e & PTE_P) ? ERR_EXIST : 0;
    if (!err)
        *e = pa | (flags & (PTE_W | PTE_PCD | PTE_PWT)) | PTE_P | nx;
    spin_unlock_irqrestore(&paging_lock, irq);
    return err;
}

int paging_unmap(uintptr_t va)
{
    if (va & (PAGE_SIZE - 1) || va < KMAP_BASE || va >= KMAP_BASE + KMAP_SIZE)
        return ERR_INVAL;
    uint64_t irq = spin_lock_irqsave(&paging_lock);
    uint64_t *e = walk(va, 0, false);
    int err = !e || !(*e & PTE_P) ? ERR_NOENT : 0;
    if (!err) {
        *e = 0;
        invlpg(va);
    }
    spin_unlock_irqrestore(&paging_lock, irq);
    return err;
}

uint64_t paging_lookup(uintptr_t va, uint64_t *page_size)
{
    uint64_t *table = kernel_pml4;
    for (unsigned level = 3;; level--) {
        uint64_t e = table[index_at(va, level)];
        if (!(e & PTE_P))
            return 0;
        if (level == 0 || (e & PTE_PS)) {
            *page_size = 1ul << (12 + 9 * level);
            return e;
        }
        table = phys_to_virt(e & PTE_ADDR);
    }
}

uint64_t paging_nx(void)
{
    return nx;
}
