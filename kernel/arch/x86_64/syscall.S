/* SYSCALL entry and the first entry into ring 3. The syscall frame (struct syscall_frame in
 * core/syscall.h) keeps every register the ABI promises to preserve; rcx and r11 hold the user
 * rip and rflags as the instruction left them. */
#include "arch/x86_64/percpu_offsets.h"

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
