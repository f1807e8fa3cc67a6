/* memory: the SYS_MEM_* calls do what they say: fresh mappings are zero, readable and
 * writable; protect keeps the contents; unmap really frees (a new mapping at the same place is
 * zero again, no stale data); W|X is refused; and the W^X way to run generated code (write, then
 * protect to R|X, then call) works. Writes after a protect to read-only would kill the process,
 * so bad_protect_write.c tests that separately.
 * Expected exit status: 0.
 *   1  mapping 64 KiB RW failed
 *   2  a fresh mapping was not all zero
 *   3  a page did not read back what was written
 *   4  mem_protect to read-only failed
 *   5  contents changed across mem_protect
 *   6  mem_unmap failed
 *   7  mapping again at the same address failed
 *   8  the new mapping was not zero (old contents leaked)
 *   9  mem_map with PROT_WRITE|PROT_EXEC did not return ERR_INVAL
 *  10  mem_protect to PROT_WRITE|PROT_EXEC did not return ERR_INVAL
 *  11  mapping or protecting the code page failed
 *  12  the generated code did not return 42
 *  13  the final mem_unmap failed */
#include "sys.h"

#define LEN   (64 * 1024)
#define AREA  ((volatile uint64_t *)USER_MAP_BASE)
#define CODE  ((unsigned char *)(USER_MAP_BASE + 0x100000))
#define WORDS (LEN / sizeof(uint64_t))

static int all_zero(void)
{
    for (size_t i = 0; i < WORDS; i++)
        if (AREA[i] != 0)
            return 0;
    return 1;
}

static uint64_t pattern(size_t i)
{
    return 0x9e3779b97f4a7c15ull * (i + 1);
}

static int check(int code, int ok, const char *what)
{
    if (!ok)
        printf("memory: %s failed (exit %d)\n", what, code);
    return ok ? 0 : code;
}

static int run(void)
{
    int r;
    const unsigned rw = PROT_READ | PROT_WRITE;
    if ((r = check(1, sys_mem_map((void *)AREA, LEN, rw) == 0, "map 64 KiB")))
        return r;
    if ((r = check(2, all_zero(), "fresh mapping is zero")))
        return r;
    /* Every word, so every page is touched, and each with a different value, so that two pages
     * aliasing one frame would show. */
    for (size_t i = 0; i < WORDS; i++)
        AREA[i] = pattern(i);
    for (size_t i = 0; i < WORDS; i++)
        if ((r = check(3, AREA[i] == pattern(i), "read back")))
            return r;
    if ((r = check(4, sys_mem_protect((void *)AREA, LEN, PROT_READ) == 0, "protect read-only")))
        return r;
    for (size_t i = 0; i < WORDS; i++)
        if ((r = check(5, AREA[i] == pattern(i), "contents across protect")))
            return r;
    if ((r = check(6, sys_mem_unmap((void *)AREA, LEN) == 0, "unmap")))
        return r;
    if ((r = check(7, sys_mem_map((void *)AREA, LEN, rw) == 0, "map again")))
        return r;
    if ((r = check(8, all_zero(), "new mapping is zero")))
        return r;
    if ((r = check(9, sys_mem_map(CODE, PAGE_SIZE, PROT_WRITE | PROT_EXEC) == ERR_INVAL,
                   "map W|X refused")))
        return r;
    if ((r = check(10, sys_mem_protect((void *)AREA, PAGE_SIZE, PROT_WRITE | PROT_EXEC) ==
                           ERR_INVAL, "protect W|X refused")))
        return r;

    /* mov $42, %eax; ret */
    static const unsigned char code[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };
    if ((r = check(11, sys_mem_map(CODE, PAGE_SIZE, rw) == 0, "map code page")))
        return r;
    memcpy(CODE, code, sizeof(code));
    if ((r = check(11, sys_mem_protect(CODE, PAGE_SIZE, PROT_READ | PROT_EXEC) == 0,
                   "protect code page R|X")))
        return r;
    int (*fn)(void) = (int (*)(void))(uintptr_t)CODE;
    if ((r = check(12, fn() == 42, "generated code")))
        return r;
    if ((r = check(13, sys_mem_unmap(CODE, PAGE_SIZE) == 0 &&
                           sys_mem_unmap((void *)AREA, LEN) == 0, "final unmap")))
        return r;
    return 0;
}

int main(void)
{
    int r = run();
    if (r == 0)
        printf("memory: map, protect, unmap, remap and W^X all behave\n");
    return r;
}
