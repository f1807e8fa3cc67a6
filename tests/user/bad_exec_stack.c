/* bad_exec_stack: code copied onto the stack must not run: the user stack is mapped NX (and
 * PT_GNU_STACK says RW). The jump faults on the instruction fetch.
 * Expected exit status: USER_KILLED_BASE + 14 (page fault) = 270.
 *   1  the stack code ran and returned (NX missing or the stack mapped executable) */
#include "sys.h"

int main(void)
{
    /* mov $42, %eax; ret */
    static const unsigned char code[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };
    volatile unsigned char on_stack[16];
    for (unsigned i = 0; i < sizeof(code); i++)
        on_stack[i] = code[i];
    int (*fn)(void) = (int (*)(void))(uintptr_t)on_stack;
    printf("bad_exec_stack: calling code at %p, expecting to be killed\n", (void *)on_stack);
    int r = fn();
    printf("bad_exec_stack: FAIL: stack code returned %d\n", r);
    return 1;
}
