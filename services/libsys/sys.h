/* libsys: the one header a Tachyon user program includes. System call stubs (static inline, so
 * a call is exactly the `syscall` instruction and its register moves; docs/abi.md has the
 * register assignment, kernel/abi/syscall.h the numbers) and the few library functions in
 * libsys.c. Every stub returns the kernel's rax: >= 0 on success, a negative ERR_* otherwise. */
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/syscall.h"
#include "lib/err.h"
#include "lib/kstring.h"

/* Scheduler priorities: 0..31, higher runs first (sched/sched.h SCHED_PRIO_LEVELS/DEFAULT). */
#define PRIO_MIN     0u
#define PRIO_MAX     31u
#define PRIO_DEFAULT 16u

/* Where programs put their SYS_MEM_MAP mappings (thread stacks, buffers): the kernel places
 * nothing of its own in [USER_MAP_BASE, USER_MAP_END) (docs/abi.md, "Address space"). */
#define USER_MAP_BASE 0x0000100000000000ul
#define USER_MAP_END  0x0000200000000000ul
#define PAGE_SIZE     4096ul

/* The `syscall` instruction itself overwrites rcx (return rip) and r11 (rflags); the kernel
 * preserves every other register. "memory" because the kernel reads and writes user buffers
 * through the pointers we pass, which the compiler cannot see. */
#define SYS_CLOBBERS "rcx", "r11", "memory"

static inline long sys_call0(long n)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n) : SYS_CLOBBERS);
    return ret;
}

static inline long sys_call1(long n, long a1)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1) : SYS_CLOBBERS);
    return ret;
}

static inline long sys_call2(long n, long a1, long a2)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1), "S"(a2) : SYS_CLOBBERS);
    return ret;
}

static inline long sys_call3(long n, long a1, long a2, long a3)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1), "S"(a2), "d"(a3) : SYS_CLOBBERS);
    return ret;
}

/* r10 rather than rcx for the fourth argument: syscall overwrites rcx. */
static inline long sys_call4(long n, long a1, long a2, long a3, long a4)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10)
                     : SYS_CLOBBERS);
    return ret;
}

static inline long sys_call5(long n, long a1, long a2, long a3, long a4, long a5)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                     : SYS_CLOBBERS);
    return ret;
}

static inline long sys_call6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : SYS_CLOBBERS);
    return ret;
}

static inline long sys_null(void)
{
    return sys_call0(SYS_NULL);
}

__attribute__((noreturn)) static inline void sys_exit(int status)
{
    sys_call1(SYS_EXIT, status);
    __builtin_unreachable();
}

static inline long sys_write(const void *buf, size_t len)
{
    return sys_call2(SYS_WRITE, (long)buf, (long)len);
}

static inline long sys_yield(void)
{
    return sys_call0(SYS_YIELD);
}

/* name: a boot module's basename ("hello"); not NUL-terminated for the kernel, len says.
 * cap: 0, or a capability of the caller's that the child receives a copy of; the child finds
 * its handle in rdi at entry (sys_start_arg). */
static inline long sys_spawn_cap_n(const char *name, size_t len, unsigned prio, uint32_t cap)
{
    return sys_call4(SYS_SPAWN, (long)name, (long)len, prio, cap);
}

static inline long sys_spawn_n(const char *name, size_t len, unsigned prio)
{
    return sys_spawn_cap_n(name, len, prio, 0);
}

static inline long sys_spawn_cap(const char *name, unsigned prio, uint32_t cap)
{
    return sys_spawn_cap_n(name, strlen(name), prio, cap);
}

static inline long sys_spawn(const char *name, unsigned prio)
{
    return sys_spawn_n(name, strlen(name), prio);
}

/* pid -1 waits for any child; status may be NULL. Returns the pid that ended. */
static inline long sys_wait(int pid, int *status)
{
    return sys_call2(SYS_WAIT, pid, (long)status);
}

static inline long sys_kill(int pid)
{
    return sys_call1(SYS_KILL, pid);
}

static inline long sys_getpid(void)
{
    return sys_call0(SYS_GETPID);
}

static inline long sys_gettid(void)
{
    return sys_call0(SYS_GETTID);
}

/* The raw call: the thread starts at entry(arg) with rsp = stack_top and no return address, so
 * entry must never return. thread_start() below wraps it for ordinary C functions. */
static inline long sys_thread_create(void (*entry)(uint64_t), void *stack_top, uint64_t arg)
{
    return sys_call3(SYS_THREAD_CREATE, (long)entry, (long)stack_top, (long)arg);
}

__attribute__((noreturn)) static inline void sys_thread_exit(int status)
{
    sys_call1(SYS_THREAD_EXIT, status);
    __builtin_unreachable();
}

static inline long sys_thread_join(int tid, int *status)
{
    return sys_call2(SYS_THREAD_JOIN, tid, (long)status);
}

static inline long sys_suspend(int tid)
{
    return sys_call1(SYS_SUSPEND, tid);
}

static inline long sys_resume(int tid)
{
    return sys_call1(SYS_RESUME, tid);
}

/* tid 0 = the calling thread. */
static inline long sys_set_prio(int tid, unsigned prio)
{
    return sys_call2(SYS_SET_PRIO, tid, prio);
}

/* Anonymous zeroed memory at exactly addr (page aligned); prot: PROT_* without W|X. */
static inline long sys_mem_map(void *addr, size_t len, unsigned prot)
{
    return sys_call3(SYS_MEM_MAP, (long)addr, (long)len, prot);
}

static inline long sys_mem_unmap(void *addr, size_t len)
{
    return sys_call2(SYS_MEM_UNMAP, (long)addr, (long)len);
}

static inline long sys_mem_protect(void *addr, size_t len, unsigned prot)
{
    return sys_call3(SYS_MEM_PROTECT, (long)addr, (long)len, prot);
}

/* on = 1: the calling thread stays on the CPU it runs on, and so do the threads and processes
 * it creates from then on (inherited, as CPU affinity is on Linux); on = 0 lets it move again.
 * Returns the CPU's index. */
static inline long sys_pin(int on)
{
    return sys_call1(SYS_PIN, on);
}

/* One tick = 1 ms. */
static inline long sys_sleep(uint64_t ticks)
{
    return sys_call1(SYS_SLEEP, (long)ticks);
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

#include "sys_ipc.h"

/* ---- libsys.c ---- */

/* Exit status of abort(), as a shell reports a SIGABRT death (128 + 6). */
#define ABORT_STATUS 134

/* Console output through SYS_WRITE, buffered per call; printf returns the characters written
 * or a negative error (the first failing SYS_WRITE's). puts appends a newline, as C's does. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int puts(const char *s);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

__attribute__((noreturn)) void exit(int status);
__attribute__((noreturn)) void abort(void);

/* Starts fn(arg) as a new thread of this process on the stack [stack, stack + size); fn's return
 * value becomes the thread's exit status (sys_thread_join reports it). Returns the tid or a
 * negative error. Works whatever alignment the kernel gives the initial rsp. */
long thread_start(int (*fn)(void *), void *arg, void *stack, size_t size);

/* rdi at process entry (0 for a spawned process) and rsp at entry, recorded by crt0.S before it
 * realigns anything, so that tests can check what the kernel handed over. */
extern uint64_t sys_start_arg;
extern uint64_t sys_start_rsp;
