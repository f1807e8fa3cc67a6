#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What syscall_entry pushed, lowest address first. */
struct syscall_frame {
    uint64_t r9, r8, r10, rdx, rsi, rdi, nr, rflags, rip, rsp;
};

/* IPC system calls (numbers from SYS_IPC_FIRST) save every user register, below the common
 * frame, at the top of the thread's kernel stack: a thread blocked in IPC can then be resumed
 * straight from here, by the fast path or by a continuation, whatever its kernel stack held.
 * On the way out every register comes back from here, rax from `nr` (the result). */
struct ipc_frame {
    uint64_t r15, r14, r13, r12, rbp, rbx;
    struct syscall_frame s;
};

void syscall_init(void);
/* The same MSR and CR4 set-up on each further CPU. */
void syscall_init_cpu(void);

/* [addr, addr + n) lies inside user space (computed without wrap-around). */
bool user_range_ok(uintptr_t addr, size_t n);
/* Copies between the kernel and user memory; ERR_FAULT for an address outside user space or
 * not mapped there (the access is made under a recovery point, never trusted). */
int copy_from_user(void *dst, uintptr_t src, size_t n);
int copy_to_user(uintptr_t dst, const void *src, size_t n);
