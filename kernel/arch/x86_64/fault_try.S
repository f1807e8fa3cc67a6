/* fault_try: setjmp for CPU exceptions. Records the caller's callee-saved registers, stack and
 * return address and arms the recovery point; trap.c resumes there (as if fault_try returned
 * vector + 1) when an armed exception hits. Lets the kernel probe memory and run negative
 * self tests (write to .text, execute .data) without dying. */

#include "arch/x86_64/percpu_offsets.h"

    .text
    .globl fault_try
fault_try:
    mov %rbx, 0(%rdi)
    mov %rbp, 8(%rdi)
    mov %r12, 16(%rdi)
    mov %r13, 24(%rdi)
    mov %r14, 32(%rdi)
    mov %r15, 40(%rdi)
    lea 8(%rsp), %rax
    mov %rax, 48(%rdi)
    mov (%rsp), %rax
    mov %rax, 56(%rdi)
    mov %gs:0, %rax
    mov %rdi, PERCPU_FAULT_ARMED(%rax)
    xor %eax, %eax
    ret
