/* hog: burns CPU without ever entering the kernel, so only timer preemption can take the CPU
 * back. For scheduler tests (a sibling must still make progress) and for SYS_KILL (its parent
 * kills it).
 * Expected exit status: never exits by itself; whatever status the kernel gives a process ended
 * by SYS_KILL (docs/abi.md). */
#include "sys.h"

int main(void)
{
    printf("hog: pid %ld spinning\n", sys_getpid());
    volatile uint64_t spins = 0;
    for (;;)
        spins++;
}
