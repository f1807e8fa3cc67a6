/* bad_unmap_read: after SYS_MEM_UNMAP the page must be gone, TLB included: the page is touched
 * first so that a kernel forgetting the TLB shootdown would let the read succeed.
 * Expected exit status: USER_KILLED_BASE + 14 (page fault) = 270.
 *   1  the read after unmap succeeded
 *   2  the mem_map or mem_unmap call itself failed */
#include "sys.h"

int main(void)
{
    volatile uint64_t *p = (volatile uint64_t *)USER_MAP_BASE;
    long r = sys_mem_map((void *)p, PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (r != 0) {
        printf("bad_unmap_read: mem_map: %s\n", err_name((int)r));
        return 2;
    }
    *p = 0x1234;
    r = sys_mem_unmap((void *)p, PAGE_SIZE);
    if (r != 0) {
        printf("bad_unmap_read: mem_unmap: %s\n", err_name((int)r));
        return 2;
    }
    printf("bad_unmap_read: reading unmapped %p, expecting to be killed\n", (void *)p);
    uint64_t v = *p;
    printf("bad_unmap_read: FAIL: read %#lx after unmap\n", (unsigned long)v);
    return 1;
}
