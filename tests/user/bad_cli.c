/* bad_cli: cli in ring 3 raises #GP when IOPL is 0, which the kernel must guarantee on entry to
 * user space (RFLAGS.IOPL = 0): otherwise a user program could disable interrupts and hang the
 * CPU it runs on.
 * Expected exit status: USER_KILLED_BASE + 13 (general protection) = 269.
 *   1  cli executed (IOPL was 3, or the process runs in ring 0) */
#include "sys.h"

int main(void)
{
    printf("bad_cli: executing cli, expecting to be killed\n");
    __asm__ volatile("cli");
    /* Put interrupts back before reporting, should we ever get here. */
    __asm__ volatile("sti");
    printf("bad_cli: FAIL: cli executed\n");
    return 1;
}
