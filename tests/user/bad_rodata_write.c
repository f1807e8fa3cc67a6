/* bad_rodata_write: a store to .rodata must fault: the loader maps the R segment read-only
 * (kernel/core/elf.c reports its prot; services/libsys/user.ld gives rodata its own pages).
 * Expected exit status: USER_KILLED_BASE + 14 (page fault) = 270.
 *   1  the write succeeded
 *   2  the constant is not in .rodata (a build problem: the test would prove nothing) */
#include "sys.h"

const uint64_t rodata_word = 0x5eed5eed5eed5eedull;
extern const char __rodata_start[], __rodata_end[];

int main(void)
{
    const char *p = (const char *)&rodata_word;
    if (p < __rodata_start || p + sizeof(rodata_word) > __rodata_end) {
        printf("bad_rodata_write: %p is not in .rodata [%p, %p)\n", (const void *)p,
               (const void *)__rodata_start, (const void *)__rodata_end);
        return 2;
    }
    printf("bad_rodata_write: writing %p, expecting to be killed\n", (const void *)p);
    /* Through a volatile pointer so that the compiler emits the store it may assume never
     * happens to a const object. */
    *(volatile uint64_t *)(uintptr_t)p = 0;
    printf("bad_rodata_write: FAIL: wrote to .rodata\n");
    return 1;
}
