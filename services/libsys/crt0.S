/* Process entry. The kernel starts the first thread at _start with rdi = the spawn argument (0
 * for a spawned process), rsp = 16-byte-aligned top of the user stack, no return address and no
 * argc/argv (docs/abi.md, "Process entry"). */

/* kernel/abi/syscall.h is C (an enum), so the two numbers needed here are repeated; libsys.c
 * checks them against the enum at compile time. */
#define SYS_EXIT_NR        1
#define SYS_THREAD_EXIT_NR 9

    .section .text.entry, "ax"
    .globl _start
    .type _start, @function
_start:
    mov %rdi, sys_start_arg(%rip)
    mov %rsp, sys_start_rsp(%rip)
    /* A zero frame pointer ends backtraces here. The realignment costs nothing when the kernel
     * keeps its promise and keeps a misaligned entry (which hello.c reports) from turning into
     * a baffling crash in the first SSE instruction of main. */
    xor %ebp, %ebp
    and $-16, %rsp
    call main
    mov %eax, %edi
    mov $SYS_EXIT_NR, %eax
    syscall
    ud2
    .size _start, . - _start

/* Thread entry for thread_start() (libsys.c): rdi points at {fn, arg} stored at the top of the
 * new stack. Aligns rsp so that fn sees the SysV ABI's call-site alignment, and turns fn's return
 * value into the thread's exit status instead of returning into nothing. */
    .text
    .globl sys_thread_trampoline
    .type sys_thread_trampoline, @function
sys_thread_trampoline:
    xor %ebp, %ebp
    mov (%rdi), %rax
    mov 8(%rdi), %rdi
    and $-16, %rsp
    call *%rax
    mov %eax, %edi
    mov $SYS_THREAD_EXIT_NR, %eax
    syscall
    ud2
    .size sys_thread_trampoline, . - sys_thread_trampoline

    .section .note.GNU-stack, "", @progbits
