#include "core/mem_syscalls.h"

#include "abi/syscall.h"
#include "lib/err.h"
#include "mm/layout.h"
#include "mm/vmspace.h"

#define PROT_ALL (PROT_READ | PROT_WRITE | PROT_EXEC)

/* prot 0 is refused: x86 has no present-but-inaccessible user page, and an unmapped range
 * already is one. */
bool mem_prot_ok(uint64_t prot)
{
    return prot && !(prot & ~(uint64_t)PROT_ALL) &&
           (prot & (PROT_WRITE | PROT_EXEC)) != (PROT_WRITE | PROT_EXEC);
}

uint64_t mem_range_pages(uintptr_t addr, size_t len)
{
    if (addr & (PAGE_SIZE - 1) || len == 0 || addr < USER_BASE || addr >= USER_TOP ||
        len > USER_TOP - addr)
        return 0;
    uint64_t pages = (len + PAGE_SIZE - 1) / PAGE_SIZE;
    return pages <= (USER_TOP - addr) / PAGE_SIZE ? pages : 0;
}

long mem_sys_map(struct vmspace *vs, uintptr_t addr, size_t len, uint64_t prot)
{
    uint64_t pages = mem_range_pages(addr, len);
    if (!pages || !mem_prot_ok(prot))
        return ERR_INVAL;
    for (uint64_t i = 0; i < pages; i++) {
        int err = vmspace_map_page(vs, addr + i * PAGE_SIZE, (unsigned)prot, NULL);
        if (err) {
            vmspace_unmap_range(vs, addr, addr + i * PAGE_SIZE);
            return err;
        }
    }
    return 0;
}

long mem_sys_unmap(struct vmspace *vs, uintptr_t addr, size_t len)
{
    uint64_t pages = mem_range_pages(addr, len);
    if (!pages)
        return ERR_INVAL;
    vmspace_unmap_range(vs, addr, addr + pages * PAGE_SIZE);
    return 0;
}

long mem_sys_protect(struct vmspace *vs, uintptr_t addr, size_t len, uint64_t prot)
{
    uint64_t pages = mem_range_pages(addr, len);
    if (!pages || !mem_prot_ok(prot))
        return ERR_INVAL;
    return vmspace_protect_range(vs, addr, pages, (unsigned)prot);
}
