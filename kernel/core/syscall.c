/* System call dispatch. Every argument from user space is checked here or in the handler it
 * reaches: numbers against the table, pointers against the user range and then accessed only
 * under a recovery point, so a bad argument is an error code and never a kernel fault. */
#include "core/syscall.h"

#include <stdbool.h>

#include "abi/syscall.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/trap.h"
#include "core/console.h"
#include "core/thread.h"
#include "lib/err.h"
#include "lib/kstring.h"

#define EFER_SCE (1ul << 0)
#define CR4_SMEP (1ul << 20)
#define CR4_SMAP (1ul << 21)
#define FMASK_BITS (RFLAGS_IF | (1ul << 8) | (1ul << 10) | (1ul << 18)) /* IF TF DF AC */

void syscall_entry(void);
long syscall_dispatch(struct syscall_frame *f);

static bool smap;

static bool user_range(uintptr_t addr, size_t n)
{
    return addr >= USER_BASE && addr <= USER_TOP && n <= USER_TOP - addr;
}

static int user_copy(void *dst, const void *src, size_t n)
{
    struct fault_ctx ctx;
    if (fault_try(&ctx)) {
        if (smap)
            __asm__ volatile("clac" : : : "memory");
        return ERR_FAULT;
    }
    if (smap)
        __asm__ volatile("stac" : : : "memory");
    memcpy(dst, src, n);
    if (smap)
        __asm__ volatile("clac" : : : "memory");
    fault_disarm();
    return 0;
}

int copy_from_user(void *dst, uintptr_t src, size_t n)
{
    return user_range(src, n) ? user_copy(dst, (const void *)src, n) : ERR_FAULT;
}

int copy_to_user(uintptr_t dst, const void *src, size_t n)
{
    return user_range(dst, n) ? user_copy((void *)dst, src, n) : ERR_FAULT;
}

static long sys_write(uintptr_t buf, size_t len)
{
    char chunk[128];
    if (!user_range(buf, len))
        return ERR_FAULT;
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
        int err = copy_from_user(chunk, buf + done, n);
        if (err)
            return err;
        console_write(chunk, n);
        done += n;
    }
    return (long)len;
}

long syscall_dispatch(struct syscall_frame *f)
{
    switch (f->nr) {
    case SYS_NULL:
        return 0;
    case SYS_EXIT:
    case SYS_THREAD_EXIT:
        thread_exit((int)(f->rdi & 0xff));
    case SYS_WRITE:
        return sys_write(f->rdi, f->rsi);
    case SYS_YIELD:
        thread_yield();
        return 0;
    case SYS_GETTID:
    case SYS_GETPID:
        return thread_current()->tid;
    case SYS_SLEEP:
        thread_sleep(f->rdi);
        return 0;
    default:
        /* Numbers of docs/abi.md not implemented yet get the same answer as unknown ones. */
        return ERR_INVAL;
    }
}

void syscall_init(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* SYSRET loads CS from STAR[63:48] + 16 and SS from + 8: user data must precede user code. */
    wrmsr(MSR_STAR, ((uint64_t)(SEL_UDATA - 3 - 8) << 48) | ((uint64_t)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_FMASK, FMASK_BITS);
    if (cpu.smep)
        write_cr4(read_cr4() | CR4_SMEP);
    if (cpu.smap) {
        write_cr4(read_cr4() | CR4_SMAP);
        smap = true;
    }
    kprintf("syscall: SYSCALL/SYSRET, SMEP %s, SMAP %s\n", cpu.smep ? "on" : "off (CPU lacks it)",
            smap ? "on" : "off (CPU lacks it)");
}
