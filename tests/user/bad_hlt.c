/* bad_hlt: hlt is privileged; in ring 3 it raises #GP, and the kernel must kill the process
 * rather than halt the CPU or panic.
 * Expected exit status: USER_KILLED_BASE + 13 (general protection) = 269.
 *   1  hlt returned (the process runs in ring 0, or the fault was resumed) */
#include "sys.h"

int main(void)
{
    printf("bad_hlt: executing hlt, expecting to be killed\n");
    __asm__ volatile("hlt");
    printf("bad_hlt: FAIL: hlt executed\n");
    return 1;
}
