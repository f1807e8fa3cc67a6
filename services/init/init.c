/* init: the first user process. For now it proves that a program can be loaded, reach the
 * console through SYS_WRITE and exit; the service manifest comes later.
 * Expected exit status: 0. */
#include "sys.h"

int main(void)
{
    printf("init: hello from user space (pid %ld)\n", sys_getpid());
    return 0;
}
