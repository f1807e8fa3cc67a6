/* grant_shootdown: a page granted away with MEM_GRANT_MOVE must become inaccessible to every
 * thread of the granter at once, including one running on another CPU with the translation in
 * its TLB (as shootdown.c checks for SYS_MEM_UNMAP). A reader thread spins on the page; once it
 * has read it, the main thread grants it. The reader's next read must fault, which ends the
 * whole process with the page-fault status.
 * Expected exit status: 270 (USER_KILLED_BASE + 14: the reader's read after the grant faulted).
 *   1  the reader kept reading the granted page for 50 ticks (a stale TLB entry somewhere)
 *   2  mapping the page or the reader's stack failed
 *   3  the reader thread could not be started
 *   4  the reader never read the page
 *   5  the grant failed */
#include "sys.h"

#define PAGE       ((volatile uint64_t *)(USER_MAP_BASE + 0x200000))
#define STACK      ((void *)(USER_MAP_BASE + 0x400000))
#define STACK_SIZE (16 * 1024)

static volatile uint64_t reads;

__attribute__((noreturn)) static int reader(void *arg)
{
    (void)arg;
    for (;;) {
        if (*PAGE == 0x6a17)
            reads++;
    }
}

int main(void)
{
    if (sys_mem_map((void *)PAGE, PAGE_SIZE, PROT_READ | PROT_WRITE) ||
        sys_mem_map(STACK, STACK_SIZE, PROT_READ | PROT_WRITE))
        return 2;
    *PAGE = 0x6a17;
    if (thread_start(reader, NULL, STACK, STACK_SIZE) < 0)
        return 3;
    for (int i = 0; i < 100 && reads == 0; i++)
        sys_sleep(1);
    if (reads == 0)
        return 4;
    if (sys_mem_grant((void *)PAGE, PAGE_SIZE, MEM_GRANT_MOVE) < 0)
        return 5;
    sys_sleep(50);
    printf("grant_shootdown: the reader still read the page after it was granted away\n");
    return 1;
}
