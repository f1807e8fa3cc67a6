/* bad_protect_write: SYS_MEM_PROTECT to read-only must take effect at once, TLB included: the
 * page is written first so that a stale writable TLB entry would let the second write through.
 * Expected exit status: USER_KILLED_BASE + 14 (page fault) = 270.
 *   1  the write after protect succeeded
 *   2  the mem_map or mem_protect call itself failed, or the data did not survive it */
#include "sys.h"

int main(void)
{
    volatile uint64_t *p = (volatile uint64_t *)USER_MAP_BASE;
    long r = sys_mem_map((void *)p, PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (r != 0) {
        printf("bad_protect_write: mem_map: %s\n", err_name((int)r));
        return 2;
    }
    *p = 0x1234;
    r = sys_mem_protect((void *)p, PAGE_SIZE, PROT_READ);
    if (r != 0 || *p != 0x1234) {
        printf("bad_protect_write: mem_protect: %s\n", err_name((int)r));
        return 2;
    }
    printf("bad_protect_write: writing read-only %p, expecting to be killed\n", (void *)p);
    *p = 0x5678;
    printf("bad_protect_write: FAIL: wrote to a read-only page\n");
    return 1;
}
