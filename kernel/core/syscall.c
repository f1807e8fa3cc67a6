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
#include "cap/capspace.h"
#include "core/console.h"
#include "core/mem_syscalls.h"
#include "core/panic.h"
#include "core/process.h"
#include "core/thread.h"
#include "ipc/kernel/ipc.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "mm/memobj.h"

#define EFER_SCE (1ul << 0)
#define CR4_SMEP (1ul << 20)
#define CR4_SMAP (1ul << 21)
#define FMASK_BITS (RFLAGS_IF | (1ul << 8) | (1ul << 10) | (1ul << 18)) /* IF TF DF AC */

void syscall_entry(void);
long syscall_dispatch(struct syscall_frame *f);

static bool smap;

bool user_range_ok(uintptr_t addr, size_t n)
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
    return user_range_ok(src, n) ? user_copy(dst, (const void *)src, n) : ERR_FAULT;
}

int copy_to_user(uintptr_t dst, const void *src, size_t n)
{
    return user_range_ok(dst, n) ? user_copy((void *)dst, src, n) : ERR_FAULT;
}

static struct process *self(void)
{
    return thread_current()->proc;
}

static long sys_null(struct syscall_frame *f)
{
    (void)f;
    return 0;
}

static long sys_exit(struct syscall_frame *f)
{
    process_exit((int)(f->rdi & 0xff));
}

static long sys_thread_exit(struct syscall_frame *f)
{
    process_thread_exit((int)(f->rdi & 0xff));
}

