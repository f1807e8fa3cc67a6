/* hello: the smallest end-to-end check of loading and process entry. Besides printing, it checks
 * what the kernel's loader and entry path promise (docs/abi.md):
 * Expected exit status: 0.
 *   1  rsp at entry was not 16-byte aligned
 *   2  initialised .data does not hold its value (file bytes not copied)
 *   3  .bss is not zero (memsz beyond filesz not cleared)
 *   4  .rodata does not hold its value
 *   5  SYS_GETPID or SYS_GETTID returned an error
 *   6  SYS_WRITE did not return the length written */
#include "sys.h"

static volatile uint64_t data_word = 0x1122334455667788ull;
static volatile uint64_t bss_words[512]; /* a whole page and more of bss */
static const char greeting[] = "hello from user space\n";

int main(void)
{
    if (sys_start_rsp % 16 != 0)
        return 1;
    if (data_word != 0x1122334455667788ull)
        return 2;
    for (unsigned i = 0; i < 512; i++)
        if (bss_words[i] != 0)
            return 3;
    if (greeting[0] != 'h' || greeting[sizeof(greeting) - 2] != '\n')
        return 4;
    long pid = sys_getpid(), tid = sys_gettid();
    if (pid < 0 || tid < 0)
        return 5;
    long n = sys_write(greeting, sizeof(greeting) - 1);
    if (n != (long)sizeof(greeting) - 1)
        return 6;
    printf("hello: pid %ld tid %ld arg %lu\n", pid, tid, (unsigned long)sys_start_arg);
    return 0;
}
