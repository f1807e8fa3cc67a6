/* The kernel address space: W^X on the image, NX physmap, guard page, uncached device pages,
 * and that the protections are enforced by the CPU, not just written down. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/trap.h"
#include "core/selftest.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/layout.h"
#include "mm/paging.h"

extern char boot_stack_guard[];

#define PF_VECTOR_RESULT (VEC_PF + 1)
#define PF_PRESENT 1
#define PF_WRITE 2
#define PF_FETCH 16

static int try_write(volatile uint8_t *p, struct fault_ctx *ctx)
{
    int r = fault_try(ctx);
    if (r == 0) {
        *p = *p;
        fault_disarm();
    }
    return r;
}

static int try_read(volatile uint8_t *p, struct fault_ctx *ctx)
{
    int r = fault_try(ctx);
    if (r == 0) {
        (void)*p;
        fault_disarm();
    }
    return r;
}

SELFTEST(paging, kernel_image_is_wx)
{
    uint64_t size;
    for (uintptr_t va = (uintptr_t)_text_start; va < (uintptr_t)_kernel_end; va += PAGE_SIZE) {
        uint64_t e = paging_lookup(va, &size);
        if (va == (uintptr_t)boot_stack_guard) {
            KCHECK_EQ(e, 0);
            continue;
        }
        KCHECK(e & PTE_P);
        KCHECK_EQ(size, PAGE_SIZE);
        bool text = va < (uintptr_t)_text_end, rodata = va >= (uintptr_t)_rodata_start &&
                                                         va < (uintptr_t)_rodata_end;
        KCHECK(!(e & PTE_U));
        KCHECK_EQ(!!(e & PTE_W), !text && !rodata);
        if (cpu.nx)
            KCHECK_EQ(!!(e & PTE_NX), !text);
        else
            KCHECK_EQ(e & PTE_NX, 0);
    }
}

SELFTEST(paging, write_to_text_faults)
{
    struct fault_ctx ctx;
    KCHECK_EQ(try_write((volatile uint8_t *)_text_start, &ctx), PF_VECTOR_RESULT);
    KCHECK_EQ(ctx.addr, (uintptr_t)_text_start);
    KCHECK_EQ(ctx.error & (PF_PRESENT | PF_WRITE), PF_PRESENT | PF_WRITE);
}

SELFTEST(paging, write_to_rodata_faults)
{
    static const uint8_t constant = 42;
    struct fault_ctx ctx;
    KCHECK_EQ(try_write((volatile uint8_t *)&constant, &ctx), PF_VECTOR_RESULT);
    KCHECK_EQ(ctx.addr, (uintptr_t)&constant);
    KCHECK_EQ(constant, 42);
}

SELFTEST(paging, execute_data_faults)
{
    static uint8_t code[16] = {0xc3}; /* ret */
    struct fault_ctx ctx;
    if (!cpu.nx) {
        KCHECK_EQ(paging_nx(), 0); /* the CPU cannot enforce it: the bit must stay clear */
        return;
    }
    int r = fault_try(&ctx);
    if (r == 0) {
        ((void (*)(void))(uintptr_t)code)();
        fault_disarm();
    }
    KCHECK_EQ(r, PF_VECTOR_RESULT);
    KCHECK_EQ(ctx.addr, (uintptr_t)code);
    KCHECK(ctx.error & PF_FETCH);
}

SELFTEST(paging, physmap_is_nx_and_rw)
{
    uint64_t size, e = paging_lookup((uintptr_t)phys_to_virt(0x200000), &size);
    KCHECK(e & PTE_P);
    KCHECK(e & PTE_W);
    KCHECK_EQ(size, LARGE_PAGE);
    KCHECK_EQ(e & PTE_NX, paging_nx());
}

SELFTEST(paging, guard_page_and_low_memory_unmapped)
{
    struct fault_ctx ctx;
    KCHECK_EQ(try_read((volatile uint8_t *)boot_stack_guard, &ctx), PF_VECTOR_RESULT);
    KCHECK_EQ(ctx.error & PF_PRESENT, 0);
    /* The boot identity map is gone: low addresses belong to user space now. */
    KCHECK_EQ(try_read((volatile uint8_t *)0x100000, &ctx), PF_VECTOR_RESULT);
    KCHECK_EQ(try_read((volatile uint8_t *)0, &ctx), PF_VECTOR_RESULT);
    KCHECK_EQ(ctx.addr, 0);
}

SELFTEST(paging, ioremap_is_uncached)
{
    uint64_t size;
    volatile uint32_t *regs = ioremap(0xfee00000, 4096);
    KCHECK(regs != NULL);
    uint64_t e = paging_lookup((uintptr_t)regs, &size);
    KCHECK((e & (PTE_P | PTE_PCD | PTE_PWT)) == (PTE_P | PTE_PCD | PTE_PWT));
    KCHECK_EQ(e & PTE_ADDR, 0xfee00000);
    KCHECK_EQ(e & PTE_NX, paging_nx());
}

SELFTEST(paging, kmap_map_unmap)
{
    struct fault_ctx ctx;
    uint64_t phys, size;
    uintptr_t va = KMAP_BASE + 5 * PAGE_SIZE;
    KCHECK_EQ(frame_alloc(0, &phys), 0);
    *(volatile uint64_t *)phys_to_virt(phys) = 0x1122334455667788ul;
    KCHECK_EQ(paging_map(va, phys, PTE_W), 0);
    KCHECK_EQ(paging_map(va, phys, PTE_W), ERR_EXIST);
    KCHECK_EQ(*(volatile uint64_t *)va, 0x1122334455667788ul);
    KCHECK_EQ(paging_lookup(va, &size) & PTE_NX, paging_nx());
    KCHECK_EQ(paging_unmap(va), 0);
    KCHECK_EQ(try_read((volatile uint8_t *)va, &ctx), PF_VECTOR_RESULT);
    KCHECK_EQ(paging_unmap(va), ERR_NOENT);
    KCHECK_EQ(paging_map(va + 1, phys, 0), ERR_INVAL);
    KCHECK_EQ(paging_map((uintptr_t)_text_start, phys, 0), ERR_INVAL);
    KCHECK_EQ(frame_free(phys, 0), 0);
}
