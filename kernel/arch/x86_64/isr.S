/* Interrupt and exception entry. Every vector gets a 16-byte stub that makes the stack look the
 * same (error code, vector) and joins trap_common, which saves the general registers as a
 * struct trap_frame (trap.h) and calls trap_dispatch. */

    .text
    .align 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .align 16
    /* The CPU pushes an error code for these vectors only. */
    .if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    pushq $vec
    .else
    pushq $0
    pushq $vec
    .endif
    jmp trap_common
    .set vec, vec + 1
    .endr

trap_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    /* From ring 3 the GS base is the user's: switch to the kernel's per-CPU base. */
    testb $3, 18 * 8(%rsp)
    jz 1f
    swapgs
1:  mov %rsp, %rdi
    cld
    call trap_dispatch
    testb $3, 18 * 8(%rsp)
    jz 2f
    swapgs
2:  popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    add $16, %rsp
    iretq
