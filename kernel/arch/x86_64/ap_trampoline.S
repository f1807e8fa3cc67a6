/* Application processor start-up (Intel SDM Vol. 3, "MP initialization"; AMD APM Vol. 2,
 * "Initializing processor state"). smp.c copies ap_trampoline..ap_trampoline_end to a page below
 * 1 MiB and fills in the parameter block; a STARTUP IPI naming that page starts an AP there in
 * real mode with CS = page << 8, IP = 0. It is data in the kernel image: only the copy runs.
 *
 * Real mode -> protected mode (flat segments from the trampoline's own GDT) -> long mode on the
 * trampoline's page tables, which map this page at its own address (the instruction after the
 * paging switch is fetched through them) and the kernel half exactly as the kernel's PML4 does
 * -> ap_long_entry in kernel text, which loads the kernel's own PML4. The AP does not know where
 * it runs until it reads CS, so every absolute address is computed from %ebx = CS << 4. */
#include "arch/x86_64/ap_trampoline.h"

#define MSR_EFER  0xc0000080
#define CR0_PE    0x1
#define TP(sym)   ((sym) - ap_trampoline)
#define PARAM(f)  (TP(ap_trampoline_params) + (f))

    .section .rodata
    .balign 16
    .globl ap_trampoline
    .code16
ap_trampoline:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    /* Checked in: the boot CPU sends the second STARTUP IPI only while this is 0. */
    movl $1, PARAM(TP_STARTED)
    xor %ebx, %ebx
    mov %ax, %bx
    shl $4, %ebx
    /* Absolute addresses of this copy, for lgdt and the two far jumps. */
    leal TP(gdt)(%ebx), %eax
    movl %eax, TP(gdtr) + 2
    leal TP(pm32)(%ebx), %eax
    movl %eax, TP(pm32_ptr)
    leal TP(lm64)(%ebx), %eax
    movl %eax, TP(lm64_ptr)
    lgdtl TP(gdtr)
    mov %cr0, %eax
    or $CR0_PE, %eax
    mov %eax, %cr0
    ljmpl *TP(pm32_ptr)

    .code32
pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    /* The SDM's order for entering IA-32e mode: PAE, CR3, EFER.LME, then paging. NXE before
     * paging too: the kernel's entries set NX, a reserved bit while NXE is clear. */
    mov PARAM(TP_CR4)(%ebx), %eax
    mov %eax, %cr4
    mov PARAM(TP_CR3)(%ebx), %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or PARAM(TP_EFER)(%ebx), %eax
    wrmsr
    mov PARAM(TP_CR0)(%ebx), %eax
    mov %eax, %cr0
    ljmp *TP(lm64_ptr)(%ebx)

    .code64
lm64:
    mov %ebx, %ebx /* the upper halves of registers are undefined across the mode switch */
    mov PARAM(TP_STACK)(%rbx), %rsp
    mov PARAM(TP_INDEX)(%rbx), %edi
    mov PARAM(TP_KERNEL_CR3)(%rbx), %rsi
    jmp *PARAM(TP_ENTRY)(%rbx)

    .balign 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff /* 0x10: data */
    .quad 0x00af9a000000ffff /* 0x18: 64-bit code */
gdtr:
    .word gdtr - gdt - 1
    .long 0
    .balign 4
pm32_ptr:
    .long 0
    .word 0x08
    .balign 4
lm64_ptr:
    .long 0
    .word 0x18

    .balign 8
    .globl ap_trampoline_params
ap_trampoline_params:
    .skip TP_SIZE
    .globl ap_trampoline_end
ap_trampoline_end: /* linker.ld checks that the trampoline fits in its page */

    .text
/* In kernel text, still on the trampoline's page tables: switch to the kernel's PML4 (%rsi),
 * which drops the identity mapping from this CPU's TLB (it was never global), and call
 * smp_ap_main(index) on the AP's own stack. */
    .globl ap_long_entry
ap_long_entry:
    mov %rsi, %cr3
    xor %ebp, %ebp
    call smp_ap_main
1:  cli
    hlt
    jmp 1b