static long sys_write(struct syscall_frame *f)
{
    char chunk[128];
    uintptr_t buf = f->rdi;
    size_t len = f->rsi;
    if (!user_range_ok(buf, len))
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

static long sys_yield(struct syscall_frame *f)
{
    (void)f;
    thread_yield();
    return 0;
}

static long sys_spawn(struct syscall_frame *f)
{
    return process_sys_spawn(self(), f->rdi, f->rsi, f->rdx, f->r10);
}

static long sys_wait(struct syscall_frame *f)
{
    return process_sys_wait(self(), (int64_t)f->rdi, f->rsi);
}

static long sys_kill(struct syscall_frame *f)
{
    return process_sys_kill(self(), (int64_t)f->rdi);
}

static long sys_getpid(struct syscall_frame *f)
{
    (void)f;
    return self()->pid;
}

static long sys_gettid(struct syscall_frame *f)
{
    (void)f;
    return thread_current()->tid;
}

static long sys_thread_create(struct syscall_frame *f)
{
    return process_sys_thread_create(self(), f->rdi, f->rsi, f->rdx);
}

static long sys_thread_join(struct syscall_frame *f)
{
    return process_sys_thread_join(self(), (int64_t)f->rdi, f->rsi);
}

static long sys_suspend(struct syscall_frame *f)
{
    return process_sys_suspend(self(), (int64_t)f->rdi);
}

static long sys_resume(struct syscall_frame *f)
{
    return process_sys_resume(self(), (int64_t)f->rdi);
}

static long sys_set_prio(struct syscall_frame *f)
{
    return process_sys_set_prio(self(), (int64_t)f->rdi, f->rsi);
}

static long sys_sleep(struct syscall_frame *f)
{
    thread_sleep(f->rdi);
    return 0;
}

static long sys_mem_map(struct syscall_frame *f)
{
    return mem_sys_map(&self()->vs, f->rdi, f->rsi, f->rdx);
}

static long sys_mem_unmap(struct syscall_frame *f)
{
    return mem_sys_unmap(&self()->vs, f->rdi, f->rsi);
}

static long sys_mem_protect(struct syscall_frame *f)
{
    return mem_sys_protect(&self()->vs, f->rdi, f->rsi, f->rdx);
}

static long sys_pin(struct syscall_frame *f)
{
    if (f->rdi > 1)
        return ERR_INVAL;
    return thread_pin(thread_current(), f->rdi == 1);
}

static long sys_cap_derive(struct syscall_frame *f)
{
    return cap_sys_derive(self(), f->rdi, f->rsi, f->rdx);
}

static long sys_cap_delete(struct syscall_frame *f)
{
    return cap_sys_delete(self(), f->rdi);
}

static long sys_cap_revoke(struct syscall_frame *f)
{
    return cap_sys_revoke(self(), f->rdi);
}

static long sys_cap_info(struct syscall_frame *f)
{
    return cap_sys_info(self(), f->rdi);
}

static long sys_endpoint_create(struct syscall_frame *f)
{
    (void)f;
    return endpoint_sys_create(self());
}

static long sys_notification_create(struct syscall_frame *f)
{
    (void)f;
    return notification_sys_create(self());
}

static long sys_signal(struct syscall_frame *f)
{
    return notification_sys_signal(self(), f->rdi, f->rsi);
}

static long sys_notify_wait(struct syscall_frame *f)
{
    return notification_sys_wait(self(), f->rdi, f->rsi);
}

static long sys_ipc_buffer(struct syscall_frame *f)
{
    return ipc_sys_buffer(thread_current(), f->rdi);
}

static long sys_ipc_ctl(struct syscall_frame *f)
{
    return ipc_sys_ctl(self(), f->rdi, f->rsi, f->rdx);
}

static long sys_irq_bind(struct syscall_frame *f)
{
    return notification_sys_irq_bind(self(), f->rdi, f->rsi, f->rdx, f->r10);
}

static long sys_memobj_create(struct syscall_frame *f)
{
    return memobj_sys_create(self(), f->rdi);
}

static long sys_memobj_map(struct syscall_frame *f)
{
    return memobj_sys_map(self(), f->rdi, f->rsi, f->rdx, (int64_t)f->r10);
}

static long sys_mem_grant(struct syscall_frame *f)
{
    return memobj_sys_grant(self(), f->rdi, f->rsi, f->rdx);
}

static long sys_unassigned(struct syscall_frame *f)
{
    (void)f;
    return ERR_INVAL;
}

/* The calls below SYS_IPC_FIRST; the IPC calls enter through ipc_syscall (syscall.S). Every
 * entry is filled (syscall_init checks), so dispatch needs no test for a hole. */
static long (*const syscall_table[SYS_IPC_FIRST])(struct syscall_frame *f) = {
    [SYS_NULL] = sys_null,
    [SYS_EXIT] = sys_exit,
    [SYS_WRITE] = sys_write,
    [SYS_YIELD] = sys_yield,
    [SYS_SPAWN] = sys_spawn,
    [SYS_WAIT] = sys_wait,
    [SYS_KILL] = sys_kill,
    [SYS_GETPID] = sys_getpid,
    [SYS_THREAD_CREATE] = sys_thread_create,
    [SYS_THREAD_EXIT] = sys_thread_exit,
    [SYS_THREAD_JOIN] = sys_thread_join,
    [SYS_SUSPEND] = sys_suspend,
    [SYS_RESUME] = sys_resume,
    [SYS_SET_PRIO] = sys_set_prio,
    [SYS_MEM_MAP] = sys_mem_map,
    [SYS_MEM_UNMAP] = sys_mem_unmap,
    [SYS_MEM_PROTECT] = sys_mem_protect,
    [SYS_SLEEP] = sys_sleep,
    [SYS_GETTID] = sys_gettid,
    [SYS_PIN] = sys_pin,
    [SYS_CAP_DERIVE] = sys_cap_derive,
    [SYS_CAP_DELETE] = sys_cap_delete,
    [SYS_CAP_REVOKE] = sys_cap_revoke,
    [SYS_CAP_INFO] = sys_cap_info,
    [SYS_ENDPOINT_CREATE] = sys_endpoint_create,
    [SYS_NOTIFICATION_CREATE] = sys_notification_create,
    [SYS_SIGNAL] = sys_signal,
    [SYS_NOTIFY_WAIT] = sys_notify_wait,
    [SYS_IPC_BUFFER] = sys_ipc_buffer,
    [SYS_IPC_CTL] = sys_ipc_ctl,
    [SYS_IRQ_BIND] = sys_irq_bind,
    [SYS_MEMOBJ_CREATE] = sys_memobj_create,
    [SYS_MEMOBJ_MAP] = sys_memobj_map,
    [SYS_MEM_GRANT] = sys_mem_grant,
    [SYS_MEM_GRANT + 1 ... SYS_IPC_FIRST - 1] = sys_unassigned,
};

long syscall_dispatch(struct syscall_frame *f)
{
    /* All 64 bits of the number count: 2^32 + n is not n. */
    long ret = f->nr < SYS_IPC_FIRST ? syscall_table[f->nr](f) : ERR_INVAL;
    thread_user_return();
    return ret;
}

void syscall_init_cpu(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* SYSRET loads CS from STAR[63:48] + 16 and SS from + 8: user data must precede user code. */
    wrmsr(MSR_STAR, ((uint64_t)(SEL_UDATA - 3 - 8) << 48) | ((uint64_t)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_FMASK, FMASK_BITS);
    if (cpu.smep)
        write_cr4(read_cr4() | CR4_SMEP);
    if (cpu.smap)
        write_cr4(read_cr4() | CR4_SMAP);
}

void syscall_init(void)
{
    smap = cpu.smap;
    for (unsigned n = 0; n < SYS_IPC_FIRST; n++)
        if (!syscall_table[n])
            panic("syscall: no handler for number %u", n);
    syscall_init_cpu();
    kprintf("syscall: SYSCALL/SYSRET, SMEP %s, SMAP %s\n", cpu.smep ? "on" : "off (CPU lacks it)",
            smap ? "on" : "off (CPU lacks it)");
}
