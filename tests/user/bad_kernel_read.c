/* bad_kernel_read: user code reading kernel text must be stopped by the page tables (the kernel
 * mappings lack the user bit), and the kernel must kill only this process.
 * Expected exit status: USER_KILLED_BASE + 14 (page fault) = 270.
 *   1  the read succeeded (kernel memory is readable from ring 3) */
#include "sys.h"

int main(void)
{
    volatile const uint64_t *kernel_text = (volatile const uint64_t *)0xffffffff80100000ul;
    printf("bad_kernel_read: reading %p, expecting to be killed\n", (const void *)kernel_text);
    uint64_t v = *kernel_text;
    printf("bad_kernel_read: FAIL: read %#lx from kernel text\n", (unsigned long)v);
    return 1;
}
