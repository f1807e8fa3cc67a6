/* SYSCALL entry and the first entry into ring 3. The syscall frame (struct syscall_frame in
 * core/syscall.h) keeps every register the ABI promises to preserve; rcx and r11 hold the user
 * rip and rflags as the instruction left them. */
#include "arch/x86_64/percpu_offsets.h"

/* SYS_IPC_FIRST (an enum in abi/syscall.h; ipc/kernel/fastpath.c asserts the value). */
#define IPC_FIRST 48

    .text
    .globl syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %gs:PERCPU_USER_RSP
    mov %gs:PERCPU_KERNEL_RSP, %rsp
    pushq %gs:PERCPU_USER_RSP
    pushq %rcx
    pushq %r11
    pushq %rax
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %r10
    pushq %r8
    pushq %r9
    cmp $IPC_FIRST, %rax
    jae ipc_entry
    sti
    mov %rsp, %rdi
    call syscall_dispatch
    cli
    popq %r9
    popq %r8
    popq %r10
    popq %rdx
    popq %rsi
    popq %rdi
    add $8, %rsp            /* the number: rax now carries the result */
    popq %r11
    popq %rcx
    popq %rsp
    swapgs
    sysretq

/* IPC: the rest of the user registers complete a struct ipc_frame; interrupts stay off, so
 * the fast path runs from here to sysret without one. */
ipc_entry:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    mov %rsp, %rdi
    call ipc_syscall
    cli
    /* fall through */

/* Leaves for ring 3 through the ipc_frame at rsp, interrupts off. */
ipc_exit:
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    popq %r9
    popq %r8
    popq %r10
    popq %rdx
    popq %rsi
    popq %rdi
    popq %rax
    popq %r11
    popq %rcx
    popq %rsp
    swapgs
    sysretq

/* ipc_return_to(frame): the fast path's way out, as the thread it switched to (whose frame
 * that is); what the caller had on its own kernel stack is abandoned. The fast path's locks
 * are released only from the new stack: until then another CPU that wakes the thread it just
 * blocked could start running on the stack this CPU is still using. */
    .globl ipc_return_to
ipc_return_to:
    mov %rdi, %rsp
    call ipc_fastpath_unlock
    jmp ipc_exit

/* Where a thread that the fast path blocked resumes when the scheduler switches to it:
 * context_switch returns here with rsp at the thread's ipc_frame. */
    .globl ipc_resume
ipc_resume:
    call ipc_resumed
    cli
    jmp ipc_exit

/* enter_user(rip, rsp, arg): leave the kernel for the first time, with a clean register file. */
    .globl enter_user
enter_user:
    cli
    pushq $0x1b             /* SEL_UDATA */
    pushq %rsi
    pushq $0x202            /* IF */
    pushq $0x23             /* SEL_UCODE */
    pushq %rdi
    mov %rdx, %rdi
    xor %eax, %eax
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    swapgs
    iretq
