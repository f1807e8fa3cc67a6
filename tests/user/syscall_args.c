/* syscall_args: wild arguments must come back as error codes, never as a kernel crash, a
 * console full of kernel memory, or a killed process. docs/abi.md ("Argument checking") states
 * the rule: a pointer the kernel would dereference or jump to that is not entirely inside mapped
 * user memory is ERR_FAULT; any other bad value (prot bits, alignment, length, range given to the
 * memory calls, priority, syscall number) is ERR_INVAL; an unknown module name is ERR_NOENT.
 *
 * Expected exit status: 0. Otherwise 1 + the index of the first unexpected result below (every
 * mismatch is printed); a process killed instead reports USER_KILLED_BASE + vector.
 *   0  write(kernel text 0xffffffff80100000, 16)      ERR_FAULT
 *   1  write(NULL, 16)                                ERR_FAULT
 *   2  write(stack buffer, USER_TOP)  (past the top)  ERR_FAULT
 *   3  write(stack buffer, ~0)        (wraps)         ERR_FAULT
 *   4  write(unmapped 0x500000000000, 16)             ERR_FAULT
 *   5  write(non-canonical 0x800000000000, 16)        ERR_FAULT
 *   6  write(USER_TOP - 8, 16)   (straddles the top)  ERR_FAULT
 *   7  mem_map(scratch, 1 page, RW)                   0
 *   8  write(last 8 bytes of scratch, 16)  (runs into an unmapped page)  ERR_FAULT
 *   9  write(last 8 bytes of scratch, 8)   (exactly fits)                8
 *  10  mem_map(RWX)                                   ERR_INVAL
 *  11  mem_map(W|X)                                   ERR_INVAL
 *  12  mem_protect(scratch, W|X)                      ERR_INVAL
 *  13  mem_map(prot with unknown bit 8)               ERR_INVAL
 *  14  mem_map(unaligned address)                    ERR_INVAL
 *  15  mem_map(length 0)                              ERR_INVAL
 *  16  mem_map(kernel address)                        ERR_INVAL
 *  17  mem_map(USER_TOP - 1 page, 2 pages)            ERR_INVAL
 *  18  mem_map(page 0)                                ERR_INVAL
 *  19  syscall 9999                                   ERR_INVAL
 *  20  syscall SYS_COUNT                              ERR_INVAL
 *  21  syscall -1                                     ERR_INVAL
 *  22  syscall 2^32 + SYS_GETPID  (a kernel reading only eax would run getpid)  ERR_INVAL
 *  23  spawn(kernel address name)                     ERR_FAULT
 *  24  spawn(NULL name, length 5)                     ERR_FAULT
 *  25  spawn("no-such-program")                       ERR_NOENT
 *  26  spawn("hello", prio 0xffffffff)                ERR_INVAL
 *  27  set_prio(self, 0xffffffff)                     ERR_INVAL
 *  28  thread_create(non-canonical entry)             ERR_FAULT  (sysret would #GP in ring 0)
 *  29  thread_create(kernel entry)                    ERR_FAULT
 *  30  thread_create(kernel stack_top)                ERR_FAULT
 *  31  mem_unmap(scratch, 1 page)                     0 */
#include "sys.h"

#define KERNEL_TEXT ((void *)0xffffffff80100000ul)
#define UNMAPPED    ((void *)0x0000500000000000ul)
#define NONCANON    ((void *)0x0000800000000000ul)
#define SCRATCH     ((char *)USER_MAP_BASE)
#define SCRATCH2    ((char *)USER_MAP_BASE + 0x10000)

static int index_, first_bad = -1;

static void expect(const char *what, long got, long want)
{
    if (got != want) {
        printf("syscall_args: #%d %s: got %ld (%s), want %ld (%s)\n", index_, what, got,
               err_name((int)got), want, err_name((int)want));
        if (first_bad < 0)
            first_bad = index_;
    }
    index_++;
}

/* Never runs: every thread_create below must be refused. */
static void never(uint64_t arg)
{
    (void)arg;
    sys_thread_exit(99);
}

