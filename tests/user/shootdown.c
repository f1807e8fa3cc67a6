/* shootdown: a page unmapped by one thread must become inaccessible to every other thread of
 * the process, including one running on another CPU with the translation in its TLB. A reader
 * thread spins on the page; once it has read it, the main thread unmaps it (or, with the
 * argument string "grant", grants it away with MEM_GRANT_MOVE). The reader's next read must
 * fault, which ends the whole process with the page-fault status.
 * Expected exit status: 270 (USER_KILLED_BASE + 14: the reader's read after the unmap faulted).
 *   1  the reader kept reading the page for 50 ticks after it left (a stale TLB entry)
 *   2  mapping the page or the reader's stack failed
 *   3  the reader thread could not be started
 *   4  the reader never read the page
 *   5  the grant failed */
#include <stdbool.h>

#include "sys.h"

#define PAGE   ((volatile uint64_t *)(USER_MAP_BASE + 0x200000))
#define STACK  ((void *)(USER_MAP_BASE + 0x400000))
#define STACK_SIZE (16 * 1024)

static volatile uint64_t reads;

__attribute__((noreturn)) static int reader(void *arg)
{
    (void)arg;
    for (;;) {
        if (*PAGE == 0x5eed)
            reads++;
    }
}

int main(void)
{
    if (sys_mem_map((void *)PAGE, PAGE_SIZE, PROT_READ | PROT_WRITE) ||
        sys_mem_map(STACK, STACK_SIZE, PROT_READ | PROT_WRITE))
        return 2;
    *PAGE = 0x5eed;
    if (thread_start(reader, NULL, STACK, STACK_SIZE) < 0)
        return 3;
    for (int i = 0; i < 100 && reads == 0; i++)
        sys_sleep(1);
    if (reads == 0)
        return 4;
    const char *arg = (const char *)sys_start_arg;
    bool grant = arg && !strcmp(arg, "grant");
    if (grant) {
        if (sys_mem_grant((void *)PAGE, PAGE_SIZE, MEM_GRANT_MOVE) < 0)
            return 5;
    } else {
        sys_mem_unmap((void *)PAGE, PAGE_SIZE);
    }
    sys_sleep(50);
    printf("shootdown: the reader still read the page after it was %s\n",
           grant ? "granted away" : "unmapped");
    return 1;
}
