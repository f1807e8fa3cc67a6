/* context_switch(uint64_t *prev_rsp, uint64_t next_rsp): the System V callee-saved registers
 * go on the outgoing thread's kernel stack, its stack pointer into *prev_rsp; the incoming
 * thread's registers come off its own stack. Everything else was saved by the caller (C) or by
 * the trap frame. A new thread's stack is built by thread.c so that the final ret lands in
 * thread_trampoline. */

    .text
    .globl context_switch
context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

    .globl thread_trampoline
thread_trampoline:
    xor %ebp, %ebp
    call thread_bootstrap
    ud2
