/* Multiboot v1 entry: 32-bit protected mode, paging off. Builds throwaway page tables that map
 * the first GiB three times (identity for this code, the physmap alias, and the higher-half
 * kernel), enters long mode and jumps to the higher half. paging.c replaces these tables. */

#define MB_MAGIC      0x1badb002
#define MB_PAGE_ALIGN (1 << 0)   /* modules on page boundaries: they become frames */
#define MB_MEMINFO    (1 << 1)
#define MB_AOUT_KLUDGE (1 << 16) /* load fields below, since QEMU refuses ELF64 */
#define MB_FLAGS      (MB_PAGE_ALIGN | MB_MEMINFO | MB_AOUT_KLUDGE)
#define KERNEL_VMA    0xffffffff80000000
#define PHYS(sym)     ((sym) - KERNEL_VMA)
#define COM1          0x3f8
#define DEBUG_EXIT    0xf4
#define EXIT_PANIC    0x12

    .section .multiboot, "a"
    .align 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long mb_header
    .long _boot_phys_start
    .long _load_end_phys
    .long _bss_end_phys
    .long _start32

    .section .boot.data, "aw"
    .align 16
early_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 64-bit ring-0 code */
    .quad 0x00cf92000000ffff    /* ring-0 data */
early_gdt_ptr:
    .word early_gdt_ptr - early_gdt - 1
    .long early_gdt
    .align 8
boot_magic: .long 0
boot_mbi:   .long 0
boot_tsc:   .quad 0
no_lm_msg:  .asciz "tachyon: this CPU has no long mode (x86_64 required)\r\n"

    .section .boot.text, "ax"
    .code32
    .globl _start32
_start32:
    cli
    cld
    mov %eax, boot_magic
    mov %ebx, boot_mbi
    /* Boot time is measured from here, the first instruction we control. */
    rdtsc
    mov %eax, boot_tsc
    mov %edx, boot_tsc + 4

    /* The loader zeroes .bss per the multiboot spec; do it anyway, the page tables live there. */
    mov $_bss_start_phys, %edi
    mov $_bss_end_phys, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl

    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode
    mov %edx, %ebp              /* keep the NX bit (20) for EFER below */

    /* 512 x 2 MiB pages: the first GiB. */
    mov $PHYS(early_pd), %edi
    mov $0x83, %eax             /* present, writable, 2 MiB */
    mov $512, %ecx
1:  mov %eax, (%edi)
    movl $0, 4(%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 1b

    mov $PHYS(early_pd) + 3, %eax
    mov %eax, PHYS(early_pdpt_low)
    mov %eax, PHYS(early_pdpt_high) + 510 * 8
    mov $PHYS(early_pdpt_low) + 3, %eax
    mov %eax, PHYS(early_pml4)              /* identity, for the next few instructions */
    mov %eax, PHYS(early_pml4) + 256 * 8    /* physmap alias at 0xffff800000000000 */
    mov $PHYS(early_pdpt_high) + 3, %eax
    mov %eax, PHYS(early_pml4) + 511 * 8    /* kernel at 0xffffffff80000000 */

    mov %cr4, %eax
    or $(1 << 5), %eax          /* PAE */
    mov %eax, %cr4
    mov $PHYS(early_pml4), %eax
    mov %eax, %cr3

    mov $0xc0000080, %ecx       /* EFER */
    rdmsr
    or $(1 << 8), %eax          /* LME */
    bt $20, %ebp
    jnc 2f
    or $(1 << 11), %eax         /* NXE, only where the CPU has NX: the bit is reserved otherwise */
2:  wrmsr

    mov %cr0, %eax
    or $0x80010001, %eax        /* PG | WP | PE */
    mov %eax, %cr0

    lgdt early_gdt_ptr
    ljmp $0x08, $start64_low

no_long_mode:
    mov $no_lm_msg, %esi
3:  lodsb
    test %al, %al
    jz 4f
    mov $COM1, %dx
    out %al, %dx
    jmp 3b
4:  mov $EXIT_PANIC, %eax
    mov $DEBUG_EXIT, %dx
    out %eax, %dx
5:  hlt
    jmp 5b

    .code64
start64_low:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    movabs $start64_high, %rax
    jmp *%rax

    .text
start64_high:
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    mov boot_magic, %edi
    mov boot_mbi, %esi
    mov boot_tsc, %rdx
    call kmain
6:  cli
    hlt
    jmp 6b

    .bss
    .align 4096
    .globl boot_stack_guard
boot_stack_guard:               /* left unmapped by paging_init: an overflow faults */
    .skip 4096
    .globl boot_stack_top
    .skip 16384
boot_stack_top:
    .globl early_pml4
early_pml4:      .skip 4096
early_pdpt_low:  .skip 4096
early_pdpt_high: .skip 4096
early_pd:        .skip 4096