int main(void)
{
    char buf[32] = "0123456789abcdef";
    const long rw = PROT_READ | PROT_WRITE;

    expect("write(kernel text)", sys_write(KERNEL_TEXT, 16), ERR_FAULT);
    expect("write(NULL)", sys_write(NULL, 16), ERR_FAULT);
    expect("write(len past USER_TOP)", sys_write(buf, USER_TOP), ERR_FAULT);
    expect("write(len ~0)", sys_write(buf, ~0ul), ERR_FAULT);
    expect("write(unmapped)", sys_write(UNMAPPED, 16), ERR_FAULT);
    expect("write(non-canonical)", sys_write(NONCANON, 16), ERR_FAULT);
    expect("write(straddles USER_TOP)", sys_write((void *)(USER_TOP - 8), 16), ERR_FAULT);
    long mapped = sys_mem_map(SCRATCH, PAGE_SIZE, rw);
    expect("mem_map(scratch)", mapped, 0);
    /* Printable, since #9 sends it to the console; only touched if it exists. */
    if (mapped == 0)
        memcpy(SCRATCH + PAGE_SIZE - 8, "  #9 ok\n", 8);
    expect("write(into unmapped page)", sys_write(SCRATCH + PAGE_SIZE - 8, 16), ERR_FAULT);
    expect("write(end of mapping)", sys_write(SCRATCH + PAGE_SIZE - 8, 8), 8);

    expect("mem_map(RWX)", sys_mem_map(SCRATCH2, PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC),
           ERR_INVAL);
    expect("mem_map(WX)", sys_mem_map(SCRATCH2, PAGE_SIZE, PROT_WRITE | PROT_EXEC), ERR_INVAL);
    expect("mem_protect(WX)", sys_mem_protect(SCRATCH, PAGE_SIZE, PROT_WRITE | PROT_EXEC),
           ERR_INVAL);
    expect("mem_map(prot 8)", sys_mem_map(SCRATCH2, PAGE_SIZE, 8), ERR_INVAL);
    expect("mem_map(unaligned)", sys_mem_map(SCRATCH2 + 1, PAGE_SIZE, rw), ERR_INVAL);
    expect("mem_map(len 0)", sys_mem_map(SCRATCH2, 0, rw), ERR_INVAL);
    expect("mem_map(kernel)", sys_mem_map((void *)0xffffffff80000000ul, PAGE_SIZE, rw),
           ERR_INVAL);
    expect("mem_map(across USER_TOP)",
           sys_mem_map((void *)(USER_TOP - PAGE_SIZE), 2 * PAGE_SIZE, rw), ERR_INVAL);
    expect("mem_map(page 0)", sys_mem_map(NULL, PAGE_SIZE, rw), ERR_INVAL);

    expect("syscall 9999", sys_call0(9999), ERR_INVAL);
    expect("syscall SYS_COUNT", sys_call0(SYS_COUNT), ERR_INVAL);
    expect("syscall -1", sys_call0(-1), ERR_INVAL);
    expect("syscall 2^32 + SYS_GETPID", sys_call0((1l << 32) + SYS_GETPID), ERR_INVAL);

    expect("spawn(kernel name)", sys_spawn_n(KERNEL_TEXT, 5, PRIO_DEFAULT), ERR_FAULT);
    expect("spawn(NULL name)", sys_spawn_n(NULL, 5, PRIO_DEFAULT), ERR_FAULT);
    expect("spawn(no-such-program)", sys_spawn("no-such-program", PRIO_DEFAULT), ERR_NOENT);
    expect("spawn(prio ~0)", sys_spawn("hello", 0xffffffffu), ERR_INVAL);
    expect("set_prio(self, ~0)", sys_set_prio(0, 0xffffffffu), ERR_INVAL);

    void *stack_top = SCRATCH + PAGE_SIZE - 64;
    expect("thread_create(non-canonical entry)",
           sys_thread_create((void (*)(uint64_t))NONCANON, stack_top, 0), ERR_FAULT);
    expect("thread_create(kernel entry)",
           sys_thread_create((void (*)(uint64_t))KERNEL_TEXT, stack_top, 0), ERR_FAULT);
    expect("thread_create(kernel stack)", sys_thread_create(never, KERNEL_TEXT, 0), ERR_FAULT);
    expect("mem_unmap(scratch)", sys_mem_unmap(SCRATCH, PAGE_SIZE), 0);

    if (first_bad >= 0) {
        printf("syscall_args: FAIL (first unexpected result: #%d of %d)\n", first_bad, index_);
        return 1 + first_bad;
    }
    printf("syscall_args: all %d checks returned the expected code\n", index_);
    return 0;
}
